//! How big a render may be, checked on the flat [`Update`] before anything else looks at it.
//!
//! A render comes from a guest, which may be hostile. [`check_limits`] reads the update's
//! arrays once and walks its tree with an explicit stack (no recursion, whatever the input),
//! and refuses it when it is too deep, too large, or not a tree: an index out of range, a node
//! or comprehension referenced twice (sharing) or from below itself (a cycle). Only an update
//! that passes goes on to [`crate::check::check`], [`crate::diff::apply_tree`] and the HTML
//! writer, whose recursion is therefore at most [`RenderLimits::max_depth`] levels deep (the
//! tree the host keeps is never deeper than the updates merged into it: an `unchanged` slot
//! keeps its subtree at the position it had).

use std::collections::HashMap;

use crate::update::{Update, UpdateDynamic};

/// The limits of one render. [`RenderLimits::default`] holds the figures a host uses unless it
/// is configured otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderLimits {
    /// Deepest nesting of nodes and comprehensions from a root (the view's root node or a live
    /// component's), the root counting as 1. Default 64.
    pub max_depth: usize,
    /// Nodes and comprehensions in one update, together. Default 100,000.
    pub max_nodes: usize,
    /// Comprehension entries in one update, over all comprehensions. Default 100,000.
    pub max_entries: usize,
    /// Dynamic slots in one update, over all nodes and entries. Default 500,000.
    pub max_dynamics: usize,
    /// Bytes of text in one update: escaped HTML, entry keys, the title, stream refs and DOM
    /// ids. Default 4 MiB.
    pub max_text_bytes: usize,
    /// Live components rendered in one update, and held by one view. Default 10,000.
    pub max_components: usize,
    /// Distinct templates one update refers to. Default 1,024.
    pub max_templates: usize,
}

impl Default for RenderLimits {
    fn default() -> Self {
        RenderLimits {
            max_depth: 64,
            max_nodes: 100_000,
            max_entries: 100_000,
            max_dynamics: 500_000,
            max_text_bytes: 4 << 20,
            max_components: 10_000,
            max_templates: 1024,
        }
    }
}

/// Why a render was refused before any diff work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// The update has no root node.
    #[error("render returned no nodes")]
    Empty,
    /// Nested deeper than [`RenderLimits::max_depth`].
    #[error("render nested deeper than {limit} levels")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// One of the counted quantities is over its limit.
    #[error("render has {got} {what}, more than the limit of {limit}")]
    TooMany {
        /// What was counted (`nodes`, `entries`, `dynamics`, `bytes of text`, …).
        what: &'static str,
        /// How many the update has (at least).
        got: usize,
        /// The limit.
        limit: usize,
    },
    /// A dynamic names a node index that does not exist.
    #[error("node index {0} out of range")]
    MissingNode(u32),
    /// A dynamic names a comprehension index that does not exist.
    #[error("comprehension index {0} out of range")]
    MissingList(u32),
    /// A node is referenced twice (shared, or part of a cycle; the root is never referenced).
    #[error("node {0} referenced more than once (shared or cyclic)")]
    NodeReused(u32),
    /// A comprehension is referenced twice.
    #[error("comprehension {0} referenced more than once")]
    ListReused(u32),
    /// Two uses of one template disagree on its number of dynamics.
    #[error("template {template:#018x} used with {first} and with {second} dynamics")]
    ArityConflict {
        /// The template.
        template: u64,
        /// Dynamics at its first use.
        first: usize,
        /// Dynamics at a later use.
        second: usize,
    },
}

/// What [`check_limits`] learnt about an update that passed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    /// Each template the update uses, with its number of dynamics when a node or an entry
    /// shows it (`None` for a template only used by empty comprehensions). The statics a host
    /// fetches for it must have exactly one part more.
    pub templates: HashMap<u64, Option<usize>>,
    /// Deepest nesting met.
    pub depth: usize,
}

impl Shape {
    /// The number of dynamics template `id` is used with in this update, if shown.
    pub fn arity(&self, id: u64) -> Option<usize> {
        self.templates.get(&id).copied().flatten()
    }
}

