//! `GET /metrics` and the health probes of a platform host, end to end: real sockets join
//! real apps, a hostile app burns its fuel, and the scrape (parsed with a Prometheus text
//! parser) shows every family with the registry's tenant and app names and values that moved.
//! Operators only on the base domain; anyone on the metrics listener. Readiness follows the
//! registry.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use livewasm_integration_tests::platform::{
    Api, Database, HttpResponse, app_origin, http_request, roomy_quotas,
};
use livewasm_integration_tests::{PhxSocket, TestServer, WAIT, serve_metrics};
use prometheus_parse::{Scrape, Value as Sample};
use serde_json::{Value, json};

/// A platform host with tenant `acme` serving the thermostat as app `shop`, and tenant
/// `globex` serving the hostile fixture as app `burner` (its manifest calls it `hostile`).
async fn start(db: &Database) -> (TestServer, livewasm_registry::Registry, Api, Api) {
    let (server, registry) = TestServer::start_platform(&db.location, roomy_quotas()).await;
    let operator = livewasm_server::platform::bootstrap_operator_token(&registry)
        .await
        .expect("operator token");
    let operator = Api::new(server.addr, Some(&operator.token));
    for tenant in ["acme", "globex"] {
        operator.create_tenant(tenant).await;
    }
    operator.create_app("acme", "shop", "thermostat").await;
    operator.create_app("globex", "burner", "hostile").await;
    let created = operator
        .post_json(
            "/api/v1/tokens",
            &json!({"label": "acme", "scope": {"kind": "tenant", "tenant": "acme"}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let token = created.json()["token"]
        .as_str()
        .expect("token text")
        .to_string();
    let tenant = operator.with_token(&token);
    (server, registry, operator, tenant)
}

/// A socket joined to `path` of `app` of `tenant`: `(socket, join_ref, topic)`.
async fn joined(
    addr: SocketAddr,
    tenant: &str,
    app: &str,
    path: &str,
) -> (PhxSocket, String, String) {
    let host = app_origin(addr, tenant, app);
    let (socket, page, join_ref, reply) = PhxSocket::join_on(addr, &host, path).await;
    assert_eq!(reply["status"], "ok", "{reply}");
    (socket, join_ref, page.topic())
}

/// The samples of a scrape.
fn parse(response: &HttpResponse) -> Scrape {
    assert_eq!(response.status, 200, "{}", response.text());
    let content_type = response
        .headers
        .iter()
        .find(|(name, _)| name == "content-type")
        .map(|(_, value)| value.as_str())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    Scrape::parse(response.text().lines().map(|l| Ok(l.to_string()))).expect("Prometheus text")
}

/// The value of series `name` whose labels include every pair of `labels`; `None` when no
/// such series is exported.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Sample::Counter(v) | Sample::Gauge(v) | Sample::Untyped(v) => *v,
            Sample::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            Sample::Summary(_) => f64::NAN,
        })
}

