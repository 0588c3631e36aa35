//! [`Instance`]: one view's store and component instance, and its kept rendered tree; every
//! guest call goes through [`Instance::call`] (fuel, deadline, trap classification).
//! [`App::instantiate`] and [`App::run_task`] make instances.

use std::sync::Arc;

use livewasm_protocol::diff::{self, Diff};
use livewasm_protocol::rendered::{Statics, Tree};
use livewasm_protocol::update::Update;
use serde_json::Value;
use wasmtime::{Store, StoreLimitsBuilder, Trap};

use crate::app::{App, check_statics};
use crate::assets::AssetDecl;
use crate::bindings::View;
use crate::capabilities::effects::Navigation;
use crate::capabilities::tasks::MAX_TASK_RESULT_BYTES;
use crate::capabilities::uploads::UploadSource;
use crate::engine::{
    MAX_CORE_INSTANCES_PER_COMPONENT, MAX_MEMORIES_PER_COMPONENT, MAX_TABLES_PER_COMPONENT, fence,
    settle_import_fuel,
};
use crate::error::{CallError, RuntimeError, TrapKind};
use crate::json_text::JsonText;
use crate::manifest::Manifest;
use crate::meter::MeteredLimits;
use crate::render;
use crate::requests::{HttpRequest, HttpResponse, MountRequest};
use crate::store::{Effects, HostState};
use crate::wit;

impl App {
    /// A fresh instance with its own store, fuel and memory cap.
    pub fn instantiate(&self) -> Result<Instance, RuntimeError> {
        let runtime = &self.inner.runtime;
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.memory_bytes)
            .instances(MAX_CORE_INSTANCES_PER_COMPONENT as usize)
            .tables(MAX_TABLES_PER_COMPONENT as usize)
            .memories(MAX_MEMORIES_PER_COMPONENT as usize)
            .trap_on_grow_failure(true)
            .build();
        let mut state = HostState::new(
            MeteredLimits::new(limits, self.meter.clone()),
            self.inner.name.clone(),
            runtime.started,
            runtime.config.callback_deadline,
        );
        if let Some(kv) = &self.kv {
            state.kv.set_store(kv.clone());
        }
        if let Some(blobs) = &self.blobs {
            state.blobs.set_store(blobs.clone());
        }
        if let Some(sql) = &self.sql {
            state.sql.set_store(sql.clone());
        }
        if let Some(fetch) = &self.fetch {
            state.fetch.set_client(fetch.clone());
        }
        if let Some(source) = &self.operator {
            state.operator.set_source(source.clone());
        }
        if let Some((tenant, app)) = &self.names {
            state
                .log
                .set_identity(tenant.clone(), app.clone(), self.meter.clone());
        }
        let mut store = Store::new(&runtime.engine, state);
        store.limiter(|s| &mut s.limits);
        store.call_hook(settle_import_fuel);
        store.epoch_deadline_trap();
        fence(&mut store, self.limits.fuel_per_callback, &runtime.config);
        let refused = |e: wasmtime::Error| {
            let text = format!("{e:#}");
            if text.contains("concurrent") || text.contains("pooling") || text.contains("maximum") {
                RuntimeError::PoolExhausted(runtime.config.max_instances)
            } else {
                RuntimeError::Instantiate(text)
            }
        };
        let raw = self
            .inner
            .pre
            .instance_pre()
            .instantiate(&mut store)
            .map_err(refused)?;
        let view = View::new(&mut store, &raw).map_err(refused)?;
        Ok(Instance {
            app: self.clone(),
            store,
            view,
            raw,
            tree: None,
            dead: false,
        })
    }

    /// Runs task `task` with `args` in a fresh instance of this app (its own fuel, deadline and
    /// memory), then drops the instance. A trap, an exhausted pool or the task's own error all
    /// become an `Err` naming the reason; the caller's view is never affected. The value is
    /// the JSON text the task returned (checked, at most [`MAX_TASK_RESULT_BYTES`]).
    pub fn run_task(&self, task: &str, args: &JsonText) -> Result<JsonText, String> {
        let mut instance = self
            .instantiate()
            .map_err(|e| format!("the task could not start: {e}"))?;
        match instance.run_task(task, args) {
            Ok(result) => result,
            Err(CallError::Trap { kind, .. }) => Err(format!("the task crashed ({kind:?})")),
            Err(other) => Err(format!("the task failed: {other}")),
        }
    }
}

/// One live instance of an app.
pub struct Instance {
    app: App,
    store: Store<HostState>,
    view: View,
    /// The component instance itself, for the optional `hibernation` export.
    raw: wasmtime::component::Instance,
    pub(crate) tree: Option<Tree>,
    dead: bool,
}

