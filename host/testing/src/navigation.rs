//! Navigation seen by the harness: redirects (`{:error, {:redirect | :live_redirect, …}}` in
//! Phoenix's tests) and the flash they carry.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// Full page load or live navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    /// `redirect`: the browser loads the page (the flash goes in a cookie).
    Full,
    /// `live_redirect` (`push_navigate`): a live navigation (the flash goes in the join).
    Live,
}

/// Where the server sent the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// Full or live.
    pub kind: RedirectKind,
    /// Target path (or URL).
    pub to: String,
    /// The signed flash token, if a flash travels along.
    pub flash_token: Option<String>,
    /// A live redirect that replaces the current history entry (`push_navigate(replace:
    /// true)`: the payload's `kind` is `replace`) instead of pushing one.
    pub replace: bool,
}

impl Redirect {
    /// From a `redirect` / `live_redirect` payload (`{to, flash?}`).
    pub(crate) fn from_payload(kind: RedirectKind, payload: &Value) -> Option<Redirect> {
        Some(Redirect {
            kind,
            to: payload.get("to")?.as_str()?.to_string(),
            flash_token: payload
                .get("flash")
                .and_then(Value::as_str)
                .map(str::to_string),
            replace: payload.get("kind").and_then(Value::as_str) == Some("replace"),
        })
    }

    /// The flash carried along (kind → message), read from the token without checking its
    /// signature (the host checks it when the token comes back).
    pub fn flash(&self) -> Map<String, Value> {
        self.flash_token
            .as_deref()
            .and_then(|t| t.split_once('.'))
            .and_then(|(payload, _)| URL_SAFE_NO_PAD.decode(payload).ok())
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .and_then(|data| data.get("flash").and_then(Value::as_object).cloned())
            .unwrap_or_default()
    }

    /// The flash message of `kind`, if any.
    pub fn flash_message(&self, kind: &str) -> Option<String> {
        self.flash()
            .get(kind)
            .and_then(Value::as_str)
            .map(str::to_string)
    }
}

/// The redirect in a reply's response (`{redirect: …}` / `{live_redirect: …}`), if any.
pub(crate) fn redirect_in(response: &Value) -> Option<Redirect> {
    if let Some(payload) = response.get("live_redirect") {
        return Redirect::from_payload(RedirectKind::Live, payload);
    }
    response
        .get("redirect")
        .and_then(|payload| Redirect::from_payload(RedirectKind::Full, payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_redirects_and_their_flash() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"kind":"flash","flash":{"info":"Saved"}}"#);
        let response = json!({"live_redirect": {"to": "/a", "kind": "push", "flash": format!("{payload}.sig")}});
        let redirect = redirect_in(&response).expect("a redirect");
        assert_eq!(redirect.kind, RedirectKind::Live);
        assert_eq!(redirect.to, "/a");
        assert_eq!(redirect.flash_message("info").as_deref(), Some("Saved"));
        assert!(redirect_in(&json!({"diff": {}})).is_none());
    }
}
