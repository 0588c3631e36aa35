//! Building guest crates into components.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::process::{root, status_teeing_stderr};
use crate::toolchain::Toolchain;

/// A guest crate.
#[derive(Debug, Clone)]
pub struct Guest {
    /// Component name: the crate's directory name (`examples/thermostat` → `thermostat`).
    pub name: String,
    /// Cargo package name.
    pub package: String,
    /// True for examples (served by `dev`), false for test fixtures.
    pub example: bool,
}

/// Where components are written.
pub fn components_dir() -> PathBuf {
    root().join("target/components")
}

/// Every guest crate under `examples/` and `tests/fixtures/`.
pub fn discover() -> Result<Vec<Guest>> {
    let mut guests = Vec::new();
    for (dir, example) in [("examples", true), ("tests/fixtures", false)] {
        let Ok(entries) = std::fs::read_dir(root().join(dir)) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("Cargo.toml").is_file())
            .collect();
        found.sort();
        for path in found {
            let manifest = std::fs::read_to_string(path.join("Cargo.toml"))?;
            let package = package_name(&manifest)
                .with_context(|| format!("no package name in {}", path.display()))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            guests.push(Guest {
                name,
                package,
                example,
            });
        }
    }
    Ok(guests)
}

/// The package name a crate's `Cargo.toml` text declares (its first `name = "…"` line).
pub fn package_name(manifest: &str) -> Option<String> {
    manifest.lines().find_map(|l| {
        let l = l.trim();
        l.strip_prefix("name")
            .map(|rest| rest.trim_start())
            .and_then(|rest| rest.strip_prefix('='))
            .map(|v| v.trim().trim_matches('"').to_string())
    })
}

/// Picks guests by name (component or package); all of them when `names` is empty.
pub fn select(names: &[String]) -> Result<Vec<Guest>> {
    let all = discover()?;
    if names.is_empty() {
        return Ok(all);
    }
    names
        .iter()
        .map(|n| {
            all.iter()
                .find(|g| &g.name == n || &g.package == n)
                .cloned()
                .with_context(|| {
                    let known: Vec<&str> = all.iter().map(|g| g.name.as_str()).collect();
                    format!("no guest crate `{n}` (known: {})", known.join(", "))
                })
        })
        .collect()
}

/// Compiles `guests` for wasm32 and writes a component for each; returns their paths.
pub fn build(toolchain: &Toolchain, guests: &[Guest]) -> Result<Vec<PathBuf>> {
    if guests.is_empty() {
        return Ok(Vec::new());
    }
    let started = Instant::now();
    let target_dir = root().join("target/guest");
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root())
        .args([
            "build",
            "--profile",
            "guest",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("RUSTFLAGS", "-C link-arg=-zstack-size=65536");
    for guest in guests {
        cmd.args(["-p", &guest.package]);
    }
    toolchain.configure(&mut cmd)?;
    status_teeing_stderr(&mut cmd).context("building guests for wasm32")?;
    let compiled = started.elapsed();
    let out_dir = components_dir();
    std::fs::create_dir_all(&out_dir)?;
    let mut written = Vec::new();
    for guest in guests {
        let core_path = target_dir
            .join("wasm32-unknown-unknown/guest")
            .join(format!("{}.wasm", guest.package.replace('-', "_")));
        let core = std::fs::read(&core_path)
            .with_context(|| format!("reading {}", core_path.display()))?;
        let component = componentize(&core)
            .with_context(|| format!("making a component of {}", guest.package))?;
        let path = out_dir.join(format!("{}.wasm", guest.name));
        std::fs::write(&path, &component)?;
        println!(
            "  {:<16} core {:>7} B  component {:>7} B  → {}",
            guest.name,
            core.len(),
            component.len(),
            relative(&path)
        );
        written.push(path);
    }
    println!(
        "  built {} guest(s) in {:.1} s",
        guests.len(),
        compiled.as_secs_f64()
    );
    Ok(written)
}

/// Turns a core module (with its embedded component type) into a component.
pub fn componentize(core: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = wit_component::ComponentEncoder::default()
        .module(core)
        .context("the module carries no component type (was it built with the SDK?)")?
        .validate(true);
    let component = encoder.encode()?;
    if component.is_empty() {
        bail!("empty component");
    }
    Ok(component)
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string())
}
