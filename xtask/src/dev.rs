//! `cargo xtask dev`: build the examples, serve them, rebuild on change.
//!
//! The host runs `serve --dev` on the examples' component files, so it swaps a rebuilt file in
//! by itself and open pages of that app reload (live reload): a change in one example rebuilds
//! only that example, and the host keeps running. A change in `guest-sdk/` rebuilds every
//! example. A change in the host's own sources (`host/`, `client-js/src/`) rebuilds the host and
//! restarts it; pages reconnect and reload. `wit/` is both.
//!
//! Guests are built with the `guest-dev` profile (no LTO, incremental): an edit recompiles
//! only the view crate, about a second on 2 shared cores (`guest`: about 1.5 s). `--crate DIR` serves one view crate outside the workspace
//! (one `livewasm new` made) instead of the examples, with the same loop.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::Result;

use crate::guest::{self, Profile};
use crate::platform::Cli;
use crate::process::root;
use crate::server::{self, Server};
use crate::toolchain;

/// Newest modification time of the files under `dirs` (skipping build and package output).
fn newest_under(dirs: &[PathBuf]) -> SystemTime {
    fn walk(dir: &Path, newest: &mut SystemTime) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            // Cargo.lock: cargo rewrites it while building.
            if name == "target" || name == "node_modules" || name == "dist" || name == "Cargo.lock"
            {
                continue;
            }
            if path.is_dir() {
                walk(&path, newest);
            } else if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                *newest = (*newest).max(modified);
            }
        }
    }
    let mut newest = SystemTime::UNIX_EPOCH;
    for dir in dirs {
        walk(dir, &mut newest);
    }
    newest
}

/// How often the sources are looked at.
const POLL: Duration = Duration::from_millis(200);

/// What `cargo xtask dev` serves, and where.
#[derive(Debug, Clone)]
pub struct Options {
    /// The address to listen on (`127.0.0.1:0`: a free port).
    pub listen: String,
    /// A view crate outside the workspace to serve instead of the examples.
    pub own_crate: Option<PathBuf>,
    /// Rebuild and restart the host when its sources change (off for a test that measures
    /// the guest loop while others edit the host).
    pub watch_host: bool,
}

/// The directory of `guest`'s sources.
fn source_dir(guest: &guest::Guest) -> PathBuf {
    guest
        .own_crate
        .clone()
        .unwrap_or_else(|| root().join("examples").join(&guest.name))
}

/// What the sources looked like at one moment.
#[derive(Clone, PartialEq)]
struct Stamps {
    /// Each served crate, in the order of the examples.
    examples: Vec<SystemTime>,
    /// What every guest depends on: the SDK and the WIT world.
    guests: SystemTime,
    /// What the host binary is built from (the WIT world included).
    host: SystemTime,
}

impl Stamps {
    fn now(examples: &[guest::Guest]) -> Stamps {
        let root = root();
        Stamps {
            examples: examples
                .iter()
                .map(|e| newest_under(&[source_dir(e)]))
                .collect(),
            guests: newest_under(&[root.join("guest-sdk"), root.join("wit")]),
            host: newest_under(&[
                root.join("host"),
                root.join("client-js/src"),
                root.join("wit"),
            ]),
        }
    }

    /// The examples to rebuild since `before`: all when the SDK or WIT changed.
    fn changed_examples(&self, before: &Stamps, examples: &[guest::Guest]) -> Vec<guest::Guest> {
        examples
            .iter()
            .zip(self.examples.iter().zip(&before.examples))
            .filter(|(_, (now, then))| self.guests != before.guests || now != then)
            .map(|(example, _)| example.clone())
            .collect()
    }
}

/// Deploys each example (a new version when its bytes changed) to tenant `dev` through the CLI.
fn deploy(
    binary: &Path,
    server: &Server,
    state: &Path,
    examples: &[guest::Guest],
    apps: &[PathBuf],
) -> Result<()> {
    let cli = Cli::kept_operator(
        binary,
        server,
        &state.join("registry.db"),
        &state.join("operator-token"),
    )?;
    cli.ensure_tenant("dev")?;
    for (example, wasm) in examples.iter().zip(apps) {
        cli.deploy("dev", &example.name, wasm)?;
    }
    Ok(())
}

