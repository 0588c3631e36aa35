//! Shared by the diff tests and the conformance-case generator (`examples/conformance_cases.rs`):
//! test templates, update builders, fixed scenarios and a seeded random update generator.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use livewasm_protocol::rendered::Statics;
use livewasm_protocol::update::{
    StreamInsert, StreamOps, Update, UpdateComponent, UpdateDynamic as D, UpdateEntry, UpdateList,
    UpdateNode,
};

/// Templates used by the tests, by id.
pub fn templates() -> HashMap<u64, Arc<Statics>> {
    let t = |id: u64, parts: &[&str]| {
        (
            id,
            Arc::new(Statics {
                id,
                parts: parts.iter().map(|p| (*p).into()).collect(),
                root: id != NOT_ROOT,
            }),
        )
    };
    [
        t(1, &["<div><h1>", "</h1><ul>", "</ul></div>"]),
        t(2, &["<li id=\"", "\">", "</li>"]),
        t(3, &["<p class=\"on\">", "</p>"]),
        t(4, &["<span>", "</span>"]),
        t(5, &["<b>", "|", "</b>"]),
        t(ROW, &["<div class=\"row\" id=\"", "\">", "</div>"]),
        t(CARD, &["<section><h2>", "</h2><ul>", "</ul></section>"]),
        t(NOT_ROOT, &["<b>", "</b><i></i>"]),
        t(
            STREAM_PAGE,
            &[
                "<div><h1>",
                "</h1><ul id=\"items\" phx-update=\"stream\">",
                "</ul></div>",
            ],
        ),
    ]
    .into_iter()
    .collect()
}

/// A component template: `<div class="row" id=…>…</div>` (two dynamics).
pub const ROW: u64 = 10;
/// A component template holding a list of other components: `<section><h2>…</h2><ul>…</ul>`.
pub const CARD: u64 = 11;
/// A template that is not a single element (components may not use it).
pub const NOT_ROOT: u64 = 12;
/// The page of the stream cases: `<div><h1>…</h1><ul id="items" phx-update="stream">…</ul>`.
pub const STREAM_PAGE: u64 = 13;

/// A stream page node: title and list slot.
pub fn streamed(title: D, list: D) -> UpdateNode {
    UpdateNode {
        template: STREAM_PAGE,
        dynamics: vec![title, list],
    }
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
        stream: None,
    }
}