impl Instance {
    /// The app this instance belongs to.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// True after any trap: drop the instance and mount a fresh one.
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// Runs one guest call with fresh fuel, deadline and import budget, classifying traps.
    fn call<T>(
        &mut self,
        f: impl FnOnce(&View, &mut Store<HostState>) -> wasmtime::Result<T>,
    ) -> Result<T, CallError> {
        self.call_with(true, f)
    }

    /// Runs one guest call, with fresh fuel, deadline and budget when `fresh` is true, else
    /// on what the previous call left (the `lookup-template` calls of a render share the
    /// render's).
    fn call_with<T>(
        &mut self,
        fresh: bool,
        f: impl FnOnce(&View, &mut Store<HostState>) -> wasmtime::Result<T>,
    ) -> Result<T, CallError> {
        if self.dead {
            return Err(CallError::Dead);
        }
        if fresh {
            fence(
                &mut self.store,
                self.app.limits.fuel_per_callback,
                &self.app.inner.runtime.config,
            );
            self.store.data_mut().new_callback();
        }
        // What the call costs, for the app's meter: two fuel reads and a clock read.
        let metered = self.app.meter.is_some().then(|| {
            let fuel = self.store.get_fuel().unwrap_or(0);
            (fuel, std::time::Instant::now())
        });
        let result = f(&self.view, &mut self.store);
        if let (Some(meter), Some((fuel, started))) = (&self.app.meter, metered) {
            let used = fuel.saturating_sub(self.store.get_fuel().unwrap_or(0));
            meter.guest_call(used, started.elapsed());
            self.store
                .data()
                .budget
                .capability_calls()
                .report(meter.as_ref());
        }
        match result {
            Ok(value) => Ok(value),
            Err(error) => {
                self.dead = true;
                let kind = classify(&error);
                if let Some(meter) = &self.app.meter {
                    meter.trap(kind);
                }
                // A Rust guest's panic message (logged by the SDK's hook) says more than the
                // `unreachable` it ends in.
                let message = match self.store.data().log.panic() {
                    Some(panic) => format!("{panic}\n{error:#}"),
                    None => format!("{error:#}"),
                };
                let (tenant, app) = self.app.log_names();
                tracing::warn!(tenant, app, ?kind, "guest trapped: {message}");
                Err(CallError::Trap { kind, message })
            }
        }
    }

    /// Runs function `name` of the optional exported interface `interface` (none when the
    /// component has no such export) under the same fuel, deadline and trap handling as every
    /// guest call (`hibernation.rs` calls the `hibernation` export so).
    pub(crate) fn call_optional<P, R>(
        &mut self,
        interface: &str,
        name: &str,
        params: P,
    ) -> Result<Option<R>, CallError>
    where
        P: wasmtime::component::ComponentNamedList + wasmtime::component::Lower + Send + Sync,
        R: wasmtime::component::ComponentNamedList + wasmtime::component::Lift + Send + Sync,
    {
        let raw = self.raw;
        let Some(interface) = raw.get_export_index(&mut self.store, None, interface) else {
            return Ok(None);
        };
        let Some(func) = raw.get_export_index(&mut self.store, Some(&interface), name) else {
            return Ok(None);
        };
        let Ok(func) = raw.get_typed_func::<P, R>(&mut self.store, &func) else {
            return Ok(None);
        };
        self.call(move |_, store| func.call(store, params))
            .map(Some)
    }

    /// The store's host state, taken apart (the instance is gone).
    pub(crate) fn into_parts(self) -> (App, Option<Tree>, HostState) {
        (self.app, self.tree, self.store.into_data())
    }

    /// The host state of this instance's store.
    pub(crate) fn state_mut(&mut self) -> &mut HostState {
        self.store.data_mut()
    }

    /// Calls `app.manifest` (unchecked: see [`Manifest::check`]).
    pub(crate) fn manifest(&mut self) -> Result<(Manifest, Vec<AssetDecl>), CallError> {
        let raw = self.call(|view, store| view.livewasm_view_app().call_manifest(store))?;
        Ok(wit::manifest(raw))
    }

    /// Calls `app.asset`: the bytes of asset `name`, if the app has it.
    pub(crate) fn asset(&mut self, name: &str) -> Result<Option<Vec<u8>>, CallError> {
        self.call(|view, store| view.livewasm_view_app().call_asset(store, name))
    }

    /// Calls `mount`.
    pub fn mount(&mut self, request: &MountRequest) -> Result<(), CallError> {
        let request = wit::mount_request(request);
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
        let request = wit::http_request(request);
        let response =
            self.call(|view, store| view.livewasm_view_http().call_handle(store, &request))?;
        wit::http_response(response)
    }

    /// The navigation the view asked for since the last call to this (or to
    /// [`Self::take_effects`]), leaving timers and events in place.
    pub fn take_navigation(&mut self) -> Option<Navigation> {
        self.store.data_mut().effects.take_navigation()
    }

