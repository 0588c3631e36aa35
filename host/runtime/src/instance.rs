//! [`Instance`]: one view's store and component instance, and its kept rendered tree.

use std::collections::HashMap;
use std::sync::Arc;

use livewasm_protocol::diff::{self, Diff};
use livewasm_protocol::rendered::{Node, Statics};
use livewasm_protocol::update::{Update, UpdateDynamic, UpdateEntry, UpdateList, UpdateNode};
use serde_json::Value;
use wasmtime::{Store, Trap};

use crate::bindings::View;
use crate::bindings::livewasm::view::types;
use crate::host_state::{Effects, HostState};
use crate::runtime::{App, fence};
use crate::{CallError, TrapKind};

/// Largest total of statics bytes one template may have.
const MAX_STATICS_BYTES: usize = 1 << 20;

/// What a view is mounted with.
#[derive(Debug, Clone, PartialEq)]
pub struct MountRequest {
    /// View name (from the matched route).
    pub view: String,
    /// Live action of the route.
    pub action: Option<String>,
    /// Path and query params (a JSON object).
    pub params: Value,
    /// The user session (a JSON object).
    pub session: Value,
    /// Absolute URL.
    pub url: String,
    /// False for the dead render.
    pub connected: bool,
}

/// One live instance of an app.
pub struct Instance {
    app: App,
    store: Store<HostState>,
    view: View,
    tree: Option<Node>,
    dead: bool,
}

impl Instance {
    pub(crate) fn new(app: App, store: Store<HostState>, view: View) -> Instance {
        Instance {
            app,
            store,
            view,
            tree: None,
            dead: false,
        }
    }

    /// The app this instance belongs to.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// True after any trap: drop the instance and mount a fresh one.
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// Runs one guest call with fresh fuel and deadline, classifying traps.
    fn call<T>(
        &mut self,
        f: impl FnOnce(&View, &mut Store<HostState>) -> wasmtime::Result<T>,
    ) -> Result<T, CallError> {
        if self.dead {
            return Err(CallError::Dead);
        }
        fence(
            &mut self.store,
            self.app.limits.fuel_per_callback,
            &self.app.inner.runtime.config,
        );
        match f(&self.view, &mut self.store) {
            Ok(value) => Ok(value),
            Err(error) => {
                self.dead = true;
                let kind = classify(&error);
                let message = format!("{error:#}");
                tracing::warn!(app = %self.app.inner.name, ?kind, "guest trapped: {message}");
                Err(CallError::Trap { kind, message })
            }
        }
    }

    pub(crate) fn manifest(&mut self) -> Result<types::AppManifest, CallError> {
        self.call(|view, store| view.livewasm_view_app().call_manifest(store))
    }

    /// Calls `mount`.
    pub fn mount(&mut self, request: &MountRequest) -> Result<(), CallError> {
        let request = types::MountRequest {
            view: request.view.clone(),
            action: request.action.clone(),
            params: request.params.to_string(),
            session: request.session.to_string(),
            url: request.url.clone(),
            connected: request.connected,
        };
        let result =
            self.call(|view, store| view.livewasm_view_live().call_mount(store, &request))?;
        result.map_err(CallError::Guest)
    }

    /// Calls `handle-params`.
    pub fn handle_params(&mut self, params: &Value, url: &str) -> Result<(), CallError> {
        let params = params.to_string();
        let result = self.call(|view, store| {
            view.livewasm_view_live()
                .call_handle_params(store, &params, url)
        })?;
        result.map_err(CallError::Guest)
    }

    /// Calls `handle-event`; returns the view's reply, if any.
    pub fn handle_event(&mut self, event: &str, value: &Value) -> Result<Option<Value>, CallError> {
        let value = value.to_string();
        let result = self.call(|view, store| {
            view.livewasm_view_live()
                .call_handle_event(store, event, &value)
        })?;
        match result.map_err(CallError::Guest)? {
            None => Ok(None),
            Some(reply) => serde_json::from_str(&reply)
                .map(Some)
                .map_err(|e| CallError::Json(format!("reply: {e}"))),
        }
    }

    /// Calls `handle-info`.
    pub fn handle_info(&mut self, message: &Value) -> Result<(), CallError> {
        let message = message.to_string();
        let result =
            self.call(|view, store| view.livewasm_view_live().call_handle_info(store, &message))?;
        result.map_err(CallError::Guest)
    }

