//! Client hooks an app ships (`app-manifest.client-hooks`): served as one script per app at a
//! content-addressed URL (`/assets/hooks/<hash>.js`, cached for good), which every page of the
//! app loads, deferred, before the client bundle. The script only adds the hooks to
//! `window.LivewasmHooks`; the bundle hands that object to the LiveView client, so the hooks
//! are known before it connects, on the first page and after any live navigation. Nothing is
//! inlined or evaluated from a string, so a strict `script-src 'self'` policy allows it.

use std::fmt::Write as _;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use livewasm_runtime::App;
use sha2::{Digest, Sha256};

use crate::origin::CurrentSite;

/// URL prefix of hook scripts.
const PREFIX: &str = "/assets/hooks/";

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
        "(function () {\n  var hooks = (window.LivewasmHooks = window.LivewasmHooks || {});\n",
    );
    for hook in &manifest.client_hooks {
        // Names were checked when the app was loaded; JSON quoting keeps them inert anyway.
        let name = serde_json::Value::from(hook.name.as_str());
        let source = hook.source.trim().trim_end_matches(';');
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