/// Checks `update` against `limits` in time linear in its size and constant stack.
pub fn check_limits(update: &Update, limits: &RenderLimits) -> Result<Shape, LimitError> {
    if update.nodes.is_empty() {
        return Err(LimitError::Empty);
    }
    let over = |what: &'static str, got: usize, limit: usize| {
        if got > limit {
            Err(LimitError::TooMany { what, got, limit })
        } else {
            Ok(())
        }
    };
    over(
        "nodes and comprehensions",
        update.nodes.len().saturating_add(update.lists.len()),
        limits.max_nodes,
    )?;
    over(
        "live components",
        update.components.len(),
        limits.max_components,
    )?;
    let entries = update
        .lists
        .iter()
        .fold(0usize, |n, l| n.saturating_add(l.entries.len()));
    over("comprehension entries", entries, limits.max_entries)?;
    let dynamics = update
        .nodes
        .iter()
        .map(|n| n.dynamics.len())
        .chain(
            update
                .lists
                .iter()
                .flat_map(|l| l.entries.iter().map(|e| e.dynamics.len())),
        )
        .fold(0usize, usize::saturating_add);
    over("dynamics", dynamics, limits.max_dynamics)?;
    over("bytes of text", text_bytes(update), limits.max_text_bytes)?;

    let mut shape = Shape::default();
    let mut arity = |template: u64, got: Option<usize>| -> Result<(), LimitError> {
        let known = shape.templates.entry(template).or_insert(got);
        match (*known, got) {
            (Some(first), Some(second)) if first != second => Err(LimitError::ArityConflict {
                template,
                first,
                second,
            }),
            (None, Some(_)) => {
                *known = got;
                Ok(())
            }
            _ => Ok(()),
        }
    };
    for node in &update.nodes {
        arity(node.template, Some(node.dynamics.len()))?;
    }
    for list in &update.lists {
        arity(
            list.template,
            list.entries.first().map(|e| e.dynamics.len()),
        )?;
        for entry in &list.entries {
            arity(list.template, Some(entry.dynamics.len()))?;
        }
    }
    over("templates", shape.templates.len(), limits.max_templates)?;

    // The walk: every node and comprehension reached once at most, from the view's root and
    // each component's root, with its depth; an explicit stack instead of recursion.
    let mut nodes_seen = vec![false; update.nodes.len()];
    let mut lists_seen = vec![false; update.lists.len()];
    let mut stack: Vec<(Ref, usize)> = vec![(Ref::Node(0), 1)];
    for component in &update.components {
        stack.push((Ref::Node(component.node), 1));
    }
    let mut deepest = 0;
    while let Some((at, depth)) = stack.pop() {
        if depth > limits.max_depth {
            return Err(LimitError::TooDeep {
                limit: limits.max_depth,
            });
        }
        deepest = deepest.max(depth);
        let mut push = |dynamic: &UpdateDynamic| match *dynamic {
            UpdateDynamic::Node(i) => stack.push((Ref::Node(i), depth + 1)),
            UpdateDynamic::List(i) => stack.push((Ref::List(i), depth + 1)),
            _ => {}
        };
        match at {
            Ref::Node(i) => {
                let seen = nodes_seen
                    .get_mut(i as usize)
                    .ok_or(LimitError::MissingNode(i))?;
                if std::mem::replace(seen, true) {
                    return Err(LimitError::NodeReused(i));
                }
                update.nodes[i as usize].dynamics.iter().for_each(&mut push);
            }
            Ref::List(i) => {
                let seen = lists_seen
                    .get_mut(i as usize)
                    .ok_or(LimitError::MissingList(i))?;
                if std::mem::replace(seen, true) {
                    return Err(LimitError::ListReused(i));
                }
                for entry in &update.lists[i as usize].entries {
                    entry.dynamics.iter().for_each(&mut push);
                }
            }
        }
    }
    shape.depth = deepest;
    Ok(shape)
}

#[derive(Clone, Copy)]
enum Ref {
    Node(u32),
    List(u32),
}

