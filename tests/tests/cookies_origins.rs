//! Tenants are neighbours in the browser: every app has its own origin under one base domain.
//! These tests take an attacker's page on a sibling origin: its WebSocket is refused (foreign
//! origin, sibling app, base domain, plain HTTP against an HTTPS host), a session cookie it
//! planted for the parent domain gives no session, and on an HTTPS host the session cookie is
//! `__Host-` prefixed and `Secure` and every response carries HSTS. A login (a session change
//! by an HTTP handler) renews the CSRF token, so a token learnt before is worth nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use livewasm_integration_tests::platform::{Api, Database, PG_ENV, http_request, roomy_quotas};
use livewasm_integration_tests::{TestServer, get, get_from};
use livewasm_server::ServerConfig;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// The status of a WebSocket upgrade to `addr` as origin `host` with `Origin: origin` (none
/// when `None`): 101 when accepted.
async fn upgrade(addr: SocketAddr, host: &str, origin: Option<&str>) -> u16 {
    let url = format!("ws://{addr}/live/websocket?vsn=2.0.0");
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("host", HeaderValue::from_str(host).unwrap());
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("upgrade: {e}"),
    }
}

/// The `Set-Cookie` values of a page response.
fn set_cookies(headers: &[(String, String)]) -> Vec<&str> {
    headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.as_str())
        .collect()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_from_other_origins_are_refused() {
    let (server, _host) =
        TestServer::start_configured(&["thermostat"], ServerConfig::default()).await;
    let addr = server.addr;
    let me = addr.to_string();
    assert_eq!(upgrade(addr, &me, Some(&format!("http://{me}"))).await, 101);
    // No Origin: not a browser (a browser always sends one); allowed, as Phoenix does.
    assert_eq!(upgrade(addr, &me, None).await, 101);
    for foreign in [
        "http://evil.example".to_string(),
        format!("http://{me}.evil.example"),
        format!("https://{me}"),
        format!("http://127.0.0.1:{}", addr.port() + 1),
        "null".to_string(),
    ] {
        assert_eq!(upgrade(addr, &me, Some(&foreign)).await, 403, "{foreign}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_host_wants_https_origins_secure_cookies_and_hsts() {
    let config = ServerConfig {
        public_scheme: "https".into(),
        ..ServerConfig::default()
    };
    let (server, _host) = TestServer::start_configured(&["thermostat"], config).await;
    let addr = server.addr;
    let me = addr.to_string();
    assert_eq!(
        upgrade(addr, &me, Some(&format!("https://{me}"))).await,
        101
    );
    assert_eq!(upgrade(addr, &me, Some(&format!("http://{me}"))).await, 403);

    let page = http_request(addr, "GET", &me, "/thermostat", &[], None)
        .await
        .unwrap();
    assert_eq!(page.status, 200);
    let cookies = set_cookies(&page.headers);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Host-livewasm_session="))
        .unwrap_or_else(|| panic!("{cookies:?}"));
    assert!(
        session.contains("; Secure") && session.contains("Path=/"),
        "{session}"
    );
    assert!(!session.contains("Domain"), "{session}");
    assert_eq!(
        header(&page.headers, "strict-transport-security"),
        Some("max-age=63072000; includeSubDomains")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_host_sends_no_hsts_and_plain_cookies() {
    let (server, _host) =
        TestServer::start_configured(&["thermostat"], ServerConfig::default()).await;
    let me = server.addr.to_string();
    let page = http_request(server.addr, "GET", &me, "/thermostat", &[], None)
        .await
        .unwrap();
    assert!(header(&page.headers, "strict-transport-security").is_none());
    let cookies = set_cookies(&page.headers);
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("_livewasm_session=") && !c.contains("Secure")),
        "{cookies:?}"
    );
}

/// A second session cookie (one planted for the parent domain beside the app's own) gives no
/// session: the page starts a fresh one instead of trusting whichever comes first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicated_session_cookie_gives_no_session() {
    let (server, _host) =
        TestServer::start_configured(&["thermostat"], ServerConfig::default()).await;
    let first = get(server.addr, "/thermostat").await.unwrap();
    let mine = first.cookie_header();
    assert!(mine.starts_with("_livewasm_session="), "{mine}");
    let me = server.addr.to_string();
    // The app's own cookie alone: the session is kept (no new cookie).
    let again = http_request(
        server.addr,
        "GET",
        &me,
        "/thermostat",
        &[("cookie", &mine)],
        None,
    )
    .await
    .unwrap();
    assert!(
        set_cookies(&again.headers).is_empty(),
        "{:?}",
        again.headers
    );
    // The same name twice: no session, a fresh cookie.
    let planted = format!("{mine}; _livewasm_session=planted-by-a-sibling-app");
    let twice = http_request(
        server.addr,
        "GET",
        &me,
        "/thermostat",
        &[("cookie", &planted)],
        None,
    )
    .await
    .unwrap();
    assert!(
        set_cookies(&twice.headers)
            .iter()
            .any(|c| c.starts_with("_livewasm_session=")),
        "{:?}",
        twice.headers
    );
}

/// On a platform host, a page of one tenant's app cannot open a socket to another's (nor can
/// the base domain), and a session cookie of one app never verifies on another.
async fn sibling_apps_are_foreign_origins(db: &Database) {
    let (server, registry) = TestServer::start_platform(&db.location, roomy_quotas()).await;
    let operator = livewasm_server::platform::bootstrap_operator_token(&registry)
        .await
        .expect("operator token");
    let api = Api::new(server.addr, Some(&operator.token));
    for tenant in ["acme", "globex"] {
        api.create_tenant(tenant).await;
        api.create_app(tenant, "thermostat", "thermostat").await;
    }
    let port = server.addr.port();
    let acme = format!("thermostat.acme.localhost:{port}");
    let globex = format!("thermostat.globex.localhost:{port}");
    assert_eq!(
        upgrade(server.addr, &acme, Some(&format!("http://{acme}"))).await,
        101
    );
    for foreign in [
        format!("http://{globex}"),
        format!("http://localhost:{port}"),
        format!("http://acme.localhost:{port}"),
    ] {
        assert_eq!(
            upgrade(server.addr, &acme, Some(&foreign)).await,
            403,
            "{foreign}"
        );
    }
    // globex's session cookie, sent to acme's app: not a session there.
    let globex_page = get_from(server.addr, &globex, "/thermostat").await.unwrap();
    let cookie = globex_page.cookie_header();
    let on_acme = http_request(
        server.addr,
        "GET",
        &acme,
        "/thermostat",
        &[("cookie", &cookie)],
        None,
    )
    .await
    .unwrap();
    assert!(
        set_cookies(&on_acme.headers)
            .iter()
            .any(|c| c.starts_with("_livewasm_session=")),
        "acme starts its own session: {:?}",
        on_acme.headers
    );
    drop(server);
    registry.close().await;
}

livewasm_integration_tests::on_every_backend!(sibling_apps_are_foreign_origins);
