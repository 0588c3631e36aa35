//! `livewasm audit`: the registry's audit log, newest first.

use anyhow::Result;
use clap::Args;
use serde_json::Value;

use super::{ClientOpts, print_json, str_field, table, utc_time};
use crate::client::segment;

/// Options of `livewasm audit`.
#[derive(Args)]
pub struct AuditArgs {
    /// Only this tenant's entries (a tenant token always sees only its own tenant's).
    #[arg(long)]
    tenant: Option<String>,
    /// At most this many entries (1 to 1000; the server's default is 100).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: Option<u32>,
    /// Only entries older than this sequence number: the next page after one whose last
    /// entry had it.
    #[arg(long, value_name = "SEQ")]
    before: Option<u64>,
    #[command(flatten)]
    client: ClientOpts,
}

/// `GET /api/v1/audit`: a table, newest first, and how to get the next page.
pub fn run(args: AuditArgs) -> Result<()> {
    let mut params = Vec::new();
    if let Some(tenant) = &args.tenant {
        params.push(format!("tenant={}", segment(tenant)));
    }
    if let Some(limit) = args.limit {
        params.push(format!("limit={limit}"));
    }
    if let Some(before) = args.before {
        params.push(format!("before={before}"));
    }
    let path = if params.is_empty() {
        "/api/v1/audit".to_owned()
    } else {
        format!("/api/v1/audit?{}", params.join("&"))
    };
    let response = args.client.client()?.get(&path)?;
    if args.client.json {
        return print_json(&response);
    }
    let entries = response
        .get("entries")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if entries.is_empty() {
        eprintln!("no audit entries");
        return Ok(());
    }
    let mut rows = vec![
        ["SEQ", "TIME (UTC)", "ACTOR", "ACTION", "TARGET"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for entry in entries {
        rows.push(vec![
            entry
                .get("seq")
                .and_then(Value::as_u64)
                .map_or_else(|| "?".to_owned(), |seq| seq.to_string()),
            entry
                .get("at")
                .and_then(Value::as_i64)
                .map_or_else(|| "?".to_owned(), utc_time),
            str_field(entry, "actor").to_owned(),
            str_field(entry, "action").to_owned(),
            str_field(entry, "target").to_owned(),
        ]);
    }
    print!("{}", table(&rows));
    if let Some(next) = response.get("next_before").and_then(Value::as_u64) {
        eprintln!("more entries: add --before {next}");
    }
    Ok(())
}
