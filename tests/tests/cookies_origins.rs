//! Tenants are neighbours in the browser: every app has its own origin under one base domain.
//! These tests take an attacker's page on a sibling origin: its WebSocket is refused (foreign
//! origin, sibling app, base domain, plain HTTP against an HTTPS host), a session cookie it
//! planted for the parent domain gives no session, and on an HTTPS host the session cookie is
//! `__Host-` prefixed and `Secure` and every response carries HSTS. A login (a session change
//! by an HTTP handler) renews the CSRF token, so a token learnt before is worth nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use livewasm_integration_tests::platform::{Api, Database, PG_ENV, http_request, roomy_quotas};
use livewasm_integration_tests::{PhxSocket, TestServer, get, get_from};
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

/// The `<meta name="csrf-token">` of a page body.
fn csrf_of(body: &str) -> Option<String> {
    let at = body.find(r#"name="csrf-token" content=""#)?;
    let rest = &body[at + r#"name="csrf-token" content=""#.len()..];
    Some(rest[..rest.find('"')?].to_string())
}

/// A page of `path` on origin `host`, sent `cookie`.
async fn page_with_cookie(
    addr: SocketAddr,
    host: &str,
    path: &str,
    cookie: &str,
) -> livewasm_integration_tests::platform::HttpResponse {
    let page = http_request(addr, "GET", host, path, &[("cookie", cookie)], None)
        .await
        .unwrap();
    assert_eq!(page.status, 200, "{cookie}");
    page
}

/// A session cookie sent more than once (junk planted for the parent domain beside the app's
/// own, before or after it, or a cookie bomb of that name): the value that verifies is the
/// session, so the visitor keeps it (same CSRF token, no new cookie, the socket joins); values
/// that do not verify are never a session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_duplicated_session_cookies_the_one_that_verifies_counts() {
    let (server, _host) =
        TestServer::start_configured(&["thermostat"], ServerConfig::default()).await;
    let addr = server.addr;
    let first = get(addr, "/thermostat").await.unwrap();
    let mine = first.cookie_header();
    assert!(mine.starts_with("_livewasm_session="), "{mine}");
    let csrf = first.csrf.clone().unwrap();
    let me = addr.to_string();
    let bomb: String = (0..40)
        .map(|i| format!("_livewasm_session=bomb{i}{}; ", "x".repeat(1000)))
        .collect();
    for cookie in [
        mine.clone(),
        format!("{mine}; _livewasm_session=planted-by-a-sibling-app"),
        format!("_livewasm_session=planted-by-a-sibling-app; {mine}"),
        format!("{bomb}{mine}"),
    ] {
        let page = page_with_cookie(addr, &me, "/thermostat", &cookie).await;
        assert!(
            set_cookies(&page.headers).is_empty(),
            "the session is kept: {:?}",
            page.headers
        );
        assert_eq!(csrf_of(&page.text()).as_deref(), Some(csrf.as_str()));
        // The socket reads the same header the same way: the view joins (not `stale`).
        let mut socket = PhxSocket::connect(addr, Some(&csrf), Some(&cookie))
            .await
            .unwrap();
        let (_, reply) = socket
            .join_page(&first, &server.url("/thermostat"))
            .await
            .unwrap();
        assert_eq!(reply["status"], "ok", "{reply}");
    }
    // Only values that do not verify (a tampered copy of the own one among them): no
    // session, a fresh one with a new CSRF token, and a socket with the old token is `stale`.
    let tampered = format!("{mine}x");
    for cookie in [
        "_livewasm_session=planted-by-a-sibling-app".to_string(),
        format!("{tampered}; _livewasm_session=planted"),
        bomb.trim_end_matches("; ").to_string(),
    ] {
        let page = page_with_cookie(addr, &me, "/thermostat", &cookie).await;
        assert!(
            set_cookies(&page.headers)
                .iter()
                .any(|c| c.starts_with("_livewasm_session=")),
            "{:?}",
            page.headers
        );
        assert_ne!(csrf_of(&page.text()).as_deref(), Some(csrf.as_str()));
        let mut socket = PhxSocket::connect(addr, Some(&csrf), Some(&cookie))
            .await
            .unwrap();
        let (_, reply) = socket
            .join_page(&first, &server.url("/thermostat"))
            .await
            .unwrap();
        assert_eq!(reply["response"]["reason"], "stale", "{reply}");
    }
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
    // globex's cookie planted beside acme's own (before or after it): acme keeps its session.
    let acme_page = get_from(server.addr, &acme, "/thermostat").await.unwrap();
    let own = acme_page.cookie_header();
    for both in [format!("{cookie}; {own}"), format!("{own}; {cookie}")] {
        let page = page_with_cookie(server.addr, &acme, "/thermostat", &both).await;
        assert!(set_cookies(&page.headers).is_empty(), "{:?}", page.headers);
        assert_eq!(csrf_of(&page.text()), acme_page.csrf);
    }
    drop(server);
    registry.close().await;
}

livewasm_integration_tests::on_every_backend!(sibling_apps_are_foreign_origins);

/// The directives of a `Content-Security-Policy` value: name → its sources.
fn csp_directives(policy: &str) -> std::collections::HashMap<String, Vec<String>> {
    policy
        .split(';')
        .filter_map(|directive| {
            let mut words = directive.split_whitespace();
            let name = words.next()?.to_ascii_lowercase();
            Some((name, words.map(str::to_string).collect()))
        })
        .collect()
}

/// Every page carries a CSP that lets in nothing but its own origin's scripts (the client
/// bundle and the app's hook script, no inline script, no eval), its own socket, and images
/// from itself, `data:` and `blob:` (upload previews); no plugins, no `<base>` elsewhere, forms
/// posting only to itself, framing only by itself. The pages have no inline script to need more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_a_strict_content_security_policy() {
    let (server, _host) =
        TestServer::start_configured(&["thermostat", "sortable"], ServerConfig::default()).await;
    let me = server.addr.to_string();
    for path in ["/thermostat", "/sortable", "/nothing-here"] {
        let page = http_request(server.addr, "GET", &me, path, &[], None)
            .await
            .unwrap();
        let policy = header(&page.headers, "content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"));
        let csp = csp_directives(policy);
        let sources = |name: &str| {
            csp.get(name)
                .unwrap_or_else(|| panic!("{path}: no {name} in {policy}"))
                .clone()
        };
        assert_eq!(sources("script-src"), ["'self'"], "{policy}");
        assert_eq!(sources("default-src"), ["'self'"], "{policy}");
        assert_eq!(sources("object-src"), ["'none'"], "{policy}");
        assert_eq!(sources("base-uri"), ["'self'"], "{policy}");
        assert_eq!(sources("form-action"), ["'self'"], "{policy}");
        assert_eq!(sources("frame-ancestors"), ["'self'"], "{policy}");
        assert_eq!(sources("connect-src"), ["'self'"], "{policy}");
        let images = sources("img-src");
        for needed in ["'self'", "data:", "blob:"] {
            assert!(images.iter().any(|s| s == needed), "{needed}: {policy}");
        }
        assert!(
            !policy.contains("unsafe-eval") && !policy.contains('*'),
            "{policy}"
        );
        assert!(!sources("style-src").iter().any(|s| s == "*"), "{policy}");
        // Nothing on the page would need more: every script has a same-origin `src`.
        let body = page.text();
        let mut rest = body.as_str();
        while let Some(at) = rest.find("<script") {
            let tag = &rest[at..at + rest[at..].find('>').unwrap()];
            assert!(
                tag.contains(" src=\"/assets/"),
                "{path}: inline script {tag}"
            );
            rest = &rest[at + tag.len()..];
        }
        for handler in [" onclick=", " onload=", " onerror=", "javascript:"] {
            assert!(!body.contains(handler), "{path}: {handler}");
        }
    }
}

