//! The feed's stream through the in-process harness and the real feed component
//! (`cargo xtask build feed`): what the page shows after each stream operation, in DOM order,
//! and that each diff carries only the posts inserted by that event.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_test::{LiveView, TestHost};
use serde_json::{Value, json};

fn host() -> TestHost {
    TestHost::new(&["feed"]).expect("feed component")
}

/// The post ids the page shows, in document order.
fn shown(html: &str) -> Vec<u32> {
    html.match_indices("id=\"posts-")
        .filter_map(|(at, m)| {
            let rest = &html[at + m.len()..];
            rest[..rest.find('"')?].parse().ok()
        })
        .collect()
}

/// The stream operations and entry count of the last diff (`None` when it did not touch the
/// stream).
fn last_stream(view: &LiveView) -> Option<(Value, u64)> {
    fn find(value: &Value) -> Option<(Value, u64)> {
        let map = value.as_object()?;
        if let Some(stream) = map.get("stream") {
            let count = map.get("k")?.get("kc")?.as_u64()?;
            return Some((stream.clone(), count));
        }
        map.values().find_map(find)
    }
    find(view.last_diff()?)
}

async fn feed(query: &str) -> (LiveView, String) {
    host().live(&format!("/feed?{query}")).await.unwrap()
}

#[tokio::test]
async fn the_dead_render_and_the_join_show_the_first_page() {
    let host = host();
    let page = host.get("/feed?per_page=3&total=10").await.unwrap();
    assert_eq!(page.status, 200);
    assert_eq!(shown(&page.body), [10, 9, 8], "{}", page.body);
    assert!(page.body.contains("phx-update=\"stream\""));
    let (_view, html) = host.live("/feed?per_page=3&total=10").await.unwrap();
    assert_eq!(shown(&html), [10, 9, 8], "{html}");
    assert!(html.contains("phx-viewport-bottom=\"next-page\""), "{html}");
    assert!(!html.contains("phx-viewport-top"), "{html}");
}

#[tokio::test]
async fn pages_append_and_the_limit_keeps_three_pages() {
    let (mut view, _) = feed("per_page=2&total=9").await;
    let html = view.element("#load-more", None).render_click().unwrap();
    assert_eq!(shown(&html), [9, 8, 7, 6]);
    // Only the new page travels, appended with the limit.
    let (stream, count) = last_stream(&view).expect("a stream diff");
    assert_eq!(count, 2);
    assert_eq!(
        stream,
        json!([
            "0",
            [["posts-7", -1, -7, false], ["posts-6", -1, -7, false]],
            []
        ])
    );
    view.element("#load-more", None).render_click().unwrap();
    let html = view.element("#load-more", None).render_click().unwrap();
    assert_eq!(
        shown(&html),
        [7, 6, 5, 4, 3, 2],
        "the first page was pruned"
    );
    assert!(html.contains("Page 4"), "{html}");
    assert!(html.contains("phx-viewport-top=\"prev-page\""), "{html}");
    let html = view.render_click("next-page", json!({})).unwrap();
    assert_eq!(shown(&html), [6, 5, 4, 3, 2, 1]);
    let html = view.render_click("next-page", json!({})).unwrap();
    assert_eq!(shown(&html), [6, 5, 4, 3, 2, 1]);
    assert!(html.contains("id=\"end\""), "{html}");
    assert!(!html.contains("load-more"), "{html}");
    assert!(!html.contains("phx-viewport-bottom"), "{html}");
}

#[tokio::test]
async fn new_posts_are_prepended_from_events_and_messages() {
    let (mut view, html) = feed("per_page=2&total=5").await;
    assert_eq!(shown(&html), [5, 4]);
    let html = view.element("#new-post", None).render_click().unwrap();
    assert_eq!(shown(&html), [6, 5, 4]);
    assert_eq!(
        last_stream(&view).expect("a stream diff"),
        (json!(["0", [["posts-6", 0, null, false]], []]), 1)
    );
    let html = view.send_info(json!({"new_post": true})).unwrap();
    assert_eq!(shown(&html), [7, 6, 5, 4]);
}

