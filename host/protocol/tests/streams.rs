//! Streams through the diff engine and the client model: the wire shape the 1.2 client
//! expects, statics sent once, only inserted items sent and kept, and the DOM order the
//! client's stream patch gives.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_protocol::client::ClientRendered;
use livewasm_protocol::diff::{apply_tree, tree_html};
use livewasm_protocol::rendered::Tree;
use livewasm_protocol::update::{Update, UpdateDynamic as D};
use serde_json::{Value, json};

mod support;
use support::{
    html, random_stream_sequence, stream_page, stream_scenarios, streamed, templates, update,
};

#[derive(Default)]
struct Session {
    tree: Option<Tree>,
    client: Option<ClientRendered>,
}

impl Session {
    fn step(&mut self, update: Update) -> Value {
        let templates = templates();
        let lookup = move |id: u64| templates.get(&id).cloned();
        let (tree, diff) = apply_tree(self.tree.take(), update, &lookup).unwrap();
        let diff = diff.into_value();
        match &mut self.client {
            None => self.client = Some(ClientRendered::new(diff.clone()).unwrap()),
            Some(client) => client.merge(diff.clone()).unwrap(),
        }
        self.tree = Some(tree);
        diff
    }

    fn ids(&self) -> Vec<String> {
        self.client.as_ref().unwrap().stream_ids("0")
    }

    fn page(&self) -> String {
        self.client.as_ref().unwrap().to_html()
    }
}

#[test]
fn the_first_render_carries_statics_entries_and_operations() {
    let mut s = Session::default();
    let diff = s.step(stream_page(
        "t",
        &[("a", -1, None, false), ("b", 0, Some(-5), true)],
        &["old"],
        false,
    ));
    assert_eq!(
        diff,
        json!({
            "0": "t",
            "1": {
                "s": 1,
                "k": {"0": {"0": "a", "1": "t"}, "1": {"0": "b", "1": "t"}, "kc": 2},
                "stream": ["0", [["a", -1, null, false], ["b", 0, -5, true]], ["old"]]
            },
            "s": 0,
            "p": {
                "0": ["<div><h1>", "</h1><ul id=\"items\" phx-update=\"stream\">", "</ul></div>"],
                "1": ["<li id=\"", "\">", "</li>"]
            }
        })
    );
}

#[test]
fn later_renders_send_only_new_items_without_statics_and_reset_only_when_true() {
    let mut s = Session::default();
    s.step(stream_page("t1", &[("a", -1, None, false)], &[], false));
    let diff = s.step(stream_page(
        "t2",
        &[("c", 0, Some(3), false)],
        &["a"],
        false,
    ));
    assert_eq!(
        diff,
        json!({"0": "t2", "1": {
            "k": {"0": {"0": "c", "1": "t2"}, "kc": 1},
            "stream": ["0", [["c", 0, 3, false]], ["a"]]
        }})
    );
    let diff = s.step(stream_page("t3", &[], &[], true));
    assert_eq!(
        diff,
        json!({"0": "t3", "1": {"k": {"kc": 0}, "stream": ["0", [], [], true]}})
    );
    // Re-rendered with nothing to do: the stream is not sent at all.
    let diff = s.step(stream_page("t4", &[], &[], false));
    assert_eq!(diff, json!({"0": "t4"}));
    let diff = s.step(update(vec![streamed(html("t5"), D::Unchanged)], vec![]));
    assert_eq!(diff, json!({"0": "t5"}));
}

#[test]
fn the_kept_tree_holds_only_the_latest_items() {
    let mut s = Session::default();
    s.step(stream_page(
        "t1",
        &[("a", -1, None, false), ("b", -1, None, false)],
        &[],
        false,
    ));
    // The dead render's HTML shows the first batch.
    assert_eq!(
        tree_html(s.tree.as_ref().unwrap()),
        "<div><h1>t1</h1><ul id=\"items\" phx-update=\"stream\"><li id=\"a\">t1</li><li id=\"b\">t1</li></ul></div>"
    );
    s.step(stream_page("t2", &[("c", -1, None, false)], &[], false));
    assert_eq!(
        tree_html(s.tree.as_ref().unwrap()),
        "<div><h1>t2</h1><ul id=\"items\" phx-update=\"stream\"><li id=\"c\">t2</li></ul></div>"
    );
    s.step(update(vec![streamed(html("t3"), D::Unchanged)], vec![]));
    assert_eq!(
        tree_html(s.tree.as_ref().unwrap()),
        "<div><h1>t3</h1><ul id=\"items\" phx-update=\"stream\"></ul></div>"
    );
    // The client model still shows every item, in DOM order.
    assert_eq!(
        s.page(),
        "<div><h1>t3</h1><ul id=\"items\" phx-update=\"stream\"><li id=\"a\">t1</li><li id=\"b\">t1</li><li id=\"c\">t2</li></ul></div>"
    );
}

#[test]
fn the_client_model_orders_items_as_the_dom_patch_does() {
    for (name, steps) in stream_scenarios() {
        let mut s = Session::default();
        for (i, (update, expected)) in steps.into_iter().enumerate() {
            s.step(update);
            assert_eq!(s.ids(), expected, "{name}, step {i}");
        }
    }
}

