//! Shared by the diff tests and the conformance-case generator (`examples/conformance_cases.rs`):
//! test templates, update builders, fixed scenarios and a seeded random update generator.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use livewasm_protocol::rendered::Statics;
use livewasm_protocol::update::{Update, UpdateDynamic as D, UpdateEntry, UpdateList, UpdateNode};

/// Templates used by the tests, by id.
pub fn templates() -> HashMap<u64, Arc<Statics>> {
    let t = |id: u64, parts: &[&str]| {
        (
            id,
            Arc::new(Statics {
                id,
                parts: parts.iter().map(|p| (*p).into()).collect(),
                root: true,
            }),
        )
    };
    [
        t(1, &["<div><h1>", "</h1><ul>", "</ul></div>"]),
        t(2, &["<li id=\"", "\">", "</li>"]),
        t(3, &["<p class=\"on\">", "</p>"]),
        t(4, &["<span>", "</span>"]),
        t(5, &["<b>", "|", "</b>"]),
    ]
    .into_iter()
    .collect()
}

pub fn html(s: &str) -> D {
    D::Html(s.to_string())
}

pub fn page(title: D, list: D) -> UpdateNode {
    UpdateNode {
        template: 1,
        dynamics: vec![title, list],
    }
}

pub fn items(keys: &[&str]) -> UpdateList {
    UpdateList {
        template: 2,
        entries: keys
            .iter()
            .map(|k| UpdateEntry {
                key: Some((*k).into()),
                dynamics: vec![html(k), html(&k.to_uppercase())],
            })
            .collect(),
    }
}

pub fn update(nodes: Vec<UpdateNode>, lists: Vec<UpdateList>) -> Update {
    Update {
        nodes,
        lists,
        title: None,
    }
}

/// A small deterministic random generator (xorshift), so failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A random update for the page template: random title, random nested node or text in an
/// entry, random keyed or unkeyed list with random order, and random `Unchanged` where allowed.
pub fn random_update(rng: &mut Rng, first: bool) -> Update {
    let mut nodes = vec![];
    let mut lists = vec![];
    let title = if !first && rng.below(3) == 0 {
        D::Unchanged
    } else {
        html(&format!("T{}", rng.below(4)))
    };
    nodes.push(UpdateNode {
        template: 1,
        dynamics: vec![title, D::Unchanged],
    });
    let keyed = rng.below(4) != 0;
    if !first && rng.below(4) == 0 {
        // Leave the list alone.
    } else {
        let mut pool: Vec<u64> = (0..8).collect();
        let len = rng.below(7) as usize;
        let mut entries = Vec::new();
        for _ in 0..len {
            let k = pool.remove(rng.below(pool.len() as u64) as usize);
            let inner = if rng.below(3) == 0 {
                let index = nodes.len() as u32;
                let template = if rng.below(2) == 0 { 4 } else { 5 };
                let dynamics = if template == 4 {
                    vec![html(&format!("n{}", rng.below(3)))]
                } else {
                    vec![html("x"), html(&format!("y{}", rng.below(2)))]
                };
                nodes.push(UpdateNode { template, dynamics });
                D::Node(index)
            } else {
                html(&format!("v{}", rng.below(3)))
            };
            entries.push(UpdateEntry {
                key: keyed.then(|| format!("k{k}")),
                dynamics: vec![html(&format!("id{k}")), inner],
            });
        }
        lists.push(UpdateList {
            template: 2,
            entries,
        });
        nodes[0].dynamics[1] = D::List(0);
    }
    Update {
        nodes,
        lists,
        title: None,
    }
}

/// A node of template `template` with one text dynamic.
pub fn text_node(template: u64, text: &str) -> UpdateNode {
    UpdateNode {
        template,
        dynamics: vec![html(text)],
    }
}

/// Fixed sequences of updates, each starting with a first render: the shapes the conformance
/// test must cover (text changes, `:if` toggling, keyed insert/delete/reorder, moved-and-changed
/// entries, an empty list filled, a changed template structure, a title).
pub fn scenarios() -> Vec<(&'static str, Vec<Update>)> {
    let unchanged_page =
        |list: UpdateList| update(vec![page(D::Unchanged, D::List(0))], vec![list]);
    let mut moved = items(&["b", "a", "c"]);
    moved.entries[0].dynamics[1] = html("B!");
    let mut titled = update(vec![page(html("t"), D::Unchanged)], vec![]);
    titled.title = Some("New title".into());
    vec![
        (
            "text changes",
            vec![
                update(vec![page(html("Hi"), D::List(0))], vec![items(&["a"])]),
                update(vec![page(html("Bye"), D::Unchanged)], vec![]),
                update(vec![page(html("<b>&amp;</b>"), D::Unchanged)], vec![]),
                update(vec![page(html("<b>&amp;</b>"), D::Unchanged)], vec![]),
            ],
        ),
        (
            ":if toggling",
            vec![
                update(vec![page(D::Node(1), html("")), text_node(3, "on")], vec![]),
                update(vec![page(html(""), D::Unchanged)], vec![]),
                update(
                    vec![page(D::Node(1), D::Unchanged), text_node(3, "back")],
                    vec![],
                ),
                update(
                    vec![page(D::Node(1), D::Unchanged), text_node(3, "again")],
                    vec![],
                ),
            ],
        ),
        (
            "keyed insert, delete, reorder",
            vec![
                update(
                    vec![page(html("t"), D::List(0))],
                    vec![items(&["a", "b", "c"])],
                ),
                unchanged_page(items(&["c", "a", "b"])),
                unchanged_page(items(&["a", "b", "d"])),
                unchanged_page(items(&["x", "a", "b", "d"])),
                unchanged_page(items(&["a", "b"])),
                unchanged_page(items(&[])),
                unchanged_page(items(&["z"])),
            ],
        ),
        (
            "moved and changed entries",
            vec![
                update(
                    vec![page(html("t"), D::List(0))],
                    vec![items(&["a", "b", "c"])],
                ),
                unchanged_page(moved),
            ],
        ),
        (
            "an empty first list filled",
            vec![
                update(vec![page(html("t"), D::List(0))], vec![items(&[])]),
                unchanged_page(items(&["x", "y"])),
            ],
        ),
        (
            "a changed template structure",
            vec![
                update(vec![page(D::Node(1), html("")), text_node(3, "on")], vec![]),
                update(
                    vec![page(D::Node(1), D::Unchanged), text_node(4, "off")],
                    vec![],
                ),
                update(
                    vec![
                        page(D::Node(1), D::Unchanged),
                        UpdateNode {
                            template: 5,
                            dynamics: vec![html("x"), html("y")],
                        },
                    ],
                    vec![],
                ),
                update(vec![page(D::List(0), D::Unchanged)], vec![items(&["a"])]),
                update(vec![page(html("text again"), D::Unchanged)], vec![]),
            ],
        ),
        (
            "title",
            vec![update(vec![page(html("t"), html(""))], vec![]), titled],
        ),
    ]
}

/// A seeded sequence: a first render followed by `steps` random updates.
pub fn random_sequence(seed: u64, steps: usize) -> Vec<Update> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut updates = vec![random_update(&mut rng, true)];
    for _ in 0..steps {
        updates.push(random_update(&mut rng, false));
    }
    updates
}