pub fn update(nodes: Vec<UpdateNode>, lists: Vec<UpdateList>) -> Update {
    Update {
        nodes,
        lists,
        title: None,
        components: vec![],
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
            stream: None,
        });
        nodes[0].dynamics[1] = D::List(0);
    }
    Update {
        nodes,
        lists,
        title: None,
        components: vec![],
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

/// One step of a sequence with live components: a render, or the client reporting components
/// destroyed (`cids_destroyed`).
#[derive(Debug, Clone)]
pub enum Step {
    /// A render result.
    Render(Update),
    /// The client no longer shows these cids.
    Destroy(Vec<u32>),
}

/// Builds an update node by node.
#[derive(Default)]
pub struct Builder {
    pub update: Update,
}

impl Builder {
    /// Starts with a root node of template `template`; its dynamics are set later.
    pub fn new(template: u64, dynamics: Vec<D>) -> Builder {
        let mut b = Builder::default();
        b.node(template, dynamics);
        b
    }
    /// Appends a node and returns the dynamic pointing at it.
    pub fn node(&mut self, template: u64, dynamics: Vec<D>) -> D {
        self.update.nodes.push(UpdateNode { template, dynamics });
        D::Node(self.update.nodes.len() as u32 - 1)
    }
    /// Appends a keyed comprehension of template 2 whose entries hold `(key, inner)`.
    pub fn list(&mut self, entries: Vec<(String, D)>) -> D {
        self.update.lists.push(UpdateList {
            template: 2,
            entries: entries
                .into_iter()
                .map(|(key, inner)| UpdateEntry {
                    key: Some(key.clone()),
                    dynamics: vec![html(&key), inner],
                })
                .collect(),
            stream: None,
        });
        D::List(self.update.lists.len() as u32 - 1)
    }
    /// Renders component `cid` with template `template`.
    pub fn component(&mut self, cid: u32, template: u64, dynamics: Vec<D>) {
        let D::Node(node) = self.node(template, dynamics) else {
            unreachable!()
        };
        self.update.components.push(UpdateComponent { cid, node });
    }
    /// Sets a dynamic of the root node.
    pub fn root(&mut self, slot: usize, value: D) {
        self.update.nodes[0].dynamics[slot] = value;
    }
    pub fn build(self) -> Step {
        Step::Render(self.update)
    }
}

/// Fixed sequences with live components: components in a comprehension, shared statics among
/// new components (`+N`) and with held ones (`-N`), a component re-rendered alone, removed and
/// destroyed components, nested components, and a component whose template changes.
pub fn component_scenarios() -> Vec<(&'static str, Vec<Step>)> {
    let row = |b: &mut Builder, cid: u32, text: &str| {
        b.component(cid, ROW, vec![html(&format!("r{cid}")), html(text)]);
    };
    let page_with = |cids: &[u32]| {
        let mut b = Builder::new(1, vec![html("users"), D::Unchanged]);
        let list = b.list(
            cids.iter()
                .map(|cid| (format!("u{cid}"), D::Component(*cid)))
                .collect(),
        );
        b.root(1, list);
        b
    };
    let only = |f: &dyn Fn(&mut Builder)| {
        let mut b = Builder::new(1, vec![D::Unchanged, D::Unchanged]);
        f(&mut b);
        b.build()
    };
    vec![
        (
            "components in a comprehension, one re-rendered",
            vec![
                {
                    let mut b = page_with(&[1, 2, 3]);
                    for cid in 1..=3 {
                        row(&mut b, cid, "x");
                    }
                    b.build()
                },
                only(&|b| row(b, 2, "edited")),
                only(&|b| b.component(3, ROW, vec![D::Unchanged, html("three")])),
            ],
        ),
        (
            "components added next to held ones, removed, destroyed",
            vec![
                {
                    let mut b = page_with(&[1]);
                    row(&mut b, 1, "a");
                    b.build()
                },
                {
                    let mut b = page_with(&[1, 2, 3]);
                    row(&mut b, 2, "b");
                    row(&mut b, 3, "c");
                    b.build()
                },
                page_with(&[3]).build(),
                Step::Destroy(vec![1, 2, 3]),
                {
                    let mut b = page_with(&[3, 4]);
                    row(&mut b, 4, "d");
                    b.build()
                },
            ],
        ),
        (
            "nested components sharing statics",
            vec![
                {
                    let mut b = Builder::new(1, vec![html("t"), D::Component(1)]);
                    let inner = b.list(vec![
                        ("a".into(), D::Component(2)),
                        ("b".into(), D::Component(3)),
                    ]);
                    b.component(1, CARD, vec![html("card"), inner]);
                    row(&mut b, 2, "two");
                    row(&mut b, 3, "three");
                    b.build()
                },
                only(&|b| {
                    let inner = b.list(vec![
                        ("b".into(), D::Component(3)),
                        ("c".into(), D::Component(4)),
                    ]);
                    b.component(1, CARD, vec![D::Unchanged, inner]);
                    row(b, 4, "four");
                    row(b, 3, "3!");
                }),
                Step::Destroy(vec![2]),
                only(&|b| {
                    let inner = b.list(vec![("d".into(), D::Component(5))]);
                    b.component(1, CARD, vec![html("card 2"), inner]);
                    let nested = b.node(4, vec![html("nested")]);
                    b.component(5, ROW, vec![html("r5"), nested]);
                }),
            ],
        ),
        (
            "a component whose template changes",
            vec![
                {
                    let mut b = Builder::new(1, vec![html("t"), D::Component(1)]);
                    row(&mut b, 1, "row");
                    b.build()
                },
                only(&|b| {
                    let inner = b.list(vec![]);
                    b.component(1, CARD, vec![html("now a card"), inner]);
                }),
                only(&|b| row(b, 1, "a row again")),
            ],
        ),
    ]
}

/// A seeded sequence with live components: rows (template [`ROW`]) and cards ([`CARD`]) holding
/// rows, shown in the page's comprehension in random order, re-rendered at random, created fresh
/// (new cids are never reused), and destroyed once nothing shows them.
pub fn random_component_sequence(seed: u64, steps: usize) -> Vec<Step> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut next_cid = 1u32;
    // key → cid of the live component; keys 0..4 are rows, 4 and 5 cards, 10.. the cards' rows.
    let mut alive: BTreeMap<u32, u32> = BTreeMap::new();
    // card key → its child keys as last rendered.
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let mut shown: Vec<u32> = Vec::new();
    let mut out = Vec::new();
    for step in 0..=steps {
        let first = step == 0;
        let mut b = Builder::new(
            1,
            vec![
                if !first && rng.below(3) == 0 {
                    D::Unchanged
                } else {
                    html(&format!("T{}", rng.below(4)))
                },
                D::Unchanged,
            ],
        );
        let mut rendered: BTreeSet<u32> = BTreeSet::new();
        if first || rng.below(4) != 0 {
            let mut pool: Vec<u32> = (0..6).collect();
            let len = rng.below(5) as usize;
            shown = (0..len)
                .map(|_| pool.remove(rng.below(pool.len() as u64) as usize))
                .collect();
            let entries: Vec<(String, u32)> = shown.iter().map(|k| (format!("k{k}"), *k)).collect();
            let mut list_entries = Vec::new();
            for (name, key) in entries {
                let cid = ensure(&mut alive, &mut next_cid, key);
                list_entries.push((name, D::Component(cid)));
            }
            let list = b.list(list_entries);
            b.root(1, list);
        }
        // Re-render some live components, and render every new one in full (cards may create
        // new rows while rendering: loop until every new component rendered).
        let mut first_pass = true;
        loop {
            let keys: Vec<(u32, u32)> = alive
                .iter()
                .map(|(k, c)| (*k, *c))
                .filter(|(_, c)| !rendered.contains(c))
                .collect();
            let mut any = false;
            for (key, cid) in keys {
                let is_new = !rendered_before(&out, cid);
                if !is_new && (!first_pass || rng.below(3) != 0) {
                    continue;
                }
                any = true;
                render_component(
                    &mut b,
                    &mut rng,
                    key,
                    cid,
                    is_new,
                    &mut alive,
                    &mut children,
                    &mut next_cid,
                    &mut rendered,
                );
            }
            first_pass = false;
            if !any {
                break;
            }
        }
        out.push(b.build());
        if rng.below(4) == 0 {
            let mut reachable = BTreeSet::new();
            let mut stack = shown.clone();
            while let Some(key) = stack.pop() {
                if reachable.insert(key) {
                    stack.extend(children.get(&key).cloned().unwrap_or_default());
                }
            }
            let gone: Vec<u32> = alive
                .keys()
                .filter(|k| !reachable.contains(k))
                .copied()
                .collect();
            if !gone.is_empty() {
                let cids = gone.iter().map(|k| alive[k]).collect();
                for key in gone {
                    alive.remove(&key);
                    children.remove(&key);
                }
                out.push(Step::Destroy(cids));
            }
        }
    }
    out
}