/// The compiler's messages in a failed build's stderr: from the first `error` or `warning`
/// line on, without cargo's progress lines.
fn compiler_messages(stderr: &str) -> String {
    let progress = [
        "Compiling ",
        "Checking ",
        "Finished ",
        "Blocking ",
        "Building ",
        "Downloaded ",
        "Downloading ",
    ];
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| !progress.iter().any(|p| line.trim_start().starts_with(p)))
        .collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("error") || l.starts_with("warning"))
        .unwrap_or(0);
    lines[start..].join("\n").trim().to_string()
}

/// Leaves the message of a failed build beside each of `examples`' components (the dev host
/// shows it on their open pages, see `livewasm_server::dev_reload`), or, with `None`, removes it.
fn report_build(examples: &[guest::Guest], message: Option<&str>) {
    for example in examples {
        let path = example
            .component_path(Profile::GuestDev)
            .with_extension("build-error");
        let done = match message {
            Some(message) => std::fs::write(&path, message),
            None => match std::fs::remove_file(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            },
        };
        if let Err(e) = done {
            println!("could not update {}: {e}", path.display());
        }
    }
}

/// The example served as the host's operator dashboard (`livewasm serve --dashboard`).
const DASHBOARD: &str = "operator-dashboard";

/// Serves the examples (or the crate of `options`) until interrupted.
pub fn run(options: &Options) -> Result<()> {
    serve(options, |_| {}, &AtomicBool::new(false))
}

