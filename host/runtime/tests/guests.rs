//! The runtime with real guest components (`cargo xtask build` writes them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::load;

use std::time::{Duration, Instant};

use livewasm_runtime::{
    CallError, InstanceLimits, MountRequest, Runtime, RuntimeConfig, RuntimeError, TrapKind,
};
use serde_json::json;

fn request(view: &str, connected: bool) -> MountRequest {
    MountRequest {
        view: view.into(),
        action: None,
        params: json!({"house": "3", "tick": "off"}),
        session: json!({}),
        url: "http://localhost/thermostat?house=3".into(),
        connected,
        live_session: None,
        flash: json!({}),
    }
}

#[test]
fn manifest_mount_render_and_change_tracking() {
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 8,
        ..Default::default()
    })
    .unwrap();
    let app = load(&runtime, "thermostat");
    assert_eq!(app.manifest().name, "thermostat");
    assert_eq!(app.manifest().routes[0].path, "/thermostat");
    assert_eq!(app.digest().len(), 64);

    let mut instance = app.instantiate().unwrap();
    instance.mount(&request("Thermostat", true)).unwrap();
    instance
        .handle_params(&json!({"house": "3"}), "http://localhost/thermostat", None)
        .unwrap();
    let first = instance.render().unwrap().into_value();
    assert!(
        first.get("p").is_some(),
        "first render shares statics: {first}"
    );
    assert!(instance.html().unwrap().contains("House 3 - 70°F"));

    instance.handle_event("inc", &json!({})).unwrap();
    let diff = instance.render().unwrap().into_value();
    let text = diff.to_string();
    assert!(text.contains("71") && !text.contains("House"), "{text}");
    // Unchanged assigns are not even sent across the boundary: user and house stay out.
    assert!(!text.contains("guest") && !text.contains("\"3\""), "{text}");

    instance
        .handle_event("update_temp", &json!({"key": "x"}))
        .unwrap();
    assert!(instance.render().unwrap().is_empty(), "no change, no diff");
    assert!(
        instance.take_effects().timers.is_empty(),
        "tick=off schedules nothing"
    );
}

#[test]
fn connected_mount_schedules_the_tick() {
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 4,
        ..Default::default()
    })
    .unwrap();
    let app = load(&runtime, "thermostat");
    let mut instance = app.instantiate().unwrap();
    let mut req = request("Thermostat", true);
    req.params = json!({});
    instance.mount(&req).unwrap();
    let effects = instance.take_effects();
    assert!(
        matches!(
            effects.timers.as_slice(),
            [livewasm_runtime::TimerCommand::Schedule { every: Some(d), .. }] if *d == Duration::from_secs(1)
        ),
        "{effects:?}"
    );
}

fn hostile_instance(app: &livewasm_runtime::App) -> livewasm_runtime::Instance {
    let mut instance = app.instantiate().unwrap();
    instance.mount(&request("Hostile", true)).unwrap();
    instance.render().unwrap();
    instance
}

#[test]
fn an_endless_loop_runs_out_of_fuel_and_others_keep_working() {
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 4,
        fuel_per_callback: 200_000_000,
        ..Default::default()
    })
    .unwrap();
    let app = load(&runtime, "hostile");
    let mut looping = hostile_instance(&app);
    let mut other = hostile_instance(&app);
    let started = Instant::now();
    let err = looping.handle_event("loop", &json!({})).unwrap_err();
    assert!(
        matches!(
            err,
            CallError::Trap {
                kind: TrapKind::OutOfFuel,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(looping.is_dead());
    assert_eq!(
        looping.handle_event("ok", &json!({})).unwrap_err(),
        CallError::Dead
    );
    other.handle_event("ok", &json!({})).unwrap();
    other.render().unwrap();
    assert!(other.html().unwrap().contains("count: 1"));
}

#[test]
fn the_epoch_deadline_stops_a_loop_when_fuel_would_not() {
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 2,
        fuel_per_callback: u64::MAX / 2,
        callback_deadline: Duration::from_millis(100),
        ..Default::default()
    })
    .unwrap();
    let app = load(&runtime, "hostile");
    let mut looping = hostile_instance(&app);
    let started = Instant::now();
    let err = looping.handle_event("loop", &json!({})).unwrap_err();
    assert!(
        matches!(
            err,
            CallError::Trap {
                kind: TrapKind::Deadline,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn per_app_limits_apply_to_its_instances_within_the_runtime_caps() {
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 4,
        ..Default::default()
    })
    .unwrap();
    let app = load(&runtime, "hostile");
    // A quota above the runtime's limits gets the runtime's.
    let generous = app.with_limits(InstanceLimits {
        memory_bytes: 1 << 40,
        fuel_per_callback: u64::MAX,
    });
    assert_eq!(generous.limits(), app.limits());
    // A tenant with a small fuel quota: its loop stops on fuel long before the runtime's budget
    // would (or the 2 s epoch deadline) stop it.
    let thrifty = app.with_limits(InstanceLimits {
        memory_bytes: 4 << 20,
        fuel_per_callback: 20_000_000,
    });
    assert_eq!(thrifty.limits().memory_bytes, 4 << 20);
    let mut looping = hostile_instance(&thrifty);
    let err = looping.handle_event("loop", &json!({})).unwrap_err();
    assert!(
        matches!(
            err,
            CallError::Trap {
                kind: TrapKind::OutOfFuel,
                ..
            }
        ),
        "{err:?}"
    );
    // The memory quota caps growth too.
    let mut hog = hostile_instance(&thrifty);
    let err = hog.handle_event("oom", &json!({})).unwrap_err();
    assert!(matches!(err, CallError::Trap { .. }), "{err:?}");
    // Instances of the app without the tenant's limits are unaffected.
    let mut other = hostile_instance(&app);
    other.handle_event("ok", &json!({})).unwrap();
}

#[test]
fn memory_exhaustion_traps_at_the_cap() {
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 2,
        ..Default::default()
    })
    .unwrap();
    let app = load(&runtime, "hostile");
    let mut hog = hostile_instance(&app);
    let err = hog.handle_event("oom", &json!({})).unwrap_err();
    assert!(matches!(err, CallError::Trap { .. }), "{err:?}");
    assert!(hog.is_dead());
}

#[test]
fn panics_and_errors_are_reported() {
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 3,
        ..Default::default()
    })
    .unwrap();
    let app = load(&runtime, "hostile");
    let mut a = hostile_instance(&app);
    let err = a.handle_event("trap", &json!({})).unwrap_err();
    assert!(
        matches!(
            err,
            CallError::Trap {
                kind: TrapKind::Panic,
                ..
            }
        ),
        "{err:?}"
    );
    let mut b = hostile_instance(&app);
    let err = b.handle_event("error", &json!({})).unwrap_err();
    assert!(
        matches!(err, CallError::Guest(ref m) if m.contains("on request")),
        "{err:?}"
    );
}

#[test]
fn the_pool_runs_out_cleanly_and_recovers() {
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 2,
        ..Default::default()
    })
    .unwrap();
    let app = load(&runtime, "hostile");
    let a = app.instantiate().unwrap();
    let _b = app.instantiate().unwrap();
    assert!(matches!(
        app.instantiate(),
        Err(RuntimeError::PoolExhausted(2))
    ));
    drop(a);
    app.instantiate().unwrap();
}

#[test]
fn garbage_is_not_a_component() {
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 2,
        ..Default::default()
    })
    .unwrap();
    assert!(matches!(
        runtime.load_app(b"not wasm"),
        Err(RuntimeError::Compile(_))
    ));
}
