//! `livewasm tenant …`.

use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::json;

use super::{ClientOpts, print_json, segment, str_field};

/// `livewasm tenant` subcommands.
#[derive(Subcommand)]
pub enum TenantCommand {
    /// Create a tenant (operator token).
    Create(CreateArgs),
    /// Show a tenant's quotas and usage; with any limit flag, replace its overrides (operator
    /// token; limits not given go back to the host defaults).
    Quotas(QuotasArgs),
    /// Replace the hosts a tenant's apps may send HTTP requests to (operator token; no hosts
    /// clears the list) and print the list; with `--show`, only print it.
    HttpAllow(HttpAllowArgs),
}

/// Options of `livewasm tenant http-allow`.
#[derive(Args)]
pub struct HttpAllowArgs {
    /// The tenant's name.
    name: String,
    /// The whole new list: `host`, `host:port`, `*.domain` (any subdomain), an IPv4 address or
    /// `[IPv6]`. None clears the list.
    #[arg(value_name = "HOST")]
    hosts: Vec<String>,
    /// Print the current list instead of replacing it.
    #[arg(long, conflicts_with = "hosts")]
    show: bool,
    #[command(flatten)]
    client: ClientOpts,
}

/// Options of `livewasm tenant quotas`.
#[derive(Args)]
pub struct QuotasArgs {
    /// The tenant's name.
    name: String,
    /// Apps the tenant may have.
    #[arg(long)]
    max_apps: Option<u64>,
    /// Size of one uploaded component, in bytes.
    #[arg(long)]
    max_component_bytes: Option<u64>,
    /// Instances (connected sockets) running at once.
    #[arg(long)]
    max_instances: Option<u64>,
    /// Linear memory of one instance, in MiB.
    #[arg(long)]
    memory_mib: Option<u64>,
    /// Fuel granted to one guest callback.
    #[arg(long)]
    fuel: Option<u64>,
    #[command(flatten)]
    client: ClientOpts,
}

/// Options of `livewasm tenant create`.
#[derive(Args)]
pub struct CreateArgs {
    /// The tenant's name (a DNS label).
    name: String,
    #[command(flatten)]
    client: ClientOpts,
}

/// Runs a `tenant` subcommand.
pub fn run(command: TenantCommand) -> Result<()> {
    match command {
        TenantCommand::Create(args) => create(args),
        TenantCommand::Quotas(args) => quotas(args),
        TenantCommand::HttpAllow(args) => http_allow(args),
    }
}

/// `POST /api/v1/tenants {"name"}`.
fn create(args: CreateArgs) -> Result<()> {
    let response = args
        .client
        .client()?
        .post_json("/api/v1/tenants", &json!({ "name": args.name }))?;
    if args.client.json {
        return print_json(&response);
    }
    let tenant = &response["tenant"];
    let name = match str_field(tenant, "name") {
        "" => args.name.as_str(),
        name => name,
    };
    match str_field(tenant, "id") {
        "" => println!("created tenant {name}"),
        id => println!("created tenant {name} ({id})"),
    }
    Ok(())
}

/// `GET` or `PUT /api/v1/tenants/{name}/quotas`.
fn quotas(args: QuotasArgs) -> Result<()> {
    let path = format!("/api/v1/tenants/{}/quotas", segment(&args.name));
    let limits = [
        ("max_apps", args.max_apps),
        ("max_component_bytes", args.max_component_bytes),
        ("max_concurrent_instances", args.max_instances),
        ("memory_mib_per_instance", args.memory_mib),
        ("fuel_per_callback", args.fuel),
    ];
    let client = args.client.client()?;
    let response = if limits.iter().any(|(_, v)| v.is_some()) {
        let body: serde_json::Map<String, serde_json::Value> = limits
            .iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), json!(v))))
            .collect();
        client.put_json(&path, &serde_json::Value::Object(body))?
    } else {
        client.get(&path)?
    };
    if args.client.json {
        return print_json(&response);
    }
    for (key, _) in limits {
        println!(
            "{key:<26} {:>12}   in use: {}",
            response["quotas"][key],
            in_use(&response["usage"], key)
        );
    }
    Ok(())
}

/// `GET` or `PUT /api/v1/tenants/{name}/http-allowlist`; prints one host a line.
fn http_allow(args: HttpAllowArgs) -> Result<()> {
    let path = format!("/api/v1/tenants/{}/http-allowlist", segment(&args.name));
    let client = args.client.client()?;
    let response = if args.show {
        client.get(&path)?
    } else {
        client.put_json(&path, &json!({ "hosts": args.hosts }))?
    };
    if args.client.json {
        return print_json(&response);
    }
    let hosts: Vec<&str> = response["hosts"]
        .as_array()
        .map(|hosts| hosts.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    if hosts.is_empty() {
        println!("tenant {}: no hosts allowed", args.name);
    }
    for host in hosts {
        println!("{host}");
    }
    Ok(())
}

/// The usage figure that goes with a quota, when the API reports one.
fn in_use(usage: &serde_json::Value, key: &str) -> String {
    match key {
        "max_apps" => usage["apps"].to_string(),
        "max_concurrent_instances" => usage["instances"].to_string(),
        _ => "-".to_string(),
    }
}
