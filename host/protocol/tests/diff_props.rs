//! Property tests of the diff engine (issue 11):
//!
//! - any update, well-formed or not, against no tree or a kept one, gives a tree and a diff or an
//!   error, never a panic: `limits::check_limits` first (as the host), then `check::check`,
//!   which gives the same verdict as `diff::apply_tree`;
//! - applying an update, then rendering the kept tree, gives the HTML that the client model
//!   shows after merging the diff (and after a fresh join's full render);
//! - an update that changes nothing (the same render again, any of its slots `unchanged`)
//!   gives an empty diff and leaves the kept tree as it was.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use livewasm_protocol::check::check;
use livewasm_protocol::client::ClientRendered;
use livewasm_protocol::diff::{DiffError, apply_tree, full_tree, to_html, tree_html};
use livewasm_protocol::limits::{RenderLimits, check_limits};
use livewasm_protocol::rendered::{Statics, Tree};
use livewasm_protocol::update::{
    StreamInsert, StreamOps, Update, UpdateComponent, UpdateDynamic as D, UpdateEntry, UpdateList,
    UpdateNode,
};
use proptest::prelude::*;

mod support;
use support::templates;

/// Templates of `support::templates` with one dynamic, and with two.
const ARITY_1: [u64; 2] = [3, 4];
const ARITY_2: [u64; 3] = [1, 2, 5];
/// Template ids a malformed update may name: known ones of every kind, and one nobody knows.
const ANY_TEMPLATE: [u64; 10] = [1, 2, 3, 4, 5, 10, 11, 12, 13, 99];

/// A well-formed render, as a tree (flattened into an [`Update`] by [`flatten`]).
#[derive(Debug, Clone)]
enum Slot {
    Text(String),
    Node(GenNode),
    List(GenList),
}

#[derive(Debug, Clone)]
struct GenNode {
    template: u64,
    dynamics: Vec<Slot>,
}

#[derive(Debug, Clone)]
struct GenList {
    template: u64,
    /// Every entry has a key (distinct ones), or none has.
    keyed: bool,
    entries: Vec<(u8, Vec<Slot>)>,
}

fn text() -> impl Strategy<Value = String> {
    "[ab<&\"]{0,3}"
}

/// A node of a template of the right arity over `inner` slots.
fn node_of(inner: BoxedStrategy<Slot>) -> BoxedStrategy<GenNode> {
    prop_oneof![
        (prop::sample::select(&ARITY_1[..]), inner.clone()).prop_map(|(template, a)| GenNode {
            template,
            dynamics: vec![a],
        }),
        (prop::sample::select(&ARITY_2[..]), inner.clone(), inner).prop_map(|(template, a, b)| {
            GenNode {
                template,
                dynamics: vec![a, b],
            }
        }),
    ]
    .boxed()
}

/// A comprehension over `inner` slots: keys from a small pool (so renders move entries).
fn list_of(inner: BoxedStrategy<Slot>) -> BoxedStrategy<GenList> {
    let one = prop::collection::vec((0u8..6, inner.clone().prop_map(|a| vec![a])), 0..5);
    let two = prop::collection::vec(
        (0u8..6, (inner.clone(), inner).prop_map(|(a, b)| vec![a, b])),
        0..5,
    );
    let dedup = |mut entries: Vec<(u8, Vec<Slot>)>, keyed: bool| {
        if keyed {
            let mut seen = BTreeSet::new();
            entries.retain(|(key, _)| seen.insert(*key));
        }
        entries
    };
    prop_oneof![
        (prop::sample::select(&ARITY_1[..]), any::<bool>(), one).prop_map(
            move |(template, keyed, entries)| GenList {
                template,
                keyed,
                entries: dedup(entries, keyed),
            }
        ),
        (prop::sample::select(&ARITY_2[..]), any::<bool>(), two).prop_map(
            move |(template, keyed, entries)| GenList {
                template,
                keyed,
                entries: dedup(entries, keyed),
            }
        ),
    ]
    .boxed()
}

