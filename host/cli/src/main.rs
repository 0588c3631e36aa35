//! `livewasm`: the Livewasm host's command line.

mod serve;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// The Livewasm host.
#[derive(Parser)]
#[command(name = "livewasm", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve apps (components) over HTTP and WebSocket.
    Serve(serve::ServeArgs),
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve::run(args),
    }
}