fn ensure(alive: &mut BTreeMap<u32, u32>, next_cid: &mut u32, key: u32) -> u32 {
    *alive.entry(key).or_insert_with(|| {
        *next_cid += 1;
        *next_cid - 1
    })
}

/// True when an earlier render step already rendered `cid`.
fn rendered_before(out: &[Step], cid: u32) -> bool {
    out.iter().any(|step| match step {
        Step::Render(update) => update.components.iter().any(|c| c.cid == cid),
        Step::Destroy(_) => false,
    })
}

#[allow(clippy::too_many_arguments)]
fn render_component(
    b: &mut Builder,
    rng: &mut Rng,
    key: u32,
    cid: u32,
    full: bool,
    alive: &mut BTreeMap<u32, u32>,
    children: &mut BTreeMap<u32, Vec<u32>>,
    next_cid: &mut u32,
    rendered: &mut BTreeSet<u32>,
) {
    if !rendered.insert(cid) {
        return;
    }
    let maybe = |rng: &mut Rng, value: D| {
        if !full && rng.below(3) == 0 {
            D::Unchanged
        } else {
            value
        }
    };
    if !(4..10).contains(&key) {
        let id = html(&format!("row{key}"));
        let id = maybe(rng, id);
        let body = if rng.below(3) == 0 {
            b.node(4, vec![html(&format!("n{}", rng.below(3)))])
        } else {
            html(&format!("v{}", rng.below(3)))
        };
        let body = maybe(rng, body);
        b.component(cid, ROW, vec![id, body]);
    } else {
        let title = html(&format!("card{}", rng.below(3)));
        let title = maybe(rng, title);
        let list = if full || rng.below(2) == 0 {
            // Each card has its own rows (keys 10.., 20..): a component shows in one place.
            let mut pool: Vec<u32> = (0..4).map(|i| key * 5 - 10 + i).collect();
            let len = rng.below(4) as usize;
            let kids: Vec<u32> = (0..len)
                .map(|_| pool.remove(rng.below(pool.len() as u64) as usize))
                .collect();
            let mut entries = Vec::new();
            for kid in &kids {
                let kid_cid = ensure(alive, next_cid, *kid);
                entries.push((format!("c{kid}"), D::Component(kid_cid)));
            }
            children.insert(key, kids);
            b.list(entries)
        } else {
            D::Unchanged
        };
        b.component(cid, CARD, vec![title, list]);
    }
}

