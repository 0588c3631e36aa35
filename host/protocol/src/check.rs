//! The judge: whether [`crate::diff::apply_tree`] accepts an [`Update`] against the kept
//! [`Tree`], decided by reading both and building nothing.
//!
//! The host runs it before every diff. When it answers [`DiffError::UnchangedWithoutPrevious`]
//! (an `unchanged` slot where the host holds another template or nothing, or inside a list
//! entry it cannot pair) the host throws the update away and asks the guest for a full render,
//! so a guest whose own idea of the kept tree is wrong costs one more render, not the view.
//!
//! The walk mirrors [`crate::diff::apply_tree`] step by step (same order, same errors): what
//! one rejects, the other rejects with the same error. `tests/check.rs` holds them to that on
//! seeded random sequences.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::diff::DiffError;
use crate::rendered::{Dynamic, Entry, List, Node, Statics, Tree};
use crate::update::{Update, UpdateDynamic, UpdateEntry};

/// Checks `update` against the kept view `prev` (`None` before the first render) without
/// changing either: `Ok` exactly when [`crate::diff::apply_tree`] would accept it, else the
/// error it would return.
///
/// `statics` resolves template ids, as for [`crate::diff::apply_tree`].
pub fn check(
    prev: Option<&Tree>,
    update: &Update,
    statics: &dyn Fn(u64) -> Option<Arc<Statics>>,
) -> Result<(), DiffError> {
    if update.nodes.is_empty() {
        return Err(DiffError::Empty);
    }
    let mut checker = Checker {
        update,
        nodes_used: vec![false; update.nodes.len()],
        lists_used: vec![false; update.lists.len()],
        statics,
    };
    let mut root_cids = Vec::new();
    checker.node(0, prev.map(|t| &t.root), &mut root_cids)?;
    // The cids each component of the new tree refers to: kept ones as the host keeps them,
    // rendered ones as this update leaves them.
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    if let Some(tree) = prev {
        for (cid, node) in &tree.components {
            let mut cids = Vec::new();
            kept_cids(&node.dynamics, &mut cids);
            children.insert(*cid, cids);
        }
    }
    let mut rendered = BTreeSet::new();
    for component in &update.components {
        let cid = component.cid;
        if cid == 0 {
            return Err(DiffError::ZeroCid);
        }
        if !rendered.insert(cid) {
            return Err(DiffError::DuplicateComponent(cid));
        }
        if component.node == 0 {
            return Err(DiffError::Reused(0));
        }
        let before = prev.and_then(|t| t.components.get(&cid));
        let mut cids = Vec::new();
        let statics = checker.node(component.node, before, &mut cids)?;
        if !statics.root {
            return Err(DiffError::ComponentNotRoot {
                cid,
                template: statics.id,
            });
        }
        children.insert(cid, cids);
    }
    check_components(&root_cids, &children)
}

struct Checker<'a> {
    update: &'a Update,
    nodes_used: Vec<bool>,
    lists_used: Vec<bool>,
    statics: &'a dyn Fn(u64) -> Option<Arc<Statics>>,
}

