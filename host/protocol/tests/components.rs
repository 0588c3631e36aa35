//! Live components in the diff engine (`c`, shared statics, destroy), against the client model.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use livewasm_protocol::client::ClientRendered;
use livewasm_protocol::diff::{DiffError, apply_tree, full_tree, tree_html};
use livewasm_protocol::rendered::{Statics, Tree};
use livewasm_protocol::update::{Update, UpdateDynamic as D};
use serde_json::{Value, json};

mod support;
use support::{
    Builder, CARD, NOT_ROOT, ROW, Step, component_scenarios, html, random_component_sequence,
    templates,
};

struct Session {
    templates: HashMap<u64, Arc<Statics>>,
    tree: Option<Tree>,
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

    fn try_render(&mut self, update: Update) -> Result<Value, DiffError> {
        let templates = self.templates.clone();
        let lookup = move |id: u64| templates.get(&id).cloned();
        let (tree, diff) = apply_tree(self.tree.take(), update, &lookup)?;
        let diff = diff.into_value();
        match &mut self.client {
            None => self.client = Some(ClientRendered::new(diff.clone()).unwrap()),
            Some(client) => client.merge(diff.clone()).unwrap(),
        }
        let expected = tree_html(&tree);
        assert_eq!(
            self.client.as_ref().unwrap().to_html(),
            expected,
            "after diff {diff}"
        );
        assert_eq!(
            ClientRendered::new(full_tree(&tree)).unwrap().to_html(),
            expected,
            "full render"
        );
        self.tree = Some(tree);
        Ok(diff)
    }

    fn render(&mut self, update: Update) -> Value {
        self.try_render(update).unwrap()
    }

    fn step(&mut self, step: Step) -> Value {
        match step {
            Step::Render(update) => self.render(update),
            Step::Destroy(cids) => Value::from(self.destroy(&cids)),
        }
    }

    fn destroy(&mut self, cids: &[u32]) -> Vec<u32> {
        let removed = self.tree.as_mut().unwrap().destroy(cids);
        self.client.as_mut().unwrap().prune(&removed);
        removed
    }
}

fn render(step: Step) -> Update {
    match step {
        Step::Render(update) => update,
        Step::Destroy(_) => panic!("not a render"),
    }
}

fn page_of_rows(rows: &[(u32, &str)]) -> Builder {
    let mut b = Builder::new(1, vec![html("users"), D::Unchanged]);
    let list = b.list(
        rows.iter()
            .map(|(cid, _)| (format!("u{cid}"), D::Component(*cid)))
            .collect(),
    );
    b.root(1, list);
    for (cid, text) in rows {
        b.component(*cid, ROW, vec![html(&format!("r{cid}")), html(text)]);
    }
    b
}

#[test]
fn first_render_sends_components_with_root_flag_and_shared_statics() {
    let mut s = Session::new();
    let diff = s.render(render(page_of_rows(&[(1, "a"), (2, "b")]).build()));
    // The page's comprehension refers to the components by cid (integers).
    assert_eq!(diff["1"]["k"]["0"]["1"], json!(1));
    assert_eq!(diff["1"]["k"]["1"]["1"], json!(2));
    let c = &diff["c"];
    assert_eq!(
        c["1"],
        json!({"s": ["<div class=\"row\" id=\"", "\">", "</div>"], "0": "r1", "1": "a", "r": 1})
    );
    // The second row shares the first one's statics within this diff.
    assert_eq!(c["2"], json!({"s": 1, "0": "r2", "1": "b", "r": 1}));
    assert!(diff.get("r").is_none(), "no root flag at the top level");
}

#[test]
fn a_component_re_rendered_alone_sends_only_its_changes() {
    let mut s = Session::new();
    s.render(render(page_of_rows(&[(1, "a"), (2, "b")]).build()));
    let mut b = Builder::new(1, vec![D::Unchanged, D::Unchanged]);
    b.component(2, ROW, vec![D::Unchanged, html("edited")]);
    let diff = s.render(render(b.build()));
    assert_eq!(diff, json!({"c": {"2": {"1": "edited"}}}));
    // Rendering the same content again sends nothing at all.
    let mut b = Builder::new(1, vec![D::Unchanged, D::Unchanged]);
    b.component(2, ROW, vec![html("r2"), html("edited")]);
    assert_eq!(s.render(render(b.build())), json!({}));
}

