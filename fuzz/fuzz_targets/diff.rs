//! Applying a diff: any sequence of `Update`s (well-formed or not) against the kept tree, as
//! the host takes a guest's render: `limits::check_limits` first, then `check::check` and
//! `diff::apply_tree`. None panics; `check` gives `apply_tree`'s verdict; every accepted
//! diff merges into the client model (`ClientRendered`), whose HTML then equals the server's
//! (for sequences without streams, whose items the model keeps in its DOM instead), and so
//! does a fresh join's rendered tree.

#![no_main]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use livewasm_protocol::check::check;
use livewasm_protocol::client::ClientRendered;
use livewasm_protocol::diff::{apply_tree, full_tree, tree_html};
use livewasm_protocol::limits::{RenderLimits, check_limits};
use livewasm_protocol::rendered::{Statics, Tree};
use livewasm_protocol::update::{
    StreamInsert, StreamOps, Update, UpdateComponent, UpdateDynamic, UpdateEntry, UpdateList,
    UpdateNode,
};

/// Template ids a node or list may name; 99 is unknown.
const TEMPLATE_IDS: [u64; 8] = [1, 2, 3, 4, 5, 6, 7, 99];
/// Bounds on one update (the input's length bounds it too; `check_limits` bounds its depth).
const MAX_NODES: usize = 256;
const MAX_LISTS: usize = 16;
const MAX_ENTRIES: usize = 16;
const MAX_DYNAMICS: usize = 6;
const MAX_RENDERS: usize = 6;

fn templates() -> HashMap<u64, Arc<Statics>> {
    let t = |id: u64, root: bool, parts: &[&str]| {
        let parts = parts.iter().map(|p| (*p).into()).collect();
        (id, Arc::new(Statics { id, parts, root }))
    };
    [
        t(1, true, &["<div>", "|", "</div>"]),
        t(2, true, &["<li id=\"", "\">", "</li>"]),
        t(3, true, &["<p class=\"on\">", "</p>"]),
        t(4, true, &["<span>", "</span>"]),
        t(5, true, &["<br>"]),
        t(6, false, &["<b>", "</b><i></i>"]),
        t(
            7,
            true,
            &["<section><h2>", "</h2>", "<ul>", "</ul></section>"],
        ),
    ]
    .into_iter()
    .collect()
}

#[derive(Arbitrary, Debug)]
enum Dyn {
    Unchanged,
    Html(String),
    Node(u8),
    List(u8),
    Component(u8),
}

#[derive(Arbitrary, Debug)]
struct Node {
    template: u8,
    /// Pad or cut the dynamics to the template's arity.
    fit: bool,
    dynamics: Vec<Dyn>,
}

#[derive(Arbitrary, Debug)]
struct Entry {
    key: Option<u8>,
    dynamics: Vec<Dyn>,
}

#[derive(Arbitrary, Debug)]
struct Insert {
    dom_id: u8,
    at: i8,
    limit: Option<i8>,
    update_only: bool,
}

#[derive(Arbitrary, Debug)]
struct Stream {
    stream_ref: u8,
    inserts: Vec<Insert>,
    deletes: Vec<u8>,
    reset: bool,
}

#[derive(Arbitrary, Debug)]
struct List {
    template: u8,
    fit: bool,
    entries: Vec<Entry>,
    stream: Option<Stream>,
}

#[derive(Arbitrary, Debug)]
struct Render {
    nodes: Vec<Node>,
    lists: Vec<List>,
    title: Option<String>,
    /// `(cid, root node)` of the components rendered.
    components: Vec<(u8, u8)>,
    /// Cids the client reports destroyed after this render.
    destroyed: Vec<u8>,
}

fn template(byte: u8) -> u64 {
    TEMPLATE_IDS[usize::from(byte) % TEMPLATE_IDS.len()]
}

/// An index in `0..=len` (`len` itself is out of range).
fn index(byte: u8, len: usize) -> u32 {
    (u32::from(byte)) % (len as u32 + 1)
}

struct Convert<'a> {
    statics: &'a HashMap<u64, Arc<Statics>>,
    nodes: usize,
    lists: usize,
    streams: bool,
    /// A component was rendered or referred to. With streams too, the model may write the
    /// items a stream keeps with the components they name as they are now: a component that
    /// came to hold that stream since writes itself without end (the browser keeps items as
    /// HTML, the host forgets them), so such sequences stop before merging.
    components: bool,
}

