//! Cluster PubSub over NATS: three hosts on one registry and one NATS server (`--cluster`).
//! A broadcast from a view on one host reaches the subscribed views of the same tenant app on
//! every host, never a view of another app of the same tenant or of another tenant (same
//! component, same topic); `broadcast_from` spares the sender only; a host follows an app's
//! subject only while it has views subscribed in it. Skipped unless `LIVEWASM_TEST_NATS_URL`
//! names a NATS server (`tests/nats.sh` starts one; `cargo xtask test` does it).
//!
//! Also, without NATS: a host whose cluster is unreachable at start is refused with a clear
//! error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use livewasm_integration_tests::platform::{
    Api, Database, NATS_ENV, app_origin, nats_url, roomy_quotas,
};
use livewasm_integration_tests::{Page, PhxSocket, TestServer, get, get_from};
use livewasm_runtime::{Runtime, RuntimeConfig};
use livewasm_server::pubsub_relay::{self, ClusterError};
use livewasm_server::{Host, ServerConfig};
use serde_json::{Value, json};

/// Deadline for what should take well under a second (a failing test's bound, not a figure).
const DEADLINE: Duration = Duration::from_secs(15);

/// How long a view is watched for a message that must not come.
const QUIET: Duration = Duration::from_millis(1000);

/// A joined view: its socket, topic and join ref.
struct Joined {
    socket: PhxSocket,
    topic: String,
    join_ref: String,
}

async fn join(addr: SocketAddr, tenant: &str, app: &str, path: &str) -> Joined {
    let host = app_origin(addr, tenant, app);
    let page: Page = get_from(addr, &host, path).await.expect("page");
    assert_eq!(page.status, 200, "{}", page.body);
    let cookie = page.cookie_header();
    let mut socket = PhxSocket::connect_to(addr, &host, page.csrf.as_deref(), Some(&cookie))
        .await
        .expect("socket");
    let url = format!("http://{host}{path}");
    let (join_ref, reply) = socket.join_page(&page, &url).await.expect("join");
    assert_eq!(reply["status"], "ok", "{reply}");
    Joined {
        socket,
        topic: page.topic(),
        join_ref,
    }
}

impl Joined {
    /// Sends event `event` (a click with `value`) and checks the reply is ok.
    async fn click(&mut self, event: &str, value: Value) {
        let reply = self
            .socket
            .event(
                &self.join_ref.clone(),
                &self.topic.clone(),
                "click",
                event,
                value,
            )
            .await
            .expect("event");
        assert_eq!(reply["status"], "ok", "{reply}");
    }

    /// Waits up to `wait` for a `diff` push of this view containing `text`.
    async fn diff_with(&mut self, text: &str, wait: Duration) -> Option<Value> {
        let topic = self.topic.clone();
        self.socket
            .wait_for(wait, text, |frame| {
                frame.get(2).and_then(Value::as_str) == Some(topic.as_str())
                    && frame.get(3).and_then(Value::as_str) == Some("diff")
                    && frame.to_string().contains(text)
            })
            .await
            .ok()
    }
}

