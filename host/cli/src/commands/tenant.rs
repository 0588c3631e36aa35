//! `livewasm tenant …`.

use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::json;

use super::{ClientOpts, print_json, str_field};

/// `livewasm tenant` subcommands.
#[derive(Subcommand)]
pub enum TenantCommand {
    /// Create a tenant (operator token).
    Create(CreateArgs),
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