impl Convert<'_> {
    fn dynamic(&self, d: Dyn) -> UpdateDynamic {
        match d {
            Dyn::Unchanged => UpdateDynamic::Unchanged,
            Dyn::Html(text) => UpdateDynamic::Html(text),
            Dyn::Node(i) => UpdateDynamic::Node(index(i, self.nodes)),
            Dyn::List(i) => UpdateDynamic::List(index(i, self.lists)),
            Dyn::Component(cid) => UpdateDynamic::Component(self.cid(cid)),
        }
    }

    fn cid(&self, byte: u8) -> u32 {
        u32::from(byte % 8)
    }

    fn dynamics(&self, template: u64, fit: bool, dynamics: Vec<Dyn>) -> Vec<UpdateDynamic> {
        let mut out: Vec<UpdateDynamic> = dynamics
            .into_iter()
            .take(MAX_DYNAMICS)
            .map(|d| self.dynamic(d))
            .collect();
        if fit && let Some(statics) = self.statics.get(&template) {
            out.resize(statics.arity(), UpdateDynamic::Html(String::new()));
        }
        out
    }

    fn update(&mut self, render: Render) -> Update {
        let nodes: Vec<Node> = render.nodes.into_iter().take(MAX_NODES).collect();
        let lists: Vec<List> = render.lists.into_iter().take(MAX_LISTS).collect();
        self.nodes = nodes.len();
        self.lists = lists.len();
        let nodes: Vec<UpdateNode> = nodes
            .into_iter()
            .map(|n| {
                let template = template(n.template);
                UpdateNode {
                    template,
                    dynamics: self.dynamics(template, n.fit, n.dynamics),
                }
            })
            .collect();
        let lists: Vec<UpdateList> = lists
            .into_iter()
            .map(|l| {
                let template = template(l.template);
                let entries = l
                    .entries
                    .into_iter()
                    .take(MAX_ENTRIES)
                    .map(|e| UpdateEntry {
                        key: e.key.map(|k| format!("k{}", k % 8)),
                        dynamics: self.dynamics(template, l.fit, e.dynamics),
                    })
                    .collect();
                let stream = l.stream.map(|s| {
                    self.streams = true;
                    StreamOps {
                        stream_ref: (s.stream_ref % 3).to_string(),
                        inserts: s
                            .inserts
                            .into_iter()
                            .take(MAX_ENTRIES)
                            .map(|i| StreamInsert {
                                dom_id: format!("i{}", i.dom_id % 8),
                                at: i32::from(i.at),
                                limit: i.limit.map(i32::from),
                                update_only: i.update_only,
                            })
                            .collect(),
                        deletes: s
                            .deletes
                            .into_iter()
                            .take(MAX_ENTRIES)
                            .map(|d| format!("i{}", d % 8))
                            .collect(),
                        reset: s.reset,
                    }
                });
                UpdateList {
                    template,
                    entries,
                    stream,
                }
            })
            .collect();
        let components = render
            .components
            .into_iter()
            .take(8)
            .map(|(cid, node)| UpdateComponent {
                cid: self.cid(cid),
                node: index(node, self.nodes),
            })
            .collect::<Vec<_>>();
        self.components |= !components.is_empty() || nodes_cids(&nodes).next().is_some();
        self.components |= lists_cids(&lists).next().is_some();
        Update {
            nodes,
            lists,
            title: render.title,
            components,
        }
    }
}

/// Pushes every cid `dynamics` refers to (through nodes and entries, not components).
fn kept_cids(dynamics: &[livewasm_protocol::rendered::Dynamic], out: &mut Vec<u32>) {
    use livewasm_protocol::rendered::Dynamic;
    for dynamic in dynamics {
        match dynamic {
            Dynamic::Html(_) => {}
            Dynamic::Component(cid) => out.push(*cid),
            Dynamic::Node(node) => kept_cids(&node.dynamics, out),
            Dynamic::List(list) => {
                for entry in &list.entries {
                    kept_cids(&entry.dynamics, out);
                }
            }
        }
    }
}

/// True when some component is referred to from two places of the page. The engine refuses
/// that (found by this target: the dead render and the client model wrote such a component at
/// each place, so a chain of components each placed twice in the next made 2^n copies).
fn shared_component(tree: &Tree) -> bool {
    // Only the components the page shows count: one the root no longer reaches stays held
    // (until the client destroys it) but is written nowhere.
    let mut refs = Vec::new();
    kept_cids(&tree.root.dynamics, &mut refs);
    let mut seen = HashSet::new();
    let mut next = 0;
    while let Some(&cid) = refs.get(next) {
        next += 1;
        if !seen.insert(cid) {
            return true;
        }
        if let Some(node) = tree.components.get(&cid) {
            kept_cids(&node.dynamics, &mut refs);
        }
    }
    false
}

