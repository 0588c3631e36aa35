//! The seed's DashboardLive through the in-process harness and the real dashboard component
//! (`cargo xtask build dashboard`): async assigns, start/handle/cancel_async, and PubSub.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_test::TestHost;
use serde_json::json;

fn host() -> TestHost {
    TestHost::new(&["dashboard"]).expect("dashboard component")
}

#[tokio::test]
async fn async_data_loading() {
    let host = host();
    // The dead render shows the loading states; nothing runs before the socket connects.
    let page = host.get("/dashboard").await.unwrap();
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Loading organization..."),
        "{}",
        page.body
    );
    assert!(page.body.contains("<main"), "{}", page.body);
    assert!(page.body.contains("dashboard-container"), "{}", page.body);

    // The seed's test: initially shows loading, then render_async has the data.
    let (mut view, html) = host.live("/dashboard").await.unwrap();
    assert!(html.contains("Loading organization..."), "{html}");
    assert!(html.contains("Loading profile..."), "{html}");
    assert!(html.contains("Calculating metrics..."), "{html}");
    let html = view.render_async().unwrap();
    assert!(html.contains("Dashboard Data"), "{html}");
    assert!(html.contains("Acme Corp"), "{html}");
    assert!(html.contains("Profile: Wile E. Coyote (rank #1)"), "{html}");
    assert!(!html.contains("Loading"), "{html}");
    assert!(!html.contains("Calculating"), "{html}");
    let users = view.element("#users", None).render().unwrap();
    assert!(users.contains("Users: "), "{users}");
    // handle_async raised max_users from 0 to the loaded figure.
    assert!(!view.render().contains("Max users: 0"), "{}", view.render());
}

#[tokio::test]
async fn socket_assigns() {
    let (view, html) = host().live("/dashboard/globex").await.unwrap();
    assert!(html.contains("<h1>Dashboard</h1>"), "{html}");
    assert!(html.contains("Count: 1"), "{html}");
    assert!(html.contains("Current user: guest"), "{html}");
    drop(view);
}

#[tokio::test]
async fn a_failed_assign_shows_its_reason_and_retry_reloads() {
    let (mut view, _) = host().live("/dashboard/nope").await.unwrap();
    let html = view.render_async().unwrap();
    assert!(
        html.contains("Failed to load organization: no organization named `nope`"),
        "{html}"
    );
    assert!(html.contains("Error loading profile"), "{html}");
    assert!(
        html.contains("Metrics failed: no organization named `nope`"),
        "{html}"
    );
    assert!(html.contains("Failed to load metrics"), "the flash: {html}");
    // Retry marks it loading again and runs the task again (it fails again here).
    let html = view.element("#retry-org", None).render_click().unwrap();
    assert!(html.contains("Loading organization..."), "{html}");
    let html = view.render_async().unwrap();
    assert!(html.contains("Failed to load organization"), "{html}");
}

#[tokio::test]
async fn a_crashing_task_fails_the_result_not_the_view() {
    let (mut view, _) = host().live("/dashboard/crashy").await.unwrap();
    let html = view.render_async().unwrap();
    assert!(html.contains("Crashy Inc"), "{html}");
    assert!(html.contains("Metrics failed: the task crashed"), "{html}");
    assert!(html.contains("Failed to load metrics"), "{html}");
    assert!(view.crash_reason().is_none());
    // The view still answers events.
    let html = view.render_click("refresh", json!({})).unwrap();
    assert!(html.contains("Calculating metrics..."), "{html}");
}

#[tokio::test]
async fn cancel_async_fails_the_metrics_with_cancelled() {
    let (mut view, _) = host().live("/dashboard").await.unwrap();
    view.element("#cancel", None).render_click().unwrap();
    let html = view.render_async().unwrap();
    assert!(html.contains("Metrics failed: cancelled"), "{html}");
    // The other tasks were not affected.
    assert!(html.contains("Acme Corp"), "{html}");
    // Refreshing starts it again.
    view.render_click("refresh", json!({})).unwrap();
    let html = view.render_async().unwrap();
    assert!(html.contains("Revenue: $"), "{html}");
    assert!(!html.contains("Metrics failed"), "{html}");
}

