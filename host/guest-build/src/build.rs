//! Building one view crate, start to finish.

use std::path::{Path, PathBuf};

use crate::command::{TARGET, describe};
use crate::{BuildError, Profile, Toolchain, cargo_build, componentize};

/// A component [`build_crate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The crate's package name, which names the component.
    pub package: String,
    /// Where the component was written: `<crate>/target/components/<package>.wasm`.
    pub component: PathBuf,
    /// The compiled core module's size in bytes.
    pub core_bytes: usize,
    /// The component's size in bytes.
    pub component_bytes: usize,
}

/// The package name a crate's `Cargo.toml` text declares (the first `name = "…"` line, which
/// is the `[package]` one in every manifest Livewasm makes).
pub fn package_name(manifest: &str) -> Option<String> {
    manifest.lines().find_map(|l| {
        let l = l.trim();
        l.strip_prefix("name")
            .map(|rest| rest.trim_start())
            .and_then(|rest| rest.strip_prefix('='))
            .map(|v| v.trim().trim_matches('"').to_string())
            .filter(|v| !v.is_empty())
    })
}

/// Where `cargo build` leaves package `package`'s core module when built for wasm32 with
/// `profile` into `target_dir`.
pub fn core_module_path(target_dir: &Path, profile: Profile, package: &str) -> PathBuf {
    target_dir
        .join(TARGET)
        .join(profile.name())
        .join(format!("{}.wasm", package.replace('-', "_")))
}

/// Builds the view crate in `dir` (a crate of its own, outside the Livewasm workspace) for
/// wasm32 with `profile` into `target_dir`, makes a component of it and writes it to
/// `dir/target/components/<package>.wasm` (through a rename, so a host watching the file never
/// reads half of one). Cargo's output goes to this process's stderr as it comes.
///
/// # Errors
/// [`BuildError::NotACrate`] when `dir` has no manifest naming a package; the compiler's
/// failure as [`BuildError::Failed`]; [`BuildError::Componentize`] when the module was not
/// built with the SDK.
pub fn build_crate(
    toolchain: &Toolchain,
    dir: &Path,
    profile: Profile,
    target_dir: &Path,
) -> Result<Built, BuildError> {
    let manifest_path = dir.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path)
        .map_err(|_| BuildError::NotACrate(dir.to_path_buf()))?;
    let package =
        package_name(&manifest).ok_or_else(|| BuildError::NotACrate(dir.to_path_buf()))?;
    let mut cmd = cargo_build(toolchain, profile, target_dir, Some(dir))?;
    let command = describe(&cmd);
    let status = cmd.status().map_err(|source| BuildError::Start {
        command: command.clone(),
        source,
    })?;
    if !status.success() {
        return Err(BuildError::Failed { command, status });
    }
    let core_path = core_module_path(target_dir, profile, &package);
    let core = std::fs::read(&core_path).map_err(BuildError::io(&core_path))?;
    let component = componentize(&core)?;
    let components = dir.join("target/components");
    std::fs::create_dir_all(&components).map_err(BuildError::io(&components))?;
    let path = components.join(format!("{package}.wasm"));
    let staged = path.with_extension("wasm.staged");
    std::fs::write(&staged, &component).map_err(BuildError::io(&staged))?;
    std::fs::rename(&staged, &path).map_err(BuildError::io(&path))?;
    Ok(Built {
        package,
        component: path,
        core_bytes: core.len(),
        component_bytes: component.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_name_is_the_first_name_line() {
        let manifest =
            "[package]\nname = \"my-view\"\nversion = \"0.1.0\"\n\n[lib]\nname = \"other\"\n";
        assert_eq!(package_name(manifest).as_deref(), Some("my-view"));
        assert_eq!(package_name("[workspace]\n"), None);
        assert_eq!(package_name("name = \"\"\n"), None);
    }

    #[test]
    fn core_modules_are_named_with_underscores() {
        assert_eq!(
            core_module_path(Path::new("/t"), Profile::Guest, "my-view"),
            Path::new("/t/wasm32-unknown-unknown/guest/my_view.wasm")
        );
    }

    #[test]
    fn a_directory_without_a_crate_is_refused() {
        let temp = tempfile::tempdir().expect("temp dir");
        let error = build_crate(&Toolchain::Rustup, temp.path(), Profile::Guest, temp.path())
            .expect_err("no crate");
        assert!(matches!(error, BuildError::NotACrate(_)), "{error}");
    }
}
