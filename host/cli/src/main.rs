//! `livewasm`: the Livewasm host's command line.
//!
//! `serve` runs the host; `new` makes a view crate from the template and `build` compiles it
//! into a component; the other subcommands
//! are clients of a running host's HTTP API (`--server`, `--token`), except
//! `token create --operator --database`, which writes to the registry directly.

mod client;
mod commands;
mod serve;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use livewasm_server::telemetry::Telemetry;

use commands::{app, audit, build, deploy, new, tenant, token, versions};

/// The host's allocator: jemalloc keeps blocks of one size class together, so the short-lived
/// buffers of thousands of joins do not leave holes between the long-lived blocks of idle views
/// the way glibc's arenas do; [`JEMALLOC_OPTIONS`] has it hand freed pages back at once.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, as C reads them: freed pages go back to the system as soon as they are
/// free (`dirty_decay_ms:0`, `muzzy_decay_ms:0`) rather than seconds later, when a host of idle
/// views makes no further calls that would purge them.
#[cfg(feature = "jemalloc")]
static JEMALLOC_OPTIONS: &std::ffi::CStr = c"dirty_decay_ms:0,muzzy_decay_ms:0";

/// What jemalloc reads its options from before `main` (`malloc_conf`, named as the prefixed
/// build of tikv-jemalloc-sys calls it).
#[cfg(feature = "jemalloc")]
#[unsafe(export_name = "_rjem_malloc_conf")]
// SAFETY: the pointer is the start of a static C string, valid for the whole program.
static MALLOC_CONF: Option<&'static std::ffi::c_char> =
    Some(unsafe { &*JEMALLOC_OPTIONS.as_ptr() });

/// The Livewasm host.
#[derive(Parser)]
#[command(name = "livewasm", version, about)]
struct Cli {
    /// How log lines are written: `text`, or `json` (one object per line, with the socket's
    /// or request's span: tenant, app, version, socket id, request id).
    #[arg(
        long,
        global = true,
        default_value = "text",
        env = "LIVEWASM_LOG_FORMAT"
    )]
    log_format: livewasm_server::logging::LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
enum Command {
    /// Serve apps (components) over HTTP and WebSocket.
    Serve(Box<serve::ServeArgs>),
    /// Make a new view crate (a counter with its route and a test) outside any workspace.
    New(new::NewArgs),
    /// Build a view crate into a component (wasm32, then `target/components/<name>.wasm`).
    Build(build::BuildArgs),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Manage apps.
    #[command(subcommand)]
    App(app::AppCommand),
    /// Upload a component as a new version of an app (and serve it).
    Deploy(deploy::DeployArgs),
    /// List an app's versions, marking the active one.
    Versions(versions::VersionsArgs),
    /// Serve an earlier version of an app: the one active before the current one.
    Rollback(versions::RollbackArgs),
    /// Serve a given version of an app.
    Activate(versions::ActivateArgs),
    /// Read the audit log (newest first): every tenant's for an operator token, else the
    /// token's own tenant's.
    Audit(audit::AuditArgs),
}

fn main() -> Result<ExitCode> {
    let cli = Cli::parse();
    // Only the host exports traces (`OTEL_EXPORTER_OTLP_ENDPOINT`); client commands do not.
    let telemetry = match cli.command {
        Command::Serve(_) => Telemetry::from_env().context("setting up OpenTelemetry")?,
        _ => None,
    };
    livewasm_server::logging::install(
        cli.log_format,
        livewasm_server::logging::env_filter(),
        std::io::stdout,
        telemetry.as_ref(),
    )
    .context("installing the logger")?;
    let outcome = match cli.command {
        Command::Serve(args) => {
            let served = serve::run(*args);
            // What is still queued goes out before the process ends.
            if let Some(telemetry) = &telemetry {
                telemetry.shutdown();
            }
            return served.map(|()| ExitCode::SUCCESS);
        }
        Command::New(args) => new::run(args),
        Command::Build(args) => build::run(args),
        Command::Tenant(command) => tenant::run(command),
        Command::Token(command) => token::run(command),
        Command::App(command) => app::run(command),
        Command::Deploy(args) => deploy::run(args),
        Command::Versions(args) => versions::list(args),
        Command::Rollback(args) => versions::rollback(args),
        Command::Activate(args) => versions::activate(args),
        Command::Audit(args) => audit::run(args),
    };
    // Client commands report errors (usually the API's message) as one line.
    Ok(match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    })
}

#[cfg(all(test, feature = "jemalloc"))]
mod tests {
    /// jemalloc took the options of `MALLOC_CONF` (under a wrong symbol name it would keep its
    /// defaults and hold freed pages for seconds).
    #[test]
    fn jemalloc_hands_freed_pages_back_at_once() {
        // SAFETY: both options are `ssize_t` in jemalloc, read as `isize`.
        let read = |name: &[u8]| unsafe { tikv_jemalloc_ctl::raw::read::<isize>(name) };
        let dirty = read(b"opt.dirty_decay_ms\0").expect("opt.dirty_decay_ms");
        let muzzy = read(b"opt.muzzy_decay_ms\0").expect("opt.muzzy_decay_ms");
        assert_eq!((dirty, muzzy), (0, 0));
    }
}
