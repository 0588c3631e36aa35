//! The seed's "Testing LiveViews" thermostat cases, through the in-process harness and the real
//! thermostat component (`cargo xtask build thermostat`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use livewasm_test::TestHost;
use serde_json::json;

fn host() -> TestHost {
    TestHost::new(&["thermostat"]).expect("thermostat component")
}

#[tokio::test]
async fn thermostat_lifecycle() {
    let host = host();
    // Disconnected mount (regular HTTP).
    let page = host.get("/thermostat").await.unwrap();
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Temperature"), "{}", page.body);

    // Connected mount.
    let (_view, html) = host.live("/thermostat").await.unwrap();
    assert!(html.contains("70°F"), "{html}");
}

#[tokio::test]
async fn connected_mount_shortcut() {
    let (_view, html) = host().live("/thermostat?house=42").await.unwrap();
    assert!(html.contains("Temperature: 70°F"), "{html}");
    assert!(html.contains("House 42"), "{html}");
    assert!(html.contains("User: guest"), "{html}");
}

#[tokio::test]
async fn increment_temperature() {
    let (mut view, _html) = host().live("/thermostat").await.unwrap();

    // Using an element selector (preferred).
    let html = view.element("button", Some("+")).render_click().unwrap();
    assert!(html.contains("71°F"), "{html}");

    // Direct event call.
    let html = view.render_click("inc", json!({})).unwrap();
    assert!(html.contains("72°F"), "{html}");

    let html = view.element("button", Some("-")).render_click().unwrap();
    assert!(html.contains("71°F"), "{html}");
}

#[tokio::test]
async fn arrow_keys_on_the_window() {
    let (mut view, _html) = host().live("/thermostat").await.unwrap();
    let html = view
        .element("#thermostat", None)
        .render_keyup("ArrowUp")
        .unwrap();
    assert!(html.contains("Temperature: 71°F"), "{html}");
    let html = view
        .element("#thermostat", None)
        .render_keyup("ArrowDown")
        .unwrap();
    assert!(html.contains("Temperature: 70°F"), "{html}");
    let html = view
        .render_keyup("update_temp", json!({"key": "Enter"}))
        .unwrap();
    assert!(
        html.contains("Temperature: 70°F"),
        "other keys change nothing: {html}"
    );
}

#[tokio::test]
async fn handle_info_messages() {
    let (mut view, _html) = host().live("/thermostat").await.unwrap();
    // Send a message to the view, like `send(view.pid, {:temperature_update, 75})`.
    let html = view.send_info(json!({"temperature_update": 75})).unwrap();
    assert!(html.contains("75°F"), "{html}");
    assert!(view.render().contains("Temperature: 75°F"));
}

#[tokio::test]
async fn the_tick_updates_the_time_when_connected() {
    let (mut view, html) = host().live("/thermostat").await.unwrap();
    let before = html;
    // Let a real second pass so the view's clock moves, then let the timer fire.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after = view.advance(Duration::ZERO).unwrap();
    assert_ne!(
        before, after,
        "the 1 s tick must refresh the last-update time"
    );
    assert!(after.contains("Temperature: 70°F"));
}

/// The seed's `handle_params`: the page comes from the URL, on mount and on a live patch.
#[tokio::test]
async fn handle_params_reads_the_page() {
    let (mut view, html) = host().live("/thermostat").await.unwrap();
    assert!(
        html.contains(r#"<p id="page" class="text-sm text-gray-500">Page 1</p>"#),
        "{html}"
    );
    let html = view.render_patch("/thermostat?page=3").unwrap();
    assert!(html.contains(">Page 3</p>"), "{html}");
    assert!(html.contains("70°F"), "a patch keeps the state: {html}");
    let (_view, html) = host().live("/thermostat?page=0").await.unwrap();
    assert!(html.contains(">Page 1</p>"), "{html}");
}
