//! Hibernation over a real WebSocket: an idle thermostat (no tick) hibernates after
//! `hibernate_after` — its instance freed, counted in `livewasm_hibernated_instances` — and
//! its next event wakes it with its state, answering with the same minimal diff a live view
//! sends; a view with a timer due soon stays live; `hibernate_after = 0` turns it off. On a
//! platform host a hibernated view holds none of its tenant's instance quota: another view
//! joins in its place, and at the quota the sleeper cannot wake (it crashes, and its rejoin
//! waits for a free slot).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use livewasm_integration_tests::platform::{Api, Database, app_origin, http_request};
use livewasm_integration_tests::{Page, PhxSocket, TestServer, serve_metrics};
use livewasm_server::ServerConfig;
use serde_json::{Value, json};

/// A failing test's bound, not a figure.
const DEADLINE: Duration = Duration::from_secs(15);

/// `livewasm_instances` and `livewasm_hibernated_instances` of the thermostat.
async fn counts(metrics: SocketAddr) -> (f64, f64) {
    let response = http_request(metrics, "GET", &metrics.to_string(), "/metrics", &[], None)
        .await
        .expect("scrape");
    let text = response.text();
    let find = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name) && l.contains("app=\"thermostat\""))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    (
        find("livewasm_instances{"),
        find("livewasm_hibernated_instances{"),
    )
}

