//! Where one event's time goes inside the host, without sockets: mounts a built component
//! (default `rows`, the 300-row table) once, then times many rounds of the guest's
//! `handle_event` and of `render` (the guest's render plus the host's diff), and prints the
//! median and 90th percentile of each with the diff's size.
//!
//! `cargo run --release -p livewasm-runtime --example event_profile -- [name] [count] [event] [value]`
//! (components from `$LIVEWASM_COMPONENTS`, else `target/components`; by default the event is
//! `bump` with `{"id": 150}`). With `LIVEWASM_PROFILE_METER=1` the app reports to a meter
//! counting in atomics, as the server's metrics do (to see what metering costs).

#![allow(clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use livewasm_runtime::{Capability, Meter, MountRequest, Runtime, RuntimeConfig, TrapKind};
use serde_json::{Value, json};

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index].as_secs_f64() * 1e6
}

/// A meter as cheap as the server's: atomic adds.
#[derive(Default)]
struct Atomics {
    fuel: AtomicU64,
    nanos: AtomicU64,
    other: AtomicU64,
    memory: AtomicI64,
}

impl Meter for Atomics {
    fn guest_call(&self, fuel: u64, elapsed: Duration) {
        self.fuel.fetch_add(fuel, Ordering::Relaxed);
        self.nanos
            .fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
    }
    fn trap(&self, _: TrapKind) {
        self.other.fetch_add(1, Ordering::Relaxed);
    }
    fn capability_calls(&self, _: Capability, count: u64) {
        self.other.fetch_add(count, Ordering::Relaxed);
    }
    fn memory(&self, delta: i64) {
        self.memory.fetch_add(delta, Ordering::Relaxed);
    }
    fn log_lines_dropped(&self, count: u64) {
        self.other.fetch_add(count, Ordering::Relaxed);
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "rows".into());
    let count: usize = args.next().and_then(|c| c.parse().ok()).unwrap_or(2000);
    let event = args.next().unwrap_or_else(|| "bump".into());
    let value: Value = args
        .next()
        .map(|v| serde_json::from_str(&v).expect("the value is JSON"))
        .unwrap_or_else(|| json!({"id": 150}));
    let dir = std::env::var_os("LIVEWASM_COMPONENTS").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/components"),
        std::path::PathBuf::from,
    );
    let wasm = std::fs::read(dir.join(format!("{name}.wasm"))).expect("built component");
    let runtime = Runtime::new(RuntimeConfig::default()).expect("runtime");
    let mut app = runtime.load_app(&wasm).expect("load");
    if std::env::var_os("LIVEWASM_PROFILE_METER").is_some() {
        app = app.with_meter(Arc::new(Atomics::default()));
        println!("metered");
    }
    let route = app.manifest().routes[0].clone();
    let request = MountRequest {
        view: route.view.clone(),
        action: route.action.clone(),
        params: json!({}),
        session: json!({}),
        url: format!("http://localhost{}", route.path),
        connected: true,
        live_session: route.live_session.clone(),
        flash: json!({}),
    };
    let mut instance = app.instantiate().expect("instantiate");
    instance.mount(&request).expect("mount");
    instance
        .handle_params(&request.params, &request.url, request.action.as_deref())
        .expect("handle_params");
    instance.render().expect("first render");
    let mut events = Vec::with_capacity(count);
    let mut renders = Vec::with_capacity(count);
    let mut bytes = 0;
    for _ in 0..count {
        let t0 = Instant::now();
        instance.handle_event(&event, &value).expect("event");
        let t1 = Instant::now();
        let diff = instance.render().expect("render");
        let t2 = Instant::now();
        bytes = diff.into_value().to_string().len();
        events.push(t1 - t0);
        renders.push(t2 - t1);
    }
    println!("{name}: {count} × `{event}` {value}, µs; diff {bytes} B");
    println!("{:<14} {:>8} {:>8}", "step", "p50", "p90");
    for (step, s) in [("handle_event", &mut events), ("render+diff", &mut renders)] {
        let p50 = percentile(s, 0.5);
        let p90 = percentile(s, 0.9);
        println!("{step:<14} {p50:>8.1} {p90:>8.1}");
    }
}
