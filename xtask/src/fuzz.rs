//! `cargo xtask fuzz`: the cargo-fuzz targets of `fuzz/` (the host's frame, binary, form,
//! token, cookie, origin, route and payload parsers, and applying a diff), each run for a
//! bounded time; `cargo xtask test` runs them briefly.
//!
//! Works with the stable toolchain alone: cargo-fuzz is installed when missing, and the
//! targets are built by stable `cargo` with `RUSTC_BOOTSTRAP=1` (cargo-fuzz passes `-Z`
//! flags). They are built without a sanitizer by default: everything fuzzed is safe Rust,
//! whose bugs (panics, overflows with the debug assertions cargo-fuzz turns on, aborts such as
//! a stack overflow) libFuzzer reports without one, at about twice the executions per second
//! and a shorter build; `--sanitizer address` builds with AddressSanitizer (it works on stable
//! with `RUSTC_BOOTSTRAP=1`), in `fuzz/target/address`.
//!
//! Build artifacts go to `fuzz/target`, the corpora libFuzzer grows to `fuzz/corpus/<target>`
//! and crashes to `fuzz/artifacts/<target>` (all git-ignored); the committed seeds of
//! `fuzz/seeds/<target>` start each corpus.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::process::{output, root, status};

/// The toolchain the targets are built with: stable, as on a fresh machine or CI.
const TOOLCHAIN: &str = "stable";

/// How to run the targets.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seconds per target.
    pub seconds: u64,
    /// Targets to run (all when empty).
    pub targets: Vec<String>,
    /// Targets run at once.
    pub jobs: usize,
    /// `none` or `address`.
    pub sanitizer: String,
}

/// What one target did.
struct Outcome {
    target: String,
    runs: u64,
    seconds: f64,
    crashed: Option<String>,
}

fn fuzz_dir() -> PathBuf {
    root().join("fuzz")
}

/// Every fuzz target: the files of `fuzz/fuzz_targets`, by name.
pub fn all_targets() -> Result<Vec<String>> {
    let dir = fuzz_dir().join("fuzz_targets");
    let mut targets = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs")
            && let Some(stem) = path.file_stem()
        {
            targets.push(stem.to_string_lossy().into_owned());
        }
    }
    targets.sort();
    Ok(targets)
}

