//! Finding (or setting up) a compiler that targets `wasm32-unknown-unknown`.
//!
//! 1. rustup's `wasm32-unknown-unknown` target when installed (a normal developer machine);
//! 2. else `rustup target add` with a timeout;
//! 3. else Debian's `rustc-web` compiler and its std sources, downloaded with `apt-get download`
//!    into a private, cached prefix, building std from source (`-Zbuild-std`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::BuildError;
use crate::command::{TARGET, output, run_with_timeout, status};

type Result<T> = std::result::Result<T, BuildError>;

/// How guest crates get compiled.
#[derive(Debug, Clone)]
pub enum Toolchain {
    /// rustup's target is installed.
    Rustup,
    /// Debian's compiler in `prefix`, std built from source.
    Debian {
        /// The extracted packages.
        prefix: PathBuf,
    },
}

impl Toolchain {
    /// Applies the toolchain to a `cargo build` of guests: environment and `-Z` flags.
    pub fn configure(&self, cmd: &mut Command) -> Result<()> {
        if let Toolchain::Debian { prefix } = self {
            let sysroot = output(Command::new("rustc").args(["--print", "sysroot"]))?;
            let lld =
                Path::new(sysroot.trim()).join("lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld");
            cmd.env("RUSTC", prefix.join("usr/bin/rustc"))
                .env("RUSTC_BOOTSTRAP", "1")
                .env("LD_LIBRARY_PATH", prefix.join("usr/lib/x86_64-linux-gnu"))
                .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", lld)
                .arg("-Zbuild-std=std,panic_abort");
        }
        Ok(())
    }

    /// A one-line description for the logs.
    pub fn describe(&self) -> String {
        match self {
            Toolchain::Rustup => format!("rustup target {TARGET}"),
            Toolchain::Debian { prefix } => format!(
                "Debian rustc-web with std built from source ({})",
                prefix.display()
            ),
        }
    }
}

/// Where downloads and extracted toolchains are cached.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("LIVEWASM_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".cache/livewasm")
}

/// Resolves a toolchain, setting one up when needed; `progress` hears which path it took
/// (one line each step).
///
/// # Errors
/// [`BuildError::Toolchain`] when neither rustup's target nor Debian's fallback is available.
pub fn resolve(mut progress: impl FnMut(&str)) -> Result<Toolchain> {
    // LIVEWASM_GUEST_TOOLCHAIN=debian forces the fallback (to test it where rustup has the target).
    let forced = std::env::var("LIVEWASM_GUEST_TOOLCHAIN").ok();
    if forced.as_deref() == Some("debian") {
        let prefix = debian_prefix(&mut progress)?;
        progress(&format!(
            "guest toolchain: Debian rustc-web at {} (forced)",
            prefix.display()
        ));
        return Ok(Toolchain::Debian { prefix });
    }
    if rustup_has_target() {
        progress(&format!(
            "guest toolchain: rustup target {TARGET} (installed)"
        ));
        return Ok(Toolchain::Rustup);
    }
    if which("rustup") {
        progress(&format!(
            "guest toolchain: trying `rustup target add {TARGET}` (60 s at most)…"
        ));
        let mut add = Command::new("rustup");
        add.args(["target", "add", TARGET]);
        match run_with_timeout(&mut add, Duration::from_secs(60)) {
            Ok(true) if rustup_has_target() => {
                progress(&format!(
                    "guest toolchain: rustup target {TARGET} (just added)"
                ));
                return Ok(Toolchain::Rustup);
            }
            Ok(_) => progress(&format!("guest toolchain: rustup could not add {TARGET}")),
            Err(e) => progress(&format!("guest toolchain: rustup target add failed: {e:#}")),
        }
    }
    progress(
        "guest toolchain: falling back to Debian's rustc-web and its std sources \
         (no wasm32 std is available from rustup here)",
    );
    let prefix = debian_prefix(&mut progress).map_err(|e| {
        BuildError::Toolchain(format!(
            "rustup has no {TARGET} target (install it with `rustup target add {TARGET}`) and \
             Debian's rustc-web could not be set up (it needs apt and root): {e}"
        ))
    })?;
    progress(&format!(
        "guest toolchain: Debian rustc-web at {}",
        prefix.display()
    ));
    Ok(Toolchain::Debian { prefix })
}

