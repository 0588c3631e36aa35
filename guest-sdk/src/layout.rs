//! Layouts: a live session's page chrome (navigation, flash) around each of its views, as
//! Phoenix's `live_session …, layout: …`. A layout is a Rust function wrapping the view's
//! render; it sees the flash and what the `on_mount` hooks assigned.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::{Flash, Rendered};

/// What a layout sees besides the view's render.
#[derive(Debug, Clone, Copy)]
pub struct LayoutAssigns<'a> {
    flash: &'a Flash,
    assigns: &'a Map<String, Value>,
}

impl<'a> LayoutAssigns<'a> {
    /// The flash and the hooks' assigns.
    pub fn new(flash: &'a Flash, assigns: &'a Map<String, Value>) -> LayoutAssigns<'a> {
        LayoutAssigns { flash, assigns }
    }

    /// The view's flash.
    pub fn flash(&self) -> &'a Flash {
        self.flash
    }

    /// A value an `on_mount` hook assigned, decoded.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.assigns
            .get(key)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }
}

/// A layout: wraps `inner` (the view's render). Name it in [`crate::app!`]'s `live_sessions`
/// (`"admin" => [require_admin], layout: admin_layout;`).
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// fn app_layout(inner: Rendered, layout: &LayoutAssigns<'_>) -> Rendered {
///     let user: Option<String> = layout.get("current_user");
///     html!(r#"<nav><a href="/">Home</a><span :if={user.is_some()}>{user}</span></nav><.flash_group flash={layout.flash()} /><main>{inner}</main>"#)
/// }
///
/// let mut flash = Flash::new();
/// flash.put("info", "Saved");
/// let assigns = json!({"current_user": "ada"}).as_object().cloned().unwrap_or_default();
/// let page = app_layout(html!(r#"<p>Body</p>"#), &LayoutAssigns::new(&flash, &assigns));
/// let html = page.to_html();
/// assert!(html.starts_with(r#"<nav><a href="/">Home</a><span>ada</span></nav>"#));
/// assert!(html.contains(r#"<p>Saved</p>"#));
/// assert!(html.ends_with("<main><p>Body</p></main>"));
/// ```
pub type LayoutFn = fn(Rendered, &LayoutAssigns<'_>) -> Rendered;
