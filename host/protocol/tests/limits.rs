//! A render at the depth limit goes through every recursive step of the host (judge, diff,
//! full render, client model, HTML) on a small stack; one level deeper, or 100,000 levels deeper,
//! is refused before any of them runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use livewasm_protocol::check::check;
use livewasm_protocol::client::ClientRendered;
use livewasm_protocol::diff::{apply_tree, full_tree, tree_html};
use livewasm_protocol::limits::{LimitError, RenderLimits, check_limits};
use livewasm_protocol::rendered::Statics;
use livewasm_protocol::update::{Update, UpdateDynamic, UpdateEntry, UpdateList, UpdateNode};

/// Stack given to the threads below: well under the 2 MiB of a tokio worker.
const SMALL_STACK: usize = 512 << 10;

fn lookup(id: u64) -> Option<Arc<Statics>> {
    let parts: &[&str] = match id {
        1 => &["<div>", "</div>"],
        2 => &["<ul>", "</ul>"],
        _ => return None,
    };
    Some(Arc::new(Statics {
        id,
        parts: parts.iter().map(|p| (*p).into()).collect(),
        root: true,
    }))
}

/// `depth` levels alternating a node (template 1) and a one-entry comprehension (template 1),
/// ending in text.
fn nested(depth: u32) -> Update {
    let mut update = Update::default();
    for level in 0..depth {
        let last = level + 1 == depth;
        let child = if last {
            UpdateDynamic::Html("leaf".into())
        } else if level % 2 == 0 {
            UpdateDynamic::List(update.lists.len() as u32)
        } else {
            UpdateDynamic::Node(update.nodes.len() as u32)
        };
        if level % 2 == 0 {
            update.nodes.push(UpdateNode {
                template: 1,
                dynamics: vec![child],
            });
        } else {
            update.lists.push(UpdateList {
                template: 1,
                entries: vec![UpdateEntry {
                    key: Some("k".into()),
                    dynamics: vec![child],
                }],
                stream: None,
            });
        }
    }
    update
}

fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .expect("thread")
        .join()
        .expect("no stack overflow")
}

#[test]
fn a_render_at_the_depth_limit_goes_through_every_step_on_a_small_stack() {
    let limits = RenderLimits::default();
    let depth = limits.max_depth as u32;
    let html = on_small_stack(move || {
        let update = nested(depth);
        let shape = check_limits(&update, &limits).expect("within the limits");
        assert_eq!(shape.depth, depth as usize);
        check(None, &update, &lookup).expect("judged");
        let (tree, diff) = apply_tree(None, update.clone(), &lookup).expect("diffed");
        // A second render of the same shape: diffed against the kept tree.
        check(Some(&tree), &update, &lookup).expect("judged again");
        let (tree, _) = apply_tree(Some(tree), update, &lookup).expect("diffed again");
        let json = full_tree(&tree);
        let text = serde_json::to_string(&json).expect("serialized");
        let mut client = ClientRendered::new(diff.into_value()).expect("merged");
        client.merge(json).expect("merged again");
        assert_eq!(client.to_html(), tree_html(&tree));
        drop(text);
        tree_html(&tree)
    });
    assert!(html.starts_with("<div><div>") && html.contains("leaf"));
}

#[test]
fn deeper_than_the_limit_is_refused_before_any_recursion() {
    let limits = RenderLimits::default();
    for depth in [limits.max_depth as u32 + 1, 100_000] {
        let verdict = on_small_stack(move || check_limits(&nested(depth), &limits));
        assert_eq!(verdict, Err(LimitError::TooDeep { limit: 64 }));
    }
}
