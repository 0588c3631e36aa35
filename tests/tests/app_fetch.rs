//! Apps' outgoing HTTP through the real path: the dashboard's status task (a fresh instance of
//! the component) fetches from a loopback HTTP fixture on the host's allowlist and its answer
//! reaches the page as a diff; a URL off the allowlist, a private address and a hostile view
//! flooding requests get errors naming the refusal, and the host serves on.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::get as route_get;
use livewasm_integration_tests::platform::{Api, Database, PG_ENV, roomy_quotas};
use livewasm_integration_tests::{PhxSocket, TestServer, get_from};
use livewasm_server::ServerConfig;
use serde_json::json;

/// A status API on loopback.
async fn status_api() -> SocketAddr {
    let app = Router::new().route(
        "/status",
        route_get(|| async { r#"{"status": "ok", "message": "from the fixture"}"# }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Joins `path` and waits until a diff pushed to the view contains `needle` (one dynamic:
/// statics come once, with the first render).
async fn shows(server: &TestServer, path: &str, needle: &str) {
    shows_on(server, &server.addr.to_string(), path, needle).await;
}

/// [`shows`] on the origin `host`.
async fn shows_on(server: &TestServer, host: &str, path: &str, needle: &str) {
    let page = get_from(server.addr, host, path).await.unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    let topic = page.topic();
    let cookie = page.cookie_header();
    let mut socket = PhxSocket::connect_to(server.addr, host, page.csrf.as_deref(), Some(&cookie))
        .await
        .unwrap();
    let (_, reply) = socket
        .join_page(&page, &format!("http://{host}{path}"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    if reply.to_string().contains(needle) {
        return;
    }
    let found = socket
        .wait_for(Duration::from_secs(10), needle, |frame| {
            frame.get(2).and_then(|t| t.as_str()) == Some(topic.as_str())
                && frame.to_string().contains(needle)
        })
        .await;
    assert!(found.is_ok(), "{path}: no diff with {needle:?}: {found:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_fetches_from_an_allowed_host_and_nothing_else() {
    let api = status_api().await;
    let config = ServerConfig {
        http_allow: vec![format!("127.0.0.1:{}", api.port())],
        http_allow_loopback: true,
        ..ServerConfig::default()
    };
    let (server, _host) = TestServer::start_configured(&["dashboard"], config).await;
    let allowed = format!("http://127.0.0.1:{}/status", api.port());
    shows(
        &server,
        &format!("/dashboard?status_url={allowed}"),
        "from the fixture",
    )
    .await;
    // Another port of the same address is not on the list.
    shows(
        &server,
        "/dashboard?status_url=http://127.0.0.1:9/status",
        "127.0.0.1:9 is not on this app",
    )
    .await;
    // The default source is not on the list either.
    shows(
        &server,
        "/dashboard",
        "status.example.com is not on this app",
    )
    .await;
    assert!(server.is_running());
}

/// A view that floods requests is held to its app's rate; another app's requests still go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_app_is_held_to_its_rate() {
    let api = status_api().await;
    let entry = format!("127.0.0.1:{}", api.port());
    let config = ServerConfig {
        http_allow: vec![entry.clone()],
        http_allow_loopback: true,
        http_requests_per_sec: 10,
        ..ServerConfig::default()
    };
    let (server, _host) = TestServer::start_configured(&["hostile", "dashboard"], config).await;
    let host = server.addr.to_string();
    let page = get_from(server.addr, &host, "/hostile/fetch")
        .await
        .unwrap();
    let topic = page.topic();
    let mut socket = PhxSocket::connect_page(server.addr, &page).await.unwrap();
    let (join_ref, reply) = socket
        .join_page(&page, &server.url("/hostile/fetch"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    let reply = socket
        .event(
            &join_ref,
            &topic,
            "click",
            "run",
            json!({"url": format!("http://{entry}/status"), "repeat": 100}),
        )
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    let diff = &reply["response"]["diff"];
    let answered: u64 = diff["0"].as_str().unwrap().parse().unwrap();
    // A burst of twice the rate, and what refilled meanwhile.
    assert!((20..40).contains(&answered), "{answered}");
    let error = diff["1"].as_str().unwrap();
    assert!(
        error.contains("fetch rate exceeded: at most 10 requests per second per app"),
        "{error}"
    );
    // The dashboard app has its own allowance.
    shows(
        &server,
        &format!("/dashboard?status_url=http://{entry}/status"),
        "from the fixture",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_loopback_switch_loopback_is_unreachable() {
    let api = status_api().await;
    let config = ServerConfig {
        http_allow: vec![
            format!("127.0.0.1:{}", api.port()),
            format!("localhost:{}", api.port()),
        ],
        ..ServerConfig::default()
    };
    let (server, _host) = TestServer::start_configured(&["dashboard"], config).await;
    shows(
        &server,
        &format!(
            "/dashboard?status_url=http://127.0.0.1:{}/status",
            api.port()
        ),
        "plain http is not allowed",
    )
    .await;
    shows(
        &server,
        &format!(
            "/dashboard?status_url=https://localhost:{}/status",
            api.port()
        ),
        "resolves to no public address",
    )
    .await;
}

/// On a platform host each tenant's apps reach what the operator put on that tenant's
/// allowlist, and a change reaches running hosts at once.
async fn a_tenant_reaches_only_its_allowlist(db: &Database) {
    let api = status_api().await;
    let defaults = roomy_quotas();
    let config = ServerConfig {
        http_allow_loopback: true,
        ..ServerConfig::default()
    };
    let (server, registry) =
        TestServer::start_platform_configured(&db.location, defaults, config).await;
    let operator = livewasm_server::platform::bootstrap_operator_token(&registry)
        .await
        .expect("operator token");
    let operator = Api::new(server.addr, Some(&operator.token));
    for tenant in ["acme", "globex"] {
        operator.create_tenant(tenant).await;
        operator.create_app(tenant, "dashboard", "dashboard").await;
    }
    let port = server.addr.port();
    let acme = format!("dashboard.acme.localhost:{port}");
    let globex = format!("dashboard.globex.localhost:{port}");
    let entry = format!("127.0.0.1:{}", api.port());
    let path = format!("/dashboard?status_url=http://{entry}/status");

    // Nothing is allowed until the operator says so.
    shows_on(&server, &acme, &path, "is not on this app").await;
    let set = operator
        .put_json(
            "/api/v1/tenants/acme/http-allowlist",
            &json!({"hosts": [entry]}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.text());
    shows_on(&server, &acme, &path, "from the fixture").await;
    // The same component of another tenant: still refused.
    shows_on(&server, &globex, &path, "is not on this app").await;
    // Taken away: refused again, without a redeploy.
    let cleared = operator
        .put_json("/api/v1/tenants/acme/http-allowlist", &json!({"hosts": []}))
        .await;
    assert_eq!(cleared.status, 200, "{}", cleared.text());
    shows_on(&server, &acme, &path, "is not on this app").await;

    // A restarted host reads the list from the registry.
    let set = operator
        .put_json(
            "/api/v1/tenants/acme/http-allowlist",
            &json!({"hosts": [entry]}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.text());
    drop(server);
    registry.close().await;
    let (server, registry) = TestServer::start_platform_configured(
        &db.location,
        defaults,
        ServerConfig {
            http_allow_loopback: true,
            ..ServerConfig::default()
        },
    )
    .await;
    let acme = format!("dashboard.acme.localhost:{}", server.addr.port());
    shows_on(&server, &acme, &path, "from the fixture").await;
    registry.close().await;
}

livewasm_integration_tests::on_every_backend!(a_tenant_reaches_only_its_allowlist);