/// A stream comprehension of template 2 (`<li id="…">…</li>`) inserting `(id, text)` items
/// with the given operations.
pub fn stream_list(
    stream_ref: &str,
    entries: &[(&str, &str)],
    inserts: &[(&str, i32, Option<i32>, bool)],
    deletes: &[&str],
    reset: bool,
) -> UpdateList {
    UpdateList {
        template: 2,
        entries: entries
            .iter()
            .map(|(id, text)| UpdateEntry {
                key: None,
                dynamics: vec![html(id), html(text)],
            })
            .collect(),
        stream: Some(StreamOps {
            stream_ref: stream_ref.into(),
            inserts: inserts
                .iter()
                .map(|(id, at, limit, update_only)| StreamInsert {
                    dom_id: (*id).into(),
                    at: *at,
                    limit: *limit,
                    update_only: *update_only,
                })
                .collect(),
            deletes: deletes.iter().map(|d| (*d).to_string()).collect(),
            reset,
        }),
    }
}

/// A page whose list slot is a stream doing `inserts` (entries named after them), `deletes`
/// and `reset`.
pub fn stream_page(
    title: &str,
    inserts: &[(&str, i32, Option<i32>, bool)],
    deletes: &[&str],
    reset: bool,
) -> Update {
    let entries: Vec<(&str, &str)> = inserts.iter().map(|(id, ..)| (*id, title)).collect();
    update(
        vec![streamed(html(title), D::List(0))],
        vec![stream_list("0", &entries, inserts, deletes, reset)],
    )
}

/// Fixed stream scenarios: each step's update and the DOM ids the client's stream shows after
/// it (as the official client's DOM patch orders them; checked in a browser by
/// tests/browser/feed.test.mjs for the same operations).
#[allow(clippy::type_complexity)]
pub fn stream_scenarios() -> Vec<(&'static str, Vec<(Update, Vec<&'static str>)>)> {
    let none = None;
    vec![
        (
            "stream: append, prepend, insert at an index, update in place",
            vec![
                (
                    stream_page(
                        "t1",
                        &[("a", -1, none, false), ("b", -1, none, false)],
                        &[],
                        false,
                    ),
                    vec!["a", "b"],
                ),
                (
                    stream_page("t2", &[("c", 0, none, false)], &[], false),
                    vec!["c", "a", "b"],
                ),
                (
                    stream_page("t3", &[("d", 1, none, false)], &[], false),
                    vec!["c", "d", "a", "b"],
                ),
                (
                    stream_page("t4", &[("a", 0, none, false)], &[], false),
                    vec!["c", "d", "a", "b"],
                ),
                (
                    update(vec![streamed(html("t5"), D::Unchanged)], vec![]),
                    vec!["c", "d", "a", "b"],
                ),
            ],
        ),
        (
            "stream: delete, limits, reset",
            vec![
                (
                    stream_page(
                        "t1",
                        &[
                            ("a", -1, Some(-3), false),
                            ("b", -1, Some(-3), false),
                            ("c", -1, Some(-3), false),
                            ("d", -1, Some(-3), false),
                        ],
                        &[],
                        false,
                    ),
                    vec!["b", "c", "d"],
                ),
                (stream_page("t2", &[], &["c"], false), vec!["b", "d"]),
                (
                    stream_page(
                        "t3",
                        &[("e", 0, Some(2), false), ("f", 0, Some(2), false)],
                        &[],
                        false,
                    ),
                    vec!["f", "e"],
                ),
                (
                    stream_page(
                        "t4",
                        &[("x", -1, none, false), ("y", -1, none, false)],
                        &[],
                        true,
                    ),
                    vec!["x", "y"],
                ),
                (stream_page("t5", &[], &[], true), vec![]),
                (
                    stream_page(
                        "t6",
                        &[("z", -1, none, false), ("x", -1, none, true)],
                        &[],
                        false,
                    ),
                    vec!["z"],
                ),
            ],
        ),
    ]
}

