//! Where a connected mount's time goes inside the host, without sockets: for a built
//! component (default `thermostat`), times each step of many mounts — instantiate from the
//! pre-instantiated component in a pooled slot, the guest's `mount`, `handle_params`, the first
//! `render` (guest call plus the host's diff), serializing the join reply's JSON, and dropping
//! the instance (freeing its slot) — and prints the median and 90th percentile of each.
//!
//! `cargo run --release -p livewasm-runtime --example mount_profile -- [name] [count]
//! [keep-resident-KiB]` (the last one sets `RuntimeConfig::keep_resident_bytes`)
//! (components from `$LIVEWASM_COMPONENTS`, else `target/components`).

#![allow(clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use livewasm_runtime::RuntimeConfig;
use serde_json::json;

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index].as_secs_f64() * 1e6
}

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "thermostat".into());
    let count: usize = args.next().and_then(|c| c.parse().ok()).unwrap_or(5000);
    let defaults = RuntimeConfig::default();
    let keep_resident_bytes = args
        .next()
        .and_then(|k| k.parse::<usize>().ok())
        .map_or(defaults.keep_resident_bytes, |kib| kib << 10);
    let (_runtime, app, request) = support::load(
        &name,
        RuntimeConfig {
            max_instances: 64,
            keep_resident_bytes,
            ..defaults
        },
    );
    let steps = [
        "instantiate",
        "mount",
        "handle_params",
        "render+diff",
        "reply JSON",
        "drop",
        "total",
    ];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(count); steps.len()];
    for _ in 0..count {
        let t0 = Instant::now();
        let mut instance = app.instantiate().expect("instantiate");
        let t1 = Instant::now();
        instance.mount(&request).expect("mount");
        let t2 = Instant::now();
        instance
            .handle_params(&request.params, &request.url, request.action.as_deref())
            .expect("handle_params");
        let t3 = Instant::now();
        let diff = instance.render().expect("render");
        let t4 = Instant::now();
        let reply =
            json!({"rendered": diff.into_value(), "liveview_version": "1.2.12"}).to_string();
        std::hint::black_box(&reply);
        let t5 = Instant::now();
        drop(instance);
        let t6 = Instant::now();
        for (i, (a, b)) in [
            (t0, t1),
            (t1, t2),
            (t2, t3),
            (t3, t4),
            (t4, t5),
            (t5, t6),
            (t0, t6),
        ]
        .into_iter()
        .enumerate()
        {
            samples[i].push(b - a);
        }
    }
    println!("{name}: {count} mounts, µs");
    println!("{:<14} {:>8} {:>8}", "step", "p50", "p90");
    for (step, s) in steps.iter().zip(samples.iter_mut()) {
        let p50 = percentile(s, 0.5);
        let p90 = percentile(s, 0.9);
        println!("{step:<14} {p50:>8.1} {p90:>8.1}");
    }
}
