//! The glue between the component exports and the app's views (used by [`crate::app!`]).

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::Value;

use crate::attach_hook::{HookResult, SharedHook};
use crate::bindings::livewasm::view::types as wit;
use crate::http_handler::{HttpHandler, HttpRequest};
use crate::layout::{LayoutAssigns, LayoutFn};
use crate::on_mount::{MountSocket, OnMount, OnMountHook};
use crate::{Dyn, Flash, LiveView, Params, Rendered, Session, Socket};

/// A view with its type erased, so one component can host several views.
pub trait ErasedView {
    /// `mount`, after the `on_mount` hooks assigned `shared` and left `flash`.
    fn mount(
        &mut self,
        request: &wit::MountRequest,
        shared: serde_json::Map<String, Value>,
        flash: Flash,
    ) -> Result<(), String>;
    /// `handle-params`.
    fn handle_params(
        &mut self,
        params: &str,
        url: &str,
        action: Option<String>,
    ) -> Result<(), String>;
    /// `handle-event`.
    fn handle_event(&mut self, event: &str, value: &str) -> Result<Option<String>, String>;
    /// `handle-info`.
    fn handle_info(&mut self, message: &str) -> Result<(), String>;
    /// `handle-async`: an `assign_async!` field's outcome, else the view's `handle_async`.
    fn handle_async(&mut self, name: &str, outcome: crate::AsyncOutcome) -> Result<(), String>;
    /// `render`.
    fn render(&mut self) -> (Rendered, Option<String>);
    /// Renders the view again with every assign marked changed, keeping no comprehension entry
    /// (the last render's check against the host's tree failed, the guest's own in `keep.rs`
    /// or the host's); no title, no hooks.
    fn render_again(&mut self) -> Rendered;
    /// Sends the navigation the last callback asked for, if any, with the flash.
    fn flush_navigation(&mut self);
    /// Wraps every render in the live session's layout.
    fn set_layout(&mut self, layout: Option<LayoutFn>);
    /// The view's own `on_mount` hooks ([`LiveView::on_mount`]).
    fn own_hooks(&self) -> &'static [(&'static str, OnMountHook)];
    /// Attaches the hooks the `on_mount` hooks attached (before `mount`).
    fn attach_shared_hooks(&mut self, hooks: Vec<(String, SharedHook)>) -> Result<(), String>;
    /// Remembers the view's name and live session, and whether an `on_mount` hook chose its
    /// layout (a snapshot names the layout by its live session; a hook's choice is not kept).
    fn note_origin(&mut self, view: &str, live_session: Option<String>, hook_layout: bool);
    /// The view's state for a hibernation snapshot, if it can be written down.
    fn snapshot(&self) -> Option<Value>;
    /// Takes the state of a snapshot instead of mounting.
    fn restore(&mut self, snapshot: &Value) -> Result<(), String>;
    /// Adapts the assigns of a snapshot another version took ([`LiveView::migrate`]).
    fn migrate(&self, assigns: Value, from_version: &str) -> Result<Value, String>;
}

/// Hosts one [`LiveView`] type.
pub struct Holder<V: LiveView> {
    socket: Socket<V>,
    layout: Option<LayoutFn>,
    /// The view's name in `app!`, its live session, and whether a hook chose its layout.
    origin: Option<(String, Option<String>, bool)>,
}

impl<V: LiveView> Holder<V> {
    /// A boxed, not yet mounted view.
    pub fn boxed(request: &wit::MountRequest) -> Box<dyn ErasedView> {
        Box::new(Holder::<V> {
            socket: Socket::new(request.connected, request.action.clone()),
            layout: None,
            origin: None,
        })
    }
}

fn parse_value(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("bad JSON from host: {e}"))
}

impl<V: LiveView> ErasedView for Holder<V> {
    fn mount(
        &mut self,
        request: &wit::MountRequest,
        shared: serde_json::Map<String, Value>,
        flash: Flash,
    ) -> Result<(), String> {
        let params = Params::from_json(&request.params);
        let session = Session::from_json(&request.session);
        self.socket.__set_mount_assigns(shared);
        self.socket.__set_flash(flash);
        V::mount(&mut self.socket, &params, &session).map_err(|e| e.to_string())
    }

    fn handle_params(
        &mut self,
        params: &str,
        url: &str,
        action: Option<String>,
    ) -> Result<(), String> {
        let params = Params::from_json(params);
        self.socket.__set_action(action);
        if self
            .socket
            .run_params_hooks(&params, url)
            .map_err(|e| e.to_string())?
            == HookResult::Halt
        {
            return Ok(());
        }
        V::handle_params(&mut self.socket, &params, url).map_err(|e| e.to_string())
    }

    fn handle_event(&mut self, event: &str, value: &str) -> Result<Option<String>, String> {
        let value = parse_value(value)?;
        if event == "lv:clear-flash" {
            // Built in, as in Phoenix: `value.key` names the kind, none clears them all.
            let kind = value.get("key").and_then(Value::as_str);
            self.socket.clear_flash(kind);
            return Ok(None);
        }
        if let Some(result) = crate::upload::handle_host_event(&mut self.socket, event, &value) {
            return result.map(|reply| reply.map(|r| r.to_string()));
        }
        let hooks = self
            .socket
            .run_event_hooks(event, &value)
            .map_err(|e| e.to_string())?;
        if hooks == HookResult::Cont {
            V::handle_event(&mut self.socket, event, &value).map_err(|e| e.to_string())?;
        }
        Ok(self.socket.__take_reply().map(|r| r.to_string()))
    }

    fn handle_info(&mut self, message: &str) -> Result<(), String> {
        let message = parse_value(message)?;
        if self
            .socket
            .run_info_hooks(&message)
            .map_err(|e| e.to_string())?
            == HookResult::Halt
        {
            return Ok(());
        }
        V::handle_info(&mut self.socket, &message).map_err(|e| e.to_string())
    }

    fn handle_async(&mut self, name: &str, outcome: crate::AsyncOutcome) -> Result<(), String> {
        match crate::async_ops::take_assign_handler::<V>(name) {
            Some(set) => {
                set(&mut self.socket, outcome);
                Ok(())
            }
            None => {
                if self
                    .socket
                    .run_async_hooks(name, &outcome)
                    .map_err(|e| e.to_string())?
                    == HookResult::Halt
                {
                    return Ok(());
                }
                V::handle_async(&mut self.socket, name, outcome).map_err(|e| e.to_string())
            }
        }
    }

