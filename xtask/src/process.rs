//! Running child processes with clear errors.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// The workspace root (the parent of xtask's manifest dir).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), PathBuf::from)
}

fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// `cargo`, run in the workspace root without incremental compilation: for what `cargo xtask
/// test` and the bench build once. A fresh clone never reuses incremental state, and CI's
/// took 3.8 GB of a disk it filled.
pub fn cargo_once() -> Command {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root()).env("CARGO_INCREMENTAL", "0");
    cmd
}

/// Runs `cmd`, failing unless it exits 0.
pub fn status(cmd: &mut Command) -> Result<()> {
    let what = describe(cmd);
    let status = cmd.status().with_context(|| format!("starting `{what}`"))?;
    if !status.success() {
        bail!("`{what}` failed ({status})");
    }
    Ok(())
}

/// A command that exited with an error, with what it wrote on stderr.
#[derive(Debug)]
pub struct Failed {
    /// The command line.
    pub what: String,
    /// Its exit status.
    pub status: std::process::ExitStatus,
    /// Everything it wrote on stderr.
    pub stderr: String,
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` failed ({})", self.what, self.status)
    }
}

impl std::error::Error for Failed {}

/// Runs `cmd`, passing its stderr through as it comes and keeping a copy: a failure is a
/// [`Failed`] carrying it (for the dev error overlay).
pub fn status_teeing_stderr(cmd: &mut Command) -> Result<()> {
    use std::io::{BufRead, BufReader, Write};
    let what = describe(cmd);
    let mut child = cmd
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting `{what}`"))?;
    let mut kept = String::new();
    if let Some(stderr) = child.stderr.take() {
        let mut out = std::io::stderr();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = writeln!(out, "{line}");
            kept.push_str(&line);
            kept.push('\n');
        }
    }
    let status = child
        .wait()
        .with_context(|| format!("waiting for `{what}`"))?;
    if !status.success() {
        return Err(Failed {
            what,
            status,
            stderr: kept,
        }
        .into());
    }
    Ok(())
}

/// Runs `cmd` and returns its standard output, failing unless it exits 0.
pub fn output(cmd: &mut Command) -> Result<String> {
    let what = describe(cmd);
    let out = cmd
        .stderr(Stdio::null())
        .output()
        .with_context(|| format!("starting `{what}`"))?;
    if !out.status.success() {
        bail!("`{what}` failed ({})", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A child process killed when dropped.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Prints a step header and times the step.
pub fn step<T>(name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    println!("\n==> {name}");
    let started = Instant::now();
    let result = f();
    let took = started.elapsed().as_secs_f64();
    match &result {
        Ok(_) => println!("==> {name}: done in {took:.1} s"),
        Err(e) => println!("==> {name}: FAILED after {took:.1} s: {e:#}"),
    }
    result
}
