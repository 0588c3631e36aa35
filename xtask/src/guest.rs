//! Building guest crates into components.

use std::path::{Path, PathBuf};
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
    /// `Some(dir)` for a crate outside this workspace (its own, e.g. made by `livewasm new`),
    /// built through its own manifest; `None` for a member of this workspace.
    pub own_crate: Option<PathBuf>,
    /// `Some(feature)` for a variant of the crate built with that cargo feature, named
    /// `<crate>-<feature>` (declared in its `[package.metadata.livewasm] variants`, e.g. the
    /// thermostat's `v2` for the live upgrade tests); variants are never served by `dev`.
    pub feature: Option<String>,
}

impl Guest {
    /// The view crate in `dir`, outside this workspace (a crate of its own, such as one
    /// `livewasm new` makes): named after its package.
    pub fn outside(dir: &Path) -> Result<Guest> {
        let dir = std::fs::canonicalize(dir)
            .with_context(|| format!("no view crate at {}", dir.display()))?;
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
            .with_context(|| format!("reading {}", dir.join("Cargo.toml").display()))?;
        let package = package_name(&manifest)
            .with_context(|| format!("no package name in {}", dir.join("Cargo.toml").display()))?;
        Ok(Guest {
            name: package.clone(),
            package,
            example: true,
            own_crate: Some(dir),
            feature: None,
        })
    }

    /// Where its component is written when built with `profile`: `target/components/` of
    /// this workspace (where the tests look), or `target/dev/components/` for `guest-dev`
    /// builds, which must not take the tested components' place; for a crate outside the
    /// workspace, `target/components/` of its own directory (where its tests look).
    pub fn component_path(&self, profile: Profile) -> PathBuf {
        let dir = match (&self.own_crate, profile) {
            (Some(dir), _) => dir.join("target/components"),
            (None, Profile::Guest) => components_dir(),
            (None, Profile::GuestDev) => root().join("target/dev/components"),
        };
        dir.join(format!("{}.wasm", self.name))
    }
}

pub use livewasm_guest_build::{Profile, package_name};

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
            let features = variants(&manifest)
                .with_context(|| format!("reading {}", path.join("Cargo.toml").display()))?;
            guests.push(Guest {
                name: name.clone(),
                package: package.clone(),
                example,
                own_crate: None,
                feature: None,
            });
            for feature in features {
                guests.push(Guest {
                    name: format!("{name}-{feature}"),
                    package: package.clone(),
                    example: false,
                    own_crate: None,
                    feature: Some(feature),
                });
            }
        }
    }
    Ok(guests)
}

/// The features a crate's manifest asks variants to be built with
/// (`[package.metadata.livewasm] variants = ["v2"]`).
fn variants(manifest: &str) -> Result<Vec<String>> {
    let table: toml::Table = manifest.parse()?;
    let Some(list) = table
        .get("package")
        .and_then(|p| p.get("metadata"))
        .and_then(|m| m.get("livewasm"))
        .and_then(|l| l.get("variants"))
    else {
        return Ok(Vec::new());
    };
    list.as_array()
        .context("`variants` is not a list")?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .context("a variant is not a string")
        })
        .collect()
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

/// Compiles `guests` for wasm32 with the `guest` profile and writes a component for each;
/// returns their paths.
pub fn build(toolchain: &Toolchain, guests: &[Guest]) -> Result<Vec<PathBuf>> {
    build_with(toolchain, guests, Profile::Guest)
}

/// Compiles `guests` for wasm32 with `profile` and writes a component for each (see
/// [`Guest::component_path`]); returns their paths.
pub fn build_with(
    toolchain: &Toolchain,
    guests: &[Guest],
    profile: Profile,
) -> Result<Vec<PathBuf>> {
    publish(&build_staged(toolchain, guests, profile)?)
}

/// Compiles `guests` for wasm32 with `profile` and writes each component beside its place as
/// `<name>.wasm.staged` (where no host looks); [`publish`] moves them into place. Every guest
/// is built in this workspace's `target/guest` (a crate outside the workspace too, so it
/// shares the compiled dependencies), and a crate outside the workspace is built on its own.
/// A variant (a crate built with a feature) is built on its own in `target/guest-<feature>`:
/// cargo names a crate's wasm output alike whatever its features, so a variant sharing the
/// directory could be taken for the crate itself.
pub fn build_staged(
    toolchain: &Toolchain,
    guests: &[Guest],
    profile: Profile,
) -> Result<Vec<PathBuf>> {
    if guests.is_empty() {
        return Ok(Vec::new());
    }
    let own_crate = match guests {
        [only] => only.own_crate.as_deref(),
        _ if guests.iter().any(|g| g.own_crate.is_some()) => {
            bail!("a crate outside the workspace is built on its own")
        }
        _ => None,
    };
    let started = Instant::now();
    let plain: Vec<&Guest> = guests.iter().filter(|g| g.feature.is_none()).collect();
    let mut written = compile(toolchain, &plain, None, profile, own_crate)?;
    for variant in guests.iter().filter(|g| g.feature.is_some()) {
        written.extend(compile(
            toolchain,
            &[variant],
            variant.feature.as_deref(),
            profile,
            own_crate,
        )?);
    }
    println!(
        "  built {} guest(s) ({} profile) in {:.1} s",
        guests.len(),
        profile.name(),
        started.elapsed().as_secs_f64()
    );
    Ok(written)
}

