//! One render of a view, from the guest's tree to the diff for the client: render, check the
//! flat result against the [`RenderLimits`] (depth, sizes, a tree: before anything recursive
//! reads it), fetch the statics of templates met for the first time (their part counts
//! checked against the dynamics the render uses them with), judge the update against the kept tree
//! ([`livewasm_protocol::check`]), and, when the judge finds an `unchanged` slot the host
//! cannot fill, throw the update away and ask the guest for a full render; then diff.
//!
//! The guest's own pre-check (`guest-sdk/src/keep.rs`) makes the full render rare, but the
//! host's tree is only ever judged by the host: a guest whose copy of the rules is wrong costs
//! one more render, not its view.

use std::collections::HashMap;
use std::sync::Arc;

use livewasm_protocol::check::check;
use livewasm_protocol::diff::{self, Diff};
use livewasm_protocol::limits::{RenderLimits, Shape, check_limits};
use livewasm_protocol::rendered::{Statics, Tree};
use livewasm_protocol::update::Update;

use crate::error::CallError;

/// What a render needs from the guest.
pub(crate) trait Guest {
    /// Calls `render(full)`.
    fn render(&mut self, full: bool) -> Result<Update, CallError>;
    /// The statics of template `id` (from the app's cache, else from the guest, refused unless
    /// they have one part more than `arity` when it is known).
    fn statics(&mut self, id: u64, arity: Option<usize>) -> Result<Arc<Statics>, CallError>;
}

/// Why a render failed, and whether the kept tree survived it.
#[derive(Debug)]
pub(crate) struct RenderFailure {
    /// What went wrong.
    pub(crate) error: CallError,
    /// False when the kept tree is gone: the instance can no longer diff.
    pub(crate) tree_kept: bool,
}

impl From<CallError> for RenderFailure {
    fn from(error: CallError) -> RenderFailure {
        RenderFailure {
            error,
            tree_kept: true,
        }
    }
}

/// Renders `guest` against the kept `tree` (`None` before the first render), updates `tree`
/// and returns the diff: the whole tree the first time, then what changed.
pub(crate) fn render(
    tree: &mut Option<Tree>,
    guest: &mut dyn Guest,
    limits: &RenderLimits,
) -> Result<Diff, RenderFailure> {
    let first = guest.render(false)?;
    let shape = within(&first, limits)?;
    let mut statics = HashMap::new();
    fetch(guest, &shape, &mut statics)?;
    let update = match judge(tree.as_ref(), &first, &statics) {
        Ok(()) => first,
        Err(error) if error.needs_full_render() => {
            tracing::debug!("render rejected ({error}): asking the guest for a full render");
            let mut full = guest.render(true)?;
            // The thrown-away render took the title; the full one may not carry it again.
            if full.title.is_none() {
                full.title = first.title;
            }
            let shape = within(&full, limits)?;
            fetch(guest, &shape, &mut statics)?;
            judge(tree.as_ref(), &full, &statics)
                .map_err(|e| CallError::Render(format!("full render: {e}")))?;
            full
        }
        Err(error) => return Err(CallError::Render(error.to_string()).into()),
    };
    let lookup = |id: u64| statics.get(&id).cloned();
    match diff::apply_tree(tree.take(), update, &lookup) {
        Ok((next, _)) if next.components.len() > limits.max_components => Err(RenderFailure {
            error: CallError::Render(format!(
                "the view would hold {} live components, more than {}",
                next.components.len(),
                limits.max_components
            )),
            tree_kept: false,
        }),
        Ok((next, diff)) => {
            *tree = Some(next);
            Ok(diff)
        }
        Err(e) => Err(RenderFailure {
            error: CallError::Render(e.to_string()),
            tree_kept: false,
        }),
    }
}

fn judge(
    tree: Option<&Tree>,
    update: &Update,
    statics: &HashMap<u64, Arc<Statics>>,
) -> Result<(), livewasm_protocol::diff::DiffError> {
    check(tree, update, &|id: u64| statics.get(&id).cloned())
}

/// The update's shape when it is within `limits`; else the view's error.
fn within(update: &Update, limits: &RenderLimits) -> Result<Shape, CallError> {
    check_limits(update, limits).map_err(|e| CallError::Render(format!("render refused: {e}")))
}

