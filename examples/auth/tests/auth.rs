//! The seed's LiveAuth through the in-process harness and the real component
//! (`cargo xtask build auth`): the router's `require_user` pipeline on page requests and an
//! HTTP route, `on_mount` hooks continuing or halting with a redirect and a flash (live mounts
//! and live navigation), the cookie session set and cleared by plain HTTP handlers, CSRF checks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_test::{Conn, HarnessError, RedirectKind, TestHost};

fn host() -> TestHost {
    TestHost::new(&["auth"]).expect("auth component")
}

async fn redirected(conn: &mut Conn<'_>, path: &str) -> livewasm_test::Redirect {
    match conn.live(path).await {
        Err(HarnessError::Redirect(to)) => to,
        other => panic!("expected a redirect, got {:?}", other.map(|(_, html)| html)),
    }
}

async fn log_in(conn: &mut Conn<'_>, name: &str, password: &str) -> livewasm_test::Response {
    conn.get("/auth/login").await.unwrap();
    conn.post(
        "/auth/log_in",
        &[("user[name]", name), ("user[password]", password)],
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn default_hook_assigns_no_user_for_a_guest() {
    let host = host();
    let (view, html) = host.live("/auth").await.unwrap();
    assert!(html.contains("Hello, guest!"), "{html}");
    // The public live session's layout: navigation around the page.
    assert!(
        html.starts_with("<div id=\"layout\" class=\"layout-app\">"),
        "{html}"
    );
    assert!(html.contains("id=\"login-link\""));
    assert!(!html.contains("admin-banner"));
    assert_eq!(view.page_title().as_deref(), Some("Home"));
}

/// Where the `require_user` plug sends a visitor of `/auth/profile`.
const LOGIN_FOR_PROFILE: &str = "/auth/login?return_to=%2Fauth%2Fprofile";

#[tokio::test]
async fn the_require_user_plug_halts_the_page_request_with_a_redirect_and_a_flash() {
    let host = host();
    let mut conn = host.conn();
    // The HTTP request of the page: the route's pipeline runs before any `on_mount` hook.
    let to = redirected(&mut conn, "/auth/profile").await;
    assert_eq!(to.kind, RedirectKind::Full);
    assert_eq!(to.to, LOGIN_FOR_PROFILE);
    assert_eq!(
        to.flash_message("error").as_deref(),
        Some("You must log in to access this page.")
    );
    let (_view, html) = conn.follow_redirect(&to).await.unwrap();
    assert!(
        html.contains("You must log in to access this page."),
        "{html}"
    );
    assert!(html.contains("id=\"login-form\""));
    // The login form carries the page to come back to.
    assert!(
        html.contains("name=\"return_to\" value=\"/auth/profile\""),
        "{html}"
    );
    // Logging in from there goes back to the profile.
    let response = conn
        .post(
            "/auth/log_in",
            &[
                ("user[name]", "bob"),
                ("user[password]", "secret"),
                ("return_to", "/auth/profile"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(response.location.as_deref(), Some("/auth/profile"));
}

#[tokio::test]
async fn the_plug_guards_an_http_route_and_return_to_stays_on_the_site() {
    let host = host();
    let mut conn = host.conn();
    let response = conn.get("/auth/export").await.unwrap();
    assert_eq!(response.status, 302, "{}", response.body);
    assert_eq!(
        response.location.as_deref(),
        Some("/auth/login?return_to=%2Fauth%2Fexport")
    );
    let response = log_in(&mut conn, "bob", "secret").await;
    assert_eq!(response.status, 302);
    let response = conn.get("/auth/export").await.unwrap();
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body, "name,admin\nbob,false\n");
    // A return_to leaving the app is ignored.
    for away in ["//evil.example/x", "https://evil.example/", "/elsewhere"] {
        // A fresh CSRF token: each login renews it.
        conn.get("/auth/login").await.unwrap();
        let response = conn
            .post(
                "/auth/log_in",
                &[
                    ("user[name]", "bob"),
                    ("user[password]", "secret"),
                    ("return_to", away),
                ],
            )
            .await
            .unwrap();
        assert_eq!(
            response.location.as_deref(),
            Some("/auth/profile"),
            "{away}"
        );
    }
}

#[tokio::test]
async fn log_in_sets_the_session_and_log_out_clears_it() {
    let host = host();
    let mut conn = host.conn();
    let response = log_in(&mut conn, "bob", "secret").await;
    assert_eq!(response.status, 302, "{}", response.body);
    assert_eq!(response.location.as_deref(), Some("/auth/profile"));
    assert!(conn.cookie("__phoenix_flash__").is_some());

    let (mut view, html) = conn.live("/auth/profile").await.unwrap();
    assert!(html.contains("Signed in as bob"), "{html}");
    assert!(
        html.contains("Welcome back, bob!"),
        "the flash of the redirect: {html}"
    );
    // The flash cookie is read once.
    assert_eq!(conn.cookie("__phoenix_flash__"), None);

    // A patch inside the live session switches the live action.
    let html = view.render_patch("/auth/settings").unwrap();
    assert!(html.contains("<h1>Settings</h1>"), "{html}");
    assert_eq!(view.page_title().as_deref(), Some("Settings"));

    let response = conn
        .post("/auth/log_out", &[("_method", "delete")])
        .await
        .unwrap();
    assert_eq!(response.status, 302, "{}", response.body);
    assert_eq!(response.location.as_deref(), Some("/auth"));
    let to = redirected(&mut conn, "/auth/profile").await;
    assert_eq!(to.to, LOGIN_FOR_PROFILE);
    let (_view, html) = conn.live("/auth").await.unwrap();
    assert!(html.contains("Logged out successfully."), "{html}");
    assert!(html.contains("Hello, guest!"));
}

#[tokio::test]
async fn a_wrong_password_goes_back_to_the_login_page_with_an_error() {
    let host = host();
    let mut conn = host.conn();
    let response = log_in(&mut conn, "alice", "nope").await;
    assert_eq!(response.location.as_deref(), Some("/auth/login"));
    let (_view, html) = conn.live("/auth/login").await.unwrap();
    assert!(html.contains("Invalid name or password"), "{html}");
    assert!(!html.contains("Signed in as"));
}

#[tokio::test]
async fn require_admin() {
    let host = host();
    let mut bob = host.conn();
    log_in(&mut bob, "bob", "secret").await;
    let to = redirected(&mut bob, "/auth/admin").await;
    assert_eq!(to.to, "/auth");
    assert_eq!(to.flash_message("error").as_deref(), Some("Admins only."));

    let mut alice = host.conn();
    log_in(&mut alice, "alice", "secret").await;
    let (_view, html) = alice.live("/auth/admin").await.unwrap();
    assert!(html.contains("Only admins see this, alice."), "{html}");
    // The admin live session's layout wraps the app layout.
    assert!(html.starts_with("<div id=\"admin-layout\""), "{html}");
    assert!(html.contains("<p id=\"admin-banner\">Admin area</p>"));
    assert!(
        html.contains("Signed in as alice"),
        "the nav of the app layout: {html}"
    );
}

#[tokio::test]
async fn posts_need_the_sessions_csrf_token() {
    let host = host();
    let page = host.get("/auth/login").await.unwrap();
    let response = host
        .post_form(
            "/auth/log_in",
            &[("user[name]", "alice"), ("user[password]", "secret")],
            &page.cookies,
        )
        .await
        .unwrap();
    assert_eq!(response.status, 403);
    assert!(response.cookies.is_empty(), "no session for a forged post");
}

#[tokio::test]
async fn a_tampered_session_cookie_is_ignored() {
    let host = host();
    let mut conn = host.conn();
    log_in(&mut conn, "alice", "secret").await;
    let cookie = conn.cookie("_livewasm_session").unwrap().to_string();
    let (payload, signature) = cookie.split_once('.').unwrap();
    // Flip the payload: the signature no longer matches.
    let forged = format!("{}x.{signature}", payload);
    conn.put_cookie("_livewasm_session", &forged);
    let to = redirected(&mut conn, "/auth/profile").await;
    assert_eq!(to.to, LOGIN_FOR_PROFILE);
}

#[tokio::test]
async fn unknown_http_routes_are_404() {
    let host = host();
    let response = host.post_form("/auth/nope", &[], &[]).await.unwrap();
    assert_eq!(response.status, 404);
}

#[tokio::test]
async fn a_login_in_another_tab_makes_an_open_page_stale_and_its_reload_redirects() {
    let host = host();
    let mut conn = host.conn();
    log_in(&mut conn, "alice", "secret").await;
    let page = conn.get("/auth/admin").await.unwrap();
    assert_eq!(page.status, 200);
    // The session is still alice's when the socket joins: the admin page mounts.
    let (_view, html) = conn.join("/auth/admin", &page).unwrap();
    assert!(html.contains("Only admins see this, alice."), "{html}");

    // Before the socket of a second page joins, the session switches to bob (no admin) in
    // another tab. The login renewed the CSRF token, so the old page's join is `stale` (the
    // client reloads it, as Phoenix's does), and the reloaded page redirects.
    let page = conn.get("/auth/admin").await.unwrap();
    log_in(&mut conn, "bob", "secret").await;
    match conn.join("/auth/admin", &page) {
        Err(HarnessError::JoinRefused(reason)) => assert_eq!(reason["reason"], "stale"),
        other => panic!(
            "expected a stale join, got {:?}",
            other.map(|(_, html)| html)
        ),
    }
    let to = redirected(&mut conn, "/auth/admin").await;
    assert_eq!(to.to, "/auth");
    assert_eq!(to.flash_message("error").as_deref(), Some("Admins only."));
}

/// Logging in renews the CSRF token (as Phoenix's `configure_session(renew: true)`): a token
/// learnt before the login, e.g. from a page an attacker loaded as the victim's anonymous
/// session, no longer posts.
#[tokio::test]
async fn logging_in_renews_the_csrf_token() {
    let host = host();
    let mut conn = host.conn();
    let before = conn.get("/auth/login").await.unwrap();
    let old_token = csrf_of(&before.body);
    log_in(&mut conn, "alice", "secret").await;
    let after = conn.get("/auth").await.unwrap();
    let new_token = csrf_of(&after.body);
    assert_ne!(old_token, new_token, "renewed at login");
    // The old token, with the logged-in session: refused.
    let stale = host
        .post_form(
            "/auth/log_out",
            &[("_method", "delete"), ("_csrf_token", old_token.as_str())],
            conn.cookies(),
        )
        .await
        .unwrap();
    assert_eq!(stale.status, 403);
    // The new one works.
    let fresh = host
        .post_form(
            "/auth/log_out",
            &[("_method", "delete"), ("_csrf_token", new_token.as_str())],
            conn.cookies(),
        )
        .await
        .unwrap();
    assert_ne!(fresh.status, 403, "{}", fresh.body);
}

/// The `<meta name="csrf-token">` of a page.
fn csrf_of(html: &str) -> String {
    let start = html
        .find("name=\"csrf-token\" content=\"")
        .expect("csrf meta")
        + "name=\"csrf-token\" content=\"".len();
    let end = html[start..].find('"').expect("end of meta") + start;
    html[start..end].to_string()
}

#[tokio::test]
async fn a_plug_halting_with_a_403_page_answers_the_page_request_with_it() {
    let host = host();
    // A guest meets `require_user` first: the redirect to the login page.
    let mut guest = host.conn();
    let page = guest.get("/auth/admin/audit").await.unwrap();
    assert_eq!(page.status, 302, "{}", page.body);
    // Bob is signed in but no admin: `admins_only` halts with its own 403 page, served as it
    // is (Phoenix returns the halted conn); no view is rendered, so the page has no container.
    let mut bob = host.conn();
    log_in(&mut bob, "bob", "secret").await;
    let page = bob.get("/auth/admin/audit").await.unwrap();
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(
        page.body
            .contains("<h1 id=\"forbidden\">403 Forbidden</h1>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("data-phx-main"), "{}", page.body);
    assert!(!page.body.contains("Only admins see this"), "{}", page.body);
    match bob.live("/auth/admin/audit").await {
        Err(HarnessError::Http { status, body, .. }) => {
            assert_eq!(status, 403);
            assert!(
                body.contains("Only admins may read the audit log."),
                "{body}"
            );
        }
        other => panic!(
            "expected the 403 page, got {:?}",
            other.map(|(_, html)| html)
        ),
    }
    // Alice is an admin: the plugs let her through to the live page.
    let mut alice = host.conn();
    log_in(&mut alice, "alice", "secret").await;
    let (_view, html) = alice.live("/auth/admin/audit").await.unwrap();
    assert!(html.contains("Only admins see this, alice."), "{html}");
}