    fn render(&mut self) -> (Rendered, Option<String>) {
        let title = self.socket.__take_title();
        let inner = {
            let tracked = self.socket.__begin_render();
            crate::keep::begin_render(false);
            let inner = V::render(&tracked);
            crate::keep::end_render();
            inner
        };
        let rendered = match self.layout {
            Some(layout) => layout(
                inner,
                &LayoutAssigns::new(self.socket.flash(), self.socket.mount_assigns()),
            ),
            None => inner,
        };
        self.socket.run_after_render_hooks();
        (rendered, title)
    }

    fn render_again(&mut self) -> Rendered {
        // A full render: a template may have replaced another one anywhere (keep.rs).
        self.socket.__mark_changed(u128::MAX);
        let inner = {
            let tracked = self.socket.__begin_render();
            crate::keep::begin_render(true);
            let inner = V::render(&tracked);
            crate::keep::end_render();
            inner
        };
        match self.layout {
            Some(layout) => layout(
                inner,
                &LayoutAssigns::new(self.socket.flash(), self.socket.mount_assigns()),
            ),
            None => inner,
        }
    }

    fn flush_navigation(&mut self) {
        if let Some(navigation) = self.socket.__take_navigation() {
            navigation.send(self.socket.flash());
        }
    }

    fn set_layout(&mut self, layout: Option<LayoutFn>) {
        self.layout = layout;
    }

    fn own_hooks(&self) -> &'static [(&'static str, OnMountHook)] {
        V::on_mount()
    }

    fn attach_shared_hooks(&mut self, hooks: Vec<(String, SharedHook)>) -> Result<(), String> {
        for (name, hook) in hooks {
            self.socket
                .attach_shared_hook(&name, hook)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn note_origin(&mut self, view: &str, live_session: Option<String>, hook_layout: bool) {
        self.origin = Some((view.to_string(), live_session, hook_layout));
    }

    fn snapshot(&self) -> Option<Value> {
        let (view, live_session, hook_layout) = self.origin.as_ref()?;
        if *hook_layout {
            return None;
        }
        let mut socket = self.socket.snapshot()?;
        let map = socket.as_object_mut()?;
        map.insert("view".into(), Value::from(view.as_str()));
        map.insert("live_session".into(), serde_json::json!(live_session));
        Some(socket)
    }

    fn restore(&mut self, snapshot: &Value) -> Result<(), String> {
        self.socket.restore(snapshot)
    }

    fn migrate(&self, assigns: Value, from_version: &str) -> Result<Value, String> {
        V::migrate(assigns, from_version)
    }
}

/// One live session: name, `on_mount` hooks (name and function), layout (name and function).
pub type LiveSessionDecl = (
    &'static str,
    Vec<(&'static str, OnMountHook)>,
    Option<(&'static str, LayoutFn)>,
);

/// What [`crate::app!`] declares: the app's name, routes and view constructors.
pub trait App {
    /// App name.
    fn name() -> &'static str;
    /// The app's version: its crate's `version` (what [`crate::app!`] declares). Snapshots
    /// carry it, so a live upgrade's [`LiveView::migrate`] knows which version wrote one.
    fn version() -> &'static str {
        ""
    }
    /// `(path, view name, action, live session)` of each route.
    fn routes() -> Vec<(
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
    )>;
    /// A fresh view by name.
    fn view(name: &str, request: &wit::MountRequest) -> Option<Box<dyn ErasedView>>;
    /// The app's live sessions.
    fn live_sessions() -> Vec<LiveSessionDecl> {
        Vec::new()
    }
    /// `(method, path, handler)` of each plain HTTP route.
    fn http_routes() -> Vec<(&'static str, &'static str, HttpHandler)> {
        Vec::new()
    }
    /// The app's pipelines of plugs (`pipelines: {...}`).
    fn pipelines() -> Vec<crate::pipeline::PipelineDecl> {
        Vec::new()
    }
    /// `(route path, pipelines)` of each route with a `pipe_through`.
    fn route_pipes() -> Vec<(&'static str, Vec<&'static str>)> {
        Vec::new()
    }
    /// `(method, path, pipelines)` of each HTTP route with a `pipe_through`.
    fn http_pipes() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
        Vec::new()
    }
    /// The app's background tasks (`tasks: [...]`).
    fn tasks() -> Vec<TaskDecl> {
        Vec::new()
    }
    /// `(route path, tag, attributes)` of each route with its own container element.
    fn containers() -> Vec<ContainerDecl> {
        Vec::new()
    }
    /// `(name, JavaScript source)` of each client hook the app ships.
    fn client_hooks() -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }
    /// The app's SQL migrations, in order (`migrations: [...]`).
    fn sql_migrations() -> Vec<crate::sql::Migration> {
        Vec::new()
    }
    /// `(name, bytes)` of each static file the app ships (`assets: [...]`).
    fn assets() -> Vec<(&'static str, &'static [u8])> {
        Vec::new()
    }
    /// The app's root layout (`root_layout: { ... }`), if it declares one.
    fn root_layout() -> Option<RootLayout> {
        None
    }
    /// The `Content-Security-Policy` of the app's pages (`content_security_policy: "..."`),
    /// if it declares one in place of the host's default.
    fn content_security_policy() -> Option<&'static str> {
        None
    }
}

/// What the host's page shell adds around every view of the app (Phoenix's root layout),
/// declared with `root_layout: { ... }` in [`crate::app!`]. The host keeps the client script,
/// the CSRF meta tag and the security headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RootLayout {
    /// Assets linked as stylesheets in `<head>`, in order. Without a root layout, every
    /// `.css` asset is linked.
    pub stylesheets: Vec<&'static str>,
    /// An image asset linked as the page's icon.
    pub icon: Option<&'static str>,
    /// Appended to every page title, on the dead render and on live title changes.
    pub title_suffix: Option<&'static str>,
    /// Classes of the page's `<body>`.
    pub body_class: Option<&'static str>,
}

/// A route's container element: route path, tag, attributes.
pub type ContainerDecl = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
);

thread_local! {
    static CURRENT: RefCell<Option<Box<dyn ErasedView>>> = const { RefCell::new(None) };
    /// The response a plug halted this instance's dead render with, and the request's
    /// session, until the host asks for it (`page::HALTED_ROUTE`).
    static HALTED_PAGE: RefCell<Option<(crate::HttpResponse, Session)>> = const { RefCell::new(None) };
    static TEMPLATES: RefCell<HashMap<u64, &'static crate::Template>> = RefCell::new(HashMap::new());
}

