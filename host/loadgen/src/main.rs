//! `livewasm-loadgen`: measures a running Livewasm host over real loopback WebSockets, speaking
//! Phoenix channels V2 like the official client. Every run is bounded in count and time, and it
//! only ever connects to the loopback address it is given.
//!
//! Each subcommand prints one JSON object on stdout (for `cargo xtask bench`) and a readable line on
//! stderr.

mod idle;
mod page;
mod phx;
mod scenarios;
mod stats;
mod upgrade;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use serde::Serialize;
use serde_json::Value;

/// Load generator for a Livewasm host.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The host to measure; must be a loopback address.
    #[arg(long, default_value = "127.0.0.1:4000")]
    server: SocketAddr,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Join latency over repeated join/leave cycles.
    Mount {
        /// Page to join.
        #[arg(long, default_value = "/thermostat?house=1&tick=off")]
        path: String,
        /// Number of joins (at most 100 000).
        #[arg(long, default_value_t = 1000)]
        count: usize,
    },
    /// Event round trips at fixed offered rates, then the highest rate whose p99 stays under a limit.
    Events {
        /// Page to join.
        #[arg(long, default_value = "/thermostat?house=1&tick=off")]
        path: String,
        /// Event to send.
        #[arg(long, default_value = "inc")]
        event: String,
        /// Sockets sharing the load.
        #[arg(long, default_value_t = 50)]
        sockets: usize,
        /// Offered rates to report, events/s.
        #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
        rates: Vec<f64>,
        /// Rates to step through for the maximum, events/s.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "5000,10000,20000,30000,40000,50000,60000"
        )]
        ramp: Vec<f64>,
        /// p99 limit for the maximum, microseconds.
        #[arg(long, default_value_t = 5000)]
        p99_limit_us: u64,
        /// Seconds per step (at most 60).
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
    /// Host RSS with many connected idle views.
    Density {
        /// Pid of the host process (read from /proc).
        #[arg(long)]
        server_pid: u32,
        /// Page to join.
        #[arg(long, default_value = "/thermostat?house=1&tick=off")]
        path: String,
        /// Number of sockets (at most 100 000; each is a file descriptor on both sides).
        #[arg(long, default_value_t = 1000)]
        sockets: usize,
        /// Seconds to wait before reading RSS.
        #[arg(long, default_value_t = 2.0)]
        settle: f64,
        /// Open bare WebSockets, joining no view (the transport's own cost).
        #[arg(long)]
        bare: bool,
        /// The host's metrics listener: RSS is read once every view hibernated.
        #[arg(long)]
        metrics: Option<SocketAddr>,
    },
    /// Round trips of the event that wakes a hibernated view, against the same event to a live
    /// one (the host must hibernate views: `--hibernate-after-secs`).
    Restore {
        /// The host's metrics listener (to see the views hibernated).
        #[arg(long)]
        metrics: SocketAddr,
        /// Page to join.
        #[arg(long, default_value = "/thermostat?house=1&tick=off")]
        path: String,
        /// Event to send.
        #[arg(long, default_value = "inc")]
        event: String,
        /// Views (at most 10 000).
        #[arg(long, default_value_t = 1000)]
        sockets: usize,
    },
    /// Open views of a platform app, then a deploy of its next version: the time until every
    /// socket got the diff moving it onto the new version, and that diff's size.
    Upgrade {
        /// The app's origin (`Host` header), e.g. `thermo.acme.localhost:4000`.
        #[arg(long)]
        host: String,
        /// Page to join.
        #[arg(long, default_value = "/thermostat?house=1&tick=off")]
        path: String,
        /// Views (at most 50 000).
        #[arg(long, default_value_t = 1000)]
        sockets: usize,
        /// The deploy command and its arguments (after `--`).
        #[arg(last = true, required = true)]
        deploy: Vec<String>,
    },
    /// One app's closed-loop event rate and latency alone, then while sockets of another app
    /// burn a whole fuel budget on every callback.
    Isolation {
        /// The victim's page.
        #[arg(long, default_value = "/thermostat?house=1&tick=off")]
        victim_path: String,
        /// The victim's event.
        #[arg(long, default_value = "inc")]
        victim_event: String,
        /// Victim sockets.
        #[arg(long, default_value_t = 4)]
        victims: usize,
        /// The attacking app's page.
        #[arg(long, default_value = "/hostile")]
        attacker_path: String,
        /// The attacking event (loops until its fuel is gone).
        #[arg(long, default_value = "loop")]
        attack_event: String,
        /// Attacking sockets (at most 64).
        #[arg(long, default_value_t = 4)]
        attackers: usize,
        /// Seconds per phase (at most 60).
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
    /// Bytes of the dead render, the join reply and one event reply.
    Bytes {
        /// Page to join.
        #[arg(long)]
        path: String,
        /// Event to send.
        #[arg(long)]
        event: String,
        /// The event's value (JSON).
        #[arg(long, default_value = "{}")]
        value: String,
        /// How many times to send the event, to time its round trip.
        #[arg(long, default_value_t = 1)]
        repeat: usize,
    },
}

