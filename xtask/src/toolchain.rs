//! The guest toolchain (rustup's wasm32 target, or Debian's `rustc-web` fallback: see
//! `livewasm_guest_build::toolchain`), resolved with its progress printed.

use anyhow::Result;

pub use livewasm_guest_build::Toolchain;

/// Resolves the guest toolchain, setting one up when needed, printing which path it took.
pub fn resolve() -> Result<Toolchain> {
    Ok(livewasm_guest_build::toolchain::resolve(|line| {
        println!("{line}");
    })?)
}
