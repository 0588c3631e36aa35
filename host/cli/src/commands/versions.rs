//! `livewasm versions`, `livewasm activate` and `livewasm rollback`.

use anyhow::Result;
use clap::Args;
use serde_json::Value;

use super::{AppRef, ClientOpts, human_bytes, print_json, str_field, utc_time, version_number};

/// Options of `livewasm versions`.
#[derive(Args)]
pub struct VersionsArgs {
    /// The app, as `<tenant>/<app>`.
    target: AppRef,
    #[command(flatten)]
    client: ClientOpts,
}

/// Options of `livewasm activate`.
#[derive(Args)]
pub struct ActivateArgs {
    /// The app, as `<tenant>/<app>`.
    target: AppRef,
    /// The version number to serve.
    number: u64,
    #[command(flatten)]
    client: ClientOpts,
}

/// Options of `livewasm rollback`.
#[derive(Args)]
pub struct RollbackArgs {
    /// The app, as `<tenant>/<app>`.
    target: AppRef,
    #[command(flatten)]
    client: ClientOpts,
}

/// `GET …/versions`: a table, the active version marked with `*`.
pub fn list(args: VersionsArgs) -> Result<()> {
    let response = args
        .client
        .client()?
        .get(&format!("{}/versions", args.target.path()))?;
    if args.client.json {
        return print_json(&response);
    }
    let versions = response
        .get("versions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if versions.is_empty() {
        eprintln!("{} has no versions", args.target);
        return Ok(());
    }
    let active = response.get("active").and_then(Value::as_u64);
    print!("{}", table(versions, active));
    Ok(())
}

/// The versions table: header and one row per version, columns padded to fit.
fn table(versions: &[Value], active: Option<u64>) -> String {
    let mut rows = vec![[
        String::new(),
        "VERSION".to_owned(),
        "SIZE".to_owned(),
        "SHA256".to_owned(),
        "UPLOADED BY".to_owned(),
        "CREATED (UTC)".to_owned(),
    ]];
    for version in versions {
        let number = version_number(version);
        rows.push([
            if number.is_some() && number == active {
                "*".to_owned()
            } else {
                String::new()
            },
            number.map_or_else(|| "?".to_owned(), |n| n.to_string()),
            version
                .get("size")
                .and_then(Value::as_u64)
                .map(human_bytes)
                .unwrap_or_default(),
            str_field(version, "sha256").chars().take(12).collect(),
            str_field(version, "uploaded_by").to_owned(),
            version
                .get("created_at")
                .and_then(Value::as_i64)
                .map(utc_time)
                .unwrap_or_default(),
        ]);
    }
    let mut widths = [0usize; 6];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// `POST …/versions/{n}/activate`.
pub fn activate(args: ActivateArgs) -> Result<()> {
    let response = args.client.client()?.post_empty(&format!(
        "{}/versions/{}/activate",
        args.target.path(),
        args.number
    ))?;
    report_active(&args.client, &args.target, &response)
}

/// `POST …/rollback`.
pub fn rollback(args: RollbackArgs) -> Result<()> {
    let response = args
        .client
        .client()?
        .post_empty(&format!("{}/rollback", args.target.path()))?;
    report_active(&args.client, &args.target, &response)
}

/// Prints the version an activation or rollback made active.
fn report_active(client: &ClientOpts, target: &AppRef, response: &Value) -> Result<()> {
    if client.json {
        return print_json(response);
    }
    let version = &response["version"];
    match version_number(version) {
        Some(number) => println!("{target} now serves version {number}"),
        None => println!("{target}: active version changed"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_marks_the_active_version() {
        let versions = [
            json!({"number": 1, "sha256": "aa".repeat(32), "size": 10, "uploaded_by": "token:tok_1", "created_at": 0}),
            json!({"number": 2, "sha256": "bb".repeat(32), "size": 2048, "uploaded_by": "system:cli", "created_at": 86_400_000}),
        ];
        let text = table(&versions, Some(2));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].contains("VERSION"));
        assert!(lines[1].starts_with("   1"), "{text}");
        assert!(lines[2].starts_with("*  2"), "{text}");
        assert!(lines[2].contains("bbbbbbbbbbbb "), "{text}");
        assert!(lines[2].contains("2.0 KiB"));
        assert!(lines[2].contains("1970-01-02 00:00:00"));
    }
}