fn with_view<T>(f: impl FnOnce(&mut dyn ErasedView) -> Result<T, String>) -> Result<T, String> {
    CURRENT.with(|current| match current.borrow_mut().as_mut() {
        Some(view) => f(view.as_mut()),
        None => Err("no view is mounted".into()),
    })
}

/// Sends a panic's message and place to the host's log (at error level, as `panicked at
/// <file:line:col>: <message>`) before the instance traps, so the host can name it (in its logs
/// and, in dev, over the page). Installed once per instance, by its first callback.
fn install_panic_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    // Only in the component: native builds (the SDK's own tests) keep the default hook.
    if cfg!(target_arch = "wasm32") {
        INSTALLED.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                let place = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
                    .unwrap_or_else(|| "an unknown place".into());
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".into());
                crate::bindings::livewasm::view::log::log(
                    crate::bindings::livewasm::view::types::Level::Error,
                    &format!("panicked at {place}: {message}"),
                );
            }));
        });
    }
}

/// `app.manifest`.
pub fn manifest<A: App>() -> wit::AppManifest {
    let containers = A::containers();
    wit::AppManifest {
        name: A::name().into(),
        routes: A::routes()
            .into_iter()
            .map(|(path, view, action, session)| wit::Route {
                path: path.into(),
                view: view.into(),
                action: action.map(Into::into),
                live_session: session.map(Into::into),
                container: containers
                    .iter()
                    .find(|(p, _, _)| *p == path)
                    .map(|(_, tag, attrs)| wit::RouteContainer {
                        tag: (*tag).to_string(),
                        attrs: attrs
                            .iter()
                            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                            .collect(),
                    }),
            })
            .collect(),
        live_sessions: A::live_sessions()
            .into_iter()
            .map(|(name, hooks, layout)| wit::LiveSessionInfo {
                name: name.into(),
                on_mount: hooks.iter().map(|(hook, _)| (*hook).to_string()).collect(),
                layout: layout.map(|(name, _)| name.to_string()),
            })
            .collect(),
        http_routes: A::http_routes()
            .into_iter()
            .map(|(method, path, _)| wit::HttpRoute {
                method: method.to_ascii_uppercase(),
                path: path.into(),
            })
            .collect(),
        client_hooks: A::client_hooks()
            .into_iter()
            .map(|(name, source)| wit::ClientHook {
                name: name.into(),
                source: source.into(),
            })
            .collect(),
        sql_migrations: A::sql_migrations()
            .iter()
            .map(crate::sql::Migration::to_manifest)
            .collect(),
        assets: A::assets()
            .into_iter()
            .map(|(name, bytes)| wit::AppAsset {
                name: name.into(),
                size: bytes.len() as u64,
            })
            .collect(),
        root_layout: A::root_layout().map(|layout| wit::RootLayout {
            stylesheets: layout
                .stylesheets
                .iter()
                .map(|s| (*s).to_string())
                .collect(),
            icon: layout.icon.map(Into::into),
            title_suffix: layout.title_suffix.map(Into::into),
            body_class: layout.body_class.map(Into::into),
        }),
        content_security_policy: A::content_security_policy().map(Into::into),
    }
}

/// `app.asset`: the bytes of asset `name` (one copy, while the host reads it).
pub fn asset<A: App>(name: &str) -> Option<Vec<u8>> {
    A::assets()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| bytes.to_vec())
}

/// `live.mount`: runs the live session's `on_mount` hooks, then the view's `mount`. A hook
/// that halts leaves no view mounted and its redirect for the host.
pub fn mount<A: App>(request: wit::MountRequest) -> Result<(), String> {
    install_panic_hook();
    crate::assets::register(A::assets);
    crate::live_component::set_connected(request.connected);
    // The host diffs a new view's first render against nothing: keep nothing from before.
    crate::keep::reset();
    let mut view = A::view(&request.view, &request)
        .ok_or_else(|| format!("this app has no view `{}`", request.view))?;
    let flash = serde_json::from_str(&request.flash)
        .map(|v| Flash::from_json(&v))
        .unwrap_or_default();
    let mut hooks = MountSocket::new(
        request.view.clone(),
        request.action.clone(),
        request.connected,
        Params::from_json(&request.params),
        Session::from_json(&request.session),
        flash,
    );
    // The dead render is an HTTP request: the route's pipelines run first (never on a live
    // mount, as in Phoenix). A plug that halts answers the request with its response, as
    // Phoenix returns a halted conn: `mount` fails with `page::HALTED` and the host asks
    // `http.handle` (route `page::HALTED_ROUTE`) for the response, kept here meanwhile.
    if !request.connected
        && let Some(response) = page_pipelines::<A>(&request, &hooks)
    {
        let session = hooks.session().clone();
        HALTED_PAGE.with(|halted| *halted.borrow_mut() = Some((response, session)));
        CURRENT.with(|current| *current.borrow_mut() = None);
        return Err(livewasm_protocol::keys::page::HALTED.to_string());
    }
    // A live session named only by routes has no hooks.
    let sessions = A::live_sessions();
    let hooks_of = request
        .live_session
        .as_deref()
        .and_then(|name| sessions.iter().find(|(n, _, _)| *n == name));
    let mut layout = hooks_of.and_then(|(_, _, layout)| layout.map(|(_, f)| f));
    // The live session's hooks, then the view's own.
    let session_hooks = hooks_of
        .map(|(_, list, _)| list.as_slice())
        .unwrap_or_default();
    let own_hooks = view.own_hooks();
    for (hook_name, hook) in session_hooks.iter().chain(own_hooks) {
        if hook(&mut hooks) == OnMount::Halt {
            let (_, flash, navigation) = hooks.into_parts();
            let navigation = navigation
                .ok_or_else(|| format!("on_mount hook `{hook_name}` halted without a redirect"))?;
            navigation.send(&flash);
            CURRENT.with(|current| *current.borrow_mut() = None);
            return Ok(());
        }
    }
    let hook_layout = hooks.take_layout();
    view.note_origin(
        &request.view,
        request.live_session.clone(),
        hook_layout.is_some(),
    );
    if let Some(chosen) = hook_layout {
        layout = chosen;
    }
    view.set_layout(layout);
    view.attach_shared_hooks(hooks.take_hooks())?;
    let (shared, flash, _) = hooks.into_parts();
    view.mount(&request, shared, flash)?;
    view.flush_navigation();
    CURRENT.with(|current| *current.borrow_mut() = Some(view));
    Ok(())
}

