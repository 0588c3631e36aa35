//! The operator dashboard through the in-process harness and the real component
//! (`cargo xtask build operator-dashboard`). The harness host grants no app the operator
//! overview, as a host serves any app but its own dashboard: so this is the dashboard as a
//! tenant's (or an `--app`) copy of it sees the host — the login is refused with "not
//! permitted" and no token ever reaches the session. (The granted path, with a registry and
//! real tokens, is `tests/browser/ops_dashboard.test.mjs` and the server's
//! `operator_overview` tests.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_test::{HarnessError, TestHost};

fn host() -> TestHost {
    TestHost::new(&["operator-dashboard"]).expect("operator-dashboard component")
}

#[tokio::test]
async fn without_a_token_the_dashboard_sends_to_the_login_page() {
    let host = host();
    let mut conn = host.conn();
    match conn.live("/ops").await {
        Err(HarnessError::Redirect(to)) => assert_eq!(to.to, "/ops/login"),
        other => panic!("expected a redirect, got {:?}", other.map(|(_, html)| html)),
    }
    let (_view, html) = conn.live("/ops/login").await.unwrap();
    assert!(html.contains("id=\"login-form\""), "{html}");
    assert!(html.contains("name=\"token\""), "{html}");
}

#[tokio::test]
async fn an_app_the_host_did_not_grant_is_refused_the_overview() {
    let host = host();
    let mut conn = host.conn();
    conn.get("/ops/login").await.unwrap();
    let response = conn
        .post("/ops/login", &[("token", "lw_any-token-at-all")])
        .await
        .unwrap();
    assert_eq!(response.status, 302, "{}", response.body);
    assert_eq!(response.location.as_deref(), Some("/ops/login"));
    let (_view, html) = conn.live("/ops/login").await.unwrap();
    assert!(html.contains("not permitted"), "{html}");
    // Nothing was kept: the dashboard still sends to the login page.
    assert!(matches!(
        conn.live("/ops").await,
        Err(HarnessError::Redirect(_))
    ));

    // An empty token is refused before the host is asked.
    let response = conn.post("/ops/login", &[("token", "  ")]).await.unwrap();
    assert_eq!(response.location.as_deref(), Some("/ops/login"));
    let (_view, html) = conn.live("/ops/login").await.unwrap();
    assert!(html.contains("Enter an API token."), "{html}");
}