impl Checker<'_> {
    fn lookup(&self, template: u64, got: usize) -> Result<Arc<Statics>, DiffError> {
        let statics = (self.statics)(template).ok_or(DiffError::UnknownTemplate(template))?;
        if statics.arity() != got {
            return Err(DiffError::ArityMismatch {
                template,
                expected: statics.arity(),
                got,
            });
        }
        Ok(statics)
    }

    /// Node `index` against the kept `prev`; pushes the cids the merged node refers to.
    fn node(
        &mut self,
        index: u32,
        prev: Option<&Node>,
        cids: &mut Vec<u32>,
    ) -> Result<Arc<Statics>, DiffError> {
        let update = self
            .update
            .nodes
            .get(index as usize)
            .ok_or(DiffError::MissingNode(index))?;
        if std::mem::replace(&mut self.nodes_used[index as usize], true) {
            return Err(DiffError::Reused(index));
        }
        let statics = self.lookup(update.template, update.dynamics.len())?;
        let prev = prev.filter(|p| p.statics.id == update.template);
        self.slots(&update.dynamics, prev.map(|p| p.dynamics.as_slice()), cids)?;
        Ok(statics)
    }

    /// Slots paired with the kept ones by position (none kept: every slot must carry a value).
    fn slots(
        &mut self,
        slots: &[UpdateDynamic],
        prev: Option<&[Dynamic]>,
        cids: &mut Vec<u32>,
    ) -> Result<(), DiffError> {
        let mut before = prev.map(|p| p.iter());
        for slot in slots {
            let kept = before.as_mut().and_then(Iterator::next);
            self.slot(slot, kept, cids)?;
        }
        Ok(())
    }

    fn slot(
        &mut self,
        slot: &UpdateDynamic,
        prev: Option<&Dynamic>,
        cids: &mut Vec<u32>,
    ) -> Result<(), DiffError> {
        match slot {
            UpdateDynamic::Unchanged => match prev {
                Some(kept) => {
                    kept_cids(std::slice::from_ref(kept), cids);
                    Ok(())
                }
                None => Err(DiffError::UnchangedWithoutPrevious),
            },
            UpdateDynamic::Html(_) => Ok(()),
            UpdateDynamic::Component(cid) => {
                cids.push(*cid);
                Ok(())
            }
            UpdateDynamic::Node(index) => {
                let prev = match prev {
                    Some(Dynamic::Node(node)) => Some(&**node),
                    _ => None,
                };
                self.node(*index, prev, cids).map(|_| ())
            }
            UpdateDynamic::List(index) => {
                let prev = match prev {
                    Some(Dynamic::List(list)) => Some(&**list),
                    _ => None,
                };
                self.list(*index, prev, cids)
            }
        }
    }

    fn list(
        &mut self,
        index: u32,
        prev: Option<&List>,
        cids: &mut Vec<u32>,
    ) -> Result<(), DiffError> {
        let update = self
            .update
            .lists
            .get(index as usize)
            .ok_or(DiffError::MissingList(index))?;
        if std::mem::replace(&mut self.lists_used[index as usize], true) {
            return Err(DiffError::Reused(index));
        }
        let statics = match update.entries.first() {
            Some(first) => self.lookup(update.template, first.dynamics.len())?,
            None => (self.statics)(update.template)
                .ok_or(DiffError::UnknownTemplate(update.template))?,
        };
        for entry in &update.entries {
            if entry.dynamics.len() != statics.arity() {
                return Err(DiffError::ArityMismatch {
                    template: update.template,
                    expected: statics.arity(),
                    got: entry.dynamics.len(),
                });
            }
        }
        // A stream's entries and a list the client holds no template for are built from
        // nothing; the others pair with the kept entries by key or by index.
        let prev = prev.filter(|p| {
            update.stream.is_none()
                && p.statics.id == update.template
                && !p.entries.is_empty()
                && p.stream.is_none()
        });
        let Some(prev) = prev else {
            for entry in &update.entries {
                self.entry(entry, None, cids)?;
            }
            return Ok(());
        };
        for (entry, before) in update
            .entries
            .iter()
            .zip(pair_entries(prev, &update.entries))
        {
            self.entry(entry, before, cids)?;
        }
        Ok(())
    }

    fn entry(
        &mut self,
        update: &UpdateEntry,
        prev: Option<&Entry>,
        cids: &mut Vec<u32>,
    ) -> Result<(), DiffError> {
        self.slots(&update.dynamics, prev.map(|p| p.dynamics.as_slice()), cids)
    }
}