/// The dev loop: builds what `options` names, serves it, calls `ready` with the host's URL,
/// then rebuilds on change until `stop` is set (within [`POLL`]); the host stops with it.
pub fn serve(options: &Options, ready: impl FnOnce(&str), stop: &AtomicBool) -> Result<()> {
    let toolchain = toolchain::resolve()?;
    let (examples, state) = match &options.own_crate {
        Some(dir) => {
            let guest = guest::Guest::outside(dir)?;
            let state = source_dir(&guest).join("target/livewasm-dev");
            (vec![guest], state)
        }
        None => {
            let examples: Vec<_> = guest::discover()?
                .into_iter()
                .filter(|g| g.example)
                .collect();
            (examples, root().join("target/dev"))
        }
    };
    let mut seen = Stamps::now(&examples);
    let apps = guest::build_with(&toolchain, &examples, Profile::GuestDev)?;
    let mut binary = server::build_host(false)?;
    std::fs::create_dir_all(&state)?;
    let database = state.join("registry.db");
    if !database.exists() {
        // A kept operator token belongs to the database it was made in.
        let _ = std::fs::remove_file(state.join("operator-token"));
    }
    let database_arg = database.to_string_lossy().to_string();
    // The operator dashboard is served as the host's own (`--dashboard`, at /ops), not as an
    // `--app`: only then does it get the operator overview.
    let (dashboard, served): (Vec<PathBuf>, Vec<PathBuf>) = apps
        .iter()
        .cloned()
        .partition(|path| path.file_stem().is_some_and(|s| s == DASHBOARD));
    let mut extra = vec!["--database".to_string(), database_arg.clone()];
    if let Some(path) = dashboard.first() {
        extra.extend([
            "--dashboard".to_string(),
            path.to_string_lossy().into_owned(),
        ]);
    }
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let start = |binary: &Path, listen: &str| -> Result<Server> {
        // `--dev` (Server::start passes it) watches these files and swaps rebuilt ones in.
        let server = Server::start(binary, listen, &served, &extra)?;
        deploy(binary, &server, &state, &examples, &apps)?;
        Ok(server)
    };
    let mut server = start(&binary, &options.listen)?;
    // A restarted host listens where the first one did (`:0` picked a port for it).
    let listen = server
        .url
        .strip_prefix("http://")
        .unwrap_or(&options.listen)
        .to_string();
    let what = match &options.own_crate {
        Some(dir) => dir.display().to_string(),
        None => "examples/".to_string(),
    };
    println!(
        "\nServing {what} on {} (embedded SQLite registry {}):",
        server.url,
        database.display()
    );
    for example in examples.iter().filter(|e| e.name != DASHBOARD) {
        println!("  {}/{}", server.url, example.name);
    }
    if options.own_crate.is_none() {
        println!("  e.g. {}/thermostat?house=1", server.url);
    }
    println!("  {}/ lists every app and route served", server.url);
    if !dashboard.is_empty() {
        println!(
            "  {}/ops  the operator dashboard (token: {})",
            server.url,
            state.join("operator-token").display()
        );
    }
    let port = server.url.rsplit(':').next().unwrap_or("4000");
    println!(
        "The same views, deployed through the registry as tenant `dev`, on their own origins:"
    );
    for example in examples.iter().filter(|e| e.name != DASHBOARD) {
        println!("  http://{0}.dev.localhost:{port}/{0}", example.name);
    }
    println!(
        "Watching {what}, guest-sdk/, wit/, host/ and client-js/src/: saving a file rebuilds \
         what changed and open pages reload by themselves. Ctrl-C stops."
    );
    ready(&server.url);
    // A host rebuild waits while a guest build is broken (after a WIT change the old
    // components would not load in the new host).
    let mut host_pending = false;
    let mut guests_broken = false;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(POLL);
        let now = Stamps::now(&examples);
        if now == seen {
            continue;
        }
        let changed = now.changed_examples(&seen, &examples);
        host_pending |= options.watch_host && now.host != seen.host;
        seen = now;
        if !changed.is_empty() {
            let names: Vec<&str> = changed.iter().map(|g| g.name.as_str()).collect();
            println!("\nchange detected: rebuilding {}…", names.join(", "));
            let built = guest::build_staged(&toolchain, &changed, Profile::GuestDev);
            match &built {
                Ok(_) => report_build(&changed, None),
                Err(e) => {
                    let message = e
                        .downcast_ref::<crate::process::Failed>()
                        .map(|failed| compiler_messages(&failed.stderr))
                        .filter(|m| !m.is_empty())
                        .unwrap_or_else(|| format!("{e:#}"));
                    report_build(&changed, Some(&message));
                }
            }
            match built {
                Ok(staged) if !host_pending => {
                    guests_broken = false;
                    // The registry gets new versions first, then the running host swaps the
                    // files moved into place: it compiles each component once, for the
                    // registry, and loads the file from its artifact cache (the same bytes
                    // compiled twice at once took twice as long).
                    if let Err(e) = deploy(&binary, &server, &state, &changed, &staged) {
                        println!("deploying to tenant `dev` failed: {e:#}");
                    }
                    match guest::publish(&staged) {
                        Ok(_) => println!(
                            "reloaded {}: open pages of it reload by themselves",
                            names.join(", ")
                        ),
                        Err(e) => println!("{e:#}"),
                    }
                }
                Ok(staged) => {
                    guests_broken = false;
                    if let Err(e) = guest::publish(&staged) {
                        println!("{e:#}");
                    }
                }
                Err(e) => {
                    guests_broken = true;
                    println!("build failed, still serving the previous version: {e:#}");
                }
            }
        }
        if host_pending && !guests_broken {
            host_pending = false;
            println!("\nhost sources changed: rebuilding and restarting the host…");
            match server::build_host(false) {
                Ok(rebuilt) => {
                    binary = rebuilt;
                    drop(server);
                    server = start(&binary, &listen)?;
                    println!(
                        "restarted: {} (open pages reconnect and reload)",
                        server.url
                    );
                }
                Err(e) => println!("host build failed, still running the previous host: {e:#}"),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_messages_keep_the_compiler_and_drop_progress() {
        let stderr = "   Compiling serde v1\n   Compiling counter v0.1.0\nerror: expected `}`\n  --> examples/counter/src/lib.rs:12:7\n   |\n12 |     html!(r#\"<p>\"#)\n\nerror: could not compile `counter`\n";
        let message = compiler_messages(stderr);
        assert!(message.starts_with("error: expected `}`"), "{message}");
        assert!(message.contains("lib.rs:12:7"), "{message}");
        assert!(!message.contains("Compiling"), "{message}");
    }
}
