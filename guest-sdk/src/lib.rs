//! The Livewasm guest SDK: write Phoenix-LiveView-style views in Rust, compiled to a wasm32
//! component that a Livewasm host runs one instance per connected browser.
//!
//! A view is a struct of assigns (`#[derive(Assigns)]`) implementing [`LiveView`]; its
//! [`html!`] template is split into statics and dynamics at compile time, and only the dynamics
//! whose assigns changed are evaluated and sent. [`app!`] declares the app's routes and emits the
//! component exports, so users never touch wit-bindgen. [`LiveView`] shows a complete view.
//!
//! # Templates
//!
//! `html!` takes one string literal of HEEx-like HTML. `{expr}` interpolates a value as
//! escaped text, `name={expr}` sets an attribute (`true` writes it bare, `false` and `None` leave
//! it out), and `@field` reads an assign of the view (it needs the `assigns` of
//! [`LiveView::render`] in scope). A template without `@` works in any function:
//!
//! ```
//! use livewasm_sdk::prelude::*;
//!
//! let name = "<Ada>";
//! let admin = true;
//! let greeting = html!(r#"<h1 class="title" data-admin={admin} hidden={false}>Hello {name}!</h1>"#);
//! assert_eq!(greeting.to_html(), r#"<h1 class="title" data-admin>Hello &lt;Ada&gt;!</h1>"#);
//! ```
//!
//! `:if={cond}` keeps an element only when `cond` holds; `:for={pattern in iterable}` repeats
//! it, and `:key={expr}` gives each entry a stable key (the host then sends moves instead of
//! rewrites, and unchanged rows are not rendered again, see [`Fingerprint`]):
//!
//! ```
//! use livewasm_sdk::prelude::*;
//!
//! pub struct Todo {
//!     id: u32,
//!     title: String,
//!     done: bool,
//! }
//!
//! let todos = vec![
//!     Todo { id: 1, title: "Write docs".into(), done: true },
//!     Todo { id: 2, title: "Ship".into(), done: false },
//! ];
//! let list = html!(r#"<ul><li :for={todo in todos.iter()} :key={todo.id} id={format!("todo-{}", todo.id)}>{todo.title}<b :if={todo.done}> (done)</b></li></ul><p :if={todos.is_empty()}>Nothing to do.</p>"#);
//! assert_eq!(
//!     list.to_html(),
//!     r#"<ul><li id="todo-1">Write docs<b> (done)</b></li><li id="todo-2">Ship</li></ul>"#
//! );
//! ```
//!
//! `<div {attrs}>` spreads an [`Attrs`] bag onto an element, and `<.name …>` calls a
//! function component (see [`component`] and the [`components`] module for slots):
//!
//! ```
//! use livewasm_sdk::prelude::*;
//!
//! let extra = Attrs::new().with("id", "go").with("phx-click", JS::push("go"));
//! let html = html!(r#"<div {extra}><.button type="button">Go</.button></div>"#).to_html();
//! assert_eq!(
//!     html,
//!     r#"<div id="go" phx-click="[[&quot;push&quot;,{&quot;event&quot;:&quot;go&quot;}]]"><button type="button" class="button">Go</button></div>"#
//! );
//! ```

extern crate self as livewasm_sdk;

/// Static files the app ships and their content-addressed URLs.
pub mod assets;
/// Async operations: background tasks whose results reach `handle_async` or an assign.
pub mod async_ops;
mod async_result;
mod attach_hook;
#[doc(hidden)]
pub mod bindings;
/// The app's files, kept and served by the host.
pub mod blobs;
mod component_lifecycle;
/// Function components: slots, attribute conversion, and the core components.
pub mod components;
mod error;
#[doc(hidden)]
pub mod export;
/// Outgoing HTTP requests to the hosts the app is allowed.
pub mod fetch;
mod flash;
/// Forms as templates render them.
pub mod form;
#[cfg(all(
    feature = "lean-heap",
    target_arch = "wasm32",
    not(target_feature = "atomics")
))]
mod heap;
/// Hibernation snapshots of a view's state.
pub mod hibernate;
mod hook_assigns;
mod html;
mod http_handler;
/// JS commands: client-side DOM operations encoded into event attributes.
pub mod js;
mod keep;
/// The app's key-value store, kept by the host.
pub mod kv;
mod layout;
mod live_action;
mod live_component;
mod navigation;
mod on_mount;
/// The host's operator overview (granted to its own dashboard only).
pub mod operator;
mod params;
/// Pipelines of plugs run on HTTP requests (`pipe_through`).
pub mod pipeline;
pub mod pubsub;
mod render;
mod socket;
/// The app's SQL database, kept by the host.
pub mod sql;
mod stream;
pub mod time;
mod upload;
/// Checked paths: `p!` (Phoenix's verified routes).
pub mod verified_path;
mod view;

