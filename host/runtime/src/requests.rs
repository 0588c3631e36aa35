//! What the host hands a view's `mount` and `http` exports, and the `http` answer: host types,
//! converted to and from WIT in `wit.rs`.

use serde_json::Value;

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