/// The kept entry each new entry is diffed against, as [`crate::diff::apply_tree`] pairs them:
/// by key when every entry (old and new) has one (each kept key once, its first entry), else
/// by index.
fn pair_entries<'t>(prev: &'t List, updates: &[UpdateEntry]) -> Vec<Option<&'t Entry>> {
    let keyed =
        updates.iter().all(|e| e.key.is_some()) && prev.entries.iter().all(|e| e.key.is_some());
    let mut taken = vec![false; prev.entries.len()];
    let mut by_key: HashMap<&str, usize> = HashMap::new();
    if keyed {
        for (i, entry) in prev.entries.iter().enumerate() {
            if let Some(key) = entry.key.as_deref() {
                by_key.entry(key).or_insert(i);
            }
        }
    }
    updates
        .iter()
        .enumerate()
        .map(|(i, update)| {
            let source = if keyed {
                update.key.as_deref().and_then(|key| by_key.remove(key))
            } else {
                (i < prev.entries.len()).then_some(i)
            };
            source
                .filter(|&j| !std::mem::replace(&mut taken[j], true))
                .and_then(|j| prev.entries.get(j))
        })
        .collect()
}

/// Pushes the cids of kept `dynamics` as the next tree keeps them: a stream's items are
/// forgotten at the next render, so their cids are not.
fn kept_cids(dynamics: &[Dynamic], out: &mut Vec<u32>) {
    for dynamic in dynamics {
        match dynamic {
            Dynamic::Html(_) => {}
            Dynamic::Component(cid) => out.push(*cid),
            Dynamic::Node(node) => kept_cids(&node.dynamics, out),
            Dynamic::List(list) if list.stream.is_some() => {}
            Dynamic::List(list) => {
                for entry in &list.entries {
                    kept_cids(&entry.dynamics, out);
                }
            }
        }
    }
}