fn which(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn rustup_has_target() -> bool {
    output(Command::new("rustup").args(["target", "list", "--installed"]))
        .is_ok_and(|list| list.lines().any(|l| l.trim() == TARGET))
}

/// The candidate version of an apt package, if apt knows it.
fn apt_candidate(package: &str) -> Option<String> {
    let policy = output(Command::new("apt-cache").args(["policy", package])).ok()?;
    policy
        .lines()
        .find_map(|l| l.trim().strip_prefix("Candidate:"))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty() && v != "(none)")
}

/// Extracts (once) Debian's rustc-web, its std and std sources into the cache; returns the prefix.
fn debian_prefix(progress: &mut impl FnMut(&str)) -> Result<PathBuf> {
    let version = match apt_candidate("rustc-web") {
        Some(version) => version,
        None => {
            progress("guest toolchain: apt knows no rustc-web yet; running apt-get update");
            status(Command::new("apt-get").arg("update"))?;
            apt_candidate("rustc-web")
                .ok_or_else(|| BuildError::Toolchain("apt has no rustc-web package".into()))?
        }
    };
    let cache = cache_dir();
    let key: String = version
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let prefix = cache.join(format!("debian-rustc-web-{key}"));
    let rustc = prefix.join("usr/bin/rustc");
    if rustc.is_file() && prefix.join("usr/lib/rustlib/src/rust/library").exists() {
        return Ok(prefix);
    }
    let upstream = version
        .split(['+', '-'])
        .next()
        .ok_or_else(|| BuildError::Toolchain(format!("unexpected rustc-web version {version}")))?
        .to_string();
    let minor = upstream
        .rsplit_once('.')
        .map_or(upstream.as_str(), |(a, _)| a);
    // The LLVM library rustc links against: a dependency of rustc-web or of its std package,
    // depending on the Debian revision.
    let llvm = [
        "rustc-web".to_string(),
        "libstd-rust-web-dev".to_string(),
        format!("libstd-rust-web-{minor}"),
    ]
    .iter()
    .find_map(|package| {
        let show =
            output(Command::new("apt-cache").args(["show", &format!("{package}={version}")]))
                .ok()?;
        show.lines()
            .filter(|l| l.starts_with("Depends:") || l.starts_with("Pre-Depends:"))
            .flat_map(|deps| deps.split([',', ' ', ':', '|']))
            .find(|d| d.starts_with("libllvm"))
            .map(str::to_string)
    })
    .ok_or_else(|| {
        BuildError::Toolchain(
            "neither rustc-web nor its std packages depend on a libllvm package".into(),
        )
    })?;
    let debs = cache.join(format!("debs-{key}"));
    std::fs::create_dir_all(&debs).map_err(BuildError::io(&debs))?;
    let packages = [
        format!("rustc-web={version}"),
        format!("libstd-rust-web-dev={version}"),
        format!("libstd-rust-web-{minor}={version}"),
        format!("rust-web-src={version}"),
        llvm,
    ];
    progress(&format!(
        "guest toolchain: downloading {}",
        packages.join(" ")
    ));
    status(
        Command::new("apt-get")
            .arg("download")
            .args(&packages)
            .current_dir(&debs),
    )?;
    let staging = cache.join(format!("staging-{key}"));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(BuildError::io(&staging))?;
    for entry in std::fs::read_dir(&debs).map_err(BuildError::io(&debs))? {
        let path = entry.map_err(BuildError::io(&debs))?.path();
        if path.extension().is_some_and(|e| e == "deb") {
            status(Command::new("dpkg").arg("-x").arg(&path).arg(&staging))?;
        }
    }
    // Newer packages ship the std sources where `-Zbuild-std` looks for them; older ones under
    // /usr/src, which a relative link (valid inside the final prefix) makes visible.
    let src = staging.join("usr/lib/rustlib/src/rust");
    if !src.join("library").exists() {
        let library = staging.join(format!("usr/src/rustc-{upstream}/library"));
        if !library.is_dir() {
            return Err(BuildError::Toolchain(format!(
                "rust-web-src provided neither {} nor {}",
                src.join("library").display(),
                library.display()
            )));
        }
        std::fs::create_dir_all(&src).map_err(BuildError::io(&src))?;
        std::os::unix::fs::symlink(
            format!("../../../../src/rustc-{upstream}/library"),
            src.join("library"),
        )
        .map_err(BuildError::io(src.join("library")))?;
    }
    let _ = std::fs::remove_dir_all(&prefix);
    std::fs::rename(&staging, &prefix).map_err(BuildError::io(&prefix))?;
    Ok(prefix)
}
