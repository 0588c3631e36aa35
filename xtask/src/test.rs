//! `cargo xtask test`.

use anyhow::{Result, bail};

/// Runs the tests.
pub fn run(browser: bool) -> Result<()> {
    let _ = browser;
    bail!("test is not wired yet")
}
