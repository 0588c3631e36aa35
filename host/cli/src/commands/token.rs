//! `livewasm token …`: API tokens, over HTTP or (operator tokens) directly in the registry:
//! create (optionally expiring), list, revoke.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use livewasm_registry::{Principal, QuotaDefaults, Registry, Scope};
use serde_json::{Value, json};

use super::{ClientOpts, print_json, str_field, table, utc_time};
use crate::client::segment;

/// Label of operator tokens created offline without `--label`.
const DEFAULT_OPERATOR_LABEL: &str = "operator";

/// `livewasm token` subcommands.
#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create an API token; its text is printed once and cannot be shown again.
    Create(CreateArgs),
    /// List API tokens (never their text): all of them for an operator token, or one
    /// tenant's.
    List(ListArgs),
    /// Revoke an API token by id; it is refused from its next request on.
    Revoke(RevokeArgs),
}

/// Options of `livewasm token list`.
#[derive(Args)]
pub struct ListArgs {
    /// Only this tenant's tokens (a tenant token always sees only its own tenant's).
    #[arg(long)]
    tenant: Option<String>,
    #[command(flatten)]
    client: ClientOpts,
}

/// Options of `livewasm token revoke`.
#[derive(Args)]
pub struct RevokeArgs {
    /// The token's id (`tok_…`, as `token list` shows it), not its text.
    id: String,
    #[command(flatten)]
    client: ClientOpts,
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
    /// Make the token expire after this long: a number with `s`, `m`, `h` or `d`, e.g.
    /// `30d`, `12h`. Without it the token never expires.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_secs)]
    expires: Option<u64>,
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
        TokenCommand::List(args) => list(args),
        TokenCommand::Revoke(args) => revoke(args),
    }
}

/// Parses a duration such as `30d`, `12h`, `90m` or `3600s` into seconds.
fn parse_duration_secs(text: &str) -> Result<u64, String> {
    let invalid = || {
        format!(
            "expected a whole number followed by s, m, h or d (e.g. 3600s, 90m, 12h, 30d), got \
             {text:?}"
        )
    };
    let text = text.trim();
    let unit = text.chars().last().ok_or_else(invalid)?;
    let number = &text[..text.len() - unit.len_utf8()];
    let unit_secs: u64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(invalid()),
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let count: u64 = number.parse().map_err(|_| invalid())?;
    if count == 0 {
        return Err(format!("the duration must be more than zero, got {text:?}"));
    }
    count
        .checked_mul(unit_secs)
        .filter(|secs| *secs <= u64::from(u32::MAX) * 1000)
        .ok_or_else(|| format!("the duration {text:?} is too long"))
}