#[test]
fn a_new_component_shares_statics_with_one_the_client_holds() {
    let mut s = Session::new();
    s.render(render(page_of_rows(&[(1, "a")]).build()));
    let diff = s.render(render(page_of_rows(&[(1, "a"), (2, "b")]).build()));
    assert_eq!(
        diff["c"],
        json!({"2": {"s": -1, "0": "r2", "1": "b", "r": 1}})
    );
}

#[test]
fn destroyed_components_are_forgotten_and_never_shared_from() {
    let mut s = Session::new();
    s.render(render(page_of_rows(&[(1, "a"), (2, "b")]).build()));
    s.render(render(page_of_rows(&[(2, "b")]).build()));
    // Component 2 is still on the page: only 1 goes.
    assert_eq!(s.destroy(&[1, 2]), vec![1]);
    assert_eq!(s.client.as_ref().unwrap().component_ids(), vec![2]);
    s.render(render(page_of_rows(&[]).build()));
    assert_eq!(s.destroy(&[2]), vec![2]);
    let diff = s.render(render(page_of_rows(&[(3, "c")]).build()));
    // Nothing held any more: full statics.
    assert_eq!(
        diff["c"]["3"]["s"],
        json!(["<div class=\"row\" id=\"", "\">", "</div>"])
    );
}

#[test]
fn nested_components_render_inside_their_parent() {
    let mut s = Session::new();
    let mut b = Builder::new(1, vec![html("t"), D::Component(1)]);
    let inner = b.list(vec![("a".into(), D::Component(2))]);
    b.component(1, CARD, vec![html("card"), inner]);
    b.component(2, ROW, vec![html("r2"), html("two")]);
    s.render(render(b.build()));
    let html = tree_html(s.tree.as_ref().unwrap());
    assert_eq!(
        html,
        "<div><h1>t</h1><ul><section><h2>card</h2><ul><li id=\"a\">\
         <div class=\"row\" id=\"r2\">two</div></li></ul></section></ul></div>"
    );
    // The child is reachable through its parent: not destroyable while the parent shows it.
    assert_eq!(s.destroy(&[2]), Vec::<u32>::new());
}

#[test]
fn bad_component_updates_are_errors() {
    // A cid nobody rendered.
    let mut s = Session::new();
    let b = Builder::new(1, vec![html("t"), D::Component(9)]);
    assert_eq!(
        s.try_render(render(b.build())),
        Err(DiffError::UnknownComponent(9))
    );
    // A component that contains itself.
    let mut s = Session::new();
    let mut b = Builder::new(1, vec![html("t"), D::Component(1)]);
    let inner = b.list(vec![("a".into(), D::Component(1))]);
    b.component(1, CARD, vec![html("card"), inner]);
    assert_eq!(
        s.try_render(render(b.build())),
        Err(DiffError::ComponentCycle(1))
    );
    // Twice in one update.
    let mut s = Session::new();
    let mut b = Builder::new(1, vec![html("t"), D::Component(1)]);
    b.component(1, ROW, vec![html("a"), html("b")]);
    b.component(1, ROW, vec![html("a"), html("b")]);
    assert_eq!(
        s.try_render(render(b.build())),
        Err(DiffError::DuplicateComponent(1))
    );
    // A template that is not one element.
    let mut s = Session::new();
    let mut b = Builder::new(1, vec![html("t"), D::Component(1)]);
    b.component(1, NOT_ROOT, vec![html("a")]);
    assert_eq!(
        s.try_render(render(b.build())),
        Err(DiffError::ComponentNotRoot {
            cid: 1,
            template: NOT_ROOT
        })
    );
}

#[test]
fn fixed_component_scenarios_agree_with_the_client_model() {
    for (name, steps) in component_scenarios() {
        let mut s = Session::new();
        for (i, step) in steps.into_iter().enumerate() {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.step(step)));
            assert!(result.is_ok(), "scenario {name:?}, step {i}");
        }
    }
}

#[test]
fn random_component_sequences_agree_with_the_client_model() {
    let mut shared = 0;
    for seed in 1..=300 {
        let mut s = Session::new();
        for step in random_component_sequence(seed, 25) {
            let diff = s.step(step);
            if let Some(c) = diff.get("c").and_then(Value::as_object) {
                shared += c.values().filter(|n| n["s"].is_i64()).count();
            }
        }
    }
    assert!(shared > 100, "statics were shared only {shared} times");
}
