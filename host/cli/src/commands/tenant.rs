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

/// The usage figure that goes with a quota, when the API reports one.
fn in_use(usage: &serde_json::Value, key: &str) -> String {
    match key {
        "max_apps" => usage["apps"].to_string(),
        "max_concurrent_instances" => usage["instances"].to_string(),
        _ => "-".to_string(),
    }
}