fn emit<T: Serialize + std::fmt::Debug>(report: &T) -> Result<()> {
    println!("{}", serde_json::to_string(report)?);
    eprintln!("{report:?}");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    if !cli.server.ip().is_loopback() {
        bail!("refusing to load {}: only loopback addresses", cli.server);
    }
    let server = cli.server;
    match cli.command {
        Command::Mount { path, count } => {
            let count = count.min(100_000);
            emit(&scenarios::mount(server, &path, count).await?)?;
        }
        Command::Events {
            path,
            event,
            sockets,
            rates,
            ramp,
            p99_limit_us,
            seconds,
        } => {
            let seconds = seconds.clamp(0.2, 60.0);
            let (mut fleet, _) = scenarios::Fleet::join(server, &path, sockets.max(1)).await?;
            let value = Value::Object(Default::default());
            let mut fixed = Vec::new();
            for rate in rates {
                fixed.push(fleet.load(&event, &value, rate, seconds).await?);
            }
            let max = scenarios::max_rate(
                &mut fleet,
                &event,
                &value,
                &ramp,
                seconds,
                Duration::from_micros(p99_limit_us),
            )
            .await?;
            emit(&serde_json::json!({"fixed": fixed, "max": max}))?;
        }
        Command::Density {
            server_pid,
            path,
            sockets,
            settle,
            bare,
            metrics,
        } => {
            let plan = idle::DensityPlan {
                path: &path,
                sockets: sockets.clamp(1, 100_000),
                join: !bare,
                metrics,
                settle: Duration::from_secs_f64(settle.clamp(0.0, 60.0)),
            };
            let (report, conns) = idle::density(server, server_pid, &plan).await?;
            emit(&report)?;
            drop(conns);
        }
        Command::Restore {
            metrics,
            path,
            event,
            sockets,
        } => {
            let sockets = sockets.clamp(1, 10_000);
            emit(&idle::restore(server, metrics, &path, &event, sockets).await?)?;
        }
        Command::Upgrade {
            host,
            path,
            sockets,
            deploy,
        } => {
            let sockets = sockets.clamp(1, 50_000);
            emit(&upgrade::upgrade(server, &host, &path, sockets, &deploy).await?)?;
        }
        Command::Isolation {
            victim_path,
            victim_event,
            victims,
            attacker_path,
            attack_event,
            attackers,
            seconds,
        } => {
            emit(
                &scenarios::isolation(
                    server,
                    &victim_path,
                    &victim_event,
                    victims.clamp(1, 64),
                    &attacker_path,
                    &attack_event,
                    attackers.clamp(1, 64),
                    seconds.clamp(0.2, 60.0),
                )
                .await?,
            )?;
        }
        Command::Bytes {
            path,
            event,
            value,
            repeat,
        } => {
            let value: Value = serde_json::from_str(&value)?;
            let repeat = repeat.clamp(1, 100_000);
            emit(&scenarios::bytes(server, &path, &event, value, repeat).await?)?;
        }
    }
    Ok(())
}
