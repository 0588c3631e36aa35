//! What can go wrong building a view crate.

use std::path::PathBuf;

/// Why a view crate could not be built into a component.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A program could not be started (not installed, not on `PATH`).
    #[error("starting `{command}`: {source}")]
    Start {
        /// The command line.
        command: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A program exited with an error.
    #[error("`{command}` failed ({status})")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: std::process::ExitStatus,
    },
    /// No compiler for `wasm32-unknown-unknown` could be found or set up.
    #[error("no wasm32 toolchain: {0}")]
    Toolchain(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The crate's `Cargo.toml` is missing or names no package.
    #[error("{0}: not a view crate (no `Cargo.toml` with a package name)")]
    NotACrate(PathBuf),
    /// The compiled module is not a Livewasm guest, or encoding it failed.
    #[error("making a component: {0}")]
    Componentize(String),
}

impl BuildError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BuildError {
        let path = path.into();
        move |source| BuildError::Io { path, source }
    }
}