/// Bytes of text an update carries.
fn text_bytes(update: &Update) -> usize {
    let slots = |dynamics: &[UpdateDynamic]| {
        dynamics
            .iter()
            .map(|d| match d {
                UpdateDynamic::Html(text) => text.len(),
                _ => 0,
            })
            .fold(0usize, usize::saturating_add)
    };
    let mut total = update.title.as_ref().map_or(0, String::len);
    for node in &update.nodes {
        total = total.saturating_add(slots(&node.dynamics));
    }
    for list in &update.lists {
        for entry in &list.entries {
            total = total
                .saturating_add(slots(&entry.dynamics))
                .saturating_add(entry.key.as_ref().map_or(0, String::len));
        }
        if let Some(ops) = &list.stream {
            total = total.saturating_add(ops.stream_ref.len());
            for insert in &ops.inserts {
                total = total.saturating_add(insert.dom_id.len());
            }
            for delete in &ops.deletes {
                total = total.saturating_add(delete.len());
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::update::{UpdateComponent, UpdateEntry, UpdateList, UpdateNode};

    fn node(template: u64, dynamics: Vec<UpdateDynamic>) -> UpdateNode {
        UpdateNode { template, dynamics }
    }

    fn html(text: &str) -> UpdateDynamic {
        UpdateDynamic::Html(text.into())
    }

    /// A chain `depth` nodes deep.
    fn chain(depth: u32) -> Update {
        let mut nodes: Vec<UpdateNode> = (1..depth)
            .map(|i| node(1, vec![UpdateDynamic::Node(i)]))
            .collect();
        nodes.push(node(1, vec![html("leaf")]));
        Update {
            nodes,
            ..Update::default()
        }
    }

    #[test]
    fn depth_is_counted_from_each_root() {
        let limits = RenderLimits::default();
        let max = limits.max_depth as u32;
        assert_eq!(check_limits(&chain(max), &limits).map(|s| s.depth), Ok(64));
        assert_eq!(
            check_limits(&chain(max + 1), &limits),
            Err(LimitError::TooDeep { limit: 64 })
        );
        // Comprehensions are a level too.
        let update = Update {
            nodes: vec![
                node(1, vec![UpdateDynamic::List(0)]),
                node(1, vec![html("x")]),
            ],
            lists: vec![UpdateList {
                template: 1,
                entries: vec![UpdateEntry {
                    key: None,
                    dynamics: vec![UpdateDynamic::Node(1)],
                }],
                stream: None,
            }],
            ..Update::default()
        };
        assert_eq!(check_limits(&update, &limits).map(|s| s.depth), Ok(3));
    }

    #[test]
    fn a_tree_nested_100_000_deep_is_refused_on_a_small_stack() {
        let update = chain(100_000);
        let verdict = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || check_limits(&update, &RenderLimits::default()))
            .expect("thread")
            .join()
            .expect("no stack overflow");
        assert_eq!(verdict, Err(LimitError::TooDeep { limit: 64 }));
    }

    #[test]
    fn counts_are_capped() {
        let limits = RenderLimits {
            max_nodes: 3,
            max_entries: 2,
            max_dynamics: 4,
            max_text_bytes: 5,
            max_components: 1,
            max_templates: 2,
            ..RenderLimits::default()
        };
        let too_many = |update: &Update, what: &str| match check_limits(update, &limits) {
            Err(LimitError::TooMany { what: w, .. }) => assert_eq!(w, what),
            other => panic!("{what}: {other:?}"),
        };
        too_many(&chain(4), "nodes and comprehensions");
        too_many(
            &Update {
                nodes: vec![node(1, vec![html("123456")])],
                ..Update::default()
            },
            "bytes of text",
        );
        too_many(
            &Update {
                nodes: vec![node(1, vec![html(""); 5])],
                ..Update::default()
            },
            "dynamics",
        );
        too_many(
            &Update {
                nodes: vec![node(1, vec![UpdateDynamic::List(0)])],
                lists: vec![UpdateList {
                    template: 2,
                    entries: vec![
                        UpdateEntry {
                            key: None,
                            dynamics: vec![],
                        };
                        3
                    ],
                    stream: None,
                }],
                ..Update::default()
            },
            "comprehension entries",
        );
        too_many(
            &Update {
                nodes: vec![node(1, vec![html("")]), node(2, vec![]), node(3, vec![])],
                ..Update::default()
            },
            "templates",
        );
        too_many(
            &Update {
                nodes: vec![node(1, vec![])],
                components: vec![
                    UpdateComponent { cid: 1, node: 1 },
                    UpdateComponent { cid: 2, node: 2 },
                ],
                ..Update::default()
            },
            "live components",
        );
    }

    #[test]
    fn only_trees_pass() {
        let limits = RenderLimits::default();
        let verdict = |nodes: Vec<UpdateNode>| {
            check_limits(
                &Update {
                    nodes,
                    ..Update::default()
                },
                &limits,
            )
        };
        assert_eq!(verdict(vec![]), Err(LimitError::Empty));
        assert_eq!(
            verdict(vec![node(1, vec![UpdateDynamic::Node(7)])]),
            Err(LimitError::MissingNode(7))
        );
        assert_eq!(
            verdict(vec![node(1, vec![UpdateDynamic::List(0)])]),
            Err(LimitError::MissingList(0))
        );
        // Shared: node 1 twice.
        assert_eq!(
            verdict(vec![
                node(2, vec![UpdateDynamic::Node(1), UpdateDynamic::Node(1)]),
                node(1, vec![html("x")]),
            ]),
            Err(LimitError::NodeReused(1))
        );
        // A cycle: 1 → 2 → 1, and the root referenced from below.
        assert_eq!(
            verdict(vec![
                node(1, vec![UpdateDynamic::Node(1)]),
                node(1, vec![UpdateDynamic::Node(2)]),
                node(1, vec![UpdateDynamic::Node(1)]),
            ]),
            Err(LimitError::NodeReused(1))
        );
        assert_eq!(
            verdict(vec![node(1, vec![UpdateDynamic::Node(0)])]),
            Err(LimitError::NodeReused(0))
        );
        // A component rooted at a node the view's tree uses too.
        let shared = Update {
            nodes: vec![
                node(1, vec![UpdateDynamic::Node(1)]),
                node(1, vec![html("x")]),
            ],
            components: vec![UpdateComponent { cid: 3, node: 1 }],
            ..Update::default()
        };
        assert_eq!(
            check_limits(&shared, &limits),
            Err(LimitError::NodeReused(1))
        );
        // Two uses of a template disagree on its dynamics.
        assert!(matches!(
            verdict(vec![
                node(1, vec![UpdateDynamic::Node(1)]),
                node(1, vec![html("x"), html("y")]),
            ]),
            Err(LimitError::ArityConflict { template: 1, .. })
        ));
    }
}
