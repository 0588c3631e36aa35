//! The rendered tree the host keeps for every view, to diff the next render against.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The statics of one template: the literal HTML around its dynamics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statics {
    /// The template's fingerprint (as the guest names it).
    pub id: u64,
    /// `dynamics + 1` literal strings.
    pub parts: Box<[Box<str>]>,
    /// True when the parts form exactly one HTML element.
    pub root: bool,
}

impl Statics {
    /// How many dynamics a node of this template has.
    pub fn arity(&self) -> usize {
        self.parts.len().saturating_sub(1)
    }
}

/// One dynamic slot of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dynamic {
    /// Escaped HTML text.
    Html(Box<str>),
    /// A nested template instance.
    Node(Box<Node>),
    /// A comprehension.
    List(Box<List>),
    /// A live component, by id.
    Component(u32),
}

/// A template instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Its template's statics.
    pub statics: Arc<Statics>,
    /// One value per gap between statics.
    pub dynamics: Vec<Dynamic>,
}

/// A comprehension: entries sharing one template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    /// The shared template.
    pub statics: Arc<Statics>,
    /// The entries, in order. For a stream: only the items inserted by the latest render
    /// (the client keeps the others in its DOM; the host forgets them at the next render).
    pub entries: Vec<Entry>,
    /// The stream's reference when the comprehension is a stream.
    pub stream: Option<Box<str>>,
}

/// One entry of a comprehension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Stable key, when the view gave one.
    pub key: Option<Box<str>>,
    /// The entry's dynamics.
    pub dynamics: Vec<Dynamic>,
}

/// Everything the host keeps for one view: its root tree and the trees of its live components,
/// by component id (cid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    /// The view's own tree.
    pub root: Node,
    /// Each live component the client may still hold, by cid.
    pub components: BTreeMap<u32, Node>,
}

impl Tree {
    /// A tree without components.
    pub fn new(root: Node) -> Tree {
        Tree {
            root,
            components: BTreeMap::new(),
        }
    }

    /// The cids reachable from the root, directly or through other components.
    pub fn reachable_cids(&self) -> BTreeSet<u32> {
        let mut seen = BTreeSet::new();
        let mut stack = Vec::new();
        collect_cids(&self.root.dynamics, &mut stack);
        while let Some(cid) = stack.pop() {
            if seen.insert(cid)
                && let Some(node) = self.components.get(&cid)
            {
                collect_cids(&node.dynamics, &mut stack);
            }
        }
        seen
    }

    /// Forgets the components in `cids` that nothing on the page refers to any more (the
    /// client reported them destroyed); returns the cids actually removed, in order.
    pub fn destroy(&mut self, cids: &[u32]) -> Vec<u32> {
        let reachable = self.reachable_cids();
        let mut removed = Vec::new();
        for cid in cids {
            if !reachable.contains(cid) && self.components.remove(cid).is_some() {
                removed.push(*cid);
            }
        }
        removed
    }
}

/// Pushes every cid mentioned in `dynamics` (at any depth, not through components) onto `out`.
pub(crate) fn collect_cids(dynamics: &[Dynamic], out: &mut Vec<u32>) {
    for dynamic in dynamics {
        match dynamic {
            Dynamic::Html(_) => {}
            Dynamic::Component(cid) => out.push(*cid),
            Dynamic::Node(node) => collect_cids(&node.dynamics, out),
            Dynamic::List(list) => {
                for entry in &list.entries {
                    collect_cids(&entry.dynamics, out);
                }
            }
        }
    }
}