    /// Tells the instance a one-shot timer fired.
    pub fn timer_fired(&mut self, id: u64) {
        self.store.data_mut().timer_fired(id);
    }

    /// Effects recorded since the last call to this.
    pub fn take_effects(&mut self) -> Effects {
        std::mem::take(&mut self.store.data_mut().effects)
    }

    /// Renders, fetches unknown statics, merges into the kept tree and returns the diff (the
    /// complete render the first time).
    pub fn render(&mut self) -> Result<Diff, CallError> {
        let rendered = self.call(|view, store| view.livewasm_view_live().call_render(store))?;
        let update = convert(rendered);
        let mut statics: HashMap<u64, Arc<Statics>> = HashMap::new();
        for id in update.template_ids() {
            if statics.contains_key(&id) {
                continue;
            }
            let known = match self.app.template(id) {
                Some(known) => known,
                None => self.fetch_template(id)?,
            };
            statics.insert(id, known);
        }
        let lookup = |id: u64| statics.get(&id).cloned();
        match diff::apply(self.tree.take(), update, &lookup) {
            Ok((tree, diff)) => {
                self.tree = Some(tree);
                Ok(diff)
            }
            Err(e) => {
                // The kept tree is gone; the instance can no longer diff correctly.
                self.dead = true;
                Err(CallError::Render(e.to_string()))
            }
        }
    }

    fn fetch_template(&mut self, id: u64) -> Result<Arc<Statics>, CallError> {
        let template = self
            .call(|view, store| view.livewasm_view_live().call_lookup_template(store, id))?
            .ok_or_else(|| CallError::Render(format!("guest does not know template {id:#x}")))?;
        if template.statics.is_empty() {
            return Err(CallError::Render(format!(
                "template {id:#x} has no statics"
            )));
        }
        let bytes: usize = template.statics.iter().map(String::len).sum();
        if bytes > MAX_STATICS_BYTES {
            return Err(CallError::Render(format!(
                "template {id:#x} has {bytes} bytes of statics"
            )));
        }
        let statics = Arc::new(Statics {
            id,
            parts: template
                .statics
                .into_iter()
                .map(String::into_boxed_str)
                .collect(),
            root: template.root,
        });
        self.app.remember(statics.clone())?;
        Ok(statics)
    }

    /// The complete Rendered JSON of the kept tree.
    pub fn full_rendered(&self) -> Option<Value> {
        self.tree.as_ref().map(diff::full)
    }

    /// The HTML of the kept tree.
    pub fn html(&self) -> Option<String> {
        self.tree.as_ref().map(diff::to_html)
    }
}

fn classify(error: &wasmtime::Error) -> TrapKind {
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => TrapKind::OutOfFuel,
        Some(Trap::Interrupt) => TrapKind::Deadline,
        Some(Trap::UnreachableCodeReached) => TrapKind::Panic,
        Some(Trap::MemoryOutOfBounds | Trap::HeapMisaligned) => TrapKind::Other,
        Some(_) => TrapKind::Other,
        None => {
            let text = format!("{error:#}");
            if text.contains("memory") || text.contains("grow") {
                TrapKind::Memory
            } else {
                TrapKind::Other
            }
        }
    }
}

fn dynamic(d: types::Dynamic) -> UpdateDynamic {
    match d {
        types::Dynamic::Unchanged => UpdateDynamic::Unchanged,
        types::Dynamic::Html(text) => UpdateDynamic::Html(text),
        types::Dynamic::Node(i) => UpdateDynamic::Node(i),
        types::Dynamic::Comprehension(i) => UpdateDynamic::List(i),
        types::Dynamic::Component(cid) => UpdateDynamic::Component(cid),
    }
}

fn convert(rendered: types::Rendered) -> Update {
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
            .map(|l| UpdateList {
                template: l.template,
                entries: l
                    .entries
                    .into_iter()
                    .map(|e| UpdateEntry {
                        key: e.key,
                        dynamics: e.dynamics.into_iter().map(dynamic).collect(),
                    })
                    .collect(),
            })
            .collect(),
        title: rendered.title,
    }
}
