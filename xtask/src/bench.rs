//! `cargo xtask bench`: release builds of the host and the load generator, then every scenario
//! against fresh hosts on loopback. Prints a table and writes `target/bench/results.json`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::process::{root, status, step};
use crate::server::Server;
use crate::toolchain;
use crate::{bench_idle, guest, loadgen};

/// Sizes of one run.
struct Plan {
    joins: usize,
    sockets: usize,
    rates: &'static str,
    /// Times each wire-bytes event is sent (its round trips are timed).
    repeat: usize,
    ramp: &'static str,
    seconds: &'static str,
    /// Seconds of each phase of the tenant-isolation scenario.
    isolation_seconds: &'static str,
    /// `kv` calls one timed event makes (`set`: half as many).
    kv_calls: u64,
}

const FULL: Plan = Plan {
    joins: 1000,
    sockets: 50,
    rates: "1000,10000",
    repeat: 500,
    ramp: "5000,10000,15000,20000,30000,40000,50000,60000",
    seconds: "3",
    isolation_seconds: "5",
    kv_calls: 1000,
};

/// A page and the event whose wire bytes are measured.
struct Wire {
    path: &'static str,
    event: &'static str,
    value: &'static str,
}

/// One per example, plus the 300-row table (fixture `rows`) where one event changes one row.
const WIRE: &[Wire] = &[
    Wire {
        path: "/thermostat?house=1&tick=off",
        event: "inc",
        value: "{}",
    },
    Wire {
        path: "/rows",
        event: "bump",
        value: r#"{"id":150}"#,
    },
];

/// Every benchmark host takes these: the load generator is one client address opening
/// thousands of sockets and joins, which the per-address limits (`--max-sockets-per-ip`,
/// `--max-joins-per-ip-per-sec`) exist to refuse.
const LOAD_FROM_ONE_ADDRESS: [&str; 4] = [
    "--max-sockets-per-ip",
    "0",
    "--max-joins-per-ip-per-sec",
    "0",
];

/// `--max-instances n` and [`LOAD_FROM_ONE_ADDRESS`].
fn bench_args(instances: &str) -> Vec<&str> {
    let mut args = vec!["--max-instances", instances];
    args.extend(LOAD_FROM_ONE_ADDRESS);
    args
}

/// Guests that are not examples but that the benchmarks serve.
const BENCH_FIXTURES: &[&str] = &["rows", "hostile", "thermostat-v2"];

const SMOKE: Plan = Plan {
    joins: 50,
    sockets: 4,
    rates: "200",
    repeat: 20,
    ramp: "200,400",
    seconds: "0.5",
    isolation_seconds: "0.5",
    kv_calls: 50,
};

fn us(v: &Value) -> String {
    v.as_f64().map_or("-".into(), |x| format!("{x:.0} µs"))
}

