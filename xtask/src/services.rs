//! Throwaway servers the tests and the bench start from the project's own scripts
//! (`tests/postgres.sh`, `tests/nats.sh`, which install their server from apt when it is
//! missing): each prints its URL, and is stopped (its directory deleted) when dropped.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::process::root;

/// A server started by one of `tests/`'s scripts; stopped when dropped.
pub(crate) struct Service {
    /// Its URL, as the script printed it.
    pub(crate) url: String,
    /// The script, relative to the repository.
    script: &'static str,
}

/// PostgreSQL, from `tests/postgres.sh`.
pub(crate) fn postgres() -> Result<Service> {
    Service::start(
        "tests/postgres.sh",
        "postgres://",
        "PostgreSQL",
        "postgresql",
    )
}

/// NATS, from `tests/nats.sh`.
pub(crate) fn nats() -> Result<Service> {
    Service::start("tests/nats.sh", "nats://", "NATS", "nats-server")
}

impl Service {
    /// Runs `script`, which prints a URL starting with `scheme` (`what`, installed from the
    /// apt package `package` when missing).
    fn start(script: &'static str, scheme: &str, what: &str, package: &str) -> Result<Service> {
        let out = Command::new("bash")
            .current_dir(root())
            .arg(script)
            .stderr(std::process::Stdio::inherit())
            .output()
            .with_context(|| format!("running {script}"))?;
        if !out.status.success() {
            bail!(
                "{script} could not start {what} ({}); it installs `{package}` from apt when run as root",
                out.status
            );
        }
        let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !url.starts_with(scheme) {
            bail!("{script} printed no {scheme} URL: {url:?}");
        }
        println!("  {what} at {url}");
        Ok(Service { url, script })
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .current_dir(root())
            .args([self.script, "stop"])
            .status();
    }
}
