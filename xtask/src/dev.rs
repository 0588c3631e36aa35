//! `cargo xtask dev`.

use anyhow::{Result, bail};

/// Serves the examples.
pub fn run(listen: &str) -> Result<()> {
    let _ = listen;
    bail!("dev is not wired yet")
}