/// Runs the benchmarks (`smoke`: a few seconds, only to prove they work).
pub fn run(smoke: bool) -> Result<()> {
    let plan = if smoke { &SMOKE } else { &FULL };
    let started = Instant::now();
    let toolchain = toolchain::resolve()?;
    let examples: Vec<_> = guest::discover()?
        .into_iter()
        .filter(|g| g.example || BENCH_FIXTURES.contains(&g.name.as_str()))
        .collect();
    let apps = step("build example guests and bench fixtures", || {
        guest::build(&toolchain, &examples)
    })?;
    // Figures come from release builds; the smoke run only proves the bench works.
    let profile = if smoke { "debug" } else { "release" };
    step(
        &format!("{profile} build of host and load generator"),
        || {
            let mut cmd = crate::process::cargo_once();
            cmd.args(["build", "-p", "livewasm", "-p", "livewasm-loadgen"]);
            if !smoke {
                cmd.arg("--release");
            }
            status(&mut cmd)
        },
    )?;
    let host = root().join("target").join(profile).join("livewasm");
    let generator = root().join("target").join(profile).join("livewasm-loadgen");
    let thermostat: Vec<PathBuf> = apps
        .iter()
        .filter(|p| p.ends_with("thermostat.wasm"))
        .cloned()
        .collect();
    let mut results = serde_json::Map::new();

    // Built variants (the thermostat's next version) are deployed by the upgrade figure, never
    // served beside the crate they are a version of (both are app `thermostat`).
    let served: Vec<PathBuf> = apps
        .iter()
        .filter(|p| !p.ends_with("thermostat-v2.wasm"))
        .cloned()
        .collect();
    let server = Server::start(&host, "127.0.0.1:0", &served, &bench_args("2000"))?;
    let mount = step("mount latency", || {
        loadgen::run(
            &generator,
            &server,
            &["mount", "--count", &plan.joins.to_string()],
        )
    })?;
    let events = step("event round trips", || {
        loadgen::run(
            &generator,
            &server,
            &[
                "events",
                "--sockets",
                &plan.sockets.to_string(),
                "--rates",
                plan.rates,
                "--ramp",
                plan.ramp,
                "--seconds",
                plan.seconds,
            ],
        )
    })?;
    let mut bytes = Vec::new();
    let repeat = plan.repeat.to_string();
    for wire in WIRE {
        bytes.push(step(&format!("wire bytes {}", wire.path), || {
            loadgen::run(
                &generator,
                &server,
                &[
                    "bytes", "--path", wire.path, "--event", wire.event, "--value", wire.value,
                    "--repeat", &repeat,
                ],
            )
        })?);
    }
    drop(server);

    // Tenant isolation: the thermostat's closed-loop rate alone, then while four sockets of
    // another app (the hostile fixture) burn a whole fuel budget on every callback.
    let attacked: Vec<PathBuf> = apps
        .iter()
        .filter(|p| p.ends_with("thermostat.wasm") || p.ends_with("hostile.wasm"))
        .cloned()
        .collect();
    let server = Server::start(&host, "127.0.0.1:0", &attacked, &bench_args("200"))?;
    let isolation = step(
        "tenant isolation (4 sockets looping in another app)",
        || {
            loadgen::run(
                &generator,
                &server,
                &[
                    "isolation",
                    "--attackers",
                    "4",
                    "--victims",
                    "4",
                    "--seconds",
                    plan.isolation_seconds,
                ],
            )
        },
    )?;
    drop(server);

    // The cost of one `kv` call from a view, in memory and in the registry (SQLite, Postgres),
    // and of one `sql` call in the app's database (in memory; a file beside the SQLite
    // registry; a schema of the Postgres one): an event
    // making `n` calls, timed against the same event making none.
    let hostile: Vec<PathBuf> = apps
        .iter()
        .filter(|p| p.ends_with("hostile.wasm"))
        .cloned()
        .collect();
    let mut kv = Vec::new();
    let kv_dir = root().join("target/bench/kv");
    let _ = std::fs::remove_dir_all(&kv_dir);
    std::fs::create_dir_all(&kv_dir)?;
    let database = kv_dir.join("registry.db").to_string_lossy().to_string();
    // A Postgres registry: `kv` in its table, each app's `sql` in a schema of the app's own.
    let postgres = step(
        "postgres for the kv and sql figures",
        crate::services::postgres,
    )?;
    for (store, extra) in [
        ("memory", vec![]),
        ("sqlite", vec!["--database", &database]),
        ("postgres", vec!["--database", &postgres.url]),
    ] {
        let mut args = bench_args("200");
        args.extend(extra);
        let server = Server::start(&host, "127.0.0.1:0", &hostile, &args)?;
        // One event making `calls` store calls on `path` (its `run` value from `value`), timed.
        let time = |path: &str, value: &Value| -> Result<f64> {
            let value = value.to_string();
            let report = loadgen::run(
                &generator,
                &server,
                &[
                    "bytes",
                    "--path",
                    path,
                    "--event",
                    "run",
                    "--value",
                    &value,
                    "--repeat",
                    &plan.repeat.min(50).to_string(),
                ],
            )?;
            report["event_round_trip"]["p50_us"]
                .as_f64()
                .context("no round trip measured")
        };
        // kv: get and set; sql: a one-row read by primary key, and a one-row insert.
        // (what, view path, its `run` value for n calls, n)
        type Case = (&'static str, &'static str, fn(u64) -> Value, u64);
        let cases: [Case; 4] = [
            (
                "kv get",
                "/hostile/kv-calls",
                |n| json!({"op": "get", "n": n}),
                plan.kv_calls,
            ),
            (
                "kv set",
                "/hostile/kv-calls",
                |n| json!({"op": "set", "n": n}),
                plan.kv_calls / 2,
            ),
            (
                "sql read",
                "/hostile/sql",
                |n| {
                    json!({"sql": "SELECT name FROM items WHERE id = ?", "params": [2],
                        "repeat": n, "query": true})
                },
                plan.kv_calls,
            ),
            (
                "sql insert",
                "/hostile/sql",
                |n| {
                    json!({"sql": "INSERT INTO items (name) VALUES (?)", "params": ["bench"],
                        "repeat": n, "query": false})
                },
                plan.kv_calls / 2,
            ),
        ];
        for (op, path, value, n) in &cases {
            let report = step(&format!("{op} calls ({store})"), || {
                let base = time(path, &value(0))?;
                let with = time(path, &value(*n))?;
                Ok(
                    json!({"store": store, "op": op, "calls": n, "event_p50_us": with,
                    "baseline_p50_us": base, "per_call_us": (with - base) / *n as f64}),
                )
            })?;
            kv.push(report);
        }
        drop(server);
    }
    drop(postgres);

    let v2 = apps
        .iter()
        .find(|p| p.ends_with("thermostat-v2.wasm"))
        .context("thermostat-v2.wasm was not built")?;
    let idle_plan = if smoke {
        &bench_idle::SMOKE
    } else {
        &bench_idle::FULL
    };
    let one_thermostat = thermostat
        .first()
        .context("thermostat.wasm was not built")?;
    let idle = bench_idle::run(idle_plan, &host, &generator, one_thermostat, v2)?;

    results.insert("mount".into(), mount.clone());
    results.insert("events".into(), events.clone());
    results.insert("bytes".into(), Value::Array(bytes.clone()));
    results.insert("idle".into(), idle.clone());
    results.insert("isolation".into(), isolation.clone());
    results.insert("kv".into(), Value::Array(kv.clone()));
    results.insert("smoke".into(), Value::Bool(smoke));

    println!("\n{:<46} {:>14} {:>14}", "figure", "measured", "target");
    println!(
        "{:<46} {:>14} {:>14}",
        "mount (phx_join → reply) p50",
        us(&mount["join"]["p50_us"]),
        "≤ 100 µs"
    );
    println!("{:<46} {:>14}", "mount p99", us(&mount["join"]["p99_us"]));
    if let Some(fixed) = events["fixed"].as_array() {
        for step in fixed {
            let rate = step["offered_per_s"].as_f64().unwrap_or(0.0);
            println!(
                "{:<46} {:>14} {:>14}",
                format!("event round trip p50 @ {rate:.0}/s"),
                us(&step["latency"]["p50_us"]),
                "≤ 200 µs"
            );
            println!(
                "{:<46} {:>14} {:>14}",
                format!("event round trip p99 @ {rate:.0}/s"),
                us(&step["latency"]["p99_us"]),
                "≤ 1000 µs"
            );
        }
    }
    println!(
        "{:<46} {:>14} {:>14}",
        "max sustained events/s (p99 ≤ 5 ms)",
        format!(
            "{:.0}",
            events["max"]["max_sustained_per_s"].as_f64().unwrap_or(0.0)
        ),
        "≥ 40000"
    );
    for b in &bytes {
        let path = b["path"].as_str().unwrap_or("");
        println!(
            "{:<46} {:>14}",
            format!("join reply bytes {path}"),
            b["join_reply_bytes"].to_string()
        );
        let target = if path == "/rows" { "≤ 150" } else { "" };
        println!(
            "{:<46} {:>14} {:>14}",
            format!("event `{}` diff bytes", b["event"].as_str().unwrap_or("")),
            b["event_diff_bytes"].to_string(),
            target
        );
        println!(
            "{:<46} {:>14}",
            "  view HTML bytes (a diff-less server resends)", b["view_html_bytes"]
        );
        println!(
            "{:<46} {:>14}",
            "  event round trip p50 (render + diff + loopback)",
            us(&b["event_round_trip"]["p50_us"])
        );
    }
    bench_idle::print(&idle, us);
    println!(
        "{:<46} {:>14}",
        "isolation: thermostat alone, events/s",
        format!(
            "{:.0}",
            isolation["unloaded"]["events_per_s"]
                .as_f64()
                .unwrap_or(0.0)
        )
    );
    println!(
        "{:<46} {:>14}",
        "isolation: thermostat alone, p99",
        us(&isolation["unloaded"]["latency"]["p99_us"])
    );
    println!(
        "{:<46} {:>14} {:>14}",
        "isolation: thermostat under attack, p99",
        us(&isolation["loaded"]["latency"]["p99_us"]),
        "≤ 5000 µs"
    );
    println!(
        "{:<46} {:>14} {:>14}",
        "isolation: rate under attack / alone",
        format!("{:.2}", isolation["rate_ratio"].as_f64().unwrap_or(0.0)),
        "≥ 0.25"
    );
    println!(
        "{:<46} {:>14}",
        "  attacking callbacks completed (fuel burnt)", isolation["attacks"]
    );
    for k in &kv {
        println!(
            "{:<46} {:>14}",
            format!(
                "{} per call ({}), p50",
                k["op"].as_str().unwrap_or(""),
                k["store"].as_str().unwrap_or("")
            ),
            format!("{:.1} µs", k["per_call_us"].as_f64().unwrap_or(0.0))
        );
    }
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let file = dir.join(if smoke { "smoke.json" } else { "results.json" });
    std::fs::write(
        &file,
        serde_json::to_string_pretty(&Value::Object(results))?,
    )?;
    println!(
        "\nwrote {} in {:.0} s",
        file.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