/// Capabilities granted by the host.
pub mod host;

pub use assets::asset_path;
pub use async_ops::AsyncOutcome;
pub use async_result::AsyncResult;
pub use attach_hook::{
    AfterRenderHook, AsyncHook, EventHook, Hook, HookResult, HookSocket, InfoHook, ParamsHook,
    SharedHook, Stage,
};
pub use component_lifecycle::ComponentHookError;
pub use error::{Error, Result};
pub use flash::Flash;
pub use form::{Form, FormField};
#[doc(hidden)]
pub use hook_assigns::__from_hook;
pub use html::{AttrVal, Attrs, InvalidAttrName, Spread, ToAttrVal, valid_attr_name};
pub use html::{AttrValue, ClassName, Raw, ToHtml, class_list, escape_into, raw};
pub use http_handler::{HttpHandler, HttpRequest, HttpResponse};
pub use keep::Fingerprint;
#[doc(hidden)]
pub use keep::{__EntriesScope, __Fp, __FpNone, __FpSome, __Keep, __outer_unchanged};
pub use layout::{LayoutAssigns, LayoutFn};
pub use live_action::LiveAction;
pub use live_component::{
    ComponentSocket, LiveComponent, LiveComponentRef, Myself, live_component, send_update,
    send_update_after,
};
pub use livewasm_macros::Fingerprint;
pub use livewasm_macros::component;
pub use livewasm_macros::{Assigns, html, p};
#[doc(hidden)]
pub use navigation::Navigation;
pub use on_mount::{MountSocket, OnMount, OnMountHook};
pub use params::{Params, Session};
pub use pipeline::{Plug, PlugFn};
#[doc(hidden)]
pub use render::__for_list;
#[doc(hidden)]
pub use render::__key;
pub use render::ToDyn;
pub use render::Tracking;
#[doc(hidden)]
pub use render::{__Val, __ViaMove, __ViaRef, __dyn};
pub use render::{Dyn, Entry, List, Rendered, Template};
pub use serde_json::{Value, json};
pub use socket::{Socket, Tracked};
#[doc(hidden)]
pub use stream::{__ForSource, __PlainSource, __StreamSource};
pub use stream::{Stream, StreamInsert, StreamItem, StreamOps, StreamOpts};
pub use upload::{
    External, ExternalMeta, NOT_ACCEPTED, Presign, TOO_LARGE, TOO_MANY_FILES, UploadOptions,
    UploadedFile, Uploads, allow_upload, cancel_upload, consume_uploaded_entries,
    upload_entry_errors, upload_errors, uploaded_entries,
};
pub use view::{Assigns, LiveView};

/// Everything a view module usually needs.
pub mod prelude {
    pub use crate::asset_path;
    pub use crate::async_ops::decode as decode_async;
    pub use crate::blobs;
    pub use crate::components::*;
    pub use crate::fetch;
    pub use crate::form::{Changeset, Form, ParseValue};
    pub use crate::host::{log, timers};
    pub use crate::js::{JS, JsChain};
    pub use crate::kv;
    pub use crate::pubsub;
    pub use crate::sql;
    pub use crate::{
        Assigns, Error, Fingerprint, Flash, HttpRequest, HttpResponse, LayoutAssigns, LiveView,
        MountSocket, OnMount, OnMountHook, Params, Plug, Rendered, Result, Session, Socket,
        Tracked, Value, app, assign, class_list, html, json, p, raw, update,
    };
    pub use crate::{AsyncOutcome, assign_async};
    pub use crate::{AsyncResult, Attrs, component};
    pub use crate::{ComponentHookError, Hook, HookResult, HookSocket, SharedHook, Stage};
    pub use crate::{
        ComponentSocket, LiveComponent, Myself, live_component, send_update, send_update_after,
    };
    pub use crate::{
        External, ExternalMeta, UploadOptions, UploadedFile, allow_upload, cancel_upload,
        consume_uploaded_entries, upload_entry_errors, upload_errors, uploaded_entries,
    };
    pub use crate::{
        Stream, StreamItem, StreamOpts, stream, stream_configure, stream_delete,
        stream_delete_by_dom_id, stream_insert,
    };
    pub use crate::{assign_new, temporary_assigns, update_with};
}
