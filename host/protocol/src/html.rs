//! Turning a kept tree into HTML (the dead render), with an explicit stack: the writer never
//! recurses, however deep the tree or however long a chain of live components.

use std::collections::HashSet;

use crate::rendered::{Dynamic, Entry, Node, Tree};

/// The HTML a tree stands for. Components render as nothing here (they are rendered by the
/// component layer).
pub fn to_html(node: &Node) -> String {
    let mut out = String::new();
    write(&mut out, None, node);
    out
}

/// The HTML of a view with its live components inlined where their cids appear. Each component
/// is written once, at its first place: one met again (placed twice, or inside itself, which the
/// diff engine refuses) renders as nothing, so the HTML stays linear in the tree's size.
pub fn tree_html(tree: &Tree) -> String {
    let mut out = String::new();
    write(&mut out, Some(tree), &tree.root);
    out
}

/// What is left to write of one node, entry or comprehension.
enum Frame<'a> {
    /// Parts and dynamics of a node or an entry; `next` is the next part.
    Slots {
        parts: &'a [Box<str>],
        dynamics: &'a [Dynamic],
        next: usize,
    },
    /// The entries of a comprehension still to write.
    Entries {
        parts: &'a [Box<str>],
        entries: &'a [Entry],
        next: usize,
    },
}

fn write(out: &mut String, tree: Option<&Tree>, root: &Node) {
    let mut written: HashSet<u32> = HashSet::new();
    let mut stack = vec![Frame::Slots {
        parts: &root.statics.parts,
        dynamics: &root.dynamics,
        next: 0,
    }];
    while let Some(frame) = stack.last_mut() {
        let child = match frame {
            Frame::Slots {
                parts,
                dynamics,
                next,
            } => {
                let (parts, dynamics): (&[Box<str>], &[Dynamic]) = (parts, dynamics);
                let Some(part) = parts.get(*next) else {
                    stack.pop();
                    continue;
                };
                out.push_str(part);
                let dynamic = dynamics.get(*next);
                *next += 1;
                match dynamic {
                    None => None,
                    Some(Dynamic::Html(text)) => {
                        out.push_str(text);
                        None
                    }
                    Some(Dynamic::Node(node)) => Some(Frame::Slots {
                        parts: &node.statics.parts,
                        dynamics: &node.dynamics,
                        next: 0,
                    }),
                    Some(Dynamic::List(list)) => Some(Frame::Entries {
                        parts: &list.statics.parts,
                        entries: &list.entries,
                        next: 0,
                    }),
                    Some(Dynamic::Component(cid)) => tree
                        .and_then(|t| t.components.get(cid))
                        .filter(|_| written.insert(*cid))
                        .map(|node| Frame::Slots {
                            parts: &node.statics.parts,
                            dynamics: &node.dynamics,
                            next: 0,
                        }),
                }
            }
            Frame::Entries {
                parts,
                entries,
                next,
            } => {
                let (parts, entries): (&[Box<str>], &[Entry]) = (parts, entries);
                let Some(entry) = entries.get(*next) else {
                    stack.pop();
                    continue;
                };
                *next += 1;
                Some(Frame::Slots {
                    parts,
                    dynamics: &entry.dynamics,
                    next: 0,
                })
            }
        };
        if let Some(child) = child {
            stack.push(child);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::rendered::{List, Statics};

    fn statics(id: u64, parts: &[&str]) -> Arc<Statics> {
        Arc::new(Statics {
            id,
            parts: parts.iter().map(|p| (*p).into()).collect(),
            root: true,
        })
    }

    #[test]
    fn nodes_lists_and_components_in_order() {
        let item = statics(2, &["<li>", "</li>"]);
        let list = List {
            statics: item,
            entries: ["a", "b"]
                .iter()
                .map(|t| Entry {
                    key: None,
                    dynamics: vec![Dynamic::Html((*t).into())],
                })
                .collect(),
            stream: None,
        };
        let root = Node {
            statics: statics(1, &["<ul>", "", "", "</ul>"]),
            dynamics: vec![
                Dynamic::List(Box::new(list)),
                Dynamic::Component(7),
                Dynamic::Component(8),
            ],
        };
        assert_eq!(to_html(&root), "<ul><li>a</li><li>b</li></ul>");
        let mut components = BTreeMap::new();
        // 7 contains itself (written once), 8 does not exist.
        components.insert(
            7,
            Node {
                statics: statics(3, &["<p>", "</p>"]),
                dynamics: vec![Dynamic::Component(7)],
            },
        );
        let tree = Tree { root, components };
        assert_eq!(tree_html(&tree), "<ul><li>a</li><li>b</li><p></p></ul>");
    }

    #[test]
    fn a_chain_of_100_000_components_writes_on_a_small_stack() {
        let link = statics(1, &["<i>", "</i>"]);
        let mut components = BTreeMap::new();
        for cid in 1..100_000u32 {
            components.insert(
                cid,
                Node {
                    statics: link.clone(),
                    dynamics: vec![Dynamic::Component(cid + 1)],
                },
            );
        }
        let root = Node {
            statics: link.clone(),
            dynamics: vec![Dynamic::Component(1)],
        };
        let tree = Tree { root, components };
        let html = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || tree_html(&tree).len())
            .expect("thread")
            .join()
            .expect("no stack overflow");
        assert_eq!(html, 100_000 * "<i></i>".len());
    }
}