/// Every cid reachable from the root exists, no component contains itself and none is placed
/// twice (the same walk as the diff engine's, on the cids collected above).
fn check_components(root: &[u32], children: &BTreeMap<u32, Vec<u32>>) -> Result<(), DiffError> {
    if root.is_empty() && children.is_empty() {
        return Ok(());
    }
    let children_of = |cid: u32| {
        children
            .get(&cid)
            .cloned()
            .ok_or(DiffError::UnknownComponent(cid))
    };
    let mut done: BTreeSet<u32> = BTreeSet::new();
    let mut on_path: BTreeSet<u32> = BTreeSet::new();
    let mut stack: Vec<(u32, Vec<u32>)> = Vec::new();
    for &start in root {
        if done.contains(&start) {
            return Err(DiffError::ComponentPlacedTwice(start));
        }
        let first = children_of(start)?;
        on_path.insert(start);
        stack.push((start, first));
        while let Some((cid, next)) = stack.last_mut() {
            let cid = *cid;
            match next.pop() {
                Some(child) if on_path.contains(&child) => {
                    return Err(DiffError::ComponentCycle(child));
                }
                Some(child) if done.contains(&child) => {
                    return Err(DiffError::ComponentPlacedTwice(child));
                }
                Some(child) => {
                    let grandchildren = children_of(child)?;
                    on_path.insert(child);
                    stack.push((child, grandchildren));
                }
                None => {
                    on_path.remove(&cid);
                    done.insert(cid);
                    stack.pop();
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::apply_tree;
    use crate::update::{UpdateComponent, UpdateList, UpdateNode};

    fn statics(id: u64, parts: &[&str], root: bool) -> Arc<Statics> {
        Arc::new(Statics {
            id,
            parts: parts.iter().map(|p| (*p).into()).collect(),
            root,
        })
    }

    fn lookup(id: u64) -> Option<Arc<Statics>> {
        match id {
            1 => Some(statics(1, &["<div>", "", "</div>"], true)),
            2 => Some(statics(2, &["<b>", "</b>"], true)),
            3 => Some(statics(3, &["<i>", "</i>"], true)),
            4 => Some(statics(4, &["<li>", "</li>"], true)),
            _ => None,
        }
    }

    fn node(template: u64, dynamics: Vec<UpdateDynamic>) -> UpdateNode {
        UpdateNode { template, dynamics }
    }

    fn html(text: &str) -> UpdateDynamic {
        UpdateDynamic::Html(text.into())
    }

    /// The same verdict as `apply_tree`, and `prev` untouched.
    fn judge(prev: Option<&Tree>, update: &Update) -> Result<(), DiffError> {
        let before = prev.cloned();
        let verdict = check(prev, update, &lookup);
        let applied = apply_tree(prev.cloned(), update.clone(), &lookup).map(|_| ());
        assert_eq!(verdict, applied, "check and apply disagree on {update:?}");
        assert_eq!(prev.cloned(), before);
        verdict
    }

    fn first() -> Tree {
        let update = Update {
            nodes: vec![
                node(1, vec![html("a"), UpdateDynamic::Node(1)]),
                node(2, vec![html("b")]),
            ],
            ..Update::default()
        };
        apply_tree(None, update, &lookup).expect("first").0
    }

    #[test]
    fn unchanged_in_a_switched_template_is_rejected() {
        let tree = first();
        // Same template: its unchanged slot is filled from the kept node.
        let same = Update {
            nodes: vec![
                node(1, vec![UpdateDynamic::Unchanged, UpdateDynamic::Node(1)]),
                node(2, vec![UpdateDynamic::Unchanged]),
            ],
            ..Update::default()
        };
        assert_eq!(judge(Some(&tree), &same), Ok(()));
        // Template 3 replaced 2: its unchanged slot has nothing to come from.
        let switched = Update {
            nodes: vec![
                node(1, vec![UpdateDynamic::Unchanged, UpdateDynamic::Node(1)]),
                node(3, vec![UpdateDynamic::Unchanged]),
            ],
            ..Update::default()
        };
        let error = judge(Some(&tree), &switched).expect_err("rejected");
        assert!(error.needs_full_render());
        // Nothing kept at all: the first render must be complete.
        assert_eq!(judge(None, &same), Err(DiffError::UnchangedWithoutPrevious));
    }

    #[test]
    fn unchanged_entries_need_a_kept_entry_to_pair_with() {
        let list = |keys: &[&str], slot: fn(&str) -> UpdateDynamic| Update {
            nodes: vec![node(1, vec![html("t"), UpdateDynamic::List(0)])],
            lists: vec![UpdateList {
                template: 4,
                entries: keys
                    .iter()
                    .map(|k| UpdateEntry {
                        key: Some((*k).into()),
                        dynamics: vec![slot(k)],
                    })
                    .collect(),
                stream: None,
            }],
            ..Update::default()
        };
        let tree = apply_tree(None, list(&["a", "b"], html), &lookup)
            .expect("first")
            .0;
        let kept = |_: &str| UpdateDynamic::Unchanged;
        assert_eq!(judge(Some(&tree), &list(&["b", "a"], kept)), Ok(()));
        assert_eq!(
            judge(Some(&tree), &list(&["b", "c"], kept)),
            Err(DiffError::UnchangedWithoutPrevious)
        );
    }

    #[test]
    fn structural_errors_are_the_diff_engines() {
        let tree = first();
        let bad = [
            Update::default(),
            Update {
                nodes: vec![node(1, vec![html("a"), UpdateDynamic::Node(7)])],
                ..Update::default()
            },
            Update {
                nodes: vec![node(1, vec![html("a"), UpdateDynamic::Node(0)])],
                ..Update::default()
            },
            Update {
                nodes: vec![node(9, vec![])],
                ..Update::default()
            },
            Update {
                nodes: vec![node(1, vec![html("a"), UpdateDynamic::Component(5)])],
                ..Update::default()
            },
            Update {
                nodes: vec![
                    node(1, vec![html("a"), UpdateDynamic::Component(5)]),
                    node(2, vec![UpdateDynamic::Component(5)]),
                ],
                components: vec![UpdateComponent { cid: 5, node: 1 }],
                ..Update::default()
            },
        ];
        for update in &bad {
            let error = judge(Some(&tree), update).expect_err("rejected");
            assert!(!matches!(error, DiffError::UnchangedWithoutPrevious));
        }
    }
}
