//! A page's plug halting with a response that is not a redirect, over real HTTP: the auth
//! example's `admins_only` plug answers a signed-in non-admin's `GET /auth/admin/audit` with
//! its own 403 page (status, headers, body), as Phoenix returns a halted conn.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_integration_tests::platform::http_request;
use livewasm_integration_tests::{TestServer, get};

/// The value of header `name` (lowercase) in `headers`.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[tokio::test]
async fn a_page_plug_halting_with_a_403_serves_its_own_response() {
    let mut server = TestServer::start(&["auth"]).await;
    let host = server.addr.to_string();
    // Log in as bob (no admin) over HTTP: the login page's CSRF token and session cookie.
    let login = get(server.addr, "/auth/login").await.unwrap();
    let csrf = login.csrf.clone().expect("csrf meta");
    let body = format!("_csrf_token={csrf}&user%5Bname%5D=bob&user%5Bpassword%5D=secret");
    let cookie = login.cookie_header();
    let posted = http_request(
        server.addr,
        "POST",
        &host,
        "/auth/log_in",
        &[
            ("Cookie", cookie.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(body.as_bytes()),
    )
    .await
    .unwrap();
    assert_eq!(posted.status, 302);
    let session: Vec<String> = header(&posted.headers, "set-cookie")
        .into_iter()
        .filter_map(|c| c.split(';').next())
        .filter(|c| !c.starts_with("__phoenix_flash__"))
        .map(str::to_string)
        .collect();
    assert!(
        !session.is_empty(),
        "the session cookie: {:?}",
        posted.headers
    );
    let cookie = session.join("; ");

    let page = http_request(
        server.addr,
        "GET",
        &host,
        "/auth/admin/audit",
        &[("Cookie", cookie.as_str())],
        None,
    )
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&page.body);
    assert_eq!(page.status, 403, "{text}");
    assert_eq!(header(&page.headers, "cache-control"), ["no-store"]);
    assert!(
        header(&page.headers, "content-type")
            .iter()
            .any(|t| t.starts_with("text/html")),
        "{:?}",
        page.headers
    );
    assert!(
        text.contains("<h1 id=\"forbidden\">403 Forbidden</h1>"),
        "{text}"
    );
    // No view was rendered: no LiveView container, no tokens to join with.
    assert!(!text.contains("data-phx-main"), "{text}");
    assert!(!text.contains("Only admins see this"), "{text}");
    server.stop().await;
}
