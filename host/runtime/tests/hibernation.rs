//! Hibernation with real guests: an idle thermostat gives its instance (and pool slot) up
//! and a fresh instance of the same version carries on from its snapshot, with the same
//! state and minimal diffs; a component that cannot hibernate stays live.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::load;

use livewasm_runtime::{HibernateRefusal, MountRequest, Runtime, RuntimeConfig};
use serde_json::json;

fn thermostat_request() -> MountRequest {
    MountRequest {
        view: "Thermostat".into(),
        action: None,
        params: json!({"house": "3", "tick": "off"}),
        session: json!({}),
        url: "http://localhost/thermostat?house=3&tick=off".into(),
        connected: true,
        live_session: None,
        flash: json!({}),
    }
}

#[test]
fn a_hibernated_thermostat_wakes_with_its_state_and_frees_its_slot() {
    // One slot: while the view sleeps, another instance fits; waking needs the slot back.
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 1,
        ..Default::default()
    })
    .unwrap();
    let app = load(&runtime, "thermostat");
    let mut instance = app.instantiate().unwrap();
    instance.mount(&thermostat_request()).unwrap();
    instance
        .handle_params(
            &json!({"house": "3", "tick": "off"}),
            "http://localhost/thermostat",
            None,
        )
        .unwrap();
    instance.render().unwrap();
    instance.handle_event("inc", &json!({})).unwrap();
    instance.render().unwrap();
    assert!(instance.html().unwrap().contains("House 3 - 71°F"));

    let asleep = instance.hibernate().map_err(|still| still.why).unwrap();
    assert!(asleep.snapshot_bytes() > 0 && asleep.snapshot_bytes() < 1024);
    // The slot is free: another instance can be made, then given back.
    drop(app.instantiate().expect("the sleeping view holds no slot"));

    let mut instance = asleep.wake().unwrap();
    assert!(
        instance.html().unwrap().contains("House 3 - 71°F"),
        "the kept tree came along"
    );
    instance.handle_event("inc", &json!({})).unwrap();
    let diff = instance.render().unwrap().into_value().to_string();
    assert!(diff.contains("72"), "the state came along: {diff}");
    assert!(
        !diff.contains("House"),
        "the client gets a minimal diff, not the page again: {diff}"
    );
    assert!(instance.html().unwrap().contains("House 3 - 72°F"));

    // And again: sleep, wake, carry on.
    let asleep = instance.hibernate().map_err(|still| still.why).unwrap();
    let mut instance = asleep.wake().unwrap();
    instance.handle_event("dec", &json!({})).unwrap();
    instance.render().unwrap();
    assert!(instance.html().unwrap().contains("House 3 - 71°F"));
}

#[test]
fn a_view_that_cannot_be_written_down_stays_live() {
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 2,
        ..Default::default()
    })
    .unwrap();
    // The feed holds its posts in a stream: not serializable, so no snapshot.
    let app = load(&runtime, "feed");
    let mut instance = app.instantiate().unwrap();
    instance
        .mount(&MountRequest {
            view: "Feed".into(),
            action: None,
            params: json!({}),
            session: json!({}),
            url: "http://localhost/feed".into(),
            connected: true,
            live_session: None,
            flash: json!({}),
        })
        .unwrap();
    instance.render().unwrap();
    let still = *instance.hibernate().expect_err("a stream view stays live");
    assert!(
        matches!(still.why, HibernateRefusal::NotNow),
        "{}",
        still.why
    );
    let mut instance = still.instance;
    // Still usable.
    instance.handle_event("new-post", &json!({})).unwrap();
    instance.render().unwrap();
}