/// True when a stream comprehension holds another one in its entries (at any depth). The
/// client model writes the items a stream keeps from their entries, so a stream whose items
/// hold it (the same ref nested in itself, now or across renders) writes itself again and
/// again; the browser keeps items as HTML and the host forgets them, so only the model
/// cannot follow. Such sequences stop there: applied, not merged nor rendered.
fn stream_in_stream(update: &Update) -> bool {
    /// Whether `dynamics` reach a stream; each list and node is walked once (those no root
    /// reaches may form cycles: `check_limits` walks from the roots only).
    fn reaches_stream(
        update: &Update,
        dynamics: &[UpdateDynamic],
        seen: &mut HashSet<(bool, u32)>,
    ) -> bool {
        dynamics.iter().any(|d| match d {
            UpdateDynamic::Node(i) => {
                seen.insert((false, *i))
                    && update
                        .nodes
                        .get(*i as usize)
                        .is_some_and(|n| reaches_stream(update, &n.dynamics, seen))
            }
            UpdateDynamic::List(i) => {
                seen.insert((true, *i))
                    && update.lists.get(*i as usize).is_some_and(|l| {
                        l.stream.is_some()
                            || l.entries
                                .iter()
                                .any(|e| reaches_stream(update, &e.dynamics, seen))
                    })
            }
            _ => false,
        })
    }
    let mut seen = HashSet::new();
    update.lists.iter().filter(|l| l.stream.is_some()).any(|l| {
        l.entries
            .iter()
            .any(|e| reaches_stream(update, &e.dynamics, &mut seen))
    })
}

fn cids(dynamics: &[UpdateDynamic]) -> impl Iterator<Item = u32> + '_ {
    dynamics.iter().filter_map(|d| match d {
        UpdateDynamic::Component(cid) => Some(*cid),
        _ => None,
    })
}

fn nodes_cids(nodes: &[UpdateNode]) -> impl Iterator<Item = u32> + '_ {
    nodes.iter().flat_map(|n| cids(&n.dynamics))
}

fn lists_cids(lists: &[UpdateList]) -> impl Iterator<Item = u32> + '_ {
    lists
        .iter()
        .flat_map(|l| l.entries.iter())
        .flat_map(|e| cids(&e.dynamics))
}

fuzz_target!(|renders: Vec<Render>| {
    let statics = templates();
    let lookup = |id: u64| statics.get(&id).cloned();
    let mut convert = Convert {
        statics: &statics,
        nodes: 0,
        lists: 0,
        streams: false,
        components: false,
    };
    // The host's figures, with a depth a short input can exceed.
    let limits = RenderLimits {
        max_depth: 16,
        ..RenderLimits::default()
    };
    let mut tree: Option<Tree> = None;
    let mut client: Option<ClientRendered> = None;
    for render in renders.into_iter().take(MAX_RENDERS) {
        let destroyed: Vec<u32> = render.destroyed.iter().map(|c| u32::from(c % 8)).collect();
        let update = convert.update(render);
        if check_limits(&update, &limits).is_err() {
            // The host refuses it before any diff work.
            continue;
        }
        let nested_streams = stream_in_stream(&update);
        let verdict = check(tree.as_ref(), &update, &lookup);
        let applied = apply_tree(tree.clone(), update, &lookup);
        assert_eq!(
            verdict,
            applied.as_ref().map(|_| ()).map_err(Clone::clone),
            "check and apply_tree disagree"
        );
        let Ok((mut next, diff)) = applied else {
            // The host keeps its tree (and the client its own) when a render is refused.
            continue;
        };
        assert!(!shared_component(&next), "a component kept at two places");
        assert!(
            next.components.keys().all(|&cid| cid != 0),
            "a component kept with cid 0"
        );
        let streamed_components = convert.streams && convert.components;
        if nested_streams || streamed_components {
            // Applied, not merged nor rendered: see `components` and `stream_in_stream`.
            break;
        }
        let diff = diff.into_value();
        match client.as_mut() {
            None => client = Some(ClientRendered::new(diff).expect("the first render merges")),
            Some(client) => client.merge(diff).expect("a diff merges"),
        }
        let removed = next.destroy(&destroyed);
        let client = client.as_mut().expect("joined");
        client.prune(&removed);
        if !convert.streams {
            let html = tree_html(&next);
            assert_eq!(client.to_html(), html, "the client's page differs");
            let joined = ClientRendered::new(full_tree(&next)).expect("a full tree merges");
            assert_eq!(joined.to_html(), html, "a fresh join's page differs");
        }
        tree = Some(next);
    }
});
