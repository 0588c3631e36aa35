//! `cargo xtask`: Livewasm's developer tasks.
//!
//! - `build [guest…]`: compile guest crates to wasm32 and make components of them;
//! - `dev`: build the examples (or `--crate DIR`) and serve them on 127.0.0.1:4000, rebuilding
//!   on change;
//! - `new NAME`: make `examples/NAME`, a new view crate from the template, in the workspace;
//! - `test`: install what the tests need, build the guests, run every test suite;
//! - `first-view`: only `test`'s last step (`livewasm new`, the dev loop, edits in Chromium);
//! - `bench`: measure the host with the load generator;
//! - `fuzz`: run the cargo-fuzz targets of `fuzz/` (stable toolchain, cargo-fuzz installed).

mod bench;
mod bench_idle;
mod dev;
mod fuzz;
mod guest;
mod loadgen;
mod new;
mod platform;
mod process;
mod server;
mod services;
mod test;
mod toolchain;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Livewasm developer tasks")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build guest crates (default: all examples and test fixtures) into target/components.
    Build {
        /// Guest crates by directory or package name.
        guests: Vec<String>,
    },
    /// Build the examples and serve them (embedded defaults), rebuilding when sources change.
    Dev {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:4000")]
        listen: String,
        /// Serve this view crate (one outside the workspace, e.g. made by `livewasm new`)
        /// instead of the examples; it is built in this workspace's target directory.
        #[arg(long = "crate", value_name = "DIR")]
        own_crate: Option<std::path::PathBuf>,
    },
    /// Make `examples/NAME`: a new view crate (a counter, its route `/NAME` and a test) in the
    /// workspace, built and served by `build` and `dev` from then on.
    New {
        /// The crate's name, also its app's name and route: lowercase letters a-z, digits and
        /// '-', starting with a letter.
        name: String,
    },
    /// Run every test: Rust unit and integration tests, protocol tests, browser tests.
    Test {
        /// Skip the browser tests.
        #[arg(long)]
        no_browser: bool,
    },
    /// Run only the first-view step of `test`: `livewasm new counter`, the dev loop on it, and
    /// tests/browser/first_view.test.mjs editing it in Chromium (prints edit → visible).
    FirstView,
    /// Measure mount latency, event round trips, density and wire bytes (release build).
    Bench {
        /// A short run that only checks the benchmark works.
        #[arg(long)]
        smoke: bool,
    },
    /// Run the fuzz targets of `fuzz/` (all by default), each for a bounded time, and print
    /// the inputs each executed and the total.
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Targets run at once (each is one process on one core).
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// `none` (default; the fuzzed code is safe Rust) or `address`.
        #[arg(long, default_value = "none")]
        sanitizer: String,
        /// Targets to run (default: all).
        targets: Vec<String>,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Task::Build { guests } => {
            let toolchain = toolchain::resolve()?;
            println!("using {}", toolchain.describe());
            guest::build(&toolchain, &guest::select(&guests)?)?;
            Ok(())
        }
        Task::Dev { listen, own_crate } => dev::run(&dev::Options {
            listen,
            own_crate,
            watch_host: true,
        }),
        Task::New { name } => new::run(&name),
        Task::Test { no_browser } => test::run(!no_browser),
        Task::FirstView => test::first_view_alone(),
        Task::Bench { smoke } => bench::run(smoke),
        Task::Fuzz {
            seconds,
            jobs,
            sanitizer,
            targets,
        } => fuzz::run(&fuzz::Options {
            seconds,
            targets,
            jobs,
            sanitizer,
        }),
    }
}