#[test]
fn random_stream_sequences_keep_the_client_model_consistent() {
    for seed in 1..=200 {
        let mut s = Session::default();
        for update in random_stream_sequence(seed, 30) {
            let diff = s.step(update);
            // Never a `false` reset, never statics after the first render.
            if let Some(stream) = diff.get("1").and_then(|l| l.get("stream")) {
                let stream = stream.as_array().unwrap();
                assert!(stream.len() == 3 || stream[3] == json!(true), "{diff}");
            }
            let ids = s.ids();
            let mut unique = ids.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(
                unique.len(),
                ids.len(),
                "seed {seed}: duplicate ids {ids:?}"
            );
            // The page shows exactly the model's items, in order.
            let shown: Vec<String> = s
                .page()
                .match_indices("<li id=\"")
                .map(|(at, _)| {
                    let rest = &s.page()[at + 8..];
                    rest[..rest.find('"').unwrap()].to_string()
                })
                .collect();
            assert_eq!(shown, ids, "seed {seed}");
        }
    }
}

#[test]
fn streams_inside_live_components_keep_their_own_items() {
    let mut s = Session::default();
    for (i, (step, expected)) in support::stream_component_scenarios()
        .into_iter()
        .flat_map(|(_, steps)| steps)
        .enumerate()
    {
        let support::Step::Render(update) = step else {
            unreachable!("renders only")
        };
        let diff = s.step(update);
        if i == 1 {
            // A component-only diff: card 1's stream, without statics.
            assert_eq!(
                diff,
                json!({"c": {"1": {"1": {
                    "k": {"0": {"0": "c", "1": "one"}, "kc": 1},
                    "stream": ["1-0", [["c", 0, 2, false]], []]
                }}}})
            );
        }
        let client = s.client.as_ref().unwrap();
        for (stream_ref, ids) in expected {
            assert_eq!(
                client.stream_ids(stream_ref),
                ids,
                "step {i}, stream {stream_ref}"
            );
        }
    }
    assert_eq!(
        s.page(),
        "<div><h1>cards</h1><ul>\
         <li id=\"c1\"><section><h2>first</h2><ul><li id=\"z\">one</li></ul></section></li>\
         <li id=\"c2\"><section><h2>second!</h2><ul><li id=\"y\">two</li></ul></section></li>\
         </ul></div>"
    );
}

/// A stream comprehension with `ids` inserted at `-1` (with `limit`), ref "0".
fn stream_json(ids: &[&str], limit: Option<i64>, with_statics: bool) -> Value {
    let mut k = serde_json::Map::new();
    for (i, id) in ids.iter().enumerate() {
        k.insert(i.to_string(), json!({"0": id}));
    }
    k.insert("kc".into(), json!(ids.len()));
    let inserts: Vec<Value> = ids.iter().map(|id| json!([id, -1, limit, false])).collect();
    let mut node = json!({"k": k, "stream": ["0", inserts, []]});
    if with_statics {
        node["s"] = json!(["<li id=\"", "\">x</li>"]);
    }
    node
}

/// The client counts every child of the container with an id against a limit, an empty-state
/// child (kept after the items) included; children without an id are dropped by the client and
/// do not count.
#[test]
fn the_client_model_counts_an_empty_state_child_against_limits() {
    let list = |stream: Value| {
        json!({"s": [
            "<ul id=\"l\" phx-update=\"stream\"><li id=\"l-empty\" class=\"only:block hidden\">None</li>",
            "</ul>"
        ], "0": stream})
    };
    let mut client = ClientRendered::new(list(stream_json(&["l-a"], Some(-2), true))).unwrap();
    assert_eq!(client.stream_ids("0"), ["l-a"]);
    client
        .merge(json!({"0": stream_json(&["l-b", "l-c"], Some(-2), false)}))
        .unwrap();
    assert_eq!(
        client.stream_ids("0"),
        ["l-c"],
        "two children: one item and the empty state"
    );
    assert!(client.to_html().contains("<li id=\"l-empty\""));

    // Without an id, the child does not count.
    let plain = json!({"s": ["<ul id=\"l\" phx-update=\"stream\"><li>None</li>", "</ul>"],
        "0": stream_json(&["l-a", "l-b", "l-c"], Some(-2), true)});
    assert_eq!(
        ClientRendered::new(plain).unwrap().stream_ids("0"),
        ["l-b", "l-c"]
    );
}

/// A stream container inside `:if`: when it leaves the page its items go with it, and shown
/// again it holds only what later diffs insert (as the official client, checked in Chromium by
/// tests/browser/feed.test.mjs on `/feed/toggle`).
#[test]
fn a_stream_container_removed_and_shown_again_starts_empty() {
    let list =
        |stream: Value| json!({"s": ["<ul id=\"l\" phx-update=\"stream\">", "</ul>"], "0": stream});
    let mut client = ClientRendered::new(json!({"s": ["<main>", "</main>"], "0": ""})).unwrap();
    client
        .merge(json!({"0": list(stream_json(&["l-1", "l-2"], None, true))}))
        .unwrap();
    assert_eq!(client.stream_ids("0"), ["l-1", "l-2"]);
    client.merge(json!({"0": ""})).unwrap();
    assert_eq!(client.stream_ids("0"), [] as [&str; 0]);
    assert_eq!(client.to_html(), "<main></main>");
    client
        .merge(json!({"0": list(stream_json(&[], None, true))}))
        .unwrap();
    assert_eq!(
        client.to_html(),
        "<main><ul id=\"l\" phx-update=\"stream\"></ul></main>"
    );
    client
        .merge(json!({"0": {"0": stream_json(&["l-3"], None, false)}}))
        .unwrap();
    assert_eq!(client.stream_ids("0"), ["l-3"]);
}
