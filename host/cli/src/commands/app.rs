//! `livewasm app …`.

use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::{ClientOpts, print_json, str_field};
use crate::client::segment;

/// `livewasm app` subcommands.
#[derive(Subcommand)]
pub enum AppCommand {
    /// Create an app in a tenant.
    Create(CreateArgs),
    /// List a tenant's apps.
    List(ListArgs),
    /// Delete an app with all its versions and deploy tokens; it stops being served at once.
    Delete(DeleteArgs),
}

/// Options of `livewasm app create`.
#[derive(Args)]
pub struct CreateArgs {
    /// The tenant's name.
    tenant: String,
    /// The new app's name (a DNS label).
    app: String,
    #[command(flatten)]
    client: ClientOpts,
}

/// Options of `livewasm app list`.
#[derive(Args)]
pub struct ListArgs {
    /// The tenant's name.
    tenant: String,
    #[command(flatten)]
    client: ClientOpts,
}

/// Options of `livewasm app delete`.
#[derive(Args)]
pub struct DeleteArgs {
    /// The tenant's name.
    tenant: String,
    /// The app to delete.
    app: String,
    #[command(flatten)]
    client: ClientOpts,
}

/// Runs an `app` subcommand.
pub fn run(command: AppCommand) -> Result<()> {
    match command {
        AppCommand::Create(args) => create(args),
        AppCommand::List(args) => list(args),
        AppCommand::Delete(args) => delete(args),
    }
}

/// The API path of a tenant's apps.
fn apps_path(tenant: &str) -> String {
    format!("/api/v1/tenants/{}/apps", segment(tenant))
}

/// `POST /api/v1/tenants/{t}/apps {"name"}`.
fn create(args: CreateArgs) -> Result<()> {
    let response = args
        .client
        .client()?
        .post_json(&apps_path(&args.tenant), &json!({ "name": args.app }))?;
    if args.client.json {
        return print_json(&response);
    }
    println!("created app {}/{}", args.tenant, args.app);
    Ok(())
}

/// `GET /api/v1/tenants/{t}/apps`: one app name a line.
fn list(args: ListArgs) -> Result<()> {
    let response = args.client.client()?.get(&apps_path(&args.tenant))?;
    if args.client.json {
        return print_json(&response);
    }
    let apps = response
        .get("apps")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if apps.is_empty() {
        eprintln!("tenant {} has no apps", args.tenant);
    }
    for app in apps {
        println!("{}", str_field(app, "name"));
    }
    Ok(())
}

/// `DELETE /api/v1/tenants/{t}/apps/{a}`.
fn delete(args: DeleteArgs) -> Result<()> {
    let path = format!("{}/{}", apps_path(&args.tenant), segment(&args.app));
    args.client.client()?.delete(&path)?;
    if args.client.json {
        return print_json(&json!({ "deleted": { "tenant": args.tenant, "app": args.app } }));
    }
    println!("deleted app {}/{}", args.tenant, args.app);
    Ok(())
}
