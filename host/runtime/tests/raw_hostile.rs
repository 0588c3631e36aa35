//! The raw hostile guest (`tests/fixtures/raw-hostile`, written against the WIT world with
//! wit-bindgen, no SDK) attacks each limit: every attack ends in a clean error for its own
//! instance, and the runtime keeps serving another app's instance (and a fresh instance of the
//! attacker's app) afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::load;

use livewasm_runtime::{
    App, CallError, Instance, InstanceLimits, MAX_COMMANDS_PER_CALLBACK, MountRequest,
    RenderLimits, Runtime, RuntimeConfig, TrapKind,
};
use serde_json::json;

fn request(view: &str) -> MountRequest {
    MountRequest {
        view: view.into(),
        action: None,
        params: json!({"house": "3", "tick": "off"}),
        session: json!({}),
        url: "http://localhost/".into(),
        connected: true,
        live_session: None,
        flash: json!({}),
    }
}

/// The attacker's app, and another app's instance that must keep working.
struct Host {
    raw: App,
    thermostat: Instance,
    clicks: u32,
}

impl Host {
    fn new() -> Host {
        let runtime = Runtime::new(RuntimeConfig {
            max_instances: 8,
            ..RuntimeConfig::default()
        })
        .unwrap();
        let raw = load(&runtime, "raw-hostile");
        let mut thermostat = load(&runtime, "thermostat").instantiate().unwrap();
        thermostat.mount(&request("Thermostat")).unwrap();
        thermostat.render().unwrap();
        Host {
            raw,
            thermostat,
            clicks: 0,
        }
    }

    fn attacker(&self) -> Instance {
        let mut instance = self.raw.instantiate().unwrap();
        instance.mount(&request("Raw")).unwrap();
        instance
    }

    /// The other app's instance still answers, and so does a fresh instance of the attacker's.
    fn still_serving(&mut self) {
        self.thermostat.handle_event("inc", &json!({})).unwrap();
        self.clicks += 1;
        self.thermostat.render().unwrap();
        let html = self.thermostat.html().unwrap();
        assert!(html.contains(&format!("{}°F", 70 + self.clicks)), "{html}");
        let mut fresh = self.attacker();
        fresh.render().unwrap();
        assert_eq!(fresh.html().as_deref(), Some("<p>ok</p>"));
    }

    /// Renders attack `mode`: the view fails with a render error naming `expected`.
    fn render_attack(&mut self, mode: &str, expected: &str) {
        let mut instance = self.attacker();
        instance.handle_event(mode, &json!({})).unwrap();
        match instance.render() {
            Err(CallError::Render(message)) => {
                assert!(message.contains(expected), "{mode}: {message}");
            }
            other => panic!("{mode}: {other:?}"),
        }
        assert!(instance.is_dead(), "{mode}: the view is done");
        assert_eq!(instance.render().unwrap_err(), CallError::Dead);
        self.still_serving();
    }

    /// Floods an import in one callback: the callback traps naming `expected`, and no more
    /// than the stated bounds were queued.
    fn flood_attack(&mut self, event: &str, expected: &str) {
        let mut instance = self.attacker();
        match instance.handle_event(event, &json!({})) {
            Err(CallError::Trap { message, .. }) => {
                assert!(message.contains(expected), "{event}: {message}");
            }
            other => panic!("{event}: {other:?}"),
        }
        assert!(instance.is_dead());
        let effects = instance.take_effects();
        let queued = effects.timers.len()
            + effects.events.len()
            + effects.pubsub.len()
            + effects.tasks.len()
            + effects.released_uploads.len();
        assert!(queued <= MAX_COMMANDS_PER_CALLBACK, "{event}: {queued}");
        assert!(
            effects.events.len() <= livewasm_runtime::MAX_EVENTS,
            "{event}"
        );
        self.still_serving();
    }
}

#[test]
fn render_attacks_fail_their_view_and_the_host_keeps_serving() {
    let limits = RenderLimits::default();
    let mut host = Host::new();
    host.still_serving();
    host.render_attack("deep", &format!("deeper than {} levels", limits.max_depth));
    host.render_attack("nodes", "nodes and comprehensions");
    host.render_attack("entries", "comprehension entries");
    host.render_attack("dynamics", "dynamics, more than");
    host.render_attack("bytes", "bytes of text");
    host.render_attack("components", "live components");
    host.render_attack("templates", "templates, more than");
    host.render_attack("out-of-range", "node index 999 out of range");
    host.render_attack("twice", "node 1 referenced more than once");
    host.render_attack("cycle", "referenced more than once");
}

#[test]
fn statics_that_do_not_fit_are_refused_and_not_cached() {
    let mut host = Host::new();
    host.still_serving();
    let before = host.raw.cached_templates();
    host.render_attack(
        "bad-statics",
        "has 5 statics but is rendered with 1 dynamics",
    );
    host.render_attack("huge-template", "parts, more than 1025");
    assert_eq!(
        host.raw.cached_templates(),
        before,
        "nothing refused was cached"
    );
}

#[test]
fn the_deep_render_is_refused_on_a_small_stack() {
    // The whole call (guest render, limit check) on a thread with 1 MiB of stack: the guest's
    // own wasm stack (512 KiB at most) plus a host that never recurses on the guest's tree.
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 2,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let raw = load(&runtime, "raw-hostile");
    let verdict = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let mut instance = raw.instantiate().unwrap();
            instance.mount(&request("Raw")).unwrap();
            instance.handle_event("deep", &json!({})).unwrap();
            instance.render()
        })
        .unwrap()
        .join()
        .expect("no stack overflow");
    assert!(
        matches!(verdict, Err(CallError::Render(ref m)) if m.contains("deeper than")),
        "{verdict:?}"
    );
}

#[test]
fn import_floods_trap_at_the_callback_budget() {
    let mut host = Host::new();
    let commands = format!("more than {MAX_COMMANDS_PER_CALLBACK} commands");
    for event in [
        "flood-timers",
        "churn-timers",
        "flood-push",
        "flood-navigate",
        "churn-subscribe",
        "flood-broadcast",
        "churn-tasks",
        "flood-logs",
    ] {
        host.flood_attack(event, &commands);
    }
    host.flood_attack("flood-bytes", "bytes passed to imports");
}

#[test]
fn work_in_imports_costs_fuel() {
    let mut host = Host::new();
    let fuel = 10_000_000;
    let app = host.raw.with_limits(InstanceLimits {
        memory_bytes: 16 << 20,
        fuel_per_callback: fuel,
    });
    let mut instance = app.instantiate().unwrap();
    instance.mount(&request("Raw")).unwrap();
    // A hundred readings fit; ten thousand would be cheap for the guest alone, but cost
    // 10,000 × FUEL_PER_IMPORT_CALL = 20,000,000 fuel in the host: out of fuel.
    instance.handle_event("clock", &json!(100)).unwrap();
    match instance.handle_event("clock", &json!(10_000)) {
        Err(CallError::Trap {
            kind: TrapKind::OutOfFuel,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(10_000 * livewasm_runtime::FUEL_PER_IMPORT_CALL > fuel);
    host.still_serving();
}
