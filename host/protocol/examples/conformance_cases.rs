//! Writes the diff-conformance cases: for fixed scenarios and seeded random sequences, the
//! Rendered JSON our diff engine sends at each step and the HTML our own full render gives.
//! `tests/conformance/check.mjs` feeds them to the official LiveView client and compares.
//!
//! Usage: `cargo run -p livewasm-protocol --example conformance_cases -- OUT.json [SEEDS]`

use std::error::Error;

use livewasm_protocol::client::ClientRendered;
use livewasm_protocol::diff::{apply_tree, full_tree, tree_html};
use livewasm_protocol::rendered::{Dynamic, Tree};
use livewasm_protocol::update::Update;
use serde_json::{Value, json};

#[path = "../tests/support/mod.rs"]
mod support;
use support::Step;

/// Runs one sequence through the engine: per render step `{diff, html, title, cids, full}`
/// (`cids`: the components on the page, in document order; `full`: the complete render a join
/// would carry; `streams`: the stream operations the client must apply; `stream_ids`: the DOM
/// ids stream "0" shows according to our client model); per destroy step
/// `{destroy, removed, html}`.
fn steps(sequence: Vec<Step>) -> Result<Vec<Value>, Box<dyn Error>> {
    let templates = support::templates();
    let lookup = move |id: u64| templates.get(&id).cloned();
    let mut tree: Option<Tree> = None;
    let mut client: Option<ClientRendered> = None;
    let mut out = Vec::new();
    for step in sequence {
        match step {
            Step::Render(update) => {
                let title = update.title.clone();
                let streams = stream_ops(&update);
                let (next, diff) = apply_tree(tree.take(), update, &lookup)?;
                let diff = diff.into_value();
                match client.as_mut() {
                    None => client = Some(ClientRendered::new(diff.clone())?),
                    Some(client) => client.merge(diff.clone())?,
                }
                let stream_ids = client.as_ref().map(|c| c.stream_ids("0"));
                out.push(json!({
                    "diff": diff,
                    "stream_ids": stream_ids,
                    "html": tree_html(&next),
                    "title": title,
                    "cids": page_cids(&next),
                    "full": full_tree(&next),
                    "streams": streams,
                }));
                tree = Some(next);
            }
            Step::Destroy(cids) => {
                let tree = tree.as_mut().ok_or("destroy before the first render")?;
                let removed = tree.destroy(&cids);
                if let Some(client) = client.as_mut() {
                    client.prune(&removed);
                }
                out.push(json!({ "destroy": cids, "removed": removed, "html": tree_html(tree) }));
            }
        }
    }
    Ok(out)
}

/// The stream operations the client must hand to its DOM patch after this update: those of
/// every stream with something to do, in the update's order (its lists are in document order).
fn stream_ops(update: &Update) -> Vec<Value> {
    update
        .lists
        .iter()
        .filter_map(|list| {
            let ops = list.stream.as_ref()?;
            (!list.entries.is_empty() || !ops.deletes.is_empty() || ops.reset)
                .then(|| ops.to_json())
        })
        .collect()
}

/// The cids shown on the page, in document order (a component inside another after it).
fn page_cids(tree: &Tree) -> Vec<u32> {
    fn walk(tree: &Tree, dynamics: &[Dynamic], out: &mut Vec<u32>) {
        for dynamic in dynamics {
            match dynamic {
                Dynamic::Html(_) => {}
                Dynamic::Node(node) => walk(tree, &node.dynamics, out),
                Dynamic::List(list) => {
                    for entry in &list.entries {
                        walk(tree, &entry.dynamics, out);
                    }
                }
                Dynamic::Component(cid) => {
                    out.push(*cid);
                    if let Some(node) = tree.components.get(cid) {
                        walk(tree, &node.dynamics, out);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(tree, &tree.root.dynamics, &mut out);
    out
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: conformance_cases OUT.json [SEEDS]")?;
    let seeds: u64 = match args.next() {
        Some(n) => n.parse()?,
        None => 300,
    };
    let mut cases = Vec::new();
    let renders = |updates: Vec<_>| updates.into_iter().map(Step::Render).collect::<Vec<_>>();
    for (name, updates) in support::scenarios() {
        cases.push(json!({ "name": name, "steps": steps(renders(updates))? }));
    }
    for (name, sequence) in support::component_scenarios() {
        cases.push(json!({ "name": name, "steps": steps(sequence)? }));
    }
    for (name, sequence) in support::stream_scenarios() {
        let updates = sequence.into_iter().map(|(update, _)| update).collect();
        let steps = steps(renders(updates))?;
        cases.push(json!({ "name": name, "steps": steps, "dom": true }));
    }
    for (name, sequence) in support::stream_component_scenarios() {
        let sequence = sequence.into_iter().map(|(step, _)| step).collect();
        cases.push(json!({ "name": name, "steps": steps(sequence)? }));
    }
    for seed in 1..=seeds {
        let name = format!("random seed {seed}");
        let sequence = renders(support::random_sequence(seed, 25));
        cases.push(json!({ "name": name, "steps": steps(sequence)? }));
        let name = format!("random components seed {seed}");
        let sequence = support::random_component_sequence(seed, 25);
        cases.push(json!({ "name": name, "steps": steps(sequence)? }));
        let name = format!("random stream seed {seed}");
        let sequence = renders(support::random_stream_sequence(seed, 25));
        cases.push(json!({ "name": name, "steps": steps(sequence)?, "dom": true }));
    }
    std::fs::write(&path, serde_json::to_vec(&cases)?)?;
    println!("{} cases written to {path}", cases.len());
    Ok(())
}