fn revenue(html: &str) -> u64 {
    let start = html.find("Revenue: $").expect("revenue shown") + "Revenue: $".len();
    html[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .expect("a number")
}

#[tokio::test]
async fn a_sale_broadcast_from_another_view_updates_every_dashboard_of_the_org() {
    let host = host();
    let (mut a, _) = host.live("/dashboard/acme").await.unwrap();
    let (mut b, _) = host.live("/dashboard/acme").await.unwrap();
    let (mut other_org, _) = host.live("/dashboard/globex").await.unwrap();
    let before = revenue(&a.render_async().unwrap());
    b.render_async().unwrap();
    let globex_before = other_org.render_async().unwrap();

    let (mut sales, _) = host.live("/dashboard/acme/sales").await.unwrap();
    let html = sales.element("#sale-250", None).render_click().unwrap();
    assert!(html.contains("Recorded 1 sales"), "{html}");

    for view in [&mut a, &mut b] {
        let html = view.render_async().unwrap();
        assert_eq!(revenue(&html), before + 250, "{html}");
        assert!(html.contains("Sale: $250"), "{html}");
        assert!(html.contains("Count: 2"), "{html}");
    }
    // Another org's dashboard heard nothing.
    assert_eq!(other_org.render_async().unwrap(), globex_before);
}

#[tokio::test]
async fn wave_reaches_the_other_viewers_but_not_the_sender() {
    let host = host();
    let (mut a, _) = host.live("/dashboard/acme").await.unwrap();
    let (mut b, _) = host.live("/dashboard/acme").await.unwrap();
    a.render_async().unwrap();
    b.render_async().unwrap();
    a.element("#wave", None).render_click().unwrap();
    let html_b = b.render_async().unwrap();
    assert!(html_b.contains("guest waved"), "{html_b}");
    let html_a = a.render_async().unwrap();
    assert!(!html_a.contains("waved"), "{html_a}");
}

#[tokio::test]
async fn subscriptions_end_with_the_view() {
    let host = host();
    let (view, _) = host.live("/dashboard/acme").await.unwrap();
    assert_eq!(host.host().pubsub_subscriptions(), 1);
    drop(view);
    assert_eq!(host.host().pubsub_subscriptions(), 0);
}

/// The service status comes over HTTP from the status API (the harness's mock here;
/// `tests/tests/app_fetch.rs` does it against a real loopback server): its answer shows, and
/// a failing API fails only that section.
#[tokio::test]
async fn service_status_comes_from_the_status_api() {
    use livewasm_test::HttpMock;

    let mock = HttpMock::new().on(
        "GET",
        dashboard::data::STATUS_URL,
        200,
        r#"{"status": "ok", "message": "all systems go"}"#,
    );
    let host = livewasm_test::TestHost::with_http_mock(&["dashboard"], mock.clone()).unwrap();
    let (mut view, html) = host.live("/dashboard").await.unwrap();
    assert!(html.contains("Checking service status..."), "{html}");
    let html = view.render_async().unwrap();
    assert!(html.contains("Service: ok (all systems go)"), "{html}");
    let sent = mock.requests();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].method, "GET");

    // An answer that is not 200 fails the section, not the view.
    let mock = HttpMock::new().on("GET", "https://status.example.com/down", 503, "down");
    let host = livewasm_test::TestHost::with_http_mock(&["dashboard"], mock).unwrap();
    let (mut view, _) = host
        .live("/dashboard?status_url=https://status.example.com/down")
        .await
        .unwrap();
    let html = view.render_async().unwrap();
    assert!(
        html.contains("Service status unavailable: the status API answered HTTP 503"),
        "{html}"
    );
    assert!(html.contains("Acme Corp"), "{html}");

    // Without a mock nothing is allowed: the reason names the host.
    let (mut view, _) = host_plain().live("/dashboard").await.unwrap();
    let html = view.render_async().unwrap();
    assert!(
        html.contains("status.example.com is not on this app&#39;s allowlist"),
        "{html}"
    );
}

fn host_plain() -> TestHost {
    TestHost::new(&["dashboard"]).expect("dashboard component")
}

/// The team card, a live component, loads the team with its own `start_async`: the loading
/// state first, then the outcome in the card (its `handle_async`, not the dashboard's, which
/// refuses names it does not know).
#[tokio::test]
async fn the_team_card_loads_its_team_with_its_own_task() {
    let host = host();
    let page = host.get("/dashboard/globex").await.unwrap();
    assert!(page.body.contains("Loading team..."), "{}", page.body);

    let (mut view, html) = host.live("/dashboard/globex").await.unwrap();
    assert!(html.contains("Loading team..."), "{html}");
    assert!(html.contains("Loaded 0 times"), "{html}");
    let html = view.render_async().unwrap();
    assert!(
        html.contains("2 members: Hank Scorpio, Homer Simpson"),
        "{html}"
    );
    assert!(html.contains("Loaded 1 times"), "{html}");
    assert!(view.crash_reason().is_none());
    // The dashboard's own task of the same socket still reached the dashboard.
    assert!(html.contains("Revenue: $"), "{html}");

    // An unknown organization fails the card's load, not the view.
    let (mut view, _) = host.live("/dashboard/nope").await.unwrap();
    let html = view.render_async().unwrap();
    assert!(
        html.contains("Team unavailable: no organization named `nope`"),
        "{html}"
    );
    assert!(view.crash_reason().is_none());
}

/// The card's hooks: `"audit"` sees every event and continues; `"limit"` halts a reload past
/// the limit, so the card's `handle_event` does not run (no new load starts).
#[tokio::test]
async fn the_team_cards_hooks_count_events_and_halt_reloads_past_the_limit() {
    let (mut view, _) = host().live("/dashboard/acme").await.unwrap();
    view.render_async().unwrap();
    for round in 1..=dashboard::team::MAX_RELOADS {
        let html = view.element("#team-reload", None).render_click().unwrap();
        assert!(html.contains("Reloading..."), "round {round}: {html}");
        assert!(
            html.contains(&format!("Events seen: {round}")),
            "round {round}: {html}"
        );
        let html = view.render_async().unwrap();
        assert!(
            html.contains(&format!("Loaded {} times", round + 1)),
            "round {round}: {html}"
        );
        assert!(html.contains("3 members: Wile E. Coyote"), "{html}");
        assert!(!html.contains("Reloading..."), "{html}");
    }
    // Past the limit: the audit hook still counts it, the limit hook answers and halts.
    let html = view.element("#team-reload", None).render_click().unwrap();
    let events = dashboard::team::MAX_RELOADS + 1;
    assert!(html.contains(&format!("Events seen: {events}")), "{html}");
    assert!(html.contains("Reload limit reached"), "{html}");
    assert!(!html.contains("Reloading..."), "no load started: {html}");
    let html = view.render_async().unwrap();
    assert!(
        html.contains(&format!("Loaded {events} times")),
        "no further load: {html}"
    );
    assert!(view.crash_reason().is_none());
}
