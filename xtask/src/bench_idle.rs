//! The idle-view figures of `cargo xtask bench`, on production hosts (not `--dev`): host memory
//! per socket — a bare WebSocket, a live idle thermostat, a hibernated one — at several socket
//! counts; the round trip of the event that wakes a hibernated view against a live one; and a
//! live upgrade of many open thermostats to the next version (a platform host, the CLI deploying
//! `thermostat-v2.wasm`).
//!
//! Both processes hold a file descriptor per socket, so the socket counts stop below this
//! machine's open-file limit (`RLIMIT_NOFILE`), which the bench says when it cuts one.

use std::path::Path;

use anyhow::Result;
use serde_json::{Value, json};

use crate::platform::{Cli, TempDir};
use crate::process::step;
use crate::server::Server;

/// Sizes of one run.
pub struct IdlePlan {
    /// Socket counts of the memory figures.
    pub sockets: &'static [usize],
    /// Views whose wake is timed.
    pub restore_sockets: usize,
    /// Open views moved by the live upgrade.
    pub upgrade_sockets: usize,
}

/// What `cargo xtask bench` runs.
pub const FULL: IdlePlan = IdlePlan {
    sockets: &[1_000, 10_000, 100_000],
    restore_sockets: 2_000,
    upgrade_sockets: 10_000,
};

/// What the smoke run (`cargo xtask test`) runs: the path, not figures.
pub const SMOKE: IdlePlan = IdlePlan {
    sockets: &[100],
    restore_sockets: 50,
    upgrade_sockets: 50,
};

/// Descriptors kept aside from the socket count (listeners, files, the registry, pipes).
const SPARE_DESCRIPTORS: usize = 1_000;

/// The soft open-file limit of this process (and of the processes it starts).
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// How a density run treats its sockets.
#[derive(Clone, Copy)]
enum Mode {
    /// WebSockets that join nothing: the transport alone.
    Bare,
    /// A joined thermostat that never hibernates (`--hibernate-after-secs 0`).
    Live,
    /// A joined thermostat, hibernated (`--hibernate-after-secs 1`).
    Hibernated,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Bare => "bare socket",
            Mode::Live => "live idle view",
            Mode::Hibernated => "hibernated view",
        }
    }
}

/// Two distinct free loopback addresses (held together while picked, so they differ): the
/// host's listener and its metrics listener.
fn two_addresses() -> Result<(String, String)> {
    let a = std::net::TcpListener::bind("127.0.0.1:0")?;
    let b = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok((a.local_addr()?.to_string(), b.local_addr()?.to_string()))
}

