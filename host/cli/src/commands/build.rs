//! `livewasm build`: compiles a view crate (one `livewasm new` made, or any crate using the
//! SDK) for wasm32 and makes a component of it, ready for `livewasm serve --app` or
//! `livewasm deploy`; the same build `cargo xtask build` does for this repository's examples
//! (`livewasm-guest-build`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use livewasm_guest_build::{Profile, build_crate, toolchain};

/// Options of `livewasm build`.
#[derive(Args)]
pub struct BuildArgs {
    /// The view crate's directory.
    #[arg(long, value_name = "DIR", default_value = ".")]
    path: PathBuf,
    /// Quick to compile, larger and slower (the `guest-dev` profile) instead of small and fast
    /// (`guest`, what you deploy).
    #[arg(long)]
    dev: bool,
    /// Where Cargo compiles (default: `CARGO_TARGET_DIR`, else the crate's `target/`). The
    /// component is written to `<crate>/target/components/<package>.wasm` either way.
    #[arg(long, value_name = "DIR", env = "CARGO_TARGET_DIR")]
    target_dir: Option<PathBuf>,
}

/// Runs `livewasm build`.
pub fn run(args: BuildArgs) -> Result<()> {
    let dir = std::fs::canonicalize(&args.path)
        .with_context(|| format!("no view crate at {}", args.path.display()))?;
    let profile = if args.dev {
        Profile::GuestDev
    } else {
        Profile::Guest
    };
    let target_dir = args.target_dir.unwrap_or_else(|| dir.join("target"));
    let toolchain = toolchain::resolve(|line| eprintln!("{line}"))?;
    let built = build_crate(&toolchain, &dir, profile, &target_dir)?;
    println!(
        "built {} ({} profile): core module {} B, component {} B\n  → {}\n\nserve it:  livewasm serve --app {}",
        built.package,
        profile.name(),
        built.core_bytes,
        built.component_bytes,
        built.component.display(),
        built.component.display()
    );
    Ok(())
}