    /// Calls `handle-event`; returns the view's reply, if any.
    pub fn handle_event(&mut self, event: &str, value: &Value) -> Result<Option<Value>, CallError> {
        let value = value.to_string();
        let result = self.call(|view, store| {
            view.livewasm_view_live()
                .call_handle_event(store, event, &value)
        })?;
        parse_reply(result)
    }

    /// Calls `handle-info` with `message`, JSON text (passed on as it is).
    pub fn handle_info(&mut self, message: &str) -> Result<(), CallError> {
        // The bindings take the WIT `json` alias as `&String`: one copy, no parsing.
        let message = message.to_owned();
        let result =
            self.call(|view, store| view.livewasm_view_live().call_handle_info(store, &message))?;
        result.map_err(CallError::Guest)
    }

    /// Calls `handle-async` with the result of the task started under `name`: its value as
    /// JSON text, or why it failed.
    pub fn handle_async(
        &mut self,
        name: &str,
        result: Result<&str, &str>,
    ) -> Result<(), CallError> {
        self.store.data_mut().tasks.done(name);
        let result = result.map(str::to_owned);
        let result = self.call(|view, store| {
            view.livewasm_view_live().call_handle_async(
                store,
                name,
                result.as_ref().map_err(|e| *e),
            )
        })?;
        result.map_err(CallError::Guest)
    }

    /// Calls `run-task` (on an instance with no view mounted): the task's value or its error.
    pub fn run_task(
        &mut self,
        task: &str,
        args: &JsonText,
    ) -> Result<Result<JsonText, String>, CallError> {
        let args = args.as_str().to_owned();
        let result =
            self.call(|view, store| view.livewasm_view_live().call_run_task(store, task, &args))?;
        Ok(result.and_then(|text| {
            if text.len() > MAX_TASK_RESULT_BYTES {
                return Err(format!(
                    "the task's value of {} bytes exceeds the limit of {MAX_TASK_RESULT_BYTES} bytes",
                    text.len()
                ));
            }
            JsonText::parse(text).map_err(|e| format!("the task's value is not JSON: {e}"))
        }))
    }

    /// Lets the view read its received uploads from `source` (`uploads.read`, and
    /// `blobs.put-upload`).
    pub fn set_upload_source(&mut self, source: Arc<dyn UploadSource>) {
        let state = self.store.data_mut();
        state.blobs.set_uploads(source.clone());
        state.uploads.set_source(source);
    }

    /// Tells the instance a one-shot timer fired.
    pub fn timer_fired(&mut self, id: u64) {
        self.store.data_mut().timers.fired(id);
    }

    /// Effects recorded since the last call to this.
    pub fn take_effects(&mut self) -> Effects {
        self.store.data_mut().take_effects()
    }

    /// Renders, fetches unknown statics, judges the render against the kept tree (asking the
    /// guest for a full render when the host could not fill it), merges it and returns the
    /// diff (the complete render the first time). See `render.rs`.
    pub fn render(&mut self) -> Result<Diff, CallError> {
        let mut tree = self.tree.take();
        let limits = self.app.inner.runtime.config.render_limits;
        let result = render::render(&mut tree, self, &limits);
        self.tree = tree;
        result.map_err(|failure| {
            // A render the host refused leaves the view's state unknown: as after a trap, the
            // instance is done (the kept tree may be gone too).
            self.dead = true;
            if !failure.tree_kept {
                let (tenant, app) = self.app.log_names();
                tracing::warn!(tenant, app, "the kept tree is lost");
            }
            failure.error
        })
    }

    /// Asks the guest for template `id`'s statics, checks them against the caps and the
    /// `arity` the render uses the template with, and caches them for the app.
    fn fetch_template(&mut self, id: u64, arity: Option<usize>) -> Result<Arc<Statics>, CallError> {
        let template = self
            .call_with(false, |view, store| {
                view.livewasm_view_live().call_lookup_template(store, id)
            })?
            .ok_or_else(|| CallError::Render(format!("guest does not know template {id:#x}")))?;
        check_statics(id, &template.statics, arity)?;
        let statics = Arc::new(wit::statics(id, template));
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
        parse_reply(result)
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

impl render::Guest for Instance {
    fn render(&mut self, full: bool) -> Result<Update, CallError> {
        let rendered =
            self.call(|view, store| view.livewasm_view_live().call_render(store, full))?;
        Ok(wit::update(rendered))
    }

    fn statics(&mut self, id: u64, arity: Option<usize>) -> Result<Arc<Statics>, CallError> {
        match self.app.template(id) {
            Some(known) => Ok(known),
            None => self.fetch_template(id, arity),
        }
    }
}

/// A reply from `handle-event` or `handle-component-event`: the view's error, or its JSON.
fn parse_reply(result: Result<Option<String>, String>) -> Result<Option<Value>, CallError> {
    match result.map_err(CallError::Guest)? {
        None => Ok(None),
        Some(reply) => serde_json::from_str(&reply)
            .map(Some)
            .map_err(|e| CallError::Json(format!("reply: {e}"))),
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
