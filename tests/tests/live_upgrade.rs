//! Live upgrade over real WebSockets on a platform host: activating another version of an app
//! moves its open views onto it in place — live or hibernated, their state carried through
//! the new version's `migrate` — and the client gets one diff with the new templates; a view
//! the new version refuses gets a `live_redirect` to its own URL (a remount). A rollback is an
//! activation too. With `live_upgrade` off, open views keep their version.
//!
//! The versions are `thermostat.wasm` and `thermostat-v2.wasm` (the thermostat built with its
//! `v2` feature: a unit after the temperature, a "Thermostat v2" line, and a `migrate` that
//! refuses a house that is not a number).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use livewasm_integration_tests::platform::{
    Api, Database, app_origin, assert_status, http_request,
};
use livewasm_integration_tests::{PhxSocket, TestServer, app_gauge, serve_metrics};
use livewasm_server::ServerConfig;
use serde_json::{Value, json};

/// A failing test's bound, not a figure.
const DEADLINE: Duration = Duration::from_secs(15);

const VERSIONS: &str = "/api/v1/tenants/acme/apps/thermo/versions";

/// A joined thermostat: its socket, join ref and topic.
struct View {
    socket: PhxSocket,
    join_ref: String,
    topic: String,
}

impl View {
    /// Loads `path` on the app's origin and joins its view.
    async fn open(addr: SocketAddr, host: &str, path: &str) -> (View, Value) {
        let (socket, page, join_ref, reply) = PhxSocket::join_on(addr, host, path).await;
        assert_eq!(reply["status"], "ok", "{reply}");
        let rendered = reply["response"]["rendered"].clone();
        let view = View {
            socket,
            join_ref,
            topic: page.topic(),
        };
        (view, rendered)
    }

    /// Clicks `event` (`inc`/`dec`); the reply's diff.
    async fn click(&mut self, event: &str) -> Value {
        let reply = self
            .socket
            .event(&self.join_ref, &self.topic, "click", event, json!({}))
            .await
            .expect("event");
        assert_eq!(reply["status"], "ok", "{reply}");
        reply["response"]["diff"].clone()
    }

    /// The next push `event` on the view's topic (its payload).
    async fn push(&mut self, event: &str) -> Value {
        let frame = self
            .socket
            .wait_push(&self.topic, event, DEADLINE)
            .await
            .unwrap_or_else(|e| panic!("no {event} on {}: {e}", self.topic));
        frame[4].clone()
    }

    /// The first `diff` push on the view's topic holding `text` (a ticking view pushes others).
    async fn diff_with(&mut self, text: &str) -> Value {
        let topic = self.topic.clone();
        let frame = self
            .socket
            .wait_for(DEADLINE, &format!("a diff with {text}"), |f| {
                f.get(2).and_then(Value::as_str) == Some(topic.as_str())
                    && f.get(3).and_then(Value::as_str) == Some("diff")
                    && holds(&f[4], text)
            })
            .await
            .unwrap_or_else(|e| panic!("no diff with {text} on {topic}: {e}"));
        frame[4].clone()
    }
}

