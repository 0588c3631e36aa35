//! Child processes: the `cargo build` of a guest, and the small runs the toolchain search makes.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{BuildError, Profile, Toolchain};

/// The target view crates compile to.
pub const TARGET: &str = "wasm32-unknown-unknown";

/// The linker flags every guest is built with: a 64 KiB stack instead of `wasm-ld`'s 1 MiB
/// default, so each instance's linear memory (paid per socket) starts small.
pub const RUSTFLAGS: &str = "-C link-arg=-zstack-size=65536";

/// The `cargo build` of guests for `wasm32-unknown-unknown` with `profile` into `target_dir`,
/// configured for `toolchain`. For a crate outside the Livewasm workspace (`own_crate`), the
/// command builds that crate through its own manifest and passes the profile's settings as
/// `--config` (its workspace does not declare them); for members of the workspace the caller
/// adds `-p` arguments and runs it from the workspace root.
///
/// # Errors
/// [`BuildError`] when the Debian fallback's linker cannot be located.
pub fn cargo_build(
    toolchain: &Toolchain,
    profile: Profile,
    target_dir: &Path,
    own_crate: Option<&Path>,
) -> Result<Command, BuildError> {
    let mut cmd = Command::new("cargo");
    cmd.args(["build", "--profile", profile.name(), "--target", TARGET])
        .env("CARGO_TARGET_DIR", target_dir)
        .env("RUSTFLAGS", RUSTFLAGS);
    if let Some(dir) = own_crate {
        cmd.current_dir(dir)
            .arg("--manifest-path")
            .arg(dir.join("Cargo.toml"));
        for (key, value) in profile.settings() {
            cmd.arg("--config")
                .arg(format!("profile.{}.{key}={value}", profile.name()));
        }
    }
    toolchain.configure(&mut cmd)?;
    Ok(cmd)
}

/// `cmd` as one line, for messages.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Runs `cmd`, failing unless it exits 0.
pub(crate) fn status(cmd: &mut Command) -> Result<(), BuildError> {
    let command = describe(cmd);
    let status = cmd.status().map_err(|source| BuildError::Start {
        command: command.clone(),
        source,
    })?;
    if !status.success() {
        return Err(BuildError::Failed { command, status });
    }
    Ok(())
}

/// Runs `cmd` and returns its standard output, failing unless it exits 0.
pub(crate) fn output(cmd: &mut Command) -> Result<String, BuildError> {
    let command = describe(cmd);
    let out = cmd
        .stderr(Stdio::null())
        .output()
        .map_err(|source| BuildError::Start {
            command: command.clone(),
            source,
        })?;
    if !out.status.success() {
        return Err(BuildError::Failed {
            command,
            status: out.status,
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `cmd` for at most `limit`; `Ok(true)` when it exited 0 in time.
pub(crate) fn run_with_timeout(cmd: &mut Command, limit: Duration) -> Result<bool, BuildError> {
    let command = describe(cmd);
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| BuildError::Start {
            command: command.clone(),
            source,
        })?;
    let started = Instant::now();
    loop {
        let exited = child.try_wait().map_err(|source| BuildError::Start {
            command: command.clone(),
            source,
        })?;
        if let Some(status) = exited {
            return Ok(status.success());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
