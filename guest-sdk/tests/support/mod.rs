//! The host's side of a guest render, for tests that drive the real export glue: converts the
//! WIT tree to the protocol crate's `Update` (with the one mapping the host uses too,
//! `livewasm_protocol::update_from_wit!`), fetches statics as the host does, judges the render
//! with the host's check, diffs with the host's engine and merges the diff as the official
//! client would.
//!
//! Unlike the host, a render the check rejects is an error here, not a reason to ask for a full
//! render: these tests hold the guest's own fast path (`keep.rs`) to never needing one.

use std::collections::HashMap;
use std::sync::Arc;

use livewasm_protocol::check::check;
use livewasm_protocol::client::ClientRendered;
use livewasm_protocol::diff::apply_tree;
use livewasm_protocol::rendered::{Statics, Tree};
use livewasm_protocol::update::Update;
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
        let update: Update =
            livewasm_protocol::update_from_wit!(wit, livewasm_sdk::export::render(false));
        self.apply(update)
    }

    /// What the host does when its check rejects a render: throws the render away and asks
    /// for a full one (`render(full: true)`), whatever the guest sent. Returns the full
    /// render's update (to inspect), its diff and the HTML the client now shows.
    #[allow(dead_code)]
    pub fn render_thrown_away(&mut self) -> Result<(Update, serde_json::Value, String), String> {
        let _thrown_away = livewasm_sdk::export::render(false);
        let update: Update =
            livewasm_protocol::update_from_wit!(wit, livewasm_sdk::export::render(true));
        let (diff, shown) = self.apply(update.clone())?;
        Ok((update, diff, shown))
    }

    /// Fetches statics, judges and diffs `update`, and merges the diff as the client does.
    fn apply(&mut self, update: Update) -> Result<(serde_json::Value, String), String> {
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
        check(self.tree.as_ref(), &update, &lookup).map_err(|e| e.to_string())?;
        let (tree, diff) = apply_tree(self.tree.take(), update, &lookup)
            .map_err(|e| format!("the check passed but the diff failed: {e}"))?;
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
