//! The diff engine against the client model: fixed cases and randomized sequences.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use livewasm_protocol::client::ClientRendered;
use livewasm_protocol::diff::{self, DiffError, apply, to_html};
use livewasm_protocol::rendered::{Node, Statics};
use livewasm_protocol::update::{Update, UpdateDynamic as D, UpdateNode};

mod support;
use serde_json::{Value, json};
use support::{html, items, page, random_sequence, scenarios, templates, update};

struct Session {
    templates: HashMap<u64, Arc<Statics>>,
    tree: Option<Node>,
    client: Option<ClientRendered>,
}

impl Session {
    fn new() -> Session {
        Session {
            templates: templates(),
            tree: None,
            client: None,
        }
    }

    /// Applies an update and checks that the client's HTML matches the server's afterwards.
    fn step(&mut self, update: Update) -> Value {
        let templates = self.templates.clone();
        let lookup = move |id: u64| templates.get(&id).cloned();
        let (tree, diff) = apply(self.tree.take(), update, &lookup).unwrap();
        let diff = diff.into_value();
        match &mut self.client {
            None => self.client = Some(ClientRendered::new(diff.clone()).unwrap()),
            Some(client) => client.merge(diff.clone()).unwrap(),
        }
        let expected = to_html(&tree);
        assert_eq!(
            self.client.as_ref().unwrap().to_html(),
            expected,
            "after diff {diff}"
        );
        // The server's own full render agrees too.
        assert_eq!(
            ClientRendered::new(diff::full(&tree)).unwrap().to_html(),
            expected
        );
        self.tree = Some(tree);
        diff
    }
}

#[test]
fn first_render_is_complete_and_shares_statics() {
    let mut s = Session::new();
    let diff = s.step(update(
        vec![page(html("Hi"), D::List(0))],
        vec![items(&["a", "b"])],
    ));
    assert_eq!(diff["s"], json!(0));
    assert_eq!(
        diff["p"]["0"],
        json!(["<div><h1>", "</h1><ul>", "</ul></div>"])
    );
    assert_eq!(diff["1"]["k"]["kc"], json!(2));
    assert_eq!(diff["1"]["k"]["0"], json!({"0": "a", "1": "A"}));
    assert!(diff.get("r").is_none(), "no root flag at the top level");
}

#[test]
fn a_changed_text_sends_only_that_slot() {
    let mut s = Session::new();
    s.step(update(
        vec![page(html("Hi"), D::List(0))],
        vec![items(&["a"])],
    ));
    let diff = s.step(update(vec![page(html("Bye"), D::Unchanged)], vec![]));
    assert_eq!(diff, json!({"0": "Bye"}));
    let diff = s.step(update(vec![page(html("Bye"), D::Unchanged)], vec![]));
    assert_eq!(diff, json!({}), "an equal value sends nothing");
}

#[test]
fn unchanged_without_previous_is_an_error() {
    let templates = templates();
    let lookup = move |id: u64| templates.get(&id).cloned();
    let err = apply(
        None,
        update(vec![page(D::Unchanged, html(""))], vec![]),
        &lookup,
    )
    .unwrap_err();
    assert_eq!(err, DiffError::UnchangedWithoutPrevious);
}

#[test]
fn bad_updates_are_refused() {
    let templates = templates();
    let lookup = move |id: u64| templates.get(&id).cloned();
    let err = apply(
        None,
        update(vec![page(D::Node(5), html(""))], vec![]),
        &lookup,
    )
    .unwrap_err();
    assert_eq!(err, DiffError::MissingNode(5));
    let err = apply(
        None,
        update(vec![page(D::Node(0), html(""))], vec![]),
        &lookup,
    )
    .unwrap_err();
    assert_eq!(err, DiffError::Reused(0));
    let bad = UpdateNode {
        template: 1,
        dynamics: vec![html("x")],
    };
    assert!(matches!(
        apply(None, update(vec![bad], vec![]), &lookup),
        Err(DiffError::ArityMismatch {
            expected: 2,
            got: 1,
            ..
        })
    ));
    let unknown = UpdateNode {
        template: 99,
        dynamics: vec![],
    };
    assert_eq!(
        apply(None, update(vec![unknown], vec![]), &lookup).unwrap_err(),
        DiffError::UnknownTemplate(99)
    );
    assert_eq!(
        apply(None, Update::default(), &lookup).unwrap_err(),
        DiffError::Empty
    );
}