/// Waits until `check` holds, or fails with `what`.
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not after {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until app `app` of `tenant` serves `path` on the host at `addr`.
async fn until_served(addr: SocketAddr, tenant: &str, app: &str, path: &str) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let status = get_from(addr, &app_origin(addr, tenant, app), path)
            .await
            .map(|page| page.status)
            .unwrap_or(0);
        if status == 200 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{tenant}/{app} not served on {addr} after {DEADLINE:?} (status {status})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The scopes host `host` follows on NATS now.
fn followed(host: &Host) -> usize {
    host.cluster_pubsub()
        .expect("the host is in the cluster")
        .subscribed_scopes
}

/// Waits until each view's background tasks have reached it (their diffs would otherwise
/// arrive in the middle of the checks below).
async fn settle(view: &mut Joined) {
    for text in ["Acme Corp", "Revenue: $"] {
        assert!(
            view.diff_with(text, DEADLINE).await.is_some(),
            "a task's result ({text}) pushed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcasts_reach_the_same_app_on_every_host_and_nothing_else() {
    let Some(nats) = nats_url() else {
        eprintln!("skipped: set {NATS_ENV} (tests/nats.sh starts a NATS server)");
        return;
    };
    let db = Database::sqlite();
    let config = || ServerConfig {
        cluster: Some(nats.clone()),
        ..ServerConfig::default()
    };
    let (a, registry) =
        TestServer::start_platform_configured(&db.location, roomy_quotas(), config()).await;
    let (b, _) =
        TestServer::start_platform_configured(&db.location, roomy_quotas(), config()).await;
    let (c, _) =
        TestServer::start_platform_configured(&db.location, roomy_quotas(), config()).await;
    let (host_a, host_b, host_c) = (a.host(), b.host(), c.host());
    for host in [&host_a, &host_b, &host_c] {
        let stats = host.cluster_pubsub().expect("in the cluster");
        assert!(stats.connected, "{stats:?}");
        assert_eq!(stats.subscribed_scopes, 0, "no views, no subjects followed");
    }

    // The same component as three apps, all deployed through host A: acme's dashboard, a
    // second app of acme, and globex's app of the same name.
    let operator = livewasm_server::platform::bootstrap_operator_token(&registry)
        .await
        .expect("operator token");
    let api = Api::new(a.addr, Some(&operator.token));
    api.create_tenant("acme").await;
    api.create_tenant("globex").await;
    api.create_app("acme", "dashboard", "dashboard").await;
    api.create_app("acme", "dash2", "dashboard").await;
    api.create_app("globex", "dashboard", "dashboard").await;
    let path = "/dashboard/acme";
    for server in [&a, &b, &c] {
        for (tenant, app) in [
            ("acme", "dashboard"),
            ("acme", "dash2"),
            ("globex", "dashboard"),
        ] {
            until_served(server.addr, tenant, app, path).await;
        }
    }

    // Dashboards of acme's app on every host (two on A), and the other apps' dashboards,
    // subscribed to the very same topic (`org:acme`), on B and C.
    let mut a1 = join(a.addr, "acme", "dashboard", path).await;
    let mut a2 = join(a.addr, "acme", "dashboard", path).await;
    let mut b1 = join(b.addr, "acme", "dashboard", path).await;
    let mut c1 = join(c.addr, "acme", "dashboard", path).await;
    let mut other_app = join(b.addr, "acme", "dash2", path).await;
    let mut other_tenant = join(c.addr, "globex", "dashboard", path).await;
    for view in [
        &mut a1,
        &mut a2,
        &mut b1,
        &mut c1,
        &mut other_app,
        &mut other_tenant,
    ] {
        settle(view).await;
    }
    // Each host follows the subjects of the apps it has views of, and only those.
    until("A follows acme/dashboard", || followed(&host_a) == 1).await;
    until("B follows acme/dashboard and acme/dash2", || {
        followed(&host_b) == 2
    })
    .await;
    until("C follows acme/dashboard and globex/dashboard", || {
        followed(&host_c) == 2
    })
    .await;

    // A sale recorded on host A reaches acme's dashboards on A, B and C.
    let mut sales_a = join(a.addr, "acme", "dashboard", "/dashboard/acme/sales").await;
    sales_a.click("sale", json!({"amount": "250"})).await;
    for (name, view) in [
        ("A", &mut a1),
        ("A", &mut a2),
        ("B", &mut b1),
        ("C", &mut c1),
    ] {
        assert!(
            view.diff_with("Sale: $250", DEADLINE).await.is_some(),
            "the sale from A reached acme's dashboard on {name}"
        );
    }
    // A sale recorded on host B reaches A and C too.
    let mut sales_b = join(b.addr, "acme", "dashboard", "/dashboard/acme/sales").await;
    sales_b.click("sale", json!({"amount": "10"})).await;
    for (name, view) in [
        ("A", &mut a1),
        ("A", &mut a2),
        ("B", &mut b1),
        ("C", &mut c1),
    ] {
        assert!(
            view.diff_with("Sale: $10", DEADLINE).await.is_some(),
            "the sale from B reached acme's dashboard on {name}"
        );
    }

    // broadcast_from on A: every other dashboard of the app, on every host, but not the
    // sender.
    a1.click("wave", json!({})).await;
    for (name, view) in [("A", &mut a2), ("B", &mut b1), ("C", &mut c1)] {
        assert!(
            view.diff_with("guest waved", DEADLINE).await.is_some(),
            "the wave from A reached acme's dashboard on {name}"
        );
    }
    assert!(
        a1.diff_with("guest waved", QUIET).await.is_none(),
        "broadcast_from came back to its sender"
    );

    // Nothing of it reached the other apps, on the hosts that have both.
    for (name, view) in [
        ("acme/dash2", &mut other_app),
        ("globex/dashboard", &mut other_tenant),
    ] {
        for text in ["Sale: $", "waved"] {
            assert!(
                view.diff_with(text, QUIET).await.is_none(),
                "acme/dashboard's broadcast ({text}) leaked to {name}"
            );
        }
    }

    let (stats_a, stats_b, stats_c) = (
        host_a.cluster_pubsub().expect("A"),
        host_b.cluster_pubsub().expect("B"),
        host_c.cluster_pubsub().expect("C"),
    );
    // A published its sale and its wave; B its sale. B and C each received A's two; A and C
    // B's one. Nothing dropped either way.
    assert_eq!((stats_a.published, stats_b.published), (2, 1));
    assert_eq!(
        (stats_a.received, stats_b.received, stats_c.received),
        (1, 2, 3)
    );
    for stats in [stats_a, stats_b, stats_c] {
        assert_eq!((stats.dropped_outgoing, stats.dropped_incoming), (0, 0));
    }
    // The operator sees the same counters at GET /metrics.
    let scrape = api.get("/metrics").await;
    assert_eq!(scrape.status, 200);
    let text = String::from_utf8_lossy(&scrape.body);
    for line in [
        "livewasm_cluster_connected 1",
        "livewasm_cluster_subscribed_scopes 1",
        r#"livewasm_cluster_pubsub_messages_total{direction="published"} 2"#,
        r#"livewasm_cluster_pubsub_messages_total{direction="received"} 1"#,
        r#"livewasm_cluster_pubsub_dropped_total{direction="outgoing"} 0"#,
        r#"livewasm_cluster_pubsub_dropped_total{direction="incoming"} 0"#,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} is not in A's /metrics:\n{text}"
        );
    }

    // The last view of an app on a host gone: that host stops following its subject.
    drop(other_app);
    until("B no longer follows acme/dash2", || followed(&host_b) == 1).await;
    drop((a1, a2, b1, c1, other_tenant, sales_a, sales_b));
    until("no host follows anything", || {
        [&host_a, &host_b, &host_c]
            .iter()
            .all(|host| followed(host) == 0)
    })
    .await;

    drop((a, b, c));
    registry.close().await;
    db.cleanup().await;
}

/// A NATS server of this test's own (the `nats-server` that `tests/nats.sh` installed), on
/// `port`; killed when dropped.
struct OwnNats(std::process::Child);

impl OwnNats {
    fn start(port: u16) -> OwnNats {
        let child = std::process::Command::new("nats-server")
            .args(["--addr", "127.0.0.1", "--port", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server (tests/nats.sh installs it)");
        OwnNats(child)
    }

    async fn listening(port: u16) {
        until_async(&format!("nats-server listening on {port}"), || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        })
        .await;
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until the future `check` makes resolves to true, or fails with `what`.
async fn until_async<F: std::future::Future<Output = bool>>(what: &str, check: impl Fn() -> F) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not after {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_nats_is_down_local_delivery_goes_on_and_relaying_resumes_after() {
    if nats_url().is_none() {
        eprintln!("skipped: set {NATS_ENV} (tests/nats.sh starts a NATS server)");
        return;
    }
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let mut nats = OwnNats::start(port);
    OwnNats::listening(port).await;
    let db = Database::sqlite();
    let config = || ServerConfig {
        cluster: Some(format!("nats://127.0.0.1:{port}")),
        cluster_ready_grace: Duration::from_secs(1),
        ..ServerConfig::default()
    };
    let (a, registry) =
        TestServer::start_platform_configured(&db.location, roomy_quotas(), config()).await;
    let (b, _) =
        TestServer::start_platform_configured(&db.location, roomy_quotas(), config()).await;
    let (host_a, host_b) = (a.host(), b.host());
    let operator = livewasm_server::platform::bootstrap_operator_token(&registry)
        .await
        .expect("operator token");
    let api = Api::new(a.addr, Some(&operator.token));
    api.create_tenant("acme").await;
    api.create_app("acme", "dashboard", "dashboard").await;
    let path = "/dashboard/acme";
    until_served(b.addr, "acme", "dashboard", path).await;
    let mut a1 = join(a.addr, "acme", "dashboard", path).await;
    let mut b1 = join(b.addr, "acme", "dashboard", path).await;
    settle(&mut a1).await;
    settle(&mut b1).await;
    until("B follows acme/dashboard", || followed(&host_b) == 1).await;
    let mut sales = join(a.addr, "acme", "dashboard", "/dashboard/acme/sales").await;

    // NATS goes away: A's views still get A's broadcasts; B's do not, and A counts the drop.
    drop(nats);
    until("A sees NATS gone", || {
        !host_a.cluster_pubsub().expect("A").connected
    })
    .await;
    sales.click("sale", json!({"amount": "7"})).await;
    assert!(
        a1.diff_with("Sale: $7", DEADLINE).await.is_some(),
        "local delivery goes on without NATS"
    );
    assert!(
        b1.diff_with("Sale: $7", QUIET).await.is_none(),
        "nothing can have been relayed"
    );
    assert!(host_a.cluster_pubsub().expect("A").dropped_outgoing >= 1);
    // Lost for longer than the grace: readiness says so (a load balancer stops sending new
    // clients), liveness does not.
    until_async("A not ready without NATS", || async {
        get(a.addr, "/health/ready")
            .await
            .is_ok_and(|p| p.status == 503 && p.body.contains("NATS connection has been lost"))
    })
    .await;
    assert_eq!(get(a.addr, "/health/live").await.expect("live").status, 200);

    // NATS is back on the same address: both hosts reconnect by themselves, and broadcasts
    // reach B again (B subscribes again as it reconnects; a sale sent before that is lost,
    // so each try has its own amount).
    nats = OwnNats::start(port);
    OwnNats::listening(port).await;
    until("both hosts reconnected", || {
        host_a.cluster_pubsub().expect("A").connected
            && host_b.cluster_pubsub().expect("B").connected
    })
    .await;
    until_async("A ready again", || async {
        get(a.addr, "/health/ready")
            .await
            .is_ok_and(|p| p.status == 200)
    })
    .await;
    let mut relayed = false;
    for amount in 100..120 {
        sales
            .click("sale", json!({"amount": amount.to_string()}))
            .await;
        if b1
            .diff_with(&format!("Sale: ${amount}"), Duration::from_millis(500))
            .await
            .is_some()
        {
            relayed = true;
            break;
        }
    }
    assert!(relayed, "relaying resumed after NATS came back");

    drop((a1, b1, sales, a, b, nats));
    registry.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn an_unreachable_cluster_is_refused_at_start() {
    // A loopback port nothing listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 4,
        ..RuntimeConfig::default()
    })
    .expect("runtime");
    let url = format!("nats://127.0.0.1:{port}");
    let host = Arc::new(Host::new(
        runtime,
        ServerConfig {
            cluster: Some(url.clone()),
            ..ServerConfig::default()
        },
    ));
    match pubsub_relay::start(&host).await {
        Err(error @ ClusterError::Connect { .. }) => {
            assert!(error.to_string().contains(&url), "{error}");
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
    assert!(host.cluster_pubsub().is_none(), "no relay without NATS");
}

#[tokio::test]
async fn without_a_cluster_nothing_is_relayed() {
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 4,
        ..RuntimeConfig::default()
    })
    .expect("runtime");
    let host = Arc::new(Host::new(runtime, ServerConfig::default()));
    assert!(pubsub_relay::start(&host).await.expect("no-op").is_none());
    assert!(host.cluster_pubsub().is_none());
}
