//! The Livewasm guest SDK: write Phoenix-LiveView-style views in Rust, compiled to a wasm32
//! component that a Livewasm host runs one instance per connected browser.
//!
//! A view is a struct of assigns (`#[derive(Assigns)]`) implementing [`LiveView`]; its
//! [`html!`] template is split into statics and dynamics at compile time, and only the dynamics
//! whose assigns changed are evaluated and sent. [`app!`] declares the app's routes and emits the
//! component exports, so users never touch wit-bindgen.

#[doc(hidden)]
pub mod bindings;
mod error;
#[doc(hidden)]
pub mod export;
mod flash;
/// Forms as templates render them.
pub mod form;
mod html;
mod params;
mod render;
mod socket;
pub mod time;
mod view;

/// Capabilities granted by the host.
pub mod host;

pub use error::{Error, Result};
pub use flash::Flash;
pub use form::{Form, FormField};
pub use html::{AttrValue, ClassName, Raw, ToHtml, class_list, escape_into, raw};
pub use livewasm_macros::{Assigns, html};
pub use params::{Params, Session};
#[doc(hidden)]
pub use render::__key;
pub use render::{Dyn, Entry, List, Rendered, Template};
pub use serde_json::{Value, json};
pub use socket::{Socket, Tracked};
pub use view::{Assigns, LiveView};

/// Everything a view module usually needs.
pub mod prelude {
    pub use crate::host::{log, timers};
    pub use crate::{
        Assigns, Error, LiveView, Params, Rendered, Result, Session, Socket, Tracked, Value, app,
        assign, class_list, html, json, raw, update,
    };
}
