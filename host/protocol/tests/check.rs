//! The judge agrees with the diff engine: on seeded random sequences (plain, live components,
//! streams), each render and many damaged copies of it get the same verdict from
//! `check::check` as from `diff::apply_tree`, and checking changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use livewasm_protocol::check::check;
use livewasm_protocol::diff::apply_tree;
use livewasm_protocol::rendered::{Statics, Tree};
use livewasm_protocol::update::{Update, UpdateDynamic as D};

mod support;
use support::{
    Rng, Step, random_component_sequence, random_sequence, random_stream_sequence, templates,
};

/// Template ids a damaged node may switch to (known ones, and one nobody knows).
const TEMPLATE_IDS: [u64; 8] = [1, 2, 3, 4, 5, 10, 11, 99];

/// A copy of `update` with one random kind of damage.
fn damage(update: &Update, rng: &mut Rng) -> Update {
    let mut out = update.clone();
    let mut slots: Vec<&mut D> = Vec::new();
    for node in &mut out.nodes {
        slots.extend(node.dynamics.iter_mut());
    }
    for list in &mut out.lists {
        for entry in &mut list.entries {
            slots.extend(entry.dynamics.iter_mut());
        }
    }
    let pick = |rng: &mut Rng, n: usize| (n > 0).then(|| rng.below(n as u64) as usize);
    match rng.below(6) {
        0 => {
            if let Some(i) = pick(rng, slots.len()) {
                *slots[i] = D::Unchanged;
            }
        }
        1 => {
            if let Some(i) = pick(rng, slots.len()) {
                let target = rng.below(out_len(update) as u64 + 2) as u32;
                *slots[i] = match rng.below(3) {
                    0 => D::Node(target),
                    1 => D::List(target),
                    _ => D::Component(target),
                };
            }
        }
        2 => {
            if let Some(i) = pick(rng, out.nodes.len()) {
                out.nodes[i].template = TEMPLATE_IDS[rng.below(8) as usize];
            }
        }
        3 => {
            if let Some(i) = pick(rng, out.components.len()) {
                out.components.remove(i);
            }
        }
        4 => {
            if let Some(i) = pick(rng, out.lists.len()) {
                let list = &mut out.lists[i];
                if let Some(j) = pick(rng, list.entries.len()) {
                    list.entries[j].key = match rng.below(2) {
                        0 => None,
                        _ => Some(format!("k{}", rng.below(3))),
                    };
                }
            }
        }
        _ => {
            if let Some(i) = pick(rng, out.lists.len()) {
                let list = &mut out.lists[i];
                if let Some(j) = pick(rng, list.entries.len()) {
                    list.entries[j].dynamics.pop();
                }
                list.template = TEMPLATE_IDS[rng.below(8) as usize];
            }
        }
    }
    out
}

fn out_len(update: &Update) -> usize {
    update.nodes.len().max(update.lists.len())
}

/// Walks `steps`, judging each render and its damaged copies against the kept tree.
fn walk(steps: Vec<Step>, rng: &mut Rng, statics: &HashMap<u64, Arc<Statics>>) -> (usize, usize) {
    let lookup = |id: u64| statics.get(&id).cloned();
    let mut tree: Option<Tree> = None;
    let (mut accepted, mut rejected) = (0, 0);
    for step in steps {
        let update = match step {
            Step::Destroy(cids) => {
                if let Some(tree) = tree.as_mut() {
                    tree.destroy(&cids);
                }
                continue;
            }
            Step::Render(update) => update,
        };
        for _ in 0..12 {
            let damaged = damage(&update, rng);
            let before = tree.clone();
            let verdict = check(tree.as_ref(), &damaged, &lookup);
            assert_eq!(tree, before, "check changed the kept tree");
            let applied = apply_tree(tree.clone(), damaged.clone(), &lookup).map(|_| ());
            assert_eq!(verdict, applied, "check and apply disagree on {damaged:?}");
            if verdict.is_ok() {
                accepted += 1;
            } else {
                rejected += 1;
            }
        }
        assert_eq!(check(tree.as_ref(), &update, &lookup), Ok(()));
        tree = Some(
            apply_tree(tree.take(), update, &lookup)
                .expect("the sequence applies")
                .0,
        );
    }
    (accepted, rejected)
}

#[test]
fn check_and_apply_agree_on_random_damage() {
    let statics = templates();
    let mut rng = Rng(0x5EED_CAFE);
    let (mut accepted, mut rejected) = (0, 0);
    for seed in 0..60 {
        let plain = random_sequence(seed, 20)
            .into_iter()
            .map(Step::Render)
            .collect();
        let streams = random_stream_sequence(seed, 20)
            .into_iter()
            .map(Step::Render)
            .collect();
        for steps in [plain, random_component_sequence(seed, 20), streams] {
            let (a, r) = walk(steps, &mut rng, &statics);
            accepted += a;
            rejected += r;
        }
    }
    // Both verdicts are exercised, many times.
    assert!(
        accepted > 1000 && rejected > 1000,
        "{accepted} / {rejected}"
    );
}