fn slot() -> BoxedStrategy<Slot> {
    text()
        .prop_map(Slot::Text)
        .prop_recursive(4, 24, 4, |inner| {
            let inner = inner.boxed();
            prop_oneof![
                2 => text().prop_map(Slot::Text),
                1 => node_of(inner.clone()).prop_map(Slot::Node),
                1 => list_of(inner).prop_map(Slot::List),
            ]
        })
        .boxed()
}

fn root() -> BoxedStrategy<GenNode> {
    node_of(slot())
}

/// Flattens `root` into an update; a slot for which `unchanged` answers true is sent as
/// `unchanged` (with `repeat`, so are empty comprehensions: sending one again sends `""`, as
/// the client holds no template for it).
fn flatten(root: &GenNode, unchanged: &mut dyn FnMut() -> bool, repeat: bool) -> Update {
    struct Flat<'a> {
        update: Update,
        unchanged: &'a mut dyn FnMut() -> bool,
        repeat: bool,
    }
    impl Flat<'_> {
        fn node(&mut self, node: &GenNode) -> u32 {
            let index = self.update.nodes.len();
            self.update.nodes.push(UpdateNode {
                template: node.template,
                dynamics: Vec::new(),
            });
            let dynamics = self.slots(&node.dynamics);
            self.update.nodes[index].dynamics = dynamics;
            index as u32
        }
        fn slots(&mut self, slots: &[Slot]) -> Vec<D> {
            slots.iter().map(|s| self.slot(s)).collect()
        }
        fn slot(&mut self, slot: &Slot) -> D {
            let empty_list = matches!(slot, Slot::List(l) if l.entries.is_empty());
            if (self.unchanged)() || (self.repeat && empty_list) {
                return D::Unchanged;
            }
            match slot {
                Slot::Text(text) => D::Html(text.clone()),
                Slot::Node(node) => D::Node(self.node(node)),
                Slot::List(list) => {
                    let index = self.update.lists.len();
                    self.update.lists.push(UpdateList {
                        template: list.template,
                        entries: Vec::new(),
                        stream: None,
                    });
                    let entries = list
                        .entries
                        .iter()
                        .map(|(key, slots)| UpdateEntry {
                            key: list.keyed.then(|| format!("k{key}")),
                            dynamics: self.slots(slots),
                        })
                        .collect();
                    self.update.lists[index].entries = entries;
                    D::List(index as u32)
                }
            }
        }
    }
    let mut flat = Flat {
        update: Update::default(),
        unchanged,
        repeat,
    };
    flat.node(root);
    flat.update
}

fn sent(root: &GenNode) -> Update {
    flatten(root, &mut || false, false)
}

type Lookup = HashMap<u64, Arc<Statics>>;

/// A view as host and client hold it.
struct View<'a> {
    statics: &'a Lookup,
    tree: Option<Tree>,
    client: Option<ClientRendered>,
    /// A stream was rendered: the client model keeps its items in its DOM, the tree does not.
    streams: bool,
    /// A stream was rendered inside a stream's entries, or streams and live components were
    /// both rendered: the client model, which writes the items a stream keeps from their
    /// entries (with the components they name as they are now), may then write a stream
    /// inside itself without end (the browser keeps items as HTML, the host forgets them), so
    /// the client is no longer followed.
    detached: bool,
    /// A live component was rendered.
    components: bool,
}

impl<'a> View<'a> {
    /// Applies a well-formed update, which must be accepted; true when its diff is empty.
    fn accept(&mut self, update: Update) -> Result<bool, TestCaseError> {
        self.apply(update)?
            .map_err(|e| TestCaseError::fail(format!("a well-formed update was refused: {e}")))
    }

