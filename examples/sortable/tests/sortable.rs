//! SortableList through the in-process harness and the real component
//! (`cargo xtask build sortable`): attached hooks handle and log events, `detach_hook` and
//! re-attaching change who handles them, an `after_render` hook pushes the order, and the
//! live session's `on_mount` hook attaches a hook for any view.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_test::{LiveView, TestHost};
use serde_json::{Value, json};

async fn live() -> (LiveView, String) {
    TestHost::new(&["sortable"])
        .expect("sortable component")
        .live("/sortable")
        .await
        .unwrap()
}

/// The item ids in page order.
fn order(html: &str) -> Vec<u32> {
    html.split("id=\"item-")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

fn pushed_orders(view: &mut LiveView) -> Vec<Value> {
    view.take_push_events()
        .into_iter()
        .filter(|(event, _)| event == "sortable:order")
        .map(|(_, payload)| payload["order"].clone())
        .collect()
}

#[tokio::test]
async fn the_attached_hook_repositions_replies_and_halts() {
    let (mut view, html) = live().await;
    assert_eq!(order(&html), [1, 2, 3, 4, 5]);
    assert!(html.contains("phx-hook=\"Sortable\""), "{html}");
    // The after_render hook announced the first order once connected.
    assert_eq!(pushed_orders(&mut view), [json!([1, 2, 3, 4, 5])]);

    let html = view
        .render_hook("reposition", json!({"from": 0, "to": 3}))
        .unwrap();
    assert_eq!(order(&html), [2, 3, 4, 1, 5]);
    assert_eq!(
        view.last_reply(),
        Some(&json!({"ok": true, "order": [2, 3, 4, 1, 5]}))
    );
    assert!(html.contains("data-moved=\"item-1\""), "{html}");
    // The logger hook ran before it and continued.
    assert!(
        html.contains("Events logged: 1 (last: reposition)"),
        "{html}"
    );
    assert_eq!(pushed_orders(&mut view), [json!([2, 3, 4, 1, 5])]);

    // The move buttons send the same event, with text values.
    let html = view.element("#item-3 .up", None).render_click().unwrap();
    assert_eq!(order(&html), [3, 2, 4, 1, 5]);
    assert!(html.contains("Events logged: 2"), "{html}");
    assert_eq!(pushed_orders(&mut view), [json!([3, 2, 4, 1, 5])]);

    // Out of range: refused, nothing moves, nothing crashes.
    let html = view
        .render_hook("reposition", json!({"from": 9, "to": 0}))
        .unwrap();
    assert_eq!(order(&html), [3, 2, 4, 1, 5]);
    assert_eq!(view.last_reply().unwrap()["ok"], json!(false));
    assert!(
        pushed_orders(&mut view).is_empty(),
        "the order did not change"
    );
}

#[tokio::test]
async fn detach_hook_hands_the_event_to_the_view_until_reattached() {
    let (mut view, _) = live().await;
    let html = view.element("#toggle-sort", None).render_click().unwrap();
    assert!(html.contains("Sorting is off."), "{html}");
    assert!(html.contains("Enable sorting"), "{html}");

    // Without the sortable hook the view's own handle_event refuses the move.
    let html = view
        .render_hook("reposition", json!({"from": 0, "to": 1}))
        .unwrap();
    assert_eq!(order(&html), [1, 2, 3, 4, 5]);
    assert!(html.contains("Sorting is disabled."), "{html}");
    assert_eq!(view.last_reply().unwrap()["ok"], json!(false));
    assert!(
        html.contains("Events logged: 2 (last: reposition)"),
        "{html}"
    );

    let html = view.element("#toggle-sort", None).render_click().unwrap();
    assert!(html.contains("Sorting is on."), "{html}");
    let html = view
        .render_hook("reposition", json!({"from": 0, "to": 1}))
        .unwrap();
    assert_eq!(order(&html), [2, 1, 3, 4, 5]);
}

#[tokio::test]
async fn the_on_mount_hook_attaches_a_shared_hook() {
    let (mut view, _) = live().await;
    view.render_hook("ping", json!({})).unwrap();
    assert_eq!(view.last_reply(), Some(&json!({"pong": true})));
    // The shared hook was attached by on_mount, before mount attached the logger; it halted,
    // so the logger never saw the event.
    assert!(
        view.render().contains("Events logged: 0"),
        "{}",
        view.render()
    );
}

/// The `"restore"` hook attached on the `handle_info` stage: a message it handles halts (the
/// view's `handle_info` never sees it), any other message passes on to `handle_info`.
#[tokio::test]
async fn the_handle_info_hook_halts_its_message_and_passes_the_others() {
    let (mut view, _) = live().await;
    view.render_hook("reposition", json!({"from": 0, "to": 4}))
        .unwrap();
    assert_eq!(order(&view.render()), [2, 3, 4, 5, 1]);

    // Passed on: the view's handle_info shows it; the hook changed nothing.
    let html = view.send_info(json!({"hello": "there"})).unwrap();
    assert!(
        html.contains("Last message: {&quot;hello&quot;:&quot;there&quot;}"),
        "{html}"
    );
    assert!(html.contains("Order restored 0 times"), "{html}");
    assert_eq!(order(&html), [2, 3, 4, 5, 1]);

    // Halted: the hook restores the first order; handle_info did not run (the last message
    // shown is still the one before).
    let html = view.send_info(json!({"restore": "initial"})).unwrap();
    assert_eq!(order(&html), [1, 2, 3, 4, 5]);
    assert!(html.contains("Order restored 1 times"), "{html}");
    assert!(
        html.contains("Last message: {&quot;hello&quot;:&quot;there&quot;}"),
        "{html}"
    );
    // The after_render hook announced the restored order.
    assert_eq!(
        pushed_orders(&mut view).last(),
        Some(&json!([1, 2, 3, 4, 5]))
    );

    // A `restore` the hook does not handle passes on to handle_info.
    let html = view.send_info(json!({"restore": "other"})).unwrap();
    assert!(html.contains("Order restored 1 times"), "{html}");
    assert!(
        html.contains("Last message: {&quot;restore&quot;:&quot;other&quot;}"),
        "{html}"
    );
}

/// From the page: "Reset order" sends the view a message (`send(self(), …)`) that the hook
/// handles; "Say hello" sends one that reaches `handle_info`.
#[tokio::test]
async fn messages_the_view_sends_itself_meet_the_info_hook() {
    let (mut view, _) = live().await;
    view.render_hook("reposition", json!({"from": 4, "to": 0}))
        .unwrap();
    view.element("#reset-order", None).render_click().unwrap();
    let html = view.advance(std::time::Duration::from_millis(1)).unwrap();
    assert_eq!(order(&html), [1, 2, 3, 4, 5], "{html}");
    assert!(html.contains("Order restored 1 times"), "{html}");
    assert!(html.contains("Last message: </p>"), "{html}");

    view.element("#say-hello", None).render_click().unwrap();
    let html = view.advance(std::time::Duration::from_millis(1)).unwrap();
    assert!(html.contains("Last message: {&quot;hello&quot;"), "{html}");
    assert!(html.contains("Order restored 1 times"), "{html}");
}
