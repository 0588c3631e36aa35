//! `cargo xtask dev`: build the examples, serve them, rebuild and restart on change.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::Result;

use crate::guest;
use crate::platform::Cli;
use crate::process::root;
use crate::server::{self, Server};
use crate::toolchain;

/// Newest modification time under the guest sources.
fn newest_source() -> SystemTime {
    fn walk(dir: PathBuf, newest: &mut SystemTime) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == "target" || name == "node_modules" {
                continue;
            }
            if path.is_dir() {
                walk(path, newest);
            } else if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                *newest = (*newest).max(modified);
            }
        }
    }
    let mut newest = SystemTime::UNIX_EPOCH;
    for dir in ["examples", "guest-sdk", "wit"] {
        walk(root().join(dir), &mut newest);
    }
    newest
}

/// Deploys each example (a new version when its bytes changed) to tenant `dev` through the CLI.
fn deploy(
    binary: &std::path::Path,
    server: &Server,
    state: &std::path::Path,
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

/// Serves the examples on `listen` until interrupted.
pub fn run(listen: &str) -> Result<()> {
    let toolchain = toolchain::resolve()?;
    let examples: Vec<_> = guest::discover()?
        .into_iter()
        .filter(|g| g.example)
        .collect();
    let apps = guest::build(&toolchain, &examples)?;
    let binary = server::build_host(false)?;
    let state = root().join("target/dev");
    std::fs::create_dir_all(&state)?;
    let database = state.join("registry.db");
    if !database.exists() {
        // A kept operator token belongs to the database it was made in.
        let _ = std::fs::remove_file(state.join("operator-token"));
    }
    let start = |apps: &[PathBuf]| -> Result<Server> {
        let database = database.to_string_lossy().to_string();
        let server = Server::start(&binary, listen, apps, &["--database", &database])?;
        deploy(&binary, &server, &state, &examples, apps)?;
        Ok(server)
    };
    let mut server = start(&apps)?;
    println!(
        "\nServing the examples on {} (embedded SQLite registry {}):",
        server.url,
        database.display()
    );
    for example in &examples {
        println!("  {}/{}", server.url, example.name);
    }
    println!("  e.g. {}/thermostat?house=1", server.url);
    let port = server.url.rsplit(':').next().unwrap_or("4000");
    println!(
        "The same views, deployed through the registry as tenant `dev`, on their own origins:"
    );
    for example in &examples {
        println!("  http://{0}.dev.localhost:{port}/{0}", example.name);
    }
    println!(
        "Watching examples/, guest-sdk/ and wit/: saving a file rebuilds and reloads. Ctrl-C stops."
    );
    let mut seen = newest_source();
    loop {
        std::thread::sleep(Duration::from_millis(700));
        let newest = newest_source();
        if newest <= seen {
            continue;
        }
        seen = newest;
        println!("\nchange detected: rebuilding the examples…");
        match guest::build(&toolchain, &examples) {
            Ok(apps) => {
                drop(server);
                server = start(&apps)?;
                println!(
                    "reloaded: {} (open pages reconnect and remount)",
                    server.url
                );
            }
            Err(e) => println!("build failed, still serving the previous version: {e:#}"),
        }
    }
}