/// The response of the plug that halted the dead render of `request`, if one did: the
/// plugs of the pipelines its route (the one of its view and action matching its URL) pipes
/// through.
fn page_pipelines<A: App>(
    request: &wit::MountRequest,
    hooks: &MountSocket,
) -> Option<crate::HttpResponse> {
    let pipes = A::route_pipes();
    if pipes.is_empty() {
        return None;
    }
    let path = crate::pipeline::url_path(&request.url);
    let route = A::routes().into_iter().find(|(route, view, action, _)| {
        *view == request.view
            && action.map(str::to_string) == request.action
            && crate::verified_path::route_matches(route, path)
    })?;
    let through = pipes.into_iter().find(|(p, _)| *p == route.0)?.1;
    let http = HttpRequest {
        method: "GET".into(),
        route: route.0.to_string(),
        params: hooks.params().clone(),
        session: hooks.session().clone(),
    };
    crate::pipeline::run(&A::pipelines(), &through, &http)
}

/// `hibernation.snapshot`: the mounted view's state as JSON bytes, or `None` when the view
/// (or what the SDK holds for it) cannot be written down: see [`crate::hibernate`].
pub fn snapshot<A: App>() -> Option<Vec<u8>> {
    let streams = SENT.with(|sent| {
        let sent = sent.borrow();
        !sent.view.is_empty() || !sent.components.is_empty()
    });
    if streams || !crate::live_component::none_alive() || !crate::async_ops::no_pending_assigns() {
        return None;
    }
    let snapshot = CURRENT.with(|current| current.borrow().as_ref()?.snapshot())?;
    let title = SENT.with(|sent| sent.borrow().title.clone());
    let mut snapshot = snapshot;
    if let Some(map) = snapshot.as_object_mut() {
        map.insert("sent_title".into(), serde_json::json!(title));
        map.insert("version".into(), serde_json::json!(A::version()));
    }
    serde_json::to_vec(&snapshot).ok()
}

/// `hibernation.restore`: a fresh instance takes the state of a [`snapshot`] instead of
/// mounting, connected, under its live session's layout; its next render renders everything.
pub fn restore<A: App>(bytes: Vec<u8>) -> Result<(), String> {
    restore_as::<A>(bytes, false)
}

/// `hibernation.migrate`: [`restore`] of a snapshot another version of the app took (a live
/// upgrade), its assigns first adapted by the view's [`LiveView::migrate`], which hears the
/// version that took it.
pub fn migrate<A: App>(bytes: Vec<u8>) -> Result<(), String> {
    restore_as::<A>(bytes, true)
}

/// Restores a snapshot, migrating its assigns first when `migrate`.
fn restore_as<A: App>(bytes: Vec<u8>, migrate: bool) -> Result<(), String> {
    install_panic_hook();
    crate::assets::register(A::assets);
    crate::live_component::set_connected(true);
    crate::keep::reset();
    let mut snapshot: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("not a snapshot: {e}"))?;
    let text = |key: &str| {
        snapshot
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let name = text("view").ok_or("the snapshot names no view")?;
    let live_session = text("live_session");
    let (action, sent_title, from) = (text("action"), text("sent_title"), text("version"));
    let request = wit::MountRequest {
        view: name.clone(),
        action,
        params: "{}".into(),
        session: "{}".into(),
        url: String::new(),
        connected: true,
        live_session: live_session.clone(),
        flash: "{}".into(),
    };
    let mut view =
        A::view(&name, &request).ok_or_else(|| format!("this version has no view `{name}`"))?;
    if migrate {
        let assigns = snapshot.get("assigns").cloned().unwrap_or(Value::Null);
        let assigns = view.migrate(assigns, from.as_deref().unwrap_or_default())?;
        if let Some(map) = snapshot.as_object_mut() {
            map.insert("assigns".into(), assigns);
        }
    }
    view.restore(&snapshot)?;
    let sessions = A::live_sessions();
    let layout = live_session
        .as_deref()
        .and_then(|session| sessions.iter().find(|(n, _, _)| *n == session))
        .and_then(|(_, _, layout)| layout.map(|(_, f)| f));
    view.set_layout(layout);
    view.note_origin(&name, live_session, false);
    SENT.with(|sent| sent.borrow_mut().title = sent_title);
    CURRENT.with(|current| *current.borrow_mut() = Some(view));
    Ok(())
}

/// `live.handle-params`.
pub fn handle_params(params: String, url: String, action: Option<String>) -> Result<(), String> {
    with_view(|view| {
        let result = view.handle_params(&params, &url, action);
        view.flush_navigation();
        result
    })
}

/// `live.handle-event`.
pub fn handle_event(event: String, value: String) -> Result<Option<String>, String> {
    with_view(|view| {
        let result = view.handle_event(&event, &value);
        view.flush_navigation();
        result
    })
}

/// `live.handle-info`.
pub fn handle_info(message: String) -> Result<(), String> {
    if let Ok(value) = serde_json::from_str::<Value>(&message)
        && crate::live_component::take_delayed_update(&value)
    {
        return Ok(());
    }
    view_info(&message)
}

/// The view's `handle_info` with `message`, then the navigation it asked for.
fn view_info(message: &str) -> Result<(), String> {
    with_view(|view| {
        let result = view.handle_info(message);
        view.flush_navigation();
        result
    })
}

/// `live.handle-async`: a live component's task goes to that component's `handle_async`
/// (then the messages it sent to the parent's `handle_info`), as Phoenix routes a component's
/// async result by cid; a component gone meanwhile drops it. Any other task is the view's.
pub fn handle_async(name: String, outcome: Result<String, String>) -> Result<(), String> {
    let outcome = outcome.and_then(|text| parse_value(&text));
    if let Some((cid, own)) = crate::component_lifecycle::split_task_name(&name) {
        if let Some(result) = crate::live_component::handle_async(cid, own, outcome) {
            result?;
        }
        return deliver_parent_messages();
    }
    with_view(|view| {
        let result = view.handle_async(&name, outcome);
        view.flush_navigation();
        result
    })
}