/// A seeded sequence of random stream operations on the page's list slot (new and existing
/// ids, every `at`, limits of both signs, update_only, deletes, resets, untouched renders).
pub fn random_stream_sequence(seed: u64, steps: usize) -> Vec<Update> {
    let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1);
    let mut next_id = 0u64;
    let mut known: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for step in 0..=steps {
        let title = format!("s{}", rng.below(3));
        if step > 0 && rng.below(5) == 0 {
            out.push(update(vec![streamed(html(&title), D::Unchanged)], vec![]));
            continue;
        }
        let mut ids: Vec<String> = Vec::new();
        for _ in 0..rng.below(4) {
            let id = if !known.is_empty() && rng.below(3) == 0 {
                known[rng.below(known.len() as u64) as usize].clone()
            } else {
                next_id += 1;
                format!("i{next_id}")
            };
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let inserts: Vec<(String, i32, Option<i32>, bool)> = ids
            .iter()
            .map(|id| {
                let at = match rng.below(4) {
                    0 => 0,
                    1 => rng.below(6) as i32,
                    _ => -1,
                };
                let limit = match rng.below(5) {
                    0 => Some(rng.below(6) as i32 + 1),
                    1 => Some(-(rng.below(6) as i32) - 1),
                    _ => None,
                };
                (id.clone(), at, limit, rng.below(8) == 0)
            })
            .collect();
        let mut deletes = Vec::new();
        for _ in 0..rng.below(2) {
            if !known.is_empty() {
                deletes.push(known[rng.below(known.len() as u64) as usize].clone());
            }
        }
        let reset = step > 0 && rng.below(7) == 0;
        for id in &ids {
            if !known.contains(id) {
                known.push(id.clone());
            }
        }
        let text = format!("v{}", rng.below(5));
        let entries: Vec<(&str, &str)> =
            ids.iter().map(|id| (id.as_str(), text.as_str())).collect();
        let inserts: Vec<(&str, i32, Option<i32>, bool)> = inserts
            .iter()
            .map(|(id, at, limit, only)| (id.as_str(), *at, *limit, *only))
            .collect();
        let deletes: Vec<&str> = deletes.iter().map(String::as_str).collect();
        out.push(update(
            vec![streamed(html(&title), D::List(0))],
            vec![stream_list("0", &entries, &inserts, &deletes, reset)],
        ));
    }
    out
}

impl Builder {
    /// Appends a stream comprehension of template 2 inserting `inserts` (each entry shows its
    /// id and `text`) and returns the dynamic pointing at it.
    pub fn stream(
        &mut self,
        stream_ref: &str,
        text: &str,
        inserts: &[(&str, i32, Option<i32>, bool)],
        deletes: &[&str],
        reset: bool,
    ) -> D {
        let entries: Vec<(&str, &str)> = inserts.iter().map(|(id, ..)| (*id, text)).collect();
        self.update
            .lists
            .push(stream_list(stream_ref, &entries, inserts, deletes, reset));
        D::List(self.update.lists.len() as u32 - 1)
    }
}

/// Streams inside live components (each card a component with its own stream), with the ids
/// each stream shows after every step: both cards new (the second sharing the first's statics),
/// one card re-rendered alone, a delete and an insert in the other, a reset.
#[allow(clippy::type_complexity)]
pub fn stream_component_scenarios() -> Vec<(
    &'static str,
    Vec<(Step, Vec<(&'static str, Vec<&'static str>)>)>,
)> {
    let page = |cids: &[u32]| {
        let mut b = Builder::new(1, vec![html("cards"), D::Unchanged]);
        let list = b.list(
            cids.iter()
                .map(|cid| (format!("c{cid}"), D::Component(*cid)))
                .collect(),
        );
        b.root(1, list);
        b
    };
    let only = || Builder::new(1, vec![D::Unchanged, D::Unchanged]);
    let none = None;
    let mut steps = Vec::new();

    let mut b = page(&[1, 2]);
    let s1 = b.stream(
        "1-0",
        "one",
        &[("a", -1, none, false), ("b", -1, none, false)],
        &[],
        false,
    );
    b.component(1, CARD, vec![html("first"), s1]);
    let s2 = b.stream("2-0", "two", &[("x", -1, none, false)], &[], false);
    b.component(2, CARD, vec![html("second"), s2]);
    steps.push((b.build(), vec![("1-0", vec!["a", "b"]), ("2-0", vec!["x"])]));

    let mut b = only();
    let s1 = b.stream("1-0", "one", &[("c", 0, Some(2), false)], &[], false);
    b.component(1, CARD, vec![D::Unchanged, s1]);
    steps.push((b.build(), vec![("1-0", vec!["c", "a"]), ("2-0", vec!["x"])]));

    let mut b = only();
    let s2 = b.stream("2-0", "two", &[("y", 0, none, false)], &["x"], false);
    b.component(2, CARD, vec![html("second!"), s2]);
    steps.push((b.build(), vec![("1-0", vec!["c", "a"]), ("2-0", vec!["y"])]));

    let mut b = only();
    let s1 = b.stream("1-0", "one", &[("z", -1, none, false)], &[], true);
    b.component(1, CARD, vec![D::Unchanged, s1]);
    steps.push((b.build(), vec![("1-0", vec!["z"]), ("2-0", vec!["y"])]));

    vec![("streams in live components", steps)]
}