    fn new(statics: &'a Lookup) -> View<'a> {
        View {
            statics,
            tree: None,
            client: None,
            streams: false,
            detached: false,
            components: false,
        }
    }

    /// Applies `update` as the host does; on success, the client merges the diff and shows
    /// the host's page. Returns whether the diff was empty, or why the update was refused.
    fn apply(&mut self, update: Update) -> Result<Result<bool, String>, TestCaseError> {
        let lookup = |id: u64| self.statics.get(&id).cloned();
        // As the host: the update's size and shape first, before any diff work.
        if let Err(e) = check_limits(&update, &RenderLimits::default()) {
            return Ok(Err(e.to_string()));
        }
        self.streams |= update.lists.iter().any(|l| l.stream.is_some());
        let verdict = check(self.tree.as_ref(), &update, &lookup);
        let applied = apply_tree(self.tree.clone(), update.clone(), &lookup);
        prop_assert_eq!(
            &verdict,
            &applied.as_ref().map(|_| ()).map_err(Clone::clone),
            "check and apply_tree disagree on {:?}",
            update
        );
        let (tree, diff) = match applied {
            Ok(done) => done,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let empty = diff.is_empty();
        self.components |= !update.components.is_empty();
        self.detached |= stream_in_stream(&update) || (self.streams && self.components);
        if self.detached {
            self.tree = Some(tree);
            return Ok(Ok(empty));
        }
        let diff = diff.into_value();
        match self.client.as_mut() {
            None => {
                self.client = Some(
                    ClientRendered::new(diff.clone())
                        .map_err(|e| TestCaseError::fail(format!("{e} merging {diff}")))?,
                )
            }
            Some(client) => client
                .merge(diff.clone())
                .map_err(|e| TestCaseError::fail(format!("{e} merging {diff}")))?,
        }
        if !self.streams {
            let html = tree_html(&tree);
            let client = self.client.as_ref().expect("joined");
            prop_assert_eq!(client.to_html(), html.clone(), "after merging {}", diff);
            let joined = ClientRendered::new(full_tree(&tree))
                .map_err(|e| TestCaseError::fail(format!("join: {e}")))?;
            prop_assert_eq!(joined.to_html(), html);
        }
        self.tree = Some(tree);
        Ok(Ok(empty))
    }
}

/// True when a stream comprehension holds another one in its entries, at any depth (called
/// on updates `check_limits` accepted: a tree).
fn stream_in_stream(update: &Update) -> bool {
    /// Whether `dynamics` reach a stream; each list and node is walked once (those no root
    /// reaches may form cycles: `check_limits` walks from the roots only).
    fn reaches_stream(update: &Update, dynamics: &[D], seen: &mut HashSet<(bool, u32)>) -> bool {
        dynamics.iter().any(|d| match d {
            D::Node(i) => {
                seen.insert((false, *i))
                    && update
                        .nodes
                        .get(*i as usize)
                        .is_some_and(|n| reaches_stream(update, &n.dynamics, seen))
            }
            D::List(i) => {
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

/// Any update at all: templates known or not, of any arity, indices in and out of range,
/// `unchanged` anywhere, keys repeated or mixed, streams, components (cids from 1, as the SDK
/// numbers them: see [`components_sharing_the_statics_of_cid_0`]).
fn raw_update() -> impl Strategy<Value = Update> {
    let dynamic = prop_oneof![
        Just(D::Unchanged),
        text().prop_map(D::Html),
        (0u32..7).prop_map(D::Node),
        (0u32..4).prop_map(D::List),
        (1u32..5).prop_map(D::Component),
    ];
    let dynamics = prop::collection::vec(dynamic, 0..4);
    let template = prop::sample::select(&ANY_TEMPLATE[..]);
    let node = (template.clone(), dynamics.clone())
        .prop_map(|(template, dynamics)| UpdateNode { template, dynamics });
    let entry = (prop::option::of(0u8..3), dynamics).prop_map(|(key, dynamics)| UpdateEntry {
        key: key.map(|k| format!("k{k}")),
        dynamics,
    });
    let insert = (0u8..4, -2i32..3, prop::option::of(-3i32..4), any::<bool>()).prop_map(
        |(id, at, limit, update_only)| StreamInsert {
            dom_id: format!("i{id}"),
            at,
            limit,
            update_only,
        },
    );
    let stream = (
        prop::collection::vec(insert, 0..3),
        prop::collection::vec((0u8..4).prop_map(|id| format!("i{id}")), 0..2),
        any::<bool>(),
    )
        .prop_map(|(inserts, deletes, reset)| StreamOps {
            stream_ref: "0".into(),
            inserts,
            deletes,
            reset,
        });
    let list = (
        template,
        prop::collection::vec(entry, 0..4),
        prop::option::weighted(0.2, stream),
    )
        .prop_map(|(template, entries, stream)| UpdateList {
            template,
            entries,
            stream,
        });
    let component = (1u32..5, 0u32..7).prop_map(|(cid, node)| UpdateComponent { cid, node });
    (
        prop::collection::vec(node, 0..7),
        prop::collection::vec(list, 0..4),
        prop::option::of(text()),
        prop::collection::vec(component, 0..3),
    )
        .prop_map(|(nodes, lists, title, components)| Update {
            nodes,
            lists,
            title,
            components,
        })
}

/// A well-formed render (some slots `unchanged`, right or wrong for the kept tree) with a few
/// damages: a template switched, a slot pointed elsewhere, a dynamic dropped, a key changed, a
/// node rendered as a live component (and referred to, or not).
fn damaged_update() -> impl Strategy<Value = Update> {
    (
        root(),
        prop::collection::vec(prop::bool::weighted(0.1), 16),
        prop::collection::vec((0u8..6, any::<u8>(), any::<u8>()), 0..4),
    )
        .prop_map(|(root, mask, damages)| {
            let mut bits = mask.into_iter().cycle();
            let mut update = flatten(&root, &mut || bits.next().unwrap_or(false), false);
            for (kind, a, b) in damages {
                damage(&mut update, kind, usize::from(a), usize::from(b));
            }
            update
        })
}

fn damage(update: &mut Update, kind: u8, a: usize, b: usize) {
    let nodes = update.nodes.len();
    let lists = update.lists.len();
    let mut slots: Vec<&mut D> = update
        .nodes
        .iter_mut()
        .flat_map(|n| n.dynamics.iter_mut())
        .chain(
            update
                .lists
                .iter_mut()
                .flat_map(|l| l.entries.iter_mut())
                .flat_map(|e| e.dynamics.iter_mut()),
        )
        .collect();
    let count = slots.len();
    match kind {
        0 => update.nodes[a % nodes].template = ANY_TEMPLATE[b % ANY_TEMPLATE.len()],
        1 if count > 0 => {
            *slots[a % count] = match b % 3 {
                0 => D::Node((b / 3 % (nodes + 1)) as u32),
                1 => D::List((b / 3 % (lists + 1)) as u32),
                _ => D::Unchanged,
            }
        }
        2 => {
            update.nodes[a % nodes].dynamics.pop();
        }
        3 if lists > 0 => {
            let list = &mut update.lists[a % lists];
            let entries = list.entries.len();
            if entries > 0 {
                list.entries[b % entries].key = b.is_multiple_of(2).then(|| format!("k{}", b % 3));
            }
        }
        4 | 5 if nodes > 1 => {
            let cid = (1 + b % 3) as u32;
            update.components.push(UpdateComponent {
                cid,
                node: (1 + a % (nodes - 1)) as u32,
            });
            if kind == 5 {
                update.nodes[0].dynamics.push(D::Component(cid));
                update.nodes[0].template = ANY_TEMPLATE[(update.nodes[0].dynamics.len() + b) % 5];
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // Shrunk failures are printed; nothing is written next to the sources.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Bad input gives an error, never a panic; what is accepted keeps the client in step.
    #[test]
    fn any_update_is_applied_or_refused(
        first in prop::option::of(root()),
        updates in prop::collection::vec(prop_oneof![raw_update(), damaged_update()], 1..4),
    ) {
        let statics = templates();
        let mut view = View::new(&statics);
        if let Some(first) = &first {
            view.accept(sent(first))?;
        }
        for update in updates {
            // Accepted or refused (`Err`), never a panic; `apply` checks the rest.
            let _ = view.apply(update)?;
        }
    }

    /// Apply then render equals the client model's merge of the diff, over sequences of
    /// renders (text changes, nodes swapped for others, keyed and unkeyed entries moved, added
    /// and removed).
    #[test]
    fn the_client_model_shows_what_the_host_renders(
        renders in prop::collection::vec(root(), 1..6),
    ) {
        let statics = templates();
        let mut view = View::new(&statics);
        for render in &renders {
            view.accept(sent(render))?;
            let tree = view.tree.as_ref().expect("rendered");
            prop_assert_eq!(to_html(&tree.root), tree_html(tree));
        }
    }

    /// Unchanged renders give empty diffs: the same render again, with any of its slots sent as
    /// `unchanged`, changes neither the client nor the kept tree.
    #[test]
    fn unchanged_renders_give_empty_diffs(
        before in prop::option::of(root()),
        render in root(),
        mask in prop::collection::vec(any::<bool>(), 64),
    ) {
        let statics = templates();
        let mut view = View::new(&statics);
        if let Some(before) = &before {
            view.accept(sent(before))?;
        }
        view.accept(sent(&render))?;
        let kept = view.tree.clone();
        let mut bits = mask.into_iter().cycle();
        let again = flatten(&render, &mut || bits.next().unwrap_or(false), true);
        prop_assert!(view.accept(again)?, "a repeated render sent a diff");
        prop_assert_eq!(&view.tree, &kept);
        // A root whose every slot is `unchanged`.
        let template = render.template;
        let dynamics = vec![D::Unchanged; render.dynamics.len()];
        let bare = Update {
            nodes: vec![UpdateNode { template, dynamics }],
            ..Update::default()
        };
        prop_assert!(view.accept(bare)?, "an all-unchanged render sent a diff");
        prop_assert_eq!(&view.tree, &kept);
    }
}

/// Found by the `diff` fuzz target: components sharing the statics of a component with cid 0
/// would be sent `s: 0`, which the client cannot tell from a component's own statics (`+0` and
/// `-0` are both `0`), so their HTML was lost. The SDK numbers cids from 1; a guest speaking the
/// raw WIT world could use 0. The engine now refuses cid 0, in `check` as in `apply_tree`.
#[test]
fn a_component_with_cid_0_is_refused() {
    let statics = templates();
    let lookup = |id: u64| statics.get(&id).cloned();
    let para = |text: &str| UpdateNode {
        template: 3,
        dynamics: vec![D::Html(text.into())],
    };
    let update = Update {
        nodes: vec![
            UpdateNode {
                template: 1,
                dynamics: vec![D::Component(0), D::Component(4)],
            },
            para("zero"),
            para("four"),
        ],
        components: vec![
            UpdateComponent { cid: 0, node: 1 },
            UpdateComponent { cid: 4, node: 2 },
        ],
        ..Update::default()
    };
    check_limits(&update, &RenderLimits::default()).unwrap();
    assert_eq!(check(None, &update, &lookup), Err(DiffError::ZeroCid));
    assert_eq!(
        apply_tree(None, update, &lookup).map(|_| ()),
        Err(DiffError::ZeroCid)
    );
}

/// Found by the `diff` fuzz target (a 1.7 KB input took 31 s and 2 GB): a live component
/// referred to from two places was written at each by `tree_html`, the host's dead render (and
/// by the client model), so components each placed twice in the next made a page of 2^n copies
/// from an update that passes `check_limits` (a few nodes). As Phoenix refuses a component
/// rendered twice, the engine refuses a component placed twice, in `check` as in `apply_tree`,
/// and `tree_html` writes each component once whatever tree it is given.
#[test]
fn a_chain_of_components_placed_twice_is_refused() {
    let statics = templates();
    let lookup = |id: u64| statics.get(&id).cloned();
    const CHAIN: u32 = 20;
    // Node 0: the root with component 1 twice; node k: component k, with k + 1 twice.
    let mut nodes = vec![UpdateNode {
        template: 1,
        dynamics: vec![D::Component(1), D::Component(1)],
    }];
    let mut components = Vec::new();
    for cid in 1..=CHAIN {
        let next = if cid < CHAIN {
            vec![D::Component(cid + 1), D::Component(cid + 1)]
        } else {
            vec![D::Html("x".into()), D::Html("y".into())]
        };
        components.push(UpdateComponent {
            cid,
            node: nodes.len() as u32,
        });
        nodes.push(UpdateNode {
            template: 1,
            dynamics: next,
        });
    }
    let update = Update {
        nodes,
        components,
        ..Update::default()
    };
    check_limits(&update, &RenderLimits::default()).unwrap();
    let verdict = check(None, &update, &lookup);
    assert!(
        matches!(verdict, Err(DiffError::ComponentPlacedTwice(_))),
        "{verdict:?}"
    );
    assert_eq!(
        apply_tree(None, update.clone(), &lookup).map(|_| ()),
        verdict
    );

    // The same chain as a kept tree, built by hand: the HTML writer stays linear.
    let tree = hand_built_chain(&statics, CHAIN);
    let html = tree_html(&tree);
    assert!(
        html.len() < 100 * CHAIN as usize,
        "{} bytes of HTML from {CHAIN} components",
        html.len()
    );
    assert!(html.contains('x') && html.contains('y'), "{html}");
}

/// A component placed twice across renders: the root keeps component 1 in an `unchanged` slot
/// while a later render places it again in another slot.
#[test]
fn a_component_placed_again_in_a_later_render_is_refused() {
    let statics = templates();
    let lookup = |id: u64| statics.get(&id).cloned();
    let first = Update {
        nodes: vec![
            UpdateNode {
                template: 1,
                dynamics: vec![D::Component(1), D::Html("-".into())],
            },
            UpdateNode {
                template: 3,
                dynamics: vec![D::Html("one".into())],
            },
        ],
        components: vec![UpdateComponent { cid: 1, node: 1 }],
        ..Update::default()
    };
    let (tree, _) = apply_tree(None, first, &lookup).unwrap();
    let again = Update {
        nodes: vec![UpdateNode {
            template: 1,
            dynamics: vec![D::Unchanged, D::Component(1)],
        }],
        ..Update::default()
    };
    assert_eq!(
        check(Some(&tree), &again, &lookup),
        Err(DiffError::ComponentPlacedTwice(1))
    );
    assert_eq!(
        apply_tree(Some(tree), again, &lookup).map(|_| ()),
        Err(DiffError::ComponentPlacedTwice(1))
    );
}

/// A kept tree whose root places component 1 twice and component k places k + 1 twice, as the
/// engine would never keep it.
fn hand_built_chain(statics: &HashMap<u64, Arc<Statics>>, chain: u32) -> Tree {
    use livewasm_protocol::rendered::{Dynamic, Node};
    let two = statics[&1].clone();
    let node = |dynamics: Vec<Dynamic>| Node {
        statics: two.clone(),
        dynamics,
    };
    let mut components = std::collections::BTreeMap::new();
    for cid in 1..=chain {
        let dynamics = if cid < chain {
            vec![Dynamic::Component(cid + 1), Dynamic::Component(cid + 1)]
        } else {
            vec![Dynamic::Html("x".into()), Dynamic::Html("y".into())]
        };
        components.insert(cid, node(dynamics));
    }
    Tree {
        root: node(vec![Dynamic::Component(1), Dynamic::Component(1)]),
        components,
    }
}
