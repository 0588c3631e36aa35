//! `cargo xtask dev`: build the examples, serve them, rebuild on change.
//!
//! The host runs `serve --dev` on the examples' component files, so it swaps a rebuilt file in
//! by itself and open pages of that app reload (live reload): a change in one example rebuilds
//! only that example, and the host keeps running. A change in `guest-sdk/` rebuilds every
//! example. A change in the host's own sources (`host/`, `client-js/src/`) rebuilds the host and
//! restarts it; pages reconnect and reload. `wit/` is both.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Result;

use crate::guest;
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
            if name == "target" || name == "node_modules" || name == "dist" {
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

/// What the sources looked like at one moment.
#[derive(Clone, PartialEq)]
struct Stamps {
    /// Each example's own crate, in the order of the examples.
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
                .map(|e| newest_under(&[root.join("examples").join(&e.name)]))
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
        let path = guest::components_dir().join(format!("{}.build-error", example.name));
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

/// Serves the examples on `listen` until interrupted.
pub fn run(listen: &str) -> Result<()> {
    let toolchain = toolchain::resolve()?;
    let examples: Vec<_> = guest::discover()?
        .into_iter()
        .filter(|g| g.example)
        .collect();
    let mut seen = Stamps::now(&examples);
    let apps = guest::build(&toolchain, &examples)?;
    let mut binary = server::build_host(false)?;
    let state = root().join("target/dev");
    std::fs::create_dir_all(&state)?;
    let database = state.join("registry.db");
    if !database.exists() {
        // A kept operator token belongs to the database it was made in.
        let _ = std::fs::remove_file(state.join("operator-token"));
    }
    let database_arg = database.to_string_lossy().to_string();
    let start = |binary: &Path| -> Result<Server> {
        // `--dev` (Server::start passes it) watches these files and swaps rebuilt ones in.
        let server = Server::start(binary, listen, &apps, &["--database", &database_arg])?;
        deploy(binary, &server, &state, &examples, &apps)?;
        Ok(server)
    };
    let mut server = start(&binary)?;
    println!(
        "\nServing the examples on {} (embedded SQLite registry {}):",
        server.url,
        database.display()
    );
    for example in &examples {
        println!("  {}/{}", server.url, example.name);
    }
    println!("  e.g. {}/thermostat?house=1", server.url);
    println!("  {}/ lists every app and route served", server.url);
    let port = server.url.rsplit(':').next().unwrap_or("4000");
    println!(
        "The same views, deployed through the registry as tenant `dev`, on their own origins:"
    );
    for example in &examples {
        println!("  http://{0}.dev.localhost:{port}/{0}", example.name);
    }
    println!(
        "Watching examples/, guest-sdk/, wit/, host/ and client-js/src/: saving a file rebuilds \
         what changed and open pages reload by themselves. Ctrl-C stops."
    );
    // A host rebuild waits while a guest build is broken (after a WIT change the old
    // components would not load in the new host).
    let mut host_pending = false;
    let mut guests_broken = false;
    loop {
        std::thread::sleep(Duration::from_millis(700));
        let now = Stamps::now(&examples);
        if now == seen {
            continue;
        }
        let changed = now.changed_examples(&seen, &examples);
        host_pending |= now.host != seen.host;
        seen = now;
        if !changed.is_empty() {
            let names: Vec<&str> = changed.iter().map(|g| g.name.as_str()).collect();
            println!("\nchange detected: rebuilding {}…", names.join(", "));
            let built = guest::build(&toolchain, &changed);
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
                Ok(paths) if !host_pending => {
                    guests_broken = false;
                    // The running host swaps the rebuilt files in; the registry gets new versions.
                    match deploy(&binary, &server, &state, &changed, &paths) {
                        Ok(()) => println!(
                            "reloaded {}: open pages of it reload by themselves",
                            names.join(", ")
                        ),
                        Err(e) => println!("deploying to tenant `dev` failed: {e:#}"),
                    }
                }
                Ok(_) => guests_broken = false,
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
                    server = start(&binary)?;
                    println!(
                        "restarted: {} (open pages reconnect and reload)",
                        server.url
                    );
                }
                Err(e) => println!("host build failed, still running the previous host: {e:#}"),
            }
        }
    }
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