async fn until_counts(metrics: SocketAddr, want: (f64, f64)) {
    let started = Instant::now();
    loop {
        let got = counts(metrics).await;
        if got == want {
            return;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "(live, hibernated) stayed {got:?}, expected {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn start(hibernate_after: Duration) -> (TestServer, SocketAddr) {
    let config = ServerConfig {
        hibernate_after,
        ..ServerConfig::default()
    };
    let (server, host) = TestServer::start_configured(&["thermostat"], config).await;
    let metrics = serve_metrics(host).await;
    (server, metrics)
}

/// Joins `/thermostat?house=5&tick=…` and returns the socket, join ref and topic.
async fn join(server: &TestServer, tick: &str) -> (PhxSocket, String, String) {
    let path = format!("/thermostat?house=5&tick={tick}");
    server.join_view(&path).await
}

async fn click(socket: &mut PhxSocket, join_ref: &str, topic: &str, event: &str) -> Value {
    socket.click_diff(join_ref, topic, event).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_view_hibernates_and_its_next_event_wakes_it_with_its_state() {
    let (server, metrics) = start(Duration::from_millis(300)).await;
    let (mut socket, join_ref, topic) = join(&server, "off").await;
    let live_diff = click(&mut socket, &join_ref, &topic, "inc").await;
    assert!(live_diff.to_string().contains("71"), "{live_diff}");

    // Idle: it hibernates, its instance freed.
    until_counts(metrics, (0.0, 1.0)).await;

    // The next event wakes it: same state, the same kind of minimal diff.
    let diff = click(&mut socket, &join_ref, &topic, "inc").await;
    let text = diff.to_string();
    assert!(text.contains("72"), "the state survived: {text}");
    assert!(
        !text.contains("House"),
        "a minimal diff, not the page again: {text}"
    );
    // No statics sent again, and about the size of the live view's diff (which may differ
    // by the clock's slot when a second has passed).
    assert!(!text.contains("\"s\""), "no template sent again: {text}");
    assert!(
        text.len() <= live_diff.to_string().len() + 20,
        "the woken view's diff is as small as a live view's: {text} vs {live_diff}"
    );
    assert_eq!(counts(metrics).await, (1.0, 0.0), "awake again");

    // Asleep again, and woken by a decrement.
    until_counts(metrics, (0.0, 1.0)).await;
    let diff = click(&mut socket, &join_ref, &topic, "dec").await;
    assert!(diff.to_string().contains("71"), "{diff}");

    // A view that leaves while asleep is no longer counted.
    until_counts(metrics, (0.0, 1.0)).await;
    drop(socket);
    until_counts(metrics, (0.0, 0.0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_with_a_timer_due_soon_stays_live_and_zero_turns_it_off() {
    // The tick (every second) keeps the thermostat live however long it sits.
    let (server, metrics) = start(Duration::from_millis(200)).await;
    let (_socket, _join_ref, _topic) = join(&server, "on").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(counts(metrics).await, (1.0, 0.0));

    // hibernate_after = 0: never.
    let (server, metrics) = start(Duration::ZERO).await;
    let (_socket, _join_ref, _topic) = join(&server, "off").await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(counts(metrics).await, (1.0, 0.0));
}

/// The tenant's instances running now, as the API shows them.
async fn instances(operator: &Api) -> Value {
    operator.get("/api/v1/tenants/acme").await.json()["usage"]["instances"].clone()
}

/// Waits until the tenant runs `want` instances.
async fn until_instances(operator: &Api, want: u64) {
    let started = Instant::now();
    while instances(operator).await != json!(want) {
        assert!(
            started.elapsed() < DEADLINE,
            "the tenant runs {} instances, not {want}",
            instances(operator).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hibernated_view_frees_its_tenants_quota_slot_and_waits_for_one_to_wake() {
    let db = Database::sqlite();
    let mut full = FullTenant::start(&db, Duration::from_secs(20)).await;

    // At the quota the sleeper's click waits for a slot: no reply, no crash, yet.
    let click = full.click().await;
    let early = full
        .sleeper
        .reply_to(&click, Duration::from_millis(700))
        .await;
    assert!(
        early.is_err(),
        "answered while the tenant was full: {early:?}"
    );

    // The live view leaves: its slot goes to the sleeper, which wakes with its state and
    // answers the click with the diff of one step up; its page never saw a crash.
    drop(full.awake);
    let answer = full
        .sleeper
        .reply_to(&click, DEADLINE)
        .await
        .expect("the click is answered once a slot is free");
    assert_eq!(answer["status"], "ok", "{answer}");
    let diff = answer["response"]["diff"].to_string();
    assert!(
        diff.contains("71"),
        "one step up from 70, state kept: {diff}"
    );
    assert!(
        !diff.contains("House"),
        "a minimal diff, not a remount: {diff}"
    );
    assert!(
        full.sleeper.pending().all(|f| f[3] != "phx_error"),
        "the view crashed: {:?}",
        full.sleeper.pending().collect::<Vec<_>>()
    );
    assert_eq!(instances(&full.operator).await, json!(1));
    db.cleanup().await;
}

/// Past `wake_wait` with the tenant still full, the sleeper crashes as a failed wake does, and
/// its rejoin is refused `capacity` until a slot frees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hibernated_view_that_finds_no_slot_in_time_crashes_and_rejoins_once_one_is_free() {
    let db = Database::sqlite();
    let mut full = FullTenant::start(&db, Duration::from_millis(400)).await;
    full.click().await;
    full.sleeper
        .wait_push(&full.topic, "phx_error", DEADLINE)
        .await
        .expect("the sleeper's channel crashes");
    let url = format!("http://{}/thermostat?house=1&tick=off", full.host);
    let (_, reply) = full
        .sleeper
        .join_page(&full.page, &url)
        .await
        .expect("rejoin");
    assert_eq!(
        (&reply["status"], &reply["response"]["reason"]),
        (&json!("error"), &json!("capacity")),
        "the rejoin waits for a slot: {reply}"
    );

    // The live view leaves: the slot is free and the sleeper's page comes back.
    drop(full.awake);
    until_instances(&full.operator, 0).await;
    let (_, reply) = full
        .sleeper
        .join_page(&full.page, &url)
        .await
        .expect("rejoin");
    assert_eq!(reply["status"], "ok", "{reply}");
    assert_eq!(instances(&full.operator).await, json!(1));
    db.cleanup().await;
}

/// A platform tenant `acme` that may run one instance, whose one slot a ticking thermostat
/// holds while another one, the sleeper (at 70), hibernated and gave its slot up. Views
/// hibernate after 300 ms and wait `wake_wait` for a slot.
struct FullTenant {
    _server: TestServer,
    operator: Api,
    /// The app's origin.
    host: String,
    sleeper: PhxSocket,
    page: Page,
    join_ref: String,
    topic: String,
    /// The live view holding the slot.
    awake: PhxSocket,
}

impl FullTenant {
    async fn start(db: &Database, wake_wait: Duration) -> FullTenant {
        let config = ServerConfig {
            hibernate_after: Duration::from_millis(300),
            wake_wait,
            ..ServerConfig::default()
        };
        let (server, _registry, operator) = TestServer::start_operated(db, config).await;
        operator.create_tenant("acme").await;
        operator
            .create_app("acme", "thermostat", "thermostat")
            .await;
        let quotas = operator
            .put_json(
                "/api/v1/tenants/acme/quotas",
                &json!({"max_concurrent_instances": 1}),
            )
            .await;
        assert_eq!(quotas.status, 200, "{}", quotas.text());
        let addr = server.addr;
        let host = app_origin(addr, "acme", "thermostat");

        // The sleeper joins, takes the tenant's one slot and gives it up when it hibernates.
        let (sleeper, page, join_ref, reply) =
            PhxSocket::join_on(addr, &host, "/thermostat?house=1&tick=off").await;
        assert_eq!(reply["status"], "ok", "{reply}");
        assert!(
            reply["response"]["rendered"].to_string().contains("70"),
            "{reply}"
        );
        until_instances(&operator, 0).await;

        // Another view joins in its place; its tick keeps it live, holding the slot.
        let (awake, _, _, reply) =
            PhxSocket::join_on(addr, &host, "/thermostat?house=2&tick=on").await;
        assert_eq!(
            reply["status"], "ok",
            "a hibernated view holds no slot: {reply}"
        );
        assert_eq!(instances(&operator).await, json!(1));
        let topic = page.topic();
        FullTenant {
            _server: server,
            operator,
            host,
            sleeper,
            page,
            join_ref,
            topic,
            awake,
        }
    }

    /// Clicks `inc` on the sleeper without waiting for the reply; the click's ref.
    async fn click(&mut self) -> String {
        self.sleeper
            .push_click(&self.join_ref, &self.topic, "inc")
            .await
            .expect("push")
    }
}
