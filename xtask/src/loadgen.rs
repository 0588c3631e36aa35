//! Running `livewasm-loadgen` (`host/loadgen`) against a host the bench started.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::process::output;
use crate::server::Server;

/// Runs the load generator against `server`; its report (the last line it prints, JSON).
pub fn run(binary: &Path, server: &Server, args: &[&str]) -> Result<Value> {
    let addr = server.url.trim_start_matches("http://");
    let text = output(
        Command::new(binary)
            .args(["--server", addr])
            .args(args)
            .stderr(std::process::Stdio::inherit()),
    )?;
    let line = text
        .lines()
        .last()
        .context("the load generator printed nothing")?;
    serde_json::from_str(line).with_context(|| format!("parsing {line}"))
}
