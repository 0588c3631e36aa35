//! `livewasm token …`: API tokens, over HTTP or (operator tokens) directly in the registry.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use livewasm_registry::{Principal, QuotaDefaults, Registry, Scope};
use serde_json::{Value, json};

use super::{ClientOpts, print_json, str_field};

/// Label of operator tokens created offline without `--label`.
const DEFAULT_OPERATOR_LABEL: &str = "operator";

/// `livewasm token` subcommands.
#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create an API token; its text is printed once and cannot be shown again.
    Create(CreateArgs),
}

/// Options of `livewasm token create`.
#[derive(Args)]
pub struct CreateArgs {
    /// The tenant the token acts for (a tenant token, or with --app a deploy token).
    #[arg(
        long,
        required_unless_present = "operator",
        conflicts_with = "operator"
    )]
    tenant: Option<String>,
    /// Make a deploy token for this app of the tenant.
    #[arg(long, requires = "tenant")]
    app: Option<String>,
    /// A human label for the token, e.g. `ci deploy`.
    #[arg(long)]
    label: Option<String>,
    /// Make an operator token: offline in the registry given --database, else over HTTP
    /// (needs an operator --token).
    #[arg(long)]
    operator: bool,
    /// With --operator: the registry (a SQLite path, `sqlite:` or `postgres://` URL) to create
    /// the token in directly, without a running server.
    #[arg(
        long,
        env = "DATABASE_URL",
        value_name = "URL|PATH",
        hide_env_values = true
    )]
    database: Option<String>,
    #[command(flatten)]
    client: ClientOpts,
}

/// Runs a `token` subcommand.
pub fn run(command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Create(args) => create(args),
    }
}

/// Creates a token over HTTP, or offline for `--operator --database`.
fn create(args: CreateArgs) -> Result<()> {
    let response = match (&args.tenant, args.operator, &args.database) {
        (_, true, Some(database)) => create_offline(database, args.label.as_deref())?,
        (tenant, operator, _) => {
            let scope = match (tenant, &args.app) {
                _ if operator => json!({ "kind": "operator" }),
                (Some(tenant), Some(app)) => {
                    json!({ "kind": "deploy", "tenant": tenant, "app": app })
                }
                (Some(tenant), None) => json!({ "kind": "tenant", "tenant": tenant }),
                // clap requires --tenant unless --operator.
                (None, _) => anyhow::bail!("--tenant or --operator is required"),
            };
            let mut body = json!({ "scope": scope });
            if let Some(label) = &args.label {
                body["label"] = json!(label);
            }
            args.client.client()?.post_json("/api/v1/tokens", &body)?
        }
    };
    let token = str_field(&response, "token");
    if token.is_empty() {
        anyhow::bail!("the server's response holds no token: {response}");
    }
    if args.client.json {
        print_json(&response)?;
    } else {
        let info = &response["info"];
        eprintln!(
            "created {} token {}{}",
            describe_scope(&info["scope"]),
            str_field(info, "id"),
            match str_field(info, "label") {
                "" => String::new(),
                label => format!(" ({label})"),
            }
        );
        println!("{token}");
    }
    eprintln!("warning: store this token now: it cannot be shown again");
    Ok(())
}

/// A scope in words: `operator`, `tenant acme`, `deploy acme/shop`.
fn describe_scope(scope: &Value) -> String {
    match str_field(scope, "kind") {
        "tenant" => format!("tenant {}", str_field(scope, "tenant")),
        "deploy" => format!(
            "deploy {}/{}",
            str_field(scope, "tenant"),
            str_field(scope, "app")
        ),
        "" => "a".to_owned(),
        kind => kind.to_owned(),
    }
}

/// Creates an operator token directly in the registry at `database`, acting as the system,
/// and returns it in the API's response shape (`{"token","info"}`).
fn create_offline(database: &str, label: Option<&str>) -> Result<Value> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let registry = Registry::open(database, QuotaDefaults::default())
            .await
            .with_context(|| format!("opening the registry at {}", redact(database)))?;
        let created = registry
            .create_token(
                &Principal::system("cli"),
                label.unwrap_or(DEFAULT_OPERATOR_LABEL),
                Scope::Operator,
            )
            .await
            .context("creating the operator token");
        registry.close().await;
        let created = created?;
        Ok(json!({ "token": created.token, "info": created.info }))
    })
}

/// A database location without the password of a `scheme://user:password@host` URL.
fn redact(location: &str) -> String {
    match (location.find("://"), location.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &location[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!(
                "{}{user}:***{}",
                &location[..scheme_end + 3],
                &location[at..]
            )
        }
        _ => location.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://lw:secret@db:5432/lw"),
            "postgres://lw:***@db:5432/lw"
        );
        assert_eq!(redact("/var/lib/livewasm.db"), "/var/lib/livewasm.db");
    }
}