#[tokio::test]
async fn delete_removes_and_like_updates_in_place() {
    let (mut view, _) = feed("per_page=3&total=6").await;
    let html = view
        .element("#posts-5 button.delete", None)
        .render_click()
        .unwrap();
    assert_eq!(shown(&html), [6, 4]);
    assert!(html.contains("Post deleted"), "{html}");
    assert_eq!(
        last_stream(&view).expect("a stream diff"),
        (json!(["0", [], ["posts-5"]]), 0)
    );
    let html = view
        .element("#posts-4 button.like", None)
        .render_click()
        .unwrap();
    assert_eq!(shown(&html), [6, 4], "a liked post stays where it is");
    let post = view.element("#posts-4 button.like", None).render().unwrap();
    assert!(post.contains("♥ 1"), "{post}");
    let html = view.send_info(json!({"post_liked": 6})).unwrap();
    assert_eq!(shown(&html), [6, 4]);
    assert!(html.contains("♥ 1</button>"), "{html}");
    // Deleting a post that is gone is refused with a flash, the page unchanged.
    let html = view.render_click("delete", json!({"id": "5"})).unwrap();
    assert_eq!(shown(&html), [6, 4]);
    // The next page skips the deleted post.
    let html = view.render_click("next-page", json!({})).unwrap();
    assert_eq!(shown(&html), [6, 4, 2, 1]);
}

#[tokio::test]
async fn reset_starts_over_from_the_first_page() {
    let (mut view, _) = feed("per_page=2&total=9").await;
    view.render_click("next-page", json!({})).unwrap();
    view.render_click("new-post", json!({})).unwrap();
    // The new post shifted the timeline: page 3 is posts 6 and 5, and 6 is updated in place.
    let html = view.render_click("next-page", json!({})).unwrap();
    assert_eq!(shown(&html), [10, 9, 8, 7, 6, 5]);
    let html = view.element("#reset", None).render_click().unwrap();
    assert_eq!(shown(&html), [10, 9]);
    assert!(html.contains("Page 1"), "{html}");
    let (stream, count) = last_stream(&view).expect("a stream diff");
    assert_eq!(count, 2);
    assert_eq!(stream.as_array().unwrap().get(3), Some(&json!(true)));
}

#[tokio::test]
async fn prev_page_prepends_in_order_with_a_leading_limit() {
    let (mut view, _) = feed("per_page=2&total=20").await;
    for _ in 0..4 {
        view.render_click("next-page", json!({})).unwrap();
    }
    // Pages 3-5 on the page; posts 20-15 were pruned.
    assert_eq!(shown(&view.render()), [16, 15, 14, 13, 12, 11]);
    // Reset to page 1 when the client scrolled past the top.
    let html = view
        .render_click("prev-page", json!({"_overran": true}))
        .unwrap();
    assert!(html.contains("Page 1"), "{html}");
    // Page 1 is prepended, newest first, keeping the first six.
    assert_eq!(shown(&html), [20, 19, 16, 15, 14, 13]);
}

/// The sequence tests/browser/feed.test.mjs runs in Chromium with the official client: the
/// harness's model of the stream patch must show the same DOM order at every step.
#[tokio::test]
async fn the_browser_sequence_gives_the_same_order() {
    let (mut view, html) = feed("per_page=2&total=9&scroll=off").await;
    assert_eq!(shown(&html), [9, 8]);
    assert!(!html.contains("phx-viewport"), "{html}");
    view.element("#load-more", None).render_click().unwrap();
    view.element("#load-more", None).render_click().unwrap();
    let html = view.element("#load-more", None).render_click().unwrap();
    assert_eq!(shown(&html), [7, 6, 5, 4, 3, 2]);
    let html = view.element("#new-post", None).render_click().unwrap();
    assert_eq!(shown(&html), [10, 7, 6, 5, 4, 3, 2]);
    let html = view
        .element("#posts-5 button.delete", None)
        .render_click()
        .unwrap();
    assert_eq!(shown(&html), [10, 7, 6, 4, 3, 2]);
    let html = view
        .element("#posts-4 button.like", None)
        .render_click()
        .unwrap();
    assert_eq!(shown(&html), [10, 7, 6, 4, 3, 2]);
    let html = view.element("#reset", None).render_click().unwrap();
    assert_eq!(shown(&html), [10, 9]);
}

