//! The subcommands that are clients of a host's HTTP API (`/api/v1`), and `new` and `build`,
//! which make a view crate and build it into a component.

pub mod app;
pub mod audit;
pub mod build;
pub mod deploy;
pub mod new;
pub mod tenant;
pub mod token;
pub mod versions;

use std::fmt;
use std::str::FromStr;

use anyhow::{Result, bail};
use clap::Args;
use serde_json::Value;

use crate::client::{Client, segment};

/// Options shared by every API client subcommand.
#[derive(Args, Clone, Debug)]
pub struct ClientOpts {
    /// The host's base URL.
    #[arg(
        long,
        env = "LIVEWASM_SERVER",
        default_value = "http://127.0.0.1:4000",
        value_name = "URL"
    )]
    pub server: String,
    /// API token sent as `Authorization: Bearer …`.
    #[arg(long, env = "LIVEWASM_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Print the API's JSON response instead of human-readable lines.
    #[arg(long)]
    pub json: bool,
}

impl ClientOpts {
    /// A client of the configured server.
    pub fn client(&self) -> Result<Client> {
        Client::new(&self.server, self.token.clone())
    }
}

/// An app named as `<tenant>/<app>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppRef {
    /// The tenant's name.
    pub tenant: String,
    /// The app's name.
    pub app: String,
}

impl AppRef {
    /// The app's API path, `/api/v1/tenants/{t}/apps/{a}`.
    pub fn path(&self) -> String {
        format!(
            "/api/v1/tenants/{}/apps/{}",
            segment(&self.tenant),
            segment(&self.app)
        )
    }
}

impl FromStr for AppRef {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Self> {
        match text.split_once('/') {
            Some((tenant, app)) if !tenant.is_empty() && !app.is_empty() && !app.contains('/') => {
                Ok(AppRef {
                    tenant: tenant.to_owned(),
                    app: app.to_owned(),
                })
            }
            _ => bail!("expected <tenant>/<app>, got {text:?}"),
        }
    }
}

impl fmt::Display for AppRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.tenant, self.app)
    }
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A string field of a JSON object, or `""`.
pub fn str_field<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A version number field of a JSON object (`version.number`), if present.
pub fn version_number(version: &Value) -> Option<u64> {
    version.get("number").and_then(Value::as_u64)
}

/// Lays out `rows` (the first being the header) as left-aligned columns two spaces apart,
/// one line each, without trailing spaces.
pub fn table(rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let width = cell.chars().count();
            match widths.get_mut(i) {
                Some(w) => *w = (*w).max(width),
                None => widths.push(width),
            }
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            let pad = widths[i].saturating_sub(cell.chars().count());
            line.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Formats a byte count: `512 B`, `1.5 KiB`, `2.0 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Formats unix milliseconds as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn utc_time(unix_ms: i64) -> String {
    let secs = unix_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_refs_parse() {
        let parsed: AppRef = "acme/shop".parse().expect("valid");
        assert_eq!(parsed.to_string(), "acme/shop");
        assert_eq!(parsed.path(), "/api/v1/tenants/acme/apps/shop");
        for bad in ["acme", "/shop", "acme/", "a/b/c", ""] {
            assert!(bad.parse::<AppRef>().is_err(), "{bad}");
        }
    }

    #[test]
    fn tables_align() {
        let rows = vec![
            vec!["ID".to_owned(), "KIND".to_owned(), "X".to_owned()],
            vec!["tok_1".to_owned(), "op".to_owned(), String::new()],
        ];
        assert_eq!(table(&rows), "ID     KIND  X\ntok_1  op\n");
    }

    #[test]
    fn formats() {
        assert_eq!(human_bytes(10), "10 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(2 * 1024 * 1024), "2.0 MiB");
        assert_eq!(utc_time(0), "1970-01-01 00:00:00");
        assert_eq!(utc_time(1_764_107_287_000), "2025-11-25 21:48:07");
        assert_eq!(utc_time(951_782_400_000), "2000-02-29 00:00:00");
    }
}
