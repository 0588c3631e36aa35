//! [`Instance`]: one view's store and component instance, and its kept rendered tree.

use std::collections::HashMap;
use std::sync::Arc;

use livewasm_protocol::diff::{self, Diff};
use livewasm_protocol::rendered::{Statics, Tree};
use livewasm_protocol::update::{
    StreamInsert, StreamOps, Update, UpdateComponent, UpdateDynamic, UpdateEntry, UpdateList,
    UpdateNode,
};
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
    /// The live session of the matched route (its `on_mount` hooks run in the guest).
    pub live_session: Option<String>,
    /// Flash carried in (a JSON object kind → message).
    pub flash: Value,
}

/// A plain HTTP request for the app's `http` export.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// Method, upper case.
    pub method: String,
    /// The matched route pattern.
    pub route: String,
    /// Path, query and form params (a JSON object).
    pub params: Value,
    /// The user session (a JSON object).
    pub session: Value,
}

/// The app's answer to an HTTP request.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Redirect target, if any.
    pub redirect: Option<String>,
    /// Body.
    pub body: String,
    /// The new session, when it changes (a JSON object; `{}` clears it).
    pub session: Option<Value>,
    /// Flash for the next page (a JSON object).
    pub flash: Value,
}

/// One live instance of an app.
pub struct Instance {
    app: App,
    store: Store<HostState>,
    view: View,
    tree: Option<Tree>,
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
        self.store.data_mut().messaging.new_callback();
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
            live_session: request.live_session.clone(),
            flash: request.flash.to_string(),
        };
        let result =
            self.call(|view, store| view.livewasm_view_live().call_mount(store, &request))?;
        result.map_err(CallError::Guest)
    }

    /// Calls `handle-params` with the URL's params and its route's live action.
    pub fn handle_params(
        &mut self,
        params: &Value,
        url: &str,
        action: Option<&str>,
    ) -> Result<(), CallError> {
        let params = params.to_string();
        let action = action.map(str::to_string);
        let result = self.call(|view, store| {
            view.livewasm_view_live()
                .call_handle_params(store, &params, url, action.as_deref())
        })?;
        result.map_err(CallError::Guest)
    }

    /// Calls the `http` export with one request.
    pub fn handle_http(&mut self, request: &HttpRequest) -> Result<HttpResponse, CallError> {
        let request = types::HttpRequest {
            method: request.method.clone(),
            route: request.route.clone(),
            params: request.params.to_string(),
            session: request.session.to_string(),
        };
        let response =
            self.call(|view, store| view.livewasm_view_http().call_handle(store, &request))?;
        let parse = |text: &str, what: &str| -> Result<Value, CallError> {
            match serde_json::from_str(text) {
                Ok(Value::Object(map)) => Ok(Value::Object(map)),
                Ok(_) => Err(CallError::Json(format!("{what} is not an object"))),
                Err(e) => Err(CallError::Json(format!("{what}: {e}"))),
            }
        };
        Ok(HttpResponse {
            status: response.status,
            headers: response.headers,
            redirect: response.redirect,
            body: response.body,
            session: response
                .session
                .as_deref()
                .map(|s| parse(s, "session"))
                .transpose()?,
            flash: parse(&response.flash, "flash")?,
        })
    }

    /// The navigation the view asked for since the last call to this (or to
    /// [`Self::take_effects`]), leaving timers and events in place.
    pub fn take_navigation(&mut self) -> Option<crate::Navigation> {
        self.store.data_mut().effects.navigation.take()
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

    /// Calls `handle-async` with the result of the task started under `name`.
    pub fn handle_async(
        &mut self,
        name: &str,
        result: &Result<Value, String>,
    ) -> Result<(), CallError> {
        self.store.data_mut().messaging.task_done(name);
        let result = match result {
            Ok(value) => Ok(value.to_string()),
            Err(reason) => Err(reason.clone()),
        };
        let result = self.call(|view, store| {
            view.livewasm_view_live().call_handle_async(
                store,
                name,
                result.as_ref().map_err(String::as_str),
            )
        })?;
        result.map_err(CallError::Guest)
    }

    /// Calls `run-task` (on an instance with no view mounted): the task's value or its error.
    pub fn run_task(
        &mut self,
        task: &str,
        args: &Value,
    ) -> Result<Result<Value, String>, CallError> {
        let args = args.to_string();
        let result =
            self.call(|view, store| view.livewasm_view_live().call_run_task(store, task, &args))?;
        Ok(result.and_then(|text| {
            serde_json::from_str(&text).map_err(|e| format!("the task's value is not JSON: {e}"))
        }))
    }

    /// Lets the view read its received uploads from `source` (`uploads.read`).
    pub fn set_upload_source(&mut self, source: Arc<dyn crate::UploadSource>) {
        self.store.data_mut().set_upload_source(source);
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
        match diff::apply_tree(self.tree.take(), update, &lookup) {
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

    /// True when live component `cid` is held (rendered, and not destroyed since).
    pub fn has_component(&self, cid: u32) -> bool {
        self.tree
            .as_ref()
            .is_some_and(|tree| tree.components.contains_key(&cid))
    }

    /// Calls `handle-component-event` for live component `cid` (check [`Self::has_component`]
    /// first); returns the component's reply, if any.
    pub fn handle_component_event(
        &mut self,
        cid: u32,
        event: &str,
        value: &Value,
    ) -> Result<Option<Value>, CallError> {
        let value = value.to_string();
        let result = self.call(|view, store| {
            view.livewasm_view_live()
                .call_handle_component_event(store, cid, event, &value)
        })?;
        match result.map_err(CallError::Guest)? {
            None => Ok(None),
            Some(reply) => serde_json::from_str(&reply)
                .map(Some)
                .map_err(|e| CallError::Json(format!("reply: {e}"))),
        }
    }

    /// The client removed live components `cids` from its page: forgets those nothing refers
    /// to any more (here and in the guest) and returns them (the `cids_destroyed` reply).
    pub fn destroy_components(&mut self, cids: &[u32]) -> Result<Vec<u32>, CallError> {
        let removed = match self.tree.as_mut() {
            Some(tree) => tree.destroy(cids),
            None => Vec::new(),
        };
        if !removed.is_empty() {
            let list = removed.clone();
            self.call(|view, store| {
                view.livewasm_view_live()
                    .call_destroy_components(store, &list)
            })?;
        }
        Ok(removed)
    }

    /// The complete Rendered JSON of the kept tree.
    pub fn full_rendered(&self) -> Option<Value> {
        self.tree.as_ref().map(diff::full_tree)
    }

    /// The HTML of the kept tree.
    pub fn html(&self) -> Option<String> {
        self.tree.as_ref().map(diff::tree_html)
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

fn stream_ops(ops: types::StreamOps) -> StreamOps {
    StreamOps {
        stream_ref: ops.stream_ref,
        inserts: ops
            .inserts
            .into_iter()
            .map(|i| StreamInsert {
                dom_id: i.dom_id,
                at: i.at,
                limit: i.limit,
                update_only: i.update_only,
            })
            .collect(),
        deletes: ops.deletes,
        reset: ops.reset,
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
                stream: l.stream_ops.map(stream_ops),
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
