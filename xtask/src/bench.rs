//! `cargo xtask bench`.

use anyhow::{Result, bail};

/// Runs the benchmarks.
pub fn run(smoke: bool) -> Result<()> {
    let _ = smoke;
    bail!("benchmarks are not wired yet")
}