/// The empty-state child (`<li id="posts-empty" class="only:block hidden">`) is part of the
/// list's statics: the dead render, the join and every later render hold it exactly once,
/// whatever the stream did (tests/browser/feed.test.mjs checks in Chromium that the client keeps
/// it and shows it only while the list is otherwise empty).
fn empty_state(html: &str) -> usize {
    html.matches("<li id=\"posts-empty\" class=\"only:block hidden\">No posts yet.</li>")
        .count()
}

#[tokio::test]
async fn the_empty_state_child_stays_through_deletes_and_resets() {
    let host = host();
    let page = host.get("/feed?total=0").await.unwrap();
    assert_eq!(empty_state(&page.body), 1, "{}", page.body);
    assert_eq!(shown(&page.body), [] as [u32; 0]);

    // The sequence of the browser test "the empty state shows only while the stream is empty".
    let (mut view, html) = feed("per_page=2&total=2&scroll=off").await;
    assert_eq!((shown(&html), empty_state(&html)), (vec![2, 1], 1));
    let steps: [(&str, Value, &[u32]); 9] = [
        ("delete", json!({"id": "2"}), &[1]),
        ("delete", json!({"id": "1"}), &[]),
        ("reset", json!({}), &[]),
        ("new-post", json!({}), &[3]),
        ("new-post", json!({}), &[4, 3]),
        ("delete", json!({"id": "3"}), &[4]),
        ("reset", json!({}), &[4]),
        ("delete", json!({"id": "4"}), &[]),
        ("reset", json!({}), &[]),
    ];
    for (event, value, want) in steps {
        let html = view.render_click(event, value).unwrap();
        assert_eq!(shown(&html), want, "after {event}");
        assert_eq!(empty_state(&html), 1, "after {event}: {html}");
    }
    // A reset to nothing still carries the reset flag, with no entries.
    assert_eq!(last_stream(&view), Some((json!(["0", [], [], true]), 0)));
}

/// The client counts the empty-state child against a limit (it stands after the posts): the
/// view's trailing limit keeps one child more, and a leading limit trims the empty state first.
/// The harness's model of the client must show what Chromium shows (the browser test "a leading
/// limit trims the empty state").
#[tokio::test]
async fn limits_count_the_empty_state_as_the_client_does() {
    let (mut view, _) = feed("per_page=1&total=5&scroll=off").await;
    for _ in 0..3 {
        view.element("#load-more", None).render_click().unwrap();
    }
    let (stream, _) = last_stream(&view).expect("a stream diff");
    assert_eq!(stream, json!(["0", [["posts-2", -1, -4, false]], []]));
    assert_eq!(
        shown(&view.render()),
        [4, 3, 2],
        "three posts and the empty state"
    );
    for _ in 0..3 {
        view.element("#prev-page", None).render_click().unwrap();
    }
    let (stream, _) = last_stream(&view).expect("a stream diff");
    assert_eq!(stream, json!(["0", [["posts-5", 0, 3, false]], []]));
    assert_eq!(shown(&view.render()), [5, 4, 3]);
    for id in [5, 4, 3] {
        view.element(&format!("#posts-{id} button.delete"), None)
            .render_click()
            .unwrap();
    }
    let html = view.render();
    assert_eq!((shown(&html), empty_state(&html)), (vec![], 1));
}
