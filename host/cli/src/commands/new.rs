//! `livewasm new`: makes a standalone view crate (a counter with its route and a test) from
//! the template `cargo xtask new` uses too (`livewasm-scaffold`).
//!
//! The crate is a workspace of its own, so a parent directory's workspace does not take it in,
//! and depends on the SDK and the test harness by path: by default those of the Livewasm
//! checkout this binary was built from.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use livewasm_scaffold::Flavor;

/// Options of `livewasm new`.
#[derive(Args)]
pub struct NewArgs {
    /// The crate's name, also its app's name and route (`/NAME`): lowercase letters a-z,
    /// digits and '-', starting with a letter.
    name: String,
    /// The crate's directory, which must not exist yet (default: `./NAME`).
    #[arg(long, value_name = "DIR")]
    path: Option<PathBuf>,
    /// The Livewasm SDK's directory (`guest-sdk/` of a Livewasm checkout; the test harness is
    /// taken from `host/testing/` next to it). Default: the checkout this binary was built
    /// from.
    #[arg(long, value_name = "PATH")]
    sdk_path: Option<PathBuf>,
}

/// The SDK of the checkout this binary was built from.
fn built_sdk_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-sdk")
}

/// The SDK and the test harness next to it, as absolute paths; an error naming `--sdk-path`
/// when either is missing.
fn locate(sdk: &Path) -> Result<(PathBuf, PathBuf)> {
    let sdk = std::fs::canonicalize(sdk).with_context(|| {
        format!(
            "no Livewasm SDK at {}: pass --sdk-path <guest-sdk directory of a Livewasm checkout>",
            sdk.display()
        )
    })?;
    if !sdk.join("Cargo.toml").is_file() {
        bail!(
            "{} has no Cargo.toml: --sdk-path must name the `guest-sdk` directory of a Livewasm \
             checkout",
            sdk.display()
        );
    }
    let testing = sdk
        .parent()
        .map(|root| root.join("host/testing"))
        .filter(|dir| dir.join("Cargo.toml").is_file())
        .with_context(|| {
            format!(
                "no test harness (host/testing) next to the SDK at {}: --sdk-path must name the \
                 `guest-sdk` directory of a Livewasm checkout",
                sdk.display()
            )
        })?;
    Ok((sdk, testing))
}

/// Writes the crate and prints what to do next.
pub fn run(args: NewArgs) -> Result<()> {
    livewasm_scaffold::validate_name(&args.name)?;
    let dir = args.path.unwrap_or_else(|| PathBuf::from(&args.name));
    let (sdk, testing) = locate(&args.sdk_path.unwrap_or_else(built_sdk_path))?;
    let files = livewasm_scaffold::files(&args.name, &Flavor::Standalone { sdk, testing })?;
    livewasm_scaffold::write(&dir, &files)?;
    let name = &args.name;
    println!("Created the view crate `{name}` in {}:", dir.display());
    for file in &files {
        println!("  {}", file.path.display());
    }
    println!(
        "\nNext (README.md has the details):\n  cd {dir}\n  \
         livewasm build        # → target/components/{name}.wasm\n  \
         livewasm serve --dev --app target/components/{name}.wasm   # http://127.0.0.1:4000/{name}\n  \
         cargo test",
        dir = dir.display()
    );
    Ok(())
}
