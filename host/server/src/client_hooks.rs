//! Client hooks an app ships (`app-manifest.client-hooks`): served as one script per app at a
//! content-addressed URL (`/assets/hooks/<hash>.js`, cached for good), which every page of the
//! app loads, deferred, before the client bundle. The script only adds the hooks to
//! `window.LivewasmHooks`; the bundle hands that object to the LiveView client, so the hooks
//! are known before it connects, on the first page and after any live navigation. Nothing is
//! inlined or evaluated from a string, so a strict `script-src 'self'` policy allows it.
//!
//! The same mechanism carries an app's options of the client's `LiveSocket`: a client hook
//! named `LiveSocket.uploaders` (external uploaders, Phoenix's `uploaders: {S3: fn}`),
//! `LiveSocket.metadata` (per-event metadata functions) or `LiveSocket.dom` (DOM callbacks
//! such as `onBeforeElUpdated`) is an expression for that option's object, put on
//! `window.LivewasmSocketOptions`, which the bundle passes to `new LiveSocket(…)`.

use std::fmt::Write as _;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use livewasm_runtime::App;
use sha2::{Digest, Sha256};

use crate::origin::CurrentSite;

/// URL prefix of hook scripts.
const PREFIX: &str = "/assets/hooks/";

/// Hook names with this prefix are LiveSocket options, not hooks (see
/// `livewasm_runtime::manifest`'s check: `uploaders`, `metadata` or `dom`).
const SOCKET_OPTION_PREFIX: &str = "LiveSocket.";

/// One app's hooks as a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HooksScript {
    /// Where pages load it from (`/assets/hooks/<hash>.js`).
    pub(crate) path: String,
    /// The script.
    pub(crate) body: String,
}

/// The script registering `app`'s client hooks; `None` when it ships none.
pub(crate) fn script(app: &App) -> Option<HooksScript> {
    let manifest = app.manifest();
    if manifest.client_hooks.is_empty() {
        return None;
    }
    let mut body = String::new();
    let _ = writeln!(
        body,
        "// Client hooks of app {}, served by Livewasm.",
        serde_json::Value::from(manifest.name.as_str())
    );
    body.push_str(
        "(function () {\n  var hooks = (window.LivewasmHooks = window.LivewasmHooks || {});\n  \
         var options = (window.LivewasmSocketOptions = window.LivewasmSocketOptions || {});\n",
    );
    for hook in &manifest.client_hooks {
        let source = hook.source.trim().trim_end_matches(';');
        // `LiveSocket.uploaders`, `LiveSocket.metadata`, `LiveSocket.dom`: options of the
        // client's LiveSocket (Phoenix's `new LiveSocket(url, Socket, {uploaders, metadata,
        // dom})`), which the bundle reads from `window.LivewasmSocketOptions`.
        if let Some(option) = hook.name.strip_prefix(SOCKET_OPTION_PREFIX) {
            let option = serde_json::Value::from(option);
            let _ = write!(body, "  options[{option}] = (\n{source}\n  );\n");
            continue;
        }
        // Names were checked when the app was loaded; JSON quoting keeps them inert anyway.
        let name = serde_json::Value::from(hook.name.as_str());
        let _ = write!(body, "  hooks[{name}] = (\n{source}\n  );\n");
    }
    body.push_str("})();\n");
    let hash: String = Sha256::digest(body.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(HooksScript {
        path: format!("{PREFIX}{hash}.js"),
        body,
    })
}

/// `GET /assets/hooks/<hash>.js`: the hook script of an app of the request's site.
pub(crate) async fn serve(CurrentSite(site): CurrentSite, Path(file): Path<String>) -> Response {
    let wanted = format!("{PREFIX}{file}");
    let found = site
        .routes()
        .apps()
        .iter()
        .filter_map(script)
        .find(|s| s.path == wanted);
    match found {
        Some(script) => (
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                // The URL names the content: it never changes.
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            script.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