/// One cargo build of `guests` (with `feature`, for a variant), then a staged component each.
fn compile(
    toolchain: &Toolchain,
    guests: &[&Guest],
    feature: Option<&str>,
    profile: Profile,
    own_crate: Option<&Path>,
) -> Result<Vec<PathBuf>> {
    if guests.is_empty() {
        return Ok(Vec::new());
    }
    let target_dir = match feature {
        None => root().join("target/guest"),
        Some(feature) => root().join(format!("target/guest-{feature}")),
    };
    let mut cmd = livewasm_guest_build::cargo_build(toolchain, profile, &target_dir, own_crate)?;
    if own_crate.is_none() {
        cmd.current_dir(root());
        for guest in guests {
            cmd.args(["-p", &guest.package]);
        }
    }
    if let Some(feature) = feature {
        cmd.args(["--features", feature]);
    }
    status_teeing_stderr(&mut cmd).context("building guests for wasm32")?;
    let mut written = Vec::new();
    for guest in guests {
        let core_path =
            livewasm_guest_build::core_module_path(&target_dir, profile, &guest.package);
        let core = std::fs::read(&core_path)
            .with_context(|| format!("reading {}", core_path.display()))?;
        let component = livewasm_guest_build::componentize(&core)
            .with_context(|| format!("making a component of {}", guest.package))?;
        let path = guest.component_path(profile);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let staged = path.with_extension("wasm.staged");
        std::fs::write(&staged, &component)
            .with_context(|| format!("writing {}", staged.display()))?;
        println!(
            "  {:<16} core {:>7} B  component {:>7} B  → {}",
            guest.name,
            core.len(),
            component.len(),
            relative(&path)
        );
        written.push(staged);
    }
    Ok(written)
}

/// Moves components written by [`build_staged`] into place, each with a rename, so a host
/// watching them never reads half of one; returns their paths.
pub fn publish(staged: &[PathBuf]) -> Result<Vec<PathBuf>> {
    staged
        .iter()
        .map(|staged| {
            // `x.wasm.staged` → `x.wasm`
            let path = staged.with_extension("");
            std::fs::rename(staged, &path)
                .with_context(|| format!("moving {} into place", staged.display()))?;
            Ok(path)
        })
        .collect()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `key = value` lines of section `[name]` of a TOML text.
    fn section(text: &str, name: &str) -> Vec<(String, String)> {
        let header = format!("[{name}]");
        text.lines()
            .skip_while(|l| l.trim() != header)
            .skip(1)
            .take_while(|l| !l.trim_start().starts_with('['))
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect()
    }

    #[test]
    fn profile_settings_are_the_workspace_profiles() {
        let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
        for profile in [Profile::Guest, Profile::GuestDev] {
            let written = section(&manifest, &format!("profile.{}", profile.name()));
            let ours: Vec<(String, String)> = profile
                .settings()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(written, ours, "[profile.{}]", profile.name());
        }
    }

    #[test]
    fn a_crate_outside_the_workspace_is_named_after_its_package() {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().join("somewhere");
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"counter\"\nversion = \"0.1.0\"\n",
        )
        .expect("manifest");
        let guest = Guest::outside(&dir).expect("a crate");
        assert_eq!(
            (guest.name.as_str(), guest.package.as_str()),
            ("counter", "counter")
        );
        let dir = std::fs::canonicalize(&dir).expect("canonical");
        assert_eq!(guest.own_crate.as_deref(), Some(dir.as_path()));
        assert_eq!(
            guest.component_path(Profile::GuestDev),
            dir.join("target/components/counter.wasm")
        );
        let example = Guest {
            own_crate: None,
            ..guest
        };
        assert_eq!(
            example.component_path(Profile::Guest),
            root().join("target/components/counter.wasm")
        );
        assert_eq!(
            example.component_path(Profile::GuestDev),
            root().join("target/dev/components/counter.wasm")
        );
        assert!(Guest::outside(&temp.path().join("nothing")).is_err());
    }
}