/// `GET /api/v1/tokens[?tenant=NAME]`: a table, one token a line.
fn list(args: ListArgs) -> Result<()> {
    let path = match &args.tenant {
        Some(tenant) => format!("/api/v1/tokens?tenant={}", segment(tenant)),
        None => "/api/v1/tokens".to_owned(),
    };
    let response = args.client.client()?.get(&path)?;
    if args.client.json {
        return print_json(&response);
    }
    let tokens = response
        .get("tokens")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if tokens.is_empty() {
        eprintln!("no tokens");
        return Ok(());
    }
    let mut rows = vec![
        [
            "ID",
            "KIND",
            "FOR",
            "LABEL",
            "STATUS",
            "CREATED (UTC)",
            "EXPIRES (UTC)",
            "LAST USED (UTC)",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for token in tokens {
        rows.push(vec![
            str_field(token, "id").to_owned(),
            str_field(token, "kind").to_owned(),
            token_target(token),
            str_field(token, "label").to_owned(),
            str_field(token, "status").to_owned(),
            time_field(token, "created_at", "?"),
            time_field(token, "expires_at", "never"),
            time_field(token, "last_used_at", "never"),
        ]);
    }
    print!("{}", table(&rows));
    Ok(())
}

/// What a listed token acts for: `-` (operator), `acme`, `acme/shop`.
fn token_target(token: &Value) -> String {
    match (str_field(token, "tenant"), str_field(token, "app")) {
        ("", _) => "-".to_owned(),
        (tenant, "") => tenant.to_owned(),
        (tenant, app) => format!("{tenant}/{app}"),
    }
}

/// A unix-ms field as UTC time, or `missing`.
fn time_field(value: &Value, key: &str, missing: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_i64)
        .map_or_else(|| missing.to_owned(), utc_time)
}

/// `DELETE /api/v1/tokens/{id}`.
fn revoke(args: RevokeArgs) -> Result<()> {
    let path = format!("/api/v1/tokens/{}", segment(&args.id));
    let response = args.client.client()?.delete(&path)?;
    if args.client.json {
        return print_json(&response);
    }
    let info = &response["info"];
    println!(
        "revoked {} token {}{}",
        str_field(info, "kind"),
        str_field(info, "id"),
        match str_field(info, "label") {
            "" => String::new(),
            label => format!(" ({label})"),
        }
    );
    Ok(())
}

/// Creates a token over HTTP, or offline for `--operator --database`.
fn create(args: CreateArgs) -> Result<()> {
    let response = match (&args.tenant, args.operator, &args.database) {
        (_, true, Some(database)) => create_offline(database, args.label.as_deref(), args.expires)?,
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
            if let Some(secs) = args.expires {
                body["expires_in_secs"] = json!(secs);
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
            "created {} token {}{}{}",
            describe_scope(&info["scope"]),
            str_field(info, "id"),
            match str_field(info, "label") {
                "" => String::new(),
                label => format!(" ({label})"),
            },
            match info.get("expires_at").and_then(Value::as_i64) {
                Some(at) => format!(", expires {} UTC", utc_time(at)),
                None => String::new(),
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
/// expiring `expires_secs` from now if given, and returns it in the API's response shape
/// (`{"token","info"}`).
fn create_offline(database: &str, label: Option<&str>, expires_secs: Option<u64>) -> Result<Value> {
    let expires_at = match expires_secs {
        Some(secs) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .context("the system clock is before 1970")?;
            let at = now.as_millis().saturating_add(u128::from(secs) * 1000);
            Some(i64::try_from(at).context("the expiry is too far ahead")?)
        }
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let registry = Registry::open(database, QuotaDefaults::default())
            .await
            .with_context(|| format!("opening the registry at {}", redact(database)))?;
        let created = registry
            .create_token_expiring(
                &Principal::system("cli"),
                label.unwrap_or(DEFAULT_OPERATOR_LABEL),
                Scope::Operator,
                expires_at,
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
    fn durations_parse() {
        assert_eq!(parse_duration_secs("3600s"), Ok(3600));
        assert_eq!(parse_duration_secs("90m"), Ok(5400));
        assert_eq!(parse_duration_secs("12h"), Ok(43_200));
        assert_eq!(parse_duration_secs("30d"), Ok(2_592_000));
        for bad in [
            "", "d", "30", "30w", "1.5h", "-1d", "+1d", "30 d", "3d0", "30D", "é",
        ] {
            let error = parse_duration_secs(bad).expect_err(bad);
            assert!(error.contains("s, m, h or d"), "{bad}: {error}");
        }
        assert!(
            parse_duration_secs("0d")
                .unwrap_err()
                .contains("more than zero")
        );
        assert!(
            parse_duration_secs("99999999999999999999d")
                .unwrap_err()
                .contains("s, m, h or d")
        );
        assert!(
            parse_duration_secs("9999999999999d")
                .unwrap_err()
                .contains("too long")
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://lw:secret@db:5432/lw"),
            "postgres://lw:***@db:5432/lw"
        );
        assert_eq!(redact("/var/lib/livewasm.db"), "/var/lib/livewasm.db");
    }
}
