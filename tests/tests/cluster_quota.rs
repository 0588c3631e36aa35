//! Tenant instance quotas counted across the hosts of a cluster (`--cluster`): three hosts on
//! one registry and one NATS server serve the same tenant app, whose tenant may run
//! `max_concurrent_instances` = [`MAX`]. With [`MAX`] views joined on hosts A and B, a join
//! on host C (which runs nothing itself) is refused with the same `capacity` reason as a
//! local refusal, and so is its dead render (503); once a view on A closes, a join on C goes
//! through within a few report periods, and A then sees the cluster full again. Skipped
//! unless `LIVEWASM_TEST_NATS_URL` names a NATS server (`tests/nats.sh` starts one; `cargo
//! xtask test` does it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use livewasm_integration_tests::platform::{
    Api, Database, NATS_ENV, app_origin, nats_url, roomy_quotas,
};
use livewasm_integration_tests::{Page, PhxSocket, TestServer, get_from};
use livewasm_registry::QuotaDefaults;
use livewasm_server::{Host, ServerConfig};

/// The tenant's `max_concurrent_instances`.
const MAX: u64 = 3;

/// Deadline for what should take a few report periods (a failing test's bound, not a figure).
const DEADLINE: Duration = Duration::from_secs(15);

const PATH: &str = "/thermostat";

/// A page rendered on a host, and a socket to join it on.
struct Ready {
    page: Page,
    socket: PhxSocket,
    url: String,
}

/// Renders the page on the host at `addr` and opens a socket for it, without joining.
async fn ready(addr: SocketAddr) -> Ready {
    let host = app_origin(addr, "acme", "thermostat");
    let page: Page = get_from(addr, &host, PATH).await.expect("page");
    assert_eq!(page.status, 200, "{}", page.body);
    let cookie = page.cookie_header();
    let socket = PhxSocket::connect_to(addr, &host, page.csrf.as_deref(), Some(&cookie))
        .await
        .expect("socket");
    Ready {
        page,
        socket,
        url: format!("http://{host}{PATH}"),
    }
}

impl Ready {
    /// Joins the page's view: the reply's status and reason (`("ok", "")` when joined).
    async fn join(&mut self) -> (String, String) {
        let (_, reply) = self
            .socket
            .join_page(&self.page, &self.url)
            .await
            .expect("join reply");
        let status = reply["status"].as_str().unwrap_or_default().to_string();
        let reason = reply["response"]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        (status, reason)
    }
}

/// Renders and joins the view on the host at `addr`; panics unless it joins.
async fn joined(addr: SocketAddr) -> Ready {
    let mut view = ready(addr).await;
    let (status, reason) = view.join().await;
    assert_eq!(status, "ok", "join on {addr}: {reason}");
    view
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

/// Waits until app `acme/thermostat` is served on the host at `addr`.
async fn until_served(addr: SocketAddr) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let status = get_from(addr, &app_origin(addr, "acme", "thermostat"), PATH)
            .await
            .map(|page| page.status)
            .unwrap_or(0);
        if status == 200 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "acme/thermostat not served on {addr} after {DEADLINE:?} (status {status})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// acme's instances on the other hosts, as `host` last heard them.
fn remote(host: &Host) -> u64 {
    host.remote_instances("acme")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_instances_are_counted_across_the_cluster() {
    let Some(nats) = nats_url() else {
        eprintln!("skipped: set {NATS_ENV} (tests/nats.sh starts a NATS server)");
        return;
    };
    let db = Database::sqlite();
    let quotas = QuotaDefaults {
        max_concurrent_instances: MAX,
        ..roomy_quotas()
    };
    let config = || ServerConfig {
        cluster: Some(nats.clone()),
        ..ServerConfig::default()
    };
    let (a, registry) = TestServer::start_platform_configured(&db.location, quotas, config()).await;
    let (b, _) = TestServer::start_platform_configured(&db.location, quotas, config()).await;
    let (c, _) = TestServer::start_platform_configured(&db.location, quotas, config()).await;
    let (host_a, host_b, host_c) = (a.host(), b.host(), c.host());
    // Dead renders (pages) count while they run, and may be reported: before a step that
    // needs room, every host has heard that the others run nothing.
    let quiet = || {
        [&host_a, &host_b, &host_c]
            .iter()
            .all(|host| remote(host) == 0)
    };

    let operator = livewasm_server::platform::bootstrap_operator_token(&registry)
        .await
        .expect("operator token");
    let api = Api::new(a.addr, Some(&operator.token));
    api.create_tenant("acme").await;
    api.create_app("acme", "thermostat", "thermostat").await;
    for server in [&a, &b, &c] {
        until_served(server.addr).await;
    }
    until("the served checks' pages are over everywhere", quiet).await;

    // Pages rendered on C and A while the tenant has room (a dead render holds a slot while
    // it runs), to join once the cluster is full.
    let mut on_c = ready(c.addr).await;
    let mut late_on_a = ready(a.addr).await;
    until("those pages are over everywhere", quiet).await;

    // MAX views spread over A and B; C runs none of them.
    let a1 = joined(a.addr).await;
    let _a2 = joined(a.addr).await;
    let _b1 = joined(b.addr).await;
    until("C hears of the views on A and B", || remote(&host_c) == MAX).await;
    let metrics = Api::new(c.addr, Some(&operator.token))
        .get("/metrics")
        .await
        .text();
    for line in [
        format!("livewasm_cluster_remote_instances{{tenant=\"acme\"}} {MAX}"),
        "livewasm_cluster_peers 2".to_string(),
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} in C's metrics:\n{metrics}"
        );
    }

    // Nothing runs on C, yet its join is refused as a local one at the quota would be.
    assert_eq!(
        on_c.join().await,
        ("error".to_string(), "capacity".to_string()),
        "a join on C with the tenant's {MAX} instances on A and B"
    );
    // Its dead render too: 503, no instance made.
    let host = app_origin(c.addr, "acme", "thermostat");
    let refused = get_from(c.addr, &host, PATH).await.expect("page");
    assert_eq!(refused.status, 503, "{}", refused.body);
    let usage = api.get("/api/v1/tenants/acme").await.json();
    assert_eq!(usage["usage"]["instances"], 2, "A's own count: {usage}");

    // A view on A closes: a join on C goes through once C has heard of it (polled: each
    // refused try is the quota's, never anything else).
    drop(a1);
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        match on_c.join().await {
            (status, _) if status == "ok" => break,
            (_, reason) => assert_eq!(reason, "capacity", "only the quota refuses"),
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "a join on C still refused {DEADLINE:?} after a view on A closed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The cluster is full again (A: 1, B: 1, C: 1): A refuses once it has heard of C's view.
    until("A hears of the view on C", || remote(&host_a) == MAX - 1).await;
    assert_eq!(
        late_on_a.join().await,
        ("error".to_string(), "capacity".to_string()),
        "a join on A with one instance on each host"
    );

    drop((on_c, late_on_a, a, b, c));
    registry.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn without_a_cluster_no_other_host_counts() {
    let runtime = livewasm_runtime::Runtime::new(livewasm_runtime::RuntimeConfig {
        max_instances: 4,
        ..livewasm_runtime::RuntimeConfig::default()
    })
    .expect("runtime");
    let host = std::sync::Arc::new(Host::new(runtime, ServerConfig::default()));
    assert!(
        livewasm_server::pubsub_relay::start(&host)
            .await
            .expect("no-op")
            .is_none()
    );
    assert_eq!(host.remote_instances("acme"), 0);
}