async fn scrape_listener(addr: SocketAddr) -> Scrape {
    let response = http_request(addr, "GET", &addr.to_string(), "/metrics", &[], None)
        .await
        .expect("scrape");
    parse(&response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_family_is_scraped_with_the_registry_names_and_moves() {
    let db = Database::sqlite();
    let (server, _registry, operator, tenant) = start(&db).await;
    let addr = server.addr;
    let listener = serve_metrics(server.host()).await;

    // Three thermostat sockets, two events each.
    let mut sockets = Vec::new();
    for _ in 0..3 {
        let (mut socket, join_ref, topic) = joined(addr, "acme", "shop", "/thermostat").await;
        for _ in 0..2 {
            let reply = socket
                .event(&join_ref, &topic, "click", "inc", json!({}))
                .await
                .unwrap();
            assert_eq!(reply["status"], "ok", "{reply}");
        }
        sockets.push(socket);
    }
    // The hostile app: a callback that loops until its fuel is gone (a fuel trap) …
    let (mut looping, join_ref, topic) = joined(addr, "globex", "burner", "/hostile").await;
    looping.push_click(&join_ref, &topic, "loop").await.unwrap();
    looping.wait_push(&topic, "phx_error", WAIT).await.unwrap();
    // … kv calls …
    let (mut kv, join_ref, topic) = joined(addr, "globex", "burner", "/hostile/kv-calls").await;
    let reply = kv
        .event(
            &join_ref,
            &topic,
            "click",
            "run",
            json!({"op": "set", "n": 3}),
        )
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    // … and a pub/sub storm its own view receives.
    let (mut storm, join_ref, topic) = joined(addr, "globex", "burner", "/hostile/storm").await;
    let reply = storm
        .event(&join_ref, &topic, "click", "storm", json!({}))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");

    let acme = [("tenant", "acme"), ("app", "shop")];
    let globex = [("tenant", "globex"), ("app", "burner")];
    // Deliveries arrive after the reply: wait for the first.
    let deadline = Instant::now() + Duration::from_secs(10);
    let scrape = loop {
        let scrape = scrape_listener(listener).await;
        let delivered = value(&scrape, "livewasm_pubsub_messages_total", &globex).unwrap_or(0.0);
        if delivered > 0.0 || Instant::now() > deadline {
            break scrape;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    let at_least = |name: &str, labels: &[(&str, &str)], min: f64| {
        let found = value(&scrape, name, labels);
        assert!(
            found.is_some_and(|v| v >= min),
            "{name}{labels:?} = {found:?}, expected ≥ {min}"
        );
    };
    at_least("livewasm_joins_total", &acme, 3.0);
    at_least("livewasm_events_total", &acme, 6.0);
    at_least("livewasm_instances", &acme, 3.0);
    // Hibernated views are counted apart (none here: they are busy; see hibernation.rs).
    at_least("livewasm_hibernated_instances", &acme, 0.0);
    at_least("livewasm_instance_memory_bytes", &acme, 65536.0);
    at_least("livewasm_fuel_used_total", &acme, 1.0);
    at_least("livewasm_guest_seconds_total", &acme, f64::MIN_POSITIVE);
    at_least("livewasm_sent_bytes_total", &acme, 100.0);
    at_least("livewasm_joins_total", &globex, 3.0);
    at_least("livewasm_errors_total", &globex, 1.0);
    at_least("livewasm_pubsub_messages_total", &globex, 1.0);
    let fuel_trap = |labels: &[(&str, &str)]| {
        let mut with_kind = labels.to_vec();
        with_kind.push(("kind", "fuel"));
        value(&scrape, "livewasm_traps_total", &with_kind)
    };
    assert_eq!(
        fuel_trap(&globex),
        Some(1.0),
        "one fuel trap for globex/burner"
    );
    assert_eq!(fuel_trap(&acme), Some(0.0), "no trap for acme/shop");
    at_least(
        "livewasm_capability_calls_total",
        &[
            ("tenant", "globex"),
            ("app", "burner"),
            ("capability", "kv"),
        ],
        3.0,
    );
    // Families that did not move are still exported for each app.
    for name in [
        "livewasm_upload_bytes_total",
        "livewasm_upload_entries_total",
        "livewasm_guest_log_dropped_total",
    ] {
        at_least(name, &acme, 0.0);
        at_least(name, &globex, 0.0);
    }
    for kind in ["deadline", "memory", "panic", "other"] {
        at_least(
            "livewasm_traps_total",
            &[("app", "shop"), ("kind", kind)],
            0.0,
        );
    }
    for capability in ["sql", "fetch", "blobs"] {
        at_least(
            "livewasm_capability_calls_total",
            &[("app", "burner"), ("capability", capability)],
            0.0,
        );
    }
    // The manifest's own name is never a label.
    assert!(
        !scrape
            .samples
            .iter()
            .any(|s| s.labels.get("app") == Some("hostile")),
        "a series labelled with the manifest's name"
    );
    // Host-wide families.
    at_least("livewasm_open_sockets", &[], 6.0);
    at_least("livewasm_guest_threads", &[], 1.0);
    at_least("livewasm_guest_threads_busy", &[], 0.0);
    at_least("livewasm_guest_calls_waiting", &[], 0.0);
    at_least("livewasm_compilations_total", &[], 2.0);
    // Not in a cluster: the relay's gauge says so (its counters move in cluster_pubsub.rs).
    assert_eq!(value(&scrape, "livewasm_cluster_connected", &[]), Some(0.0));
    // Each deployed version is looked up once in the host's compiled cache (the upload
    // compiled it: a hit).
    let lookups: f64 = ["hit", "miss"]
        .iter()
        .filter_map(|result| {
            value(
                &scrape,
                "livewasm_compile_cache_lookups_total",
                &[("cache", "memory"), ("result", result)],
            )
        })
        .sum();
    assert!(lookups >= 2.0, "memory cache lookups: {lookups}");
    at_least("livewasm_registry_seconds", &[("op", "load_version")], 2.0);
    at_least("livewasm_registry_seconds", &[("op", "authenticate")], 1.0);

    // On the base domain: the same exposition for an operator token …
    let by_operator = parse(&operator.get("/metrics").await);
    assert!(value(&by_operator, "livewasm_joins_total", &acme).is_some_and(|v| v >= 3.0));
    // … refused to a tenant token and without a token, and not served on an app origin.
    let refused = tenant.get("/metrics").await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert_eq!(refused.json()["error"]["code"], "forbidden");
    let anonymous = Api::new(addr, None).get("/metrics").await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text());
    let on_app = http_request(
        addr,
        "GET",
        &app_origin(addr, "acme", "shop"),
        "/metrics",
        &[],
        None,
    )
    .await
    .unwrap();
    assert_eq!(on_app.status, 404);
    assert!(!on_app.text().contains("livewasm_"), "{}", on_app.text());

    drop((sockets, looping, kv, storm));
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_registry_and_liveness_the_event_loop() {
    let db = Database::sqlite();
    let (server, registry, _operator, _tenant) = start(&db).await;
    let addr = server.addr;
    let probe = |path: &'static str| async move {
        http_request(
            addr,
            "GET",
            &format!("localhost:{}", addr.port()),
            path,
            &[],
            None,
        )
        .await
        .expect("probe")
    };
    let ready = probe("/health/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.text());
    assert_eq!(ready.json()["status"], "ready");

    // The registry's connections are gone (a database restarted under the host, a closed
    // pool): not ready, and why; still alive.
    registry.close().await;
    let not_ready = probe("/health/ready").await;
    assert_eq!(not_ready.status, 503, "{}", not_ready.text());
    let body: Value = not_ready.json();
    assert_eq!(body["status"], "not_ready");
    assert!(
        body["reason"]
            .as_str()
            .is_some_and(|r| r.contains("registry")),
        "{body}"
    );
    for path in ["/health", "/health/live"] {
        let live = probe(path).await;
        assert_eq!((live.status, live.text().as_str()), (200, "ok"), "{path}");
    }
    db.cleanup().await;
}
