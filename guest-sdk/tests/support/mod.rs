//! The host's side of a guest render, for tests that drive the real export glue: converts the
//! WIT tree to the protocol crate's `Update`, fetches statics as the host does, diffs with the
//! host's engine and merges the diff as the official client would.

use std::collections::HashMap;
use std::sync::Arc;

use livewasm_protocol::client::ClientRendered;
use livewasm_protocol::diff::apply_tree;
use livewasm_protocol::rendered::{Statics, Tree};
use livewasm_protocol::update::{
    Update, UpdateComponent, UpdateDynamic, UpdateEntry, UpdateList, UpdateNode,
};
use livewasm_sdk::bindings::livewasm::view::types as wit;

/// The kept tree, the statics fetched so far, and the client's copy.
#[derive(Default)]
pub struct HostSide {
    tree: Option<Tree>,
    statics: HashMap<u64, Arc<Statics>>,
    client: Option<ClientRendered>,
}

impl HostSide {
    /// Renders the mounted view, diffs it as the host does and merges the diff as the client
    /// does. Returns the diff and the HTML the client now shows, or why the host refused it.
    pub fn render(&mut self) -> Result<(serde_json::Value, String), String> {
        let update = convert(livewasm_sdk::export::render());
        for id in update.template_ids().collect::<Vec<_>>() {
            self.statics.entry(id).or_insert_with(|| {
                let t = livewasm_sdk::export::lookup_template(id).expect("template");
                Arc::new(Statics {
                    id,
                    parts: t.statics.into_iter().map(String::into_boxed_str).collect(),
                    root: t.root,
                })
            });
        }
        let statics = &self.statics;
        let lookup = |id: u64| statics.get(&id).cloned();
        let (tree, diff) =
            apply_tree(self.tree.take(), update, &lookup).map_err(|e| e.to_string())?;
        self.tree = Some(tree);
        let diff = diff.into_value();
        match &mut self.client {
            Some(client) => client.merge(diff.clone()).expect("client merges"),
            None => self.client = Some(ClientRendered::new(diff.clone()).expect("client")),
        }
        let shown = self.client.as_ref().map(ClientRendered::to_html);
        Ok((diff, shown.unwrap_or_default()))
    }
}

fn dynamic(d: wit::Dynamic) -> UpdateDynamic {
    match d {
        wit::Dynamic::Unchanged => UpdateDynamic::Unchanged,
        wit::Dynamic::Html(text) => UpdateDynamic::Html(text),
        wit::Dynamic::Node(i) => UpdateDynamic::Node(i),
        wit::Dynamic::Comprehension(i) => UpdateDynamic::List(i),
        wit::Dynamic::Component(cid) => UpdateDynamic::Component(cid),
    }
}

/// The WIT render result as the protocol crate's `Update` (no streams in these tests).
fn convert(rendered: wit::Rendered) -> Update {
    Update {
        nodes: rendered
            .nodes
            .into_iter()
            .map(|n| UpdateNode {
                template: n.template,
                dynamics: n.dynamics.into_iter().map(dynamic).collect(),
            })
            .collect(),
        lists: rendered
            .lists
            .into_iter()
            .map(|l| {
                assert!(l.stream_ops.is_none());
                UpdateList {
                    template: l.template,
                    entries: l
                        .entries
                        .into_iter()
                        .map(|e| UpdateEntry {
                            key: e.key,
                            dynamics: e.dynamics.into_iter().map(dynamic).collect(),
                        })
                        .collect(),
                    stream: None,
                }
            })
            .collect(),
        title: rendered.title,
        components: rendered
            .components
            .into_iter()
            .map(|c| UpdateComponent {
                cid: c.cid,
                node: c.node,
            })
            .collect(),
    }
}