/// The app's series `name` with label `outcome`, 0 when absent.
async fn upgrades(metrics: SocketAddr, outcome: &str) -> f64 {
    let response = http_request(metrics, "GET", &metrics.to_string(), "/metrics", &[], None)
        .await
        .expect("scrape");
    let label = format!("outcome=\"{outcome}\"");
    response
        .text()
        .lines()
        .find(|l| l.starts_with("livewasm_live_upgrades_total{") && l.contains(&label))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// `livewasm_hibernated_instances` of the app.
async fn hibernated(metrics: SocketAddr) -> f64 {
    app_gauge(metrics, "livewasm_hibernated_instances", "thermo").await
}

fn component(name: &str) -> Vec<u8> {
    std::fs::read(livewasm_test::component_path(name).expect("built component"))
        .expect("read component")
}

/// A platform host with tenant `acme` and app `thermo` serving the thermostat (version 1).
async fn start(config: ServerConfig) -> (TestServer, Database, Api, String) {
    let db = Database::sqlite();
    let (server, _registry, api) = TestServer::start_operated(&db, config).await;
    api.create_tenant("acme").await;
    api.create_app("acme", "thermo", "thermostat").await;
    let host = app_origin(server.addr, "acme", "thermo");
    (server, db, api, host)
}

/// True when the rendered JSON holds `text` (in a static or a dynamic).
fn holds(rendered: &Value, text: &str) -> bool {
    rendered.to_string().contains(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activating_a_version_moves_open_views_onto_it() {
    let config = ServerConfig {
        hibernate_after: Duration::from_secs(1),
        ..ServerConfig::default()
    };
    let (server, db, api, host) = start(config).await;
    let metrics = serve_metrics(server.host()).await;
    let addr = server.addr;

    // Three open thermostats on version 1: two idle ones hibernate, one ticking every second
    // stays live.
    let (mut asleep, rendered) = View::open(addr, &host, "/thermostat?house=1&tick=off").await;
    assert!(!holds(&rendered, "Thermostat v2"), "{rendered}");
    let (mut awake, _) = View::open(addr, &host, "/thermostat?house=2").await;
    let (mut refused, _) = View::open(addr, &host, "/thermostat?house=abc&tick=off").await;
    asleep.click("inc").await;
    asleep.click("inc").await;
    let diff = awake.click("dec").await;
    assert!(holds(&diff, "69"), "{diff}");
    let started = Instant::now();
    while hibernated(metrics).await < 2.0 {
        assert!(
            started.elapsed() < DEADLINE,
            "the idle views did not hibernate"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Version 2 is deployed and activated.
    let deployed = api.post_wasm(VERSIONS, &component("thermostat-v2")).await;
    assert_status(&deployed, 201, None);
    assert_eq!(deployed.json()["version"]["number"], 2);

    // The hibernated view and the live one are carried over with their temperatures: one diff
    // each, with the new template (statics) and the unit `migrate` filled in.
    for (view, temperature) in [(&mut asleep, "72"), (&mut awake, "69")] {
        let diff = view.diff_with("Thermostat v2").await;
        assert!(holds(&diff, "Thermostat v2"), "{diff}");
        assert!(holds(&diff, temperature), "{diff}");
        assert!(holds(&diff, "°F"), "{diff}");
        assert!(!holds(&diff, "Temperature: 70"), "{diff}");
    }
    // The view version 2 refuses is sent to remount at its own URL.
    let redirect = refused.push("live_redirect").await;
    assert_eq!(
        redirect,
        json!({"to": "/thermostat?house=abc&tick=off", "kind": "replace"})
    );
    assert_eq!(upgrades(metrics, "migrated").await, 2.0);
    assert_eq!(upgrades(metrics, "remounted").await, 1.0);

    // The moved views run version 2 and keep counting from where they were.
    let diff = asleep.click("inc").await;
    assert!(holds(&diff, "73"), "{diff}");
    // The remounted view's client joins again: a fresh mount on version 2.
    let (_, rendered) = View::open(addr, &host, "/thermostat?house=abc&tick=off").await;
    assert!(holds(&rendered, "Thermostat v2"), "{rendered}");

    // A rollback is an activation: back to version 1's template, state kept.
    let rolled = api.post_empty(&format!("{VERSIONS}/1/activate")).await;
    assert_status(&rolled, 200, None);
    let diff = asleep.diff_with("Temperature: ").await;
    assert!(!holds(&diff, "Thermostat v2"), "{diff}");
    assert!(holds(&diff, "73"), "{diff}");
    let diff = asleep.click("inc").await;
    assert!(holds(&diff, "74"), "{diff}");

    drop(server);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_live_upgrade_open_views_keep_their_version() {
    let config = ServerConfig {
        live_upgrade: false,
        ..ServerConfig::default()
    };
    let (server, db, api, host) = start(config).await;
    let addr = server.addr;
    let (mut view, _) = View::open(addr, &host, "/thermostat?house=1&tick=off").await;
    view.click("inc").await;

    let deployed = api.post_wasm(VERSIONS, &component("thermostat-v2")).await;
    assert_status(&deployed, 201, None);
    // Nothing is pushed; the next event is answered by version 1.
    let diff = view.click("inc").await;
    assert!(!holds(&diff, "Thermostat v2"), "{diff}");
    assert!(holds(&diff, "72"), "{diff}");
    assert!(view.socket.pending().next().is_none());
    // A new page gets version 2.
    let (_, rendered) = View::open(addr, &host, "/thermostat?house=1&tick=off").await;
    assert!(holds(&rendered, "Thermostat v2"), "{rendered}");

    drop(server);
    db.cleanup().await;
}