/// The arguments every idle-bench host takes: one client address opening thousands of
/// sockets, instance slots for `instances`, sockets beyond the default connection cap.
fn host_args(instances: usize, hibernate_after: &str) -> Vec<String> {
    [
        "--max-sockets-per-ip",
        "0",
        "--max-joins-per-ip-per-sec",
        "0",
        "--max-connections",
        "200000",
        "--max-instances",
        &instances.to_string(),
        "--hibernate-after-secs",
        hibernate_after,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// [`crate::loadgen::run`] with owned arguments.
fn loadgen(generator: &Path, server: &Server, args: &[String]) -> Result<Value> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    crate::loadgen::run(generator, server, &args)
}

/// One density run: a fresh host, `sockets` sockets in `mode`, its RSS.
fn density(
    host: &Path,
    generator: &Path,
    thermostat: &Path,
    sockets: usize,
    mode: Mode,
) -> Result<Value> {
    let (listen, metrics) = two_addresses()?;
    let (instances, hibernate_after) = match mode {
        Mode::Live => (sockets + 100, "0"),
        Mode::Bare | Mode::Hibernated => (2_000.min(sockets + 100), "1"),
    };
    let mut args = host_args(instances, hibernate_after);
    args.extend(["--metrics-listen".to_string(), metrics.clone()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start_as(host, &listen, &[thermostat.to_path_buf()], &args, false)?;
    let mut run = vec![
        "density".to_string(),
        "--server-pid".into(),
        server.pid.to_string(),
        "--sockets".into(),
        sockets.to_string(),
        "--path".into(),
        "/thermostat?house=1&tick=off".into(),
    ];
    match mode {
        Mode::Bare => run.push("--bare".into()),
        // Past `--park-after-secs` (5 s) the sockets of the quiet live views park and the
        // host trims its heap: RSS is read after that, the state an idle view stays in.
        Mode::Live => run.extend(["--settle".into(), "12".into()]),
        // Past the hibernations the sockets park and the host trims its heap (at most every
        // 5 s): RSS is read after that.
        Mode::Hibernated => {
            run.extend(["--metrics".into(), metrics, "--settle".into(), "7".into()])
        }
    }
    step(&format!("density: {sockets} × {}", mode.name()), || {
        loadgen(generator, &server, &run)
    })
}

/// The wake round trip against a live one, on a host hibernating after 1 s.
fn restore(host: &Path, generator: &Path, thermostat: &Path, sockets: usize) -> Result<Value> {
    let (listen, metrics) = two_addresses()?;
    let mut args = host_args(sockets + 100, "1");
    args.extend(["--metrics-listen".to_string(), metrics.clone()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start_as(host, &listen, &[thermostat.to_path_buf()], &args, false)?;
    let run = [
        "restore".to_string(),
        "--metrics".into(),
        metrics,
        "--sockets".into(),
        sockets.to_string(),
    ];
    step(
        &format!("restore: {sockets} hibernated views woken"),
        || loadgen(generator, &server, &run),
    )
}

/// A platform host serving `acme/thermo` (the thermostat), `sockets` views open on it, then
/// `livewasm deploy` of `thermostat-v2.wasm`.
fn upgrade(
    host: &Path,
    generator: &Path,
    thermostat: &Path,
    v2: &Path,
    sockets: usize,
) -> Result<Value> {
    let dir = TempDir::new("bench-upgrade")?;
    let database = dir.0.join("registry.db");
    let database_arg = database.to_string_lossy().to_string();
    let mut args = host_args(sockets + 200, "0");
    args.extend(["--database".to_string(), database_arg]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start_as(host, "127.0.0.1:0", &[], &args, false)?;
    let operator = Cli::operator(host, &server, &database)?;
    operator.ensure_tenant("acme")?;
    operator.run(&[
        "tenant",
        "quotas",
        "acme",
        "--max-instances",
        &(sockets + 200).to_string(),
    ])?;
    operator.deploy("acme", "thermo", thermostat)?;
    let port = server
        .url
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let mut run = vec![
        "upgrade".to_string(),
        "--host".into(),
        format!("thermo.acme.localhost:{port}"),
        "--sockets".into(),
        sockets.to_string(),
        "--".into(),
    ];
    run.extend(operator.argv(&["deploy", "acme/thermo", &v2.to_string_lossy()]));
    step(&format!("live upgrade of {sockets} open views"), || {
        loadgen(generator, &server, &run)
    })
}

/// Runs every idle figure; the results, printed by [`print`].
pub fn run(
    plan: &IdlePlan,
    host: &Path,
    generator: &Path,
    thermostat: &Path,
    v2: &Path,
) -> Result<Value> {
    let limit = open_file_limit().unwrap_or(usize::MAX);
    let most = limit.saturating_sub(SPARE_DESCRIPTORS).max(1);
    let mut densities = Vec::new();
    for &asked in plan.sockets {
        let sockets = asked.min(most);
        if sockets < asked {
            println!(
                "  {asked} sockets asked, {sockets} run: this machine's open-file limit is {limit}"
            );
        }
        for mode in [Mode::Bare, Mode::Live, Mode::Hibernated] {
            // Live instances stop near 20,000 (the pool's mappings, vm.max_map_count).
            if matches!(mode, Mode::Live) && sockets > 10_000 {
                continue;
            }
            let report = density(host, generator, thermostat, sockets, mode)?;
            densities.push(json!({"mode": mode.name(), "asked": asked, "report": report}));
        }
    }
    let restore = restore(host, generator, thermostat, plan.restore_sockets)?;
    let upgrade = upgrade(
        host,
        generator,
        thermostat,
        v2,
        plan.upgrade_sockets.min(most),
    )?;
    Ok(json!({
        "open_file_limit": limit,
        "density": densities,
        "restore": restore,
        "upgrade": upgrade,
    }))
}

/// Prints the idle figures as rows of the bench table.
pub fn print(idle: &Value, us: impl Fn(&Value) -> String) {
    let kib = |v: &Value| format!("{:.1} KiB", v.as_f64().unwrap_or(f64::NAN));
    for d in idle["density"].as_array().into_iter().flatten() {
        let r = &d["report"];
        let mode = d["mode"].as_str().unwrap_or("");
        let target = match mode {
            "hibernated view" => "≤ 4 KB",
            "live idle view" => "≤ 40 KB",
            _ => "",
        };
        println!(
            "{:<46} {:>14}",
            format!("RSS growth per {mode}, {} sockets", r["sockets"]),
            kib(&r["delta_per_socket_kib"]),
        );
        // PSS counts the pages live instances share (the component's memory image) once.
        println!(
            "{:<46} {:>14} {:>14}",
            format!("  PSS growth per {mode}"),
            kib(&r["pss_delta_per_socket_kib"]),
            target
        );
    }
    // What one more hibernated view adds, between the two largest runs: the first views also
    // leave the heap the joins' peak of live instances used (the same for both runs).
    let hibernated: Vec<&Value> = idle["density"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["mode"] == "hibernated view")
        .map(|d| &d["report"])
        .collect();
    if let [.., small, large] = hibernated.as_slice() {
        let (a, b) = (small["sockets"].as_f64(), large["sockets"].as_f64());
        let grown = |r: &Value| {
            r["rss_after_kib"].as_f64().unwrap_or(f64::NAN)
                - r["rss_before_kib"].as_f64().unwrap_or(f64::NAN)
        };
        if let (Some(a), Some(b)) = (a, b)
            && b > a
        {
            println!(
                "{:<46} {:>14} {:>14}",
                format!("RSS per added hibernated view, {a} → {b}"),
                kib(&json!((grown(large) - grown(small)) / (b - a))),
                "≤ 4 KB"
            );
        }
    }
    let r = &idle["restore"];
    println!(
        "{:<46} {:>14}",
        "wake a hibernated view (event round trip) p50",
        us(&r["restore"]["p50_us"])
    );
    println!(
        "{:<46} {:>14} {:>14}",
        "wake a hibernated view (event round trip) p99",
        us(&r["restore"]["p99_us"]),
        "≤ 2000 µs"
    );
    println!(
        "{:<46} {:>14}",
        "  same event to the live view p50 / p99",
        format!(
            "{} / {}",
            us(&r["live"]["p50_us"]),
            us(&r["live"]["p99_us"])
        )
    );
    let u = &idle["upgrade"];
    println!(
        "{:<46} {:>14}",
        format!("live upgrade: {} open views moved in", u["upgraded"]),
        format!("{:.2} s", u["migrate_seconds"].as_f64().unwrap_or(f64::NAN))
    );
    println!(
        "{:<46} {:>14}",
        "  deploy started → every view moved",
        format!(
            "{:.2} s",
            u["all_upgraded_seconds"].as_f64().unwrap_or(f64::NAN)
        )
    );
    println!(
        "{:<46} {:>14}",
        "  upgrade diff frame per socket, p50 bytes", u["diff_bytes_p50"]
    );
}