#[test]
fn a_changed_template_sends_the_whole_node() {
    let mut s = Session::new();
    let p = |inner: u64, text: &str| UpdateNode {
        template: inner,
        dynamics: vec![html(text)],
    };
    s.step(update(vec![page(D::Node(1), html("")), p(3, "on")], vec![]));
    let diff = s.step(update(
        vec![page(D::Node(1), D::Unchanged), p(3, "still")],
        vec![],
    ));
    assert_eq!(diff, json!({"0": {"0": "still"}}));
    let diff = s.step(update(
        vec![page(D::Node(1), D::Unchanged), p(4, "off")],
        vec![],
    ));
    assert_eq!(diff, json!({"0": {"0": "off", "s": ["<span>", "</span>"]}}));
    // :if toggling to nothing and back.
    s.step(update(vec![page(html(""), D::Unchanged)], vec![]));
    let diff = s.step(update(
        vec![page(D::Node(1), D::Unchanged), p(3, "back")],
        vec![],
    ));
    assert_eq!(diff["0"]["s"], json!(["<p class=\"on\">", "</p>"]));
}

#[test]
fn keyed_comprehension_insert_delete_reorder() {
    let mut s = Session::new();
    s.step(update(
        vec![page(html("t"), D::List(0))],
        vec![items(&["a", "b", "c"])],
    ));
    // Reorder: c a b.
    let diff = s.step(update(
        vec![page(D::Unchanged, D::List(0))],
        vec![items(&["c", "a", "b"])],
    ));
    assert_eq!(
        diff,
        json!({"1": {"k": {"0": 2, "1": 0, "2": 1, "kc": 3, "km": true}}})
    );
    // Delete the first, append d.
    let diff = s.step(update(
        vec![page(D::Unchanged, D::List(0))],
        vec![items(&["a", "b", "d"])],
    ));
    assert_eq!(diff["1"]["k"]["2"], json!({"0": "d", "1": "D"}));
    assert_eq!(diff["1"]["k"]["kc"], json!(3));
    // Truncate the tail: nothing but the count.
    let diff = s.step(update(
        vec![page(D::Unchanged, D::List(0))],
        vec![items(&["a", "b"])],
    ));
    assert_eq!(diff, json!({"1": {"k": {"kc": 2}}}));
    // Empty, then non-empty again.
    let diff = s.step(update(
        vec![page(D::Unchanged, D::List(0))],
        vec![items(&[])],
    ));
    assert_eq!(diff, json!({"1": {"k": {"kc": 0}}}));
    let diff = s.step(update(
        vec![page(D::Unchanged, D::List(0))],
        vec![items(&["z"])],
    ));
    assert!(diff["1"].get("s").is_some(), "{diff}");
}

#[test]
fn an_empty_first_comprehension_is_an_empty_string() {
    let mut s = Session::new();
    let diff = s.step(update(vec![page(html("t"), D::List(0))], vec![items(&[])]));
    assert_eq!(diff["1"], json!(""));
    let diff = s.step(update(
        vec![page(D::Unchanged, D::List(0))],
        vec![items(&["x"])],
    ));
    assert_eq!(diff["1"]["s"], json!(["<li id=\"", "\">", "</li>"]));
}

#[test]
fn moved_and_changed_entries_use_pairs() {
    let mut s = Session::new();
    s.step(update(
        vec![page(html("t"), D::List(0))],
        vec![items(&["a", "b"])],
    ));
    let mut list = items(&["b", "a"]);
    list.entries[0].dynamics[1] = html("B!");
    let diff = s.step(update(vec![page(D::Unchanged, D::List(0))], vec![list]));
    assert_eq!(
        diff,
        json!({"1": {"k": {"0": [1, {"1": "B!"}], "1": 0, "kc": 2, "km": true}}})
    );
}

#[test]
fn title_events_and_reply_are_top_level() {
    let templates = templates();
    let lookup = move |id: u64| templates.get(&id).cloned();
    let mut u = update(vec![page(html("t"), html(""))], vec![]);
    u.title = Some("Home".into());
    let (_, mut diff) = apply(None, u, &lookup).unwrap();
    diff.push_events(vec![("ping".into(), json!({"n": 1}))]);
    diff.set_reply(json!({"ok": true}));
    let v = diff.into_value();
    assert_eq!(v["t"], "Home");
    assert_eq!(v["e"], json!([["ping", {"n": 1}]]));
    assert_eq!(v["r"], json!({"ok": true}));
    let client = ClientRendered::new(v).unwrap();
    assert_eq!(client.title(), Some("Home"));
}

#[test]
fn randomized_sequences_keep_the_client_in_step() {
    for seed in 1..=300u64 {
        let mut s = Session::new();
        for update in random_sequence(seed, 25) {
            s.step(update);
        }
    }
}

#[test]
fn conformance_scenarios_keep_the_client_model_in_step() {
    for (_name, updates) in scenarios() {
        let mut s = Session::new();
        for update in updates {
            s.step(update);
        }
    }
}