/// One background task an app declares (`app!`'s `tasks: [...]`): its name (the function's
/// path) and how to run it on JSON.
pub type TaskDecl = (&'static str, fn(&str) -> Result<String, String>);

/// `live.run-task`: runs a task the app declared (in a fresh instance, no view mounted).
pub fn run_task<A: App>(task: String, args: String) -> Result<String, String> {
    install_panic_hook();
    crate::assets::register(A::assets);
    let (_, run) = A::tasks()
        .into_iter()
        .find(|(name, _)| *name == task)
        .ok_or_else(|| format!("task `{task}` is not declared in `app!`'s `tasks: [...]`"))?;
    run(&args)
}

/// `live.handle-component-event`: the component's `handle_event`, then the messages it sent
/// to the parent view's `handle_info`.
pub fn handle_component_event(
    cid: u32,
    event: String,
    value: String,
) -> Result<Option<String>, String> {
    let value = parse_value(&value)?;
    let reply = crate::live_component::handle_event(cid, &event, &value)?;
    deliver_parent_messages()?;
    Ok(reply.map(|r| r.to_string()))
}

/// The messages components sent to their parent view (`send(self(), …)` in a component)
/// during the callback just run, each to the view's `handle_info` in order.
fn deliver_parent_messages() -> Result<(), String> {
    for message in crate::live_component::take_parent_messages() {
        view_info(&message.to_string())?;
    }
    Ok(())
}

/// `live.destroy-components`.
pub fn destroy_components(cids: Vec<u32>) {
    crate::live_component::destroy(&cids);
}

/// `http.handle`: dispatches to the app's handler of the matched route.
pub fn handle_http<A: App>(request: wit::HttpRequest) -> wit::HttpResponse {
    install_panic_hook();
    crate::assets::register(A::assets);
    // The host asks for the response a plug halted this instance's dead render with.
    if request.route == livewasm_protocol::keys::page::HALTED_ROUTE {
        return match HALTED_PAGE.with(|halted| halted.borrow_mut().take()) {
            Some((response, session)) => response.into_wit(&session),
            None => crate::http_handler::not_found().into_wit(&Session::default()),
        };
    }
    let session = Session::from_json(&request.session);
    let req = HttpRequest {
        method: request.method.clone(),
        route: request.route.clone(),
        params: Params::from_json(&request.params),
        session: session.clone(),
    };
    // The route's pipelines first: a halt answers instead of the handler.
    let through = A::http_pipes()
        .into_iter()
        .find(|(method, path, _)| {
            method.eq_ignore_ascii_case(&request.method) && *path == request.route
        })
        .map(|(_, _, through)| through)
        .unwrap_or_default();
    if let Some(halted) = crate::pipeline::run(&A::pipelines(), &through, &req) {
        return halted.into_wit(&session);
    }
    let handler = A::http_routes()
        .into_iter()
        .find(|(method, path, _)| {
            method.eq_ignore_ascii_case(&request.method) && *path == request.route
        })
        .map(|(_, _, handler)| handler);
    let response = match handler {
        Some(handler) => handler(&req),
        None => crate::http_handler::not_found(),
    };
    response.into_wit(&session)
}

/// What the last render carried that its renderer cannot give again: its title and its
/// streams' items and operations (the view's, and each live component's by cid). A full
/// render, which replaces it, carries them again.
#[derive(Default)]
struct Sent {
    title: Option<String>,
    view: HashMap<String, crate::render::List>,
    components: HashMap<u32, HashMap<String, crate::render::List>>,
}

thread_local! {
    static SENT: RefCell<Sent> = RefCell::new(Sent::default());
}

/// `live.render`: the view's tree flattened for the host.
///
/// `full` is the host's answer to a render it could not apply (its check against the tree it
/// keeps failed, `livewasm_protocol::check`): that render is thrown away, and this one
/// evaluates every dynamic of the view and of every live component, keeps nothing, and carries
/// what the thrown-away render took (title, streams). Without `full`, the view's render is
/// first checked against the guest's own copy of the host's rules (`keep.rs`), a cheap fast
/// path that saves the host that second call in the common cases.
pub fn render(full: bool) -> wit::Rendered {
    crate::live_component::apply_pending_updates();
    let carried = if full {
        // What the guest believed the host holds is wrong: forget it and render everything.
        crate::keep::reset();
        crate::live_component::prepare_full_render();
        SENT.with(|sent| std::mem::take(&mut *sent.borrow_mut()))
    } else {
        Sent::default()
    };
    let rendered = with_view(|view| {
        if full {
            let mut root = view.render_again();
            root.carry_streams(carried.view);
            crate::keep::commit(&mut root);
            return Ok((root, carried.title));
        }
        let (mut root, title) = view.render();
        // Entries sent unchanged must be where the host keeps them; otherwise render again
        // keeping none (see keep.rs).
        // A template that replaced another one must be complete; otherwise render again fully.
        if !crate::keep::commit(&mut root) {
            // The first render took the streams' items and operations: the second carries them.
            let streams = root.stream_lists();
            root = view.render_again();
            root.carry_streams(streams);
            crate::keep::commit(&mut root);
        }
        Ok((root, title))
    });
    let mut out = wit::Rendered {
        nodes: Vec::new(),
        lists: Vec::new(),
        title: None,
        components: Vec::new(),
    };
    if let Ok((mut root, title)) = rendered {
        let mut sent = Sent {
            title: title.clone(),
            view: root.stream_lists(),
            components: HashMap::new(),
        };
        out.title = title;
        // Components render after the view (which places them), each into the same arrays.
        let mut components = crate::live_component::render_dirty();
        let mut carried = carried.components;
        for (cid, tree) in &mut components {
            if let Some(streams) = carried.remove(cid) {
                tree.carry_streams(streams);
            }
            sent.components.insert(*cid, tree.stream_lists());
        }
        SENT.with(|slot| *slot.borrow_mut() = sent);
        // Messages components sent to the parent while rendering (from `mount`/`update`) reach
        // its `handle_info` right after this render, through the host's timers.
        for message in crate::live_component::take_parent_messages() {
            crate::host::timers::send_after(0, &message);
        }
        TEMPLATES.with(|templates| {
            let mut templates = templates.borrow_mut();
            flatten_node(root, &mut out, &mut templates);
            for (cid, tree) in components {
                let node = flatten_node(tree, &mut out, &mut templates);
                out.components.push(wit::ComponentRender { cid, node });
            }
        });
    }
    out
}

/// `live.lookup-template`.
pub fn lookup_template(id: u64) -> Option<wit::Template> {
    TEMPLATES.with(|templates| {
        templates.borrow().get(&id).map(|t| wit::Template {
            statics: t.statics.iter().map(|s| (*s).to_string()).collect(),
            root: t.root,
        })
    })
}

fn flatten_node(
    node: Rendered,
    out: &mut wit::Rendered,
    templates: &mut HashMap<u64, &'static crate::Template>,
) -> u32 {
    templates.entry(node.template.id).or_insert(node.template);
    let index = out.nodes.len() as u32;
    out.nodes.push(wit::Node {
        template: node.template.id,
        dynamics: Vec::new(),
    });
    let dynamics = node
        .dynamics
        .into_iter()
        .map(|d| flatten_dyn(d, out, templates))
        .collect();
    out.nodes[index as usize].dynamics = dynamics;
    index
}

fn flatten_dyn(
    dynamic: Dyn,
    out: &mut wit::Rendered,
    templates: &mut HashMap<u64, &'static crate::Template>,
) -> wit::Dynamic {
    match dynamic {
        Dyn::Unchanged => wit::Dynamic::Unchanged,
        Dyn::Html(text) => wit::Dynamic::Html(text),
        Dyn::Node(node) => wit::Dynamic::Node(flatten_node(node, out, templates)),
        Dyn::Component(cid) => wit::Dynamic::Component(cid),
        Dyn::List(list) => {
            templates.entry(list.template.id).or_insert(list.template);
            let index = out.lists.len() as u32;
            out.lists.push(wit::Comprehension {
                template: list.template.id,
                entries: Vec::new(),
                stream_ops: list.stream.map(|ops| wit::StreamOps {
                    stream_ref: ops.stream_ref,
                    inserts: ops
                        .inserts
                        .into_iter()
                        .map(|i| wit::StreamInsert {
                            dom_id: i.dom_id,
                            at: i.at,
                            limit: i.limit,
                            update_only: i.update_only,
                        })
                        .collect(),
                    deletes: ops.deletes,
                    reset: ops.reset,
                }),
            });
            let arity = list.template.statics.len().saturating_sub(1);
            let entries = list
                .entries
                .into_iter()
                .map(|entry| wit::Entry {
                    key: entry.key,
                    // An entry kept by key (keep.rs): every dynamic unchanged.
                    dynamics: if entry.kept {
                        vec![wit::Dynamic::Unchanged; arity]
                    } else {
                        entry
                            .dynamics
                            .into_iter()
                            .map(|d| flatten_dyn(d, out, templates))
                            .collect()
                    },
                })
                .collect();
            out.lists[index as usize].entries = entries;
            wit::Dynamic::Comprehension(index)
        }
    }
}

/// Implements the component's export traits for `$component`, dispatching to app `$app`.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_guest {
    ($component:ident, $app:ty) => {
        impl $crate::bindings::exports::livewasm::view::app::Guest for $component {
            fn manifest() -> $crate::bindings::livewasm::view::types::AppManifest {
                $crate::export::manifest::<$app>()
            }
            fn asset(
                name: ::std::string::String,
            ) -> ::core::option::Option<::std::vec::Vec<u8>> {
                $crate::export::asset::<$app>(&name)
            }
        }

        impl $crate::bindings::exports::livewasm::view::live::Guest for $component {
            fn mount(
                request: $crate::bindings::livewasm::view::types::MountRequest,
            ) -> ::core::result::Result<(), ::std::string::String> {
                $crate::export::mount::<$app>(request)
            }
            fn handle_params(
                params: ::std::string::String,
                url: ::std::string::String,
                action: ::core::option::Option<::std::string::String>,
            ) -> ::core::result::Result<(), ::std::string::String> {
                $crate::export::handle_params(params, url, action)
            }
            fn handle_event(
                event: ::std::string::String,
                value: ::std::string::String,
            ) -> ::core::result::Result<::core::option::Option<::std::string::String>, ::std::string::String>
            {
                $crate::export::handle_event(event, value)
            }
            fn handle_info(
                message: ::std::string::String,
            ) -> ::core::result::Result<(), ::std::string::String> {
                $crate::export::handle_info(message)
            }
            fn handle_component_event(
                cid: u32,
                event: ::std::string::String,
                value: ::std::string::String,
            ) -> ::core::result::Result<::core::option::Option<::std::string::String>, ::std::string::String>
            {
                $crate::export::handle_component_event(cid, event, value)
            }
            fn destroy_components(cids: ::std::vec::Vec<u32>) {
                $crate::export::destroy_components(cids)
            }
            fn handle_async(
                name: ::std::string::String,
                outcome: ::core::result::Result<::std::string::String, ::std::string::String>,
            ) -> ::core::result::Result<(), ::std::string::String> {
                $crate::export::handle_async(name, outcome)
            }
            fn run_task(
                task: ::std::string::String,
                args: ::std::string::String,
            ) -> ::core::result::Result<::std::string::String, ::std::string::String> {
                $crate::export::run_task::<$app>(task, args)
            }
            fn render(full: bool) -> $crate::bindings::livewasm::view::types::Rendered {
                $crate::export::render(full)
            }
            fn lookup_template(
                id: u64,
            ) -> ::core::option::Option<$crate::bindings::livewasm::view::types::Template> {
                $crate::export::lookup_template(id)
            }
        }

        impl $crate::bindings::exports::livewasm::view::hibernation::Guest for $component {
            fn snapshot() -> ::core::option::Option<::std::vec::Vec<u8>> {
                $crate::export::snapshot::<$app>()
            }
            fn migrate(
                snapshot: ::std::vec::Vec<u8>,
            ) -> ::core::result::Result<(), ::std::string::String> {
                $crate::export::migrate::<$app>(snapshot)
            }
            fn restore(
                snapshot: ::std::vec::Vec<u8>,
            ) -> ::core::result::Result<(), ::std::string::String> {
                $crate::export::restore::<$app>(snapshot)
            }
        }

        impl $crate::bindings::exports::livewasm::view::http::Guest for $component {
            fn handle(
                request: $crate::bindings::livewasm::view::types::HttpRequest,
            ) -> $crate::bindings::livewasm::view::types::HttpResponse {
                $crate::export::handle_http::<$app>(request)
            }
        }

        // Exported symbols only exist in the wasm32 component; native builds (tests) skip them.
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_view!($component with_types_in $crate::bindings);
    };
}

