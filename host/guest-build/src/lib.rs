//! Building a Livewasm view crate into a WebAssembly component, shared by `livewasm build`
//! (a standalone crate anywhere) and `cargo xtask` (this repository's examples), so the two
//! build the same way.
//!
//! [`toolchain`] finds (or sets up) a compiler for `wasm32-unknown-unknown`; [`Profile`] holds
//! the guest profiles' settings; [`cargo_build`] makes the `cargo build` command;
//! [`componentize`] turns the compiled core module into a component; [`build_crate`] does all
//! of it for one crate.

mod build;
mod command;
mod componentize;
mod error;
mod profile;
pub mod toolchain;

pub use build::{Built, build_crate, core_module_path, package_name};
pub use command::cargo_build;
pub use componentize::componentize;
pub use error::BuildError;
pub use profile::Profile;
pub use toolchain::Toolchain;