/// Adds the statics of every template the update uses (`shape`) to `statics`.
fn fetch(
    guest: &mut dyn Guest,
    shape: &Shape,
    statics: &mut HashMap<u64, Arc<Statics>>,
) -> Result<(), CallError> {
    for (&id, &arity) in &shape.templates {
        if let std::collections::hash_map::Entry::Vacant(slot) = statics.entry(id) {
            slot.insert(guest.statics(id, arity)?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use livewasm_protocol::update::{UpdateDynamic, UpdateNode};

    /// A guest that switches its inner template between `<b>` and `<i>` and, like a guest
    /// whose copy of the host's rules is wrong, leaves the switched node's slot `unchanged`
    /// unless asked for a full render.
    struct Switching {
        bold: bool,
        text: &'static str,
        renders: Vec<bool>,
    }

    fn statics(id: u64, parts: &[&str]) -> Arc<Statics> {
        Arc::new(Statics {
            id,
            parts: parts.iter().map(|p| (*p).into()).collect(),
            root: true,
        })
    }

    impl Guest for Switching {
        fn render(&mut self, full: bool) -> Result<Update, CallError> {
            let first = self.renders.is_empty();
            self.renders.push(full);
            let inner = if first || full {
                UpdateDynamic::Html(self.text.into())
            } else {
                UpdateDynamic::Unchanged
            };
            Ok(Update {
                nodes: vec![
                    UpdateNode {
                        template: 1,
                        dynamics: vec![UpdateDynamic::Node(1)],
                    },
                    UpdateNode {
                        template: if self.bold { 2 } else { 3 },
                        dynamics: vec![inner],
                    },
                ],
                title: (!full).then(|| "Title".to_string()),
                ..Update::default()
            })
        }

        fn statics(&mut self, id: u64, _arity: Option<usize>) -> Result<Arc<Statics>, CallError> {
            match id {
                1 => Ok(statics(1, &["<div>", "</div>"])),
                2 => Ok(statics(2, &["<b>", "</b>"])),
                3 => Ok(statics(3, &["<i>", "</i>"])),
                _ => Err(CallError::Render(format!("no template {id}"))),
            }
        }
    }

    #[test]
    fn a_render_the_host_cannot_fill_is_replaced_by_a_full_render() {
        let mut guest = Switching {
            bold: true,
            text: "hi",
            renders: Vec::new(),
        };
        let mut tree = None;
        render(&mut tree, &mut guest, &RenderLimits::default()).expect("first render");
        assert_eq!(guest.renders, vec![false]);

        // The same template: `unchanged` is filled from the kept tree, one render.
        render(&mut tree, &mut guest, &RenderLimits::default()).expect("unchanged render");
        assert_eq!(guest.renders, vec![false, false]);

        // The template switched but the guest says `unchanged`: the host asks for a full render
        // and sends a correct diff instead of failing the view.
        guest.bold = false;
        let diff = render(&mut tree, &mut guest, &RenderLimits::default()).expect("recovered");
        assert_eq!(guest.renders, vec![false, false, false, true]);
        let diff = diff.into_value();
        assert_eq!(diff["0"]["0"], "hi");
        assert_eq!(diff["0"]["s"], serde_json::json!(["<i>", "</i>"]));
        // The thrown-away render's title travels with the full one.
        assert_eq!(diff["t"], "Title");
        let html = tree.as_ref().map(diff::tree_html);
        assert_eq!(html.as_deref(), Some("<div><i>hi</i></div>"));
    }

    #[test]
    fn a_full_render_that_still_does_not_fit_fails_and_keeps_the_tree() {
        /// Always leaves its slot unchanged, even in a full render.
        struct Stubborn;
        impl Guest for Stubborn {
            fn render(&mut self, _full: bool) -> Result<Update, CallError> {
                Ok(Update {
                    nodes: vec![UpdateNode {
                        template: 2,
                        dynamics: vec![UpdateDynamic::Unchanged],
                    }],
                    ..Update::default()
                })
            }
            fn statics(&mut self, _id: u64, _: Option<usize>) -> Result<Arc<Statics>, CallError> {
                Ok(statics(2, &["<b>", "</b>"]))
            }
        }
        let mut tree = None;
        let failure =
            render(&mut tree, &mut Stubborn, &RenderLimits::default()).expect_err("rejected");
        assert!(failure.tree_kept);
        assert!(matches!(failure.error, CallError::Render(ref m) if m.starts_with("full render")));
    }
}