/// `cargo` of the stable toolchain: `cargo +stable` under rustup, with `RUSTUP_TOOLCHAIN` set
/// so that what cargo-fuzz runs (`cargo build`, `rustc`) is stable too.
fn cargo() -> Command {
    let mut cmd = Command::new("cargo");
    cmd.arg(format!("+{TOOLCHAIN}"))
        .env("RUSTUP_TOOLCHAIN", TOOLCHAIN)
        .current_dir(root());
    // `cargo xtask` runs under cargo: keep its choices of compiler out of the fuzz build.
    for var in [
        "RUSTC",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Says which compiler builds the targets, and refuses to go on with another than stable.
fn check_toolchain() -> Result<String> {
    let version = output(
        Command::new("rustc")
            .arg(format!("+{TOOLCHAIN}"))
            .env("RUSTUP_TOOLCHAIN", TOOLCHAIN)
            .arg("-vV"),
    )
    .context("no stable toolchain: `rustup toolchain install stable`")?;
    let release = version
        .lines()
        .find_map(|l| l.strip_prefix("release: "))
        .unwrap_or("?")
        .to_string();
    if release.contains("nightly") || release.contains("beta") {
        bail!("`rustc +{TOOLCHAIN}` is {release}, not a stable release");
    }
    let host = version
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .context("rustc -vV printed no host")?
        .to_string();
    println!("  rustc {release} ({TOOLCHAIN}, RUSTC_BOOTSTRAP=1), host {host}");
    Ok(host)
}

/// Installs cargo-fuzz (`cargo install cargo-fuzz --locked`) when `cargo fuzz` is missing.
fn ensure_cargo_fuzz() -> Result<()> {
    let present = cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if present {
        let version = output(cargo().args(["fuzz", "--version"]))?;
        println!("  {}", version.trim());
        return Ok(());
    }
    println!("  cargo-fuzz is missing: cargo install cargo-fuzz --locked");
    status(cargo().args(["install", "cargo-fuzz", "--locked"])).context("installing cargo-fuzz")
}

/// Builds the targets (all of them: one build) and returns the directory of the binaries.
fn build(sanitizer: &str) -> Result<PathBuf> {
    let host = check_toolchain()?;
    ensure_cargo_fuzz()?;
    // The two builds differ in every crate: each keeps its own artifacts.
    let target_dir = match sanitizer {
        "none" => fuzz_dir().join("target"),
        other => fuzz_dir().join("target").join(other),
    };
    status(
        cargo()
            .args(["fuzz", "build", "--release", "--sanitizer", sanitizer])
            // Faster builds of the host's large dependency tree, at some cost in speed.
            .args(["--codegen-units", "16", "--fuzz-dir"])
            .arg(fuzz_dir())
            .arg("--target-dir")
            .arg(&target_dir)
            .env("RUSTC_BOOTSTRAP", "1"),
    )
    .context("building the fuzz targets")?;
    Ok(target_dir.join(host).join("release"))
}

/// Runs `target` for `seconds`; a crash (or any failure of libFuzzer) is reported, with the
/// input that caused it.
fn run_one(bin_dir: &Path, target: &str, seconds: u64) -> Result<Outcome> {
    let dir = fuzz_dir();
    let corpus = dir.join("corpus").join(target);
    let seeds = dir.join("seeds").join(target);
    let artifacts = dir.join("artifacts").join(target);
    let logs = dir.join("target/logs");
    for d in [&corpus, &artifacts, &logs] {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    let log_path = logs.join(format!("{target}.log"));
    let log = std::fs::File::create(&log_path)?;
    let mut cmd = Command::new(bin_dir.join(target));
    cmd.arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1")
        .arg("-max_len=4096")
        .arg("-timeout=10")
        .arg("-rss_limit_mb=2048")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg(&corpus);
    if seeds.is_dir() {
        cmd.arg(&seeds);
    }
    let started = Instant::now();
    let exit = cmd
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()
        .with_context(|| format!("starting fuzz target {target} (was it built?)"))?;
    let took = started.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    // `-print_final_stats=1`: `stat::number_of_executed_runs` (older libFuzzer) or `_units`.
    let runs = text
        .lines()
        .rev()
        .find_map(|l| {
            l.strip_prefix("stat::number_of_executed_runs:")
                .or_else(|| l.strip_prefix("stat::number_of_executed_units:"))
        })
        .and_then(|n| n.trim().parse().ok());
    let crashed = if exit.success() {
        None
    } else {
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        Some(format!(
            "{exit}; log {}, inputs in {}:\n{}",
            log_path.display(),
            artifacts.display(),
            tail.join("\n")
        ))
    };
    let Some(runs) = runs else {
        bail!(
            "fuzz target {target} printed no final stats ({exit}); see {}",
            log_path.display()
        );
    };
    Ok(Outcome {
        target: target.to_string(),
        runs,
        seconds: took,
        crashed,
    })
}

/// Builds and runs the targets of `options`, prints executions per target and in total, and
/// fails when one crashed.
pub fn run(options: &Options) -> Result<()> {
    let known = all_targets()?;
    let targets = if options.targets.is_empty() {
        known.clone()
    } else {
        for t in &options.targets {
            if !known.contains(t) {
                bail!("no fuzz target {t}; the targets are: {}", known.join(", "));
            }
        }
        options.targets.clone()
    };
    if !matches!(options.sanitizer.as_str(), "none" | "address") {
        bail!("--sanitizer is `none` or `address`");
    }
    let bin_dir = build(&options.sanitizer)?;
    println!(
        "  running {} target(s) for {} s each, {} at a time",
        targets.len(),
        options.seconds,
        options.jobs.max(1)
    );
    let queue = Mutex::new(targets.iter());
    let outcomes = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().map(|mut q| q.next().cloned());
                    let Ok(Some(target)) = next else { break };
                    let outcome = run_one(&bin_dir, &target, options.seconds);
                    if let Ok(o) = &outcome {
                        println!(
                            "  {:<10} {:>12} runs in {:>5.1} s ({:>8.0}/s){}",
                            o.target,
                            o.runs,
                            o.seconds,
                            o.runs as f64 / o.seconds.max(0.001),
                            if o.crashed.is_some() { "  CRASHED" } else { "" }
                        );
                    }
                    if let Ok(mut all) = outcomes.lock() {
                        all.push(outcome);
                    }
                }
            });
        }
    });
    let outcomes = outcomes
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a fuzz runner thread panicked"))?;
    let mut total = 0u64;
    let mut failures = Vec::new();
    for outcome in outcomes {
        let outcome = outcome?;
        total += outcome.runs;
        if let Some(crash) = outcome.crashed {
            failures.push(format!("fuzz target {} failed: {crash}", outcome.target));
        }
    }
    println!("  total: {total} inputs executed");
    if !failures.is_empty() {
        bail!("{}", failures.join("\n\n"));
    }
    Ok(())
}
