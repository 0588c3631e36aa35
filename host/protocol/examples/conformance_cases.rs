//! Writes the diff-conformance cases: for fixed scenarios and seeded random sequences, the
//! Rendered JSON our diff engine sends at each step and the HTML our own full render gives.
//! `tests/conformance/check.mjs` feeds them to the official LiveView client and compares.
//!
//! Usage: `cargo run -p livewasm-protocol --example conformance_cases -- OUT.json [SEEDS]`

use std::error::Error;

use livewasm_protocol::diff::{apply, to_html};
use livewasm_protocol::rendered::Node;
use livewasm_protocol::update::Update;
use serde_json::{Value, json};

#[path = "../tests/support/mod.rs"]
mod support;

/// Runs one sequence through the engine: `[{diff, html, title}]` per step.
fn steps(updates: Vec<Update>) -> Result<Vec<Value>, Box<dyn Error>> {
    let templates = support::templates();
    let lookup = move |id: u64| templates.get(&id).cloned();
    let mut tree: Option<Node> = None;
    let mut out = Vec::new();
    for update in updates {
        let title = update.title.clone();
        let (next, diff) = apply(tree.take(), update, &lookup)?;
        out.push(json!({ "diff": diff.into_value(), "html": to_html(&next), "title": title }));
        tree = Some(next);
    }
    Ok(out)
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
    for (name, updates) in support::scenarios() {
        cases.push(json!({ "name": name, "steps": steps(updates)? }));
    }
    for seed in 1..=seeds {
        let name = format!("random seed {seed}");
        cases.push(json!({ "name": name, "steps": steps(support::random_sequence(seed, 25))? }));
    }
    std::fs::write(&path, serde_json::to_vec(&cases)?)?;
    println!("{} cases written to {path}", cases.len());
    Ok(())
}