/// Declares the app: its name, live sessions (with `on_mount` hooks), routes and plain HTTP
/// handlers, and emits the component's exports.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// # #[derive(Assigns, Default)] pub struct Home {}
/// # impl LiveView for Home {
/// #     fn mount(_: &mut Socket<Self>, _: &Params, _: &Session) -> Result { Ok(()) }
/// #     fn render(_: &Tracked<'_, Self>) -> Rendered { html!("<p>Home</p>") }
/// # }
/// # #[derive(Assigns, Default)] pub struct Admin {}
/// # impl LiveView for Admin {
/// #     fn mount(_: &mut Socket<Self>, _: &Params, _: &Session) -> Result { Ok(()) }
/// #     fn render(_: &Tracked<'_, Self>) -> Rendered { html!("<p>Admin</p>") }
/// # }
/// # fn assign_user(_: &mut MountSocket) -> OnMount { OnMount::Cont }
/// # fn require_admin(_: &mut MountSocket) -> OnMount { OnMount::Cont }
/// # fn admin_layout(inner: Rendered, _: &LayoutAssigns<'_>) -> Rendered { inner }
/// # fn log_in(_: &HttpRequest) -> HttpResponse { HttpResponse::redirect("/auth") }
/// # fn log_out(_: &HttpRequest) -> HttpResponse { HttpResponse::redirect("/auth").clear_session() }
/// # fn fetch_org(slug: String) -> std::result::Result<String, String> { Ok(slug) }
/// # fn fetch_metrics(slug: String) -> std::result::Result<u64, String> { Ok(slug.len() as u64) }
/// livewasm_sdk::app! {
///     name: "auth",
///     live_sessions: {
///         "public" => [assign_user];
///         "admin" => [require_admin], layout: admin_layout;
///     },
///     routes: {
///         "/auth" => Home, live_session: "public";
///         "/auth/admin" => Admin, action: "index", live_session: "admin",
///             container: ("main", "class" = "admin");
///     },
///     http: {
///         POST "/auth/log_in" => log_in;
///         DELETE "/auth/log_out" => log_out;
///     },
///     hooks: {
///         // Usually `include_str!("../hooks/chart.js")`.
///         "Chart" => "{ mounted() { this.el.dataset.ready = 'yes' } }";
///     },
///     tasks: [fetch_org, fetch_metrics],
///     migrations: [
///         livewasm_sdk::sql::Migration::per_dialect(
///             "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL)",
///             "CREATE TABLE notes (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, title TEXT NOT NULL)",
///         ),
///         // Usually `include_str!("../migrations/002_tags.sql")`; the same on both dialects.
///         "CREATE TABLE tags (note_id BIGINT NOT NULL REFERENCES notes (id), tag TEXT NOT NULL)".into(),
///     ],
///     assets: [
///         // Usually `include_bytes!("../assets/app.css")`.
///         ("app.css", b"body { margin: 0 }"),
///         ("logo.png", &[0x89, b'P', b'N', b'G']),
///     ],
///     root_layout: { stylesheets: ["app.css"], icon: "logo.png", title_suffix: " · Auth" },
/// }
/// ```
///
/// `pipelines` declares named lists of plugs (`fn(&HttpRequest) -> Plug`) that a route or an
/// HTTP route runs first with `pipe_through: ["name", …]`, as Phoenix's router pipelines: see
/// [`pipeline`](crate::pipeline).
///
/// `hooks` ships client hooks with the app: each is a name (`phx-hook="Chart"`) and a
/// JavaScript expression evaluating to the hook object. The host serves them as one cacheable
/// script that every page of the app loads before the LiveView client connects, so they work
/// on the first page and after live navigation.
///
/// `tasks` lists the app's background task functions (`fn(A) -> Result<T, E>`, `A` and `T`
/// serde types) that `assign_async!` and `Socket::start_async` may start; the host runs them in
/// a fresh instance of the component, so a task is found by name, never by closure.
///
/// `migrations` (any list of `&'static str` or [`sql::Migration`](crate::sql::Migration): an
/// array, a `const`) is the schema of the app's [`sql`](crate::sql) database: SQL scripts the
/// host applies in order, each once and in its own transaction, when a version of the app
/// loads (a deploy, a restart, a dev reload). A `&str` runs as it is on SQLite and Postgres;
/// `Migration::per_dialect(sqlite, postgres)` gives each its own text. Only append to the
/// list: a migration changed after it was applied keeps the new version from loading.
///
/// `assets` ships static files (`(name, bytes)`; CSS, images, fonts: the name's extension sets
/// the content type, and html or js are refused) that the host serves on the app's origin at a
/// content-addressed URL, cached for good; [`asset_path`](crate::asset_path) gives it. Every
/// page links the app's `.css` assets, or, with `root_layout`, its `stylesheets` in order;
/// `root_layout` may also name an `icon` asset, a `title_suffix` and a `body_class`.
///
/// `content_security_policy: "default-src 'self'; img-src 'self' https://img.example.com"`
/// replaces the host's default `Content-Security-Policy` on the app's pages and HTTP handler
/// responses (one line of visible ASCII, at most 4 KiB; checked when the app loads). The
/// default allows only the app's own origin (scripts, styles, fonts, the socket), inline
/// styles, and `data:`/`blob:` images; a policy of the app's own must keep `script-src 'self'`
/// and `connect-src 'self'` for the client bundle, hooks and socket to work.
#[macro_export]
macro_rules! app {
    (
        name: $name:expr,
        $(live_sessions: {
            $( $sname:literal => [ $( $hook:ident ),* $(,)? ] $(, layout: $layout:ident)? );* $(;)?
        }, )?
        $(pipelines: {
            $( $pname:literal => [ $( $plug:path ),* $(,)? ] );* $(;)?
        }, )?
        routes: {
            $( $path:literal => $view:ident $(, action: $action:literal)? $(, live_session: $session:literal)?
               $(, pipe_through: [ $( $rpipe:literal ),* $(,)? ])?
               $(, container: ($tag:literal $(, $aname:literal = $aval:literal)* $(,)?))? );+ $(;)?
        }
        $(, http: {
            $( $method:ident $hpath:literal => $handler:path $(, pipe_through: [ $( $hpipe:literal ),* $(,)? ])? );* $(;)?
        })?
        $(, hooks: {
            $( $hname:literal => $hsource:expr );* $(;)?
        })?
        $(, tasks: [ $( $task:path ),* $(,)? ])?
        $(, migrations: $migrations:expr)?
        $(, assets: [ $( ($asset_name:expr, $asset_bytes:expr) ),* $(,)? ])?
        $(, root_layout: { $($root_layout:tt)* })?
        $(, content_security_policy: $csp:expr)? $(,)?
    ) => {
        #[doc(hidden)]
        pub struct __LivewasmApp;

        /// The app's paths (routes, then HTTP handlers) that `p!` checks paths against.
        #[doc(hidden)]
        pub const __LIVEWASM_PATHS: &[&str] = &[$($path),+ $($(, $hpath)*)?];

        // Every `pipe_through` names a declared pipeline.
        const _: () = $crate::pipeline::__check_names(
            &[$($($pname),*)?],
            &[$($($($rpipe,)*)?)+ $($($($($hpipe,)*)?)*)?],
        );

        impl $crate::export::App for __LivewasmApp {
            fn name() -> &'static str {
                $name
            }
            fn version() -> &'static str {
                ::core::env!("CARGO_PKG_VERSION")
            }
            fn routes() -> ::std::vec::Vec<(
                &'static str,
                &'static str,
                ::core::option::Option<&'static str>,
                ::core::option::Option<&'static str>,
            )> {
                ::std::vec![$(
                    (
                        $path,
                        stringify!($view),
                        $crate::__opt!($($action)?),
                        $crate::__opt!($($session)?),
                    )
                ),+]
            }
            fn view(
                name: &str,
                request: &$crate::bindings::livewasm::view::types::MountRequest,
            ) -> ::core::option::Option<::std::boxed::Box<dyn $crate::export::ErasedView>> {
                $(
                    if name == stringify!($view) {
                        return ::core::option::Option::Some($crate::export::Holder::<$view>::boxed(request));
                    }
                )+
                ::core::option::Option::None
            }
            fn live_sessions() -> ::std::vec::Vec<$crate::export::LiveSessionDecl> {
                ::std::vec![$($(
                    (
                        $sname,
                        ::std::vec![$(
                            (stringify!($hook), $hook as $crate::OnMountHook)
                        ),*],
                        $crate::__layout!($($layout)?),
                    )
                ),*)?]
            }
            fn pipelines() -> ::std::vec::Vec<$crate::pipeline::PipelineDecl> {
                ::std::vec![$($(
                    ($pname, ::std::vec![$($plug as $crate::pipeline::PlugFn),*])
                ),*)?]
            }
            fn route_pipes() -> ::std::vec::Vec<(&'static str, ::std::vec::Vec<&'static str>)> {
                #[allow(unused_mut)]
                let mut pipes = ::std::vec::Vec::new();
                $($(
                    pipes.push(($path, ::std::vec![$($rpipe),*]));
                )?)+
                pipes
            }
            fn http_pipes() -> ::std::vec::Vec<(&'static str, &'static str, ::std::vec::Vec<&'static str>)> {
                #[allow(unused_mut)]
                let mut pipes = ::std::vec::Vec::new();
                $($($(
                    pipes.push((stringify!($method), $hpath, ::std::vec![$($hpipe),*]));
                )?)*)?
                pipes
            }
            fn http_routes() -> ::std::vec::Vec<(&'static str, &'static str, $crate::HttpHandler)> {
                ::std::vec![$($(
                    (stringify!($method), $hpath, $handler as $crate::HttpHandler)
                ),*)?]
            }
            fn client_hooks() -> ::std::vec::Vec<(&'static str, &'static str)> {
                ::std::vec![$($(($hname, $hsource)),*)?]
            }
            fn sql_migrations() -> ::std::vec::Vec<$crate::sql::Migration> {
                #[allow(unused_mut)]
                let mut migrations = ::std::vec::Vec::new();
                $(migrations.extend($crate::sql::Migration::all($migrations));)?
                migrations
            }
            fn assets() -> ::std::vec::Vec<(&'static str, &'static [u8])> {
                ::std::vec![$($(($asset_name, $asset_bytes as &'static [u8])),*)?]
            }
            fn root_layout() -> ::core::option::Option<$crate::export::RootLayout> {
                #[allow(unused_mut)]
                let mut layout = ::core::option::Option::None;
                $(
                    let mut root = $crate::export::RootLayout::default();
                    $crate::__root_layout!(root; $($root_layout)*);
                    layout = ::core::option::Option::Some(root);
                )?
                layout
            }
            fn content_security_policy() -> ::core::option::Option<&'static str> {
                $crate::__opt!($($csp)?)
            }
            fn tasks() -> ::std::vec::Vec<$crate::export::TaskDecl> {
                ::std::vec![$($(
                    (
                        $crate::async_ops::task_name(&$task),
                        (|args: &str| $crate::async_ops::__run_task($task, args))
                            as fn(&str) -> ::core::result::Result<::std::string::String, ::std::string::String>,
                    )
                ),*)?]
            }
            fn containers() -> ::std::vec::Vec<$crate::export::ContainerDecl> {
                #[allow(unused_mut)]
                let mut containers = ::std::vec::Vec::new();
                $($(
                    containers.push(($path, $tag, ::std::vec![$(($aname, $aval)),*]));
                )?)+
                containers
            }
        }

        #[doc(hidden)]
        pub struct __LivewasmComponent;

        $crate::__impl_guest!(__LivewasmComponent, __LivewasmApp);
    };
}

/// `Some((name, layout))` or `None` from an optional layout function.
#[doc(hidden)]
#[macro_export]
macro_rules! __layout {
    () => {
        ::core::option::Option::None
    };
    ($layout:ident) => {
        ::core::option::Option::Some((stringify!($layout), $layout as $crate::LayoutFn))
    };
}

/// Fills a `RootLayout` from `key: value` pairs, in any order: `stylesheets: [..]`,
/// `icon: ..`, `title_suffix: ..`, `body_class: ..`.
#[doc(hidden)]
#[macro_export]
macro_rules! __root_layout {
    ($root:ident; $(,)?) => {};
    ($root:ident; stylesheets: [ $($sheet:expr),* $(,)? ] $(, $($rest:tt)*)?) => {
        $root.stylesheets = ::std::vec![$($sheet),*];
        $crate::__root_layout!($root; $($($rest)*)?);
    };
    ($root:ident; icon: $icon:expr $(, $($rest:tt)*)?) => {
        $root.icon = ::core::option::Option::Some($icon);
        $crate::__root_layout!($root; $($($rest)*)?);
    };
    ($root:ident; title_suffix: $suffix:expr $(, $($rest:tt)*)?) => {
        $root.title_suffix = ::core::option::Option::Some($suffix);
        $crate::__root_layout!($root; $($($rest)*)?);
    };
    ($root:ident; body_class: $class:expr $(, $($rest:tt)*)?) => {
        $root.body_class = ::core::option::Option::Some($class);
        $crate::__root_layout!($root; $($($rest)*)?);
    };
}

/// `Some(x)` or `None` from an optional macro fragment.
#[doc(hidden)]
#[macro_export]
macro_rules! __opt {
    () => {
        ::core::option::Option::None
    };
    ($value:expr) => {
        ::core::option::Option::Some($value)
    };
}
