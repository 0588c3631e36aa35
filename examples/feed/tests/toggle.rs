//! A stream container inside `:if` (`/feed/toggle`, the feed component): what the harness's
//! model of the client shows when the container appears after mount, disappears and appears
//! again. tests/browser/feed.test.mjs runs the same sequence in Chromium with the official
//! client, which shows the same items at every step. The stream is configured with its own DOM
//! ids (`toggled-post-<id>`, `stream_configure!`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_test::{LiveView, TestHost};
use serde_json::{Value, json};

fn host() -> TestHost {
    TestHost::new(&["feed"]).expect("feed component")
}

/// The item ids of the list, in document order; `None` when the page has no list.
fn items(html: &str) -> Option<Vec<u32>> {
    let start = html.find("<ul id=\"items\"")?;
    let list = &html[start..start + html[start..].find("</ul>")?];
    Some(
        list.match_indices("<li id=\"toggled-post-")
            .filter_map(|(at, m)| {
                let rest = &list[at + m.len()..];
                rest[..rest.find('"')?].parse().ok()
            })
            .collect(),
    )
}

/// The stream node of the last diff (`None` when it did not carry the list).
fn stream_node(view: &LiveView) -> Option<Value> {
    fn find(value: &Value) -> Option<Value> {
        let map = value.as_object()?;
        if map.contains_key("stream") {
            return Some(value.clone());
        }
        map.values().find_map(find)
    }
    find(view.last_diff()?)
}

#[tokio::test]
async fn items_streamed_while_hidden_show_when_the_container_appears() {
    let host = host();
    let page = host.get("/feed/toggle").await.unwrap();
    assert_eq!(items(&page.body), None, "{}", page.body);
    let (mut view, html) = host.live("/feed/toggle").await.unwrap();
    assert_eq!(items(&html), None);

    // The mount's posts waited in the stream: the diff that shows the list carries them, with
    // the list's and the items' statics.
    let html = view.render_click("toggle", json!({})).unwrap();
    assert_eq!(items(&html), Some(vec![3, 2, 1]), "{html}");
    let node = stream_node(&view).expect("the stream");
    assert!(node.get("s").is_some(), "{node}");
    assert_eq!(node["k"]["kc"], json!(3));
}

#[tokio::test]
async fn a_container_shown_again_holds_only_what_was_inserted_since() {
    let (mut view, _) = host().live("/feed/toggle").await.unwrap();
    let steps: [(&str, Option<&[u32]>); 8] = [
        ("toggle", Some(&[3, 2, 1])),
        ("toggle", None),
        // The client removed the list with its items; the server keeps none: empty.
        ("toggle", Some(&[])),
        ("add", Some(&[4])),
        ("toggle", None),
        // Inserted while hidden: waits in the stream, no diff.
        ("add", None),
        ("toggle", Some(&[5])),
        ("toggle", None),
    ];
    for (i, (event, want)) in steps.into_iter().enumerate() {
        let html = view.render_click(event, json!({})).unwrap();
        assert_eq!(
            items(&html),
            want.map(<[u32]>::to_vec),
            "step {i} ({event}): {html}"
        );
        if i == 2 {
            // The list comes back whole: its statics and the stream's, with no items.
            let node = stream_node(&view).expect("the stream");
            assert!(node.get("s").is_some(), "{node}");
            assert_eq!(node["k"]["kc"], json!(0));
        }
        if i == 5 {
            assert!(view.last_diff().is_none(), "{:?}", view.last_diff());
        }
    }
}

#[tokio::test]
async fn shown_from_the_start_then_hidden_and_shown_again() {
    let host = host();
    let page = host.get("/feed/toggle?show=on").await.unwrap();
    assert_eq!(items(&page.body), Some(vec![3, 2, 1]), "{}", page.body);
    let (mut view, html) = host.live("/feed/toggle?show=on").await.unwrap();
    assert_eq!(items(&html), Some(vec![3, 2, 1]));
    view.render_click("toggle", json!({})).unwrap();
    let html = view.render_click("toggle", json!({})).unwrap();
    assert_eq!(items(&html), Some(vec![]), "{html}");
}

/// `stream_configure!`: the items carry the configured DOM ids, in the page and in the
/// stream's inserts, and deleting by such an id (what the page sends back) removes the item.
#[tokio::test]
async fn the_configured_dom_id_names_the_items_and_deletes_by_it() {
    let host = host();
    let page = host.get("/feed/toggle?show=on").await.unwrap();
    assert!(
        page.body
            .contains(r#"<li id="toggled-post-3" class="item">"#),
        "{}",
        page.body
    );
    assert!(!page.body.contains("items-3"), "{}", page.body);

    let (mut view, _) = host.live("/feed/toggle?show=on").await.unwrap();
    view.render_click("add", json!({})).unwrap();
    let node = stream_node(&view).expect("the stream");
    assert_eq!(node["stream"][1][0][0], json!("toggled-post-4"), "{node}");

    let html = view
        .element("#toggled-post-2 button.remove", None)
        .render_click()
        .unwrap();
    assert_eq!(items(&html), Some(vec![3, 1, 4]), "{html}");
    let node = stream_node(&view).expect("the stream");
    assert_eq!(node["stream"][2], json!(["toggled-post-2"]), "{node}");

    // An id of another list is an error: the view crashes (and the client would mount it
    // again), as a Phoenix view raising in handle_event.
    let error = view
        .render_click("remove", json!({"dom-id": "posts-1"}))
        .expect_err("not an item of this list");
    assert!(
        matches!(error, livewasm_test::HarnessError::Crashed(_)),
        "{error}"
    );
}