/// The content security policy the rows fixture declares in its manifest.
const ROWS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// An app that declares its own content security policy (`content_security_policy` in `app!`)
/// gets it on its pages in place of the default; an app beside it keeps the default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_may_declare_its_own_content_security_policy() {
    let (server, _host) =
        TestServer::start_configured(&["thermostat", "rows"], ServerConfig::default()).await;
    let me = server.addr.to_string();
    let csp_of = |page: &livewasm_integration_tests::platform::HttpResponse| {
        let all: Vec<&str> = page
            .headers
            .iter()
            .filter(|(k, _)| k == "content-security-policy")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(all.len(), 1, "one policy: {all:?}");
        all[0].to_string()
    };
    let rows = http_request(server.addr, "GET", &me, "/rows", &[], None)
        .await
        .unwrap();
    assert_eq!(rows.status, 200);
    assert_eq!(csp_of(&rows), ROWS_CSP);
    // The other headers are the defaults still.
    assert_eq!(header(&rows.headers, "x-frame-options"), Some("SAMEORIGIN"));
    let thermostat = http_request(server.addr, "GET", &me, "/thermostat", &[], None)
        .await
        .unwrap();
    assert_ne!(csp_of(&thermostat), ROWS_CSP);
    assert_eq!(
        csp_directives(&csp_of(&thermostat))["frame-ancestors"],
        ["'self'"]
    );
}
