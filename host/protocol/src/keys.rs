//! Every name of the Phoenix LiveView 1.2 wire, named once: the keys of a Rendered diff (as
//! phoenix_live_view's `diff.ex` names them: `@static :s`, `@keyed :k`, `@components :c` …),
//! the channels' topics and events, and the typed payloads a client sends.
//!
//! Code that reads or writes the wire uses these constants and types, never the bare strings.

use serde::Deserialize;
use serde_json::{Map, Value};

/// Keys of a Rendered diff.
pub mod rendered {
    /// A node's statics: a list of strings, or an integer naming shared statics.
    pub const STATICS: &str = "s";
    /// The template table of a diff: shared statics by id.
    pub const TEMPLATES: &str = "p";
    /// A comprehension's entries, keyed by position.
    pub const KEYED: &str = "k";
    /// The entry count inside [`KEYED`].
    pub const KEYED_COUNT: &str = "kc";
    /// Entry moves inside [`KEYED`] (`[[from, to], …]`).
    pub const KEYED_MOVES: &str = "km";
    /// Live components by cid.
    pub const COMPONENTS: &str = "c";
    /// A component's root flag (`r: 1`); at a diff's top level, a hook reply.
    pub const REPLY: &str = "r";
    /// The page title.
    pub const TITLE: &str = "t";
    /// Push events: `[[name, payload], …]`.
    pub const EVENTS: &str = "e";
    /// A stream's operations: `[ref, inserts, deletes(, reset)]`.
    pub const STREAM: &str = "stream";
}

/// Phoenix channels topics and the prefixes of LiveView's.
pub mod topics {
    /// The socket's own topic (heartbeats, socket-wide errors).
    pub const PHOENIX: &str = "phoenix";
    /// Prefix of a view's topic: `lv:<container id>`.
    pub const VIEW_PREFIX: &str = "lv:";
    /// Prefix of an upload entry's topic: `lvu:<entry ref>`.
    pub const UPLOAD_PREFIX: &str = "lvu:";
}

/// Channel events, both directions.
pub mod events {
    /// Join a topic.
    pub const JOIN: &str = "phx_join";
    /// Leave a topic.
    pub const LEAVE: &str = "phx_leave";
    /// The answer to a message with a ref.
    pub const REPLY: &str = "phx_reply";
    /// The channel crashed; the client rejoins.
    pub const ERROR: &str = "phx_error";
    /// The channel closed.
    pub const CLOSE: &str = "phx_close";
    /// Keep-alive on the `phoenix` topic.
    pub const HEARTBEAT: &str = "heartbeat";
    /// A user event (`phx-click`, a form, a hook's `pushEvent`).
    pub const EVENT: &str = "event";
    /// A client-side patch of the URL.
    pub const LIVE_PATCH: &str = "live_patch";
    /// A diff pushed by the server.
    pub const DIFF: &str = "diff";
    /// The server sends the client to another live view.
    pub const LIVE_REDIRECT: &str = "live_redirect";
    /// The server sends the client to another page (full load).
    pub const REDIRECT: &str = "redirect";
    /// The client is about to remove components.
    pub const CIDS_WILL_DESTROY: &str = "cids_will_destroy";
    /// The client removed components.
    pub const CIDS_DESTROYED: &str = "cids_destroyed";
    /// An upload preflight.
    pub const ALLOW_UPLOAD: &str = "allow_upload";
    /// An upload entry's progress.
    pub const PROGRESS: &str = "progress";
    /// A binary upload chunk on an `lvu:` topic.
    pub const CHUNK: &str = "chunk";
}

/// Between the host and a guest (not the browser's wire): a page whose plug halted.
///
/// A dead render's `mount` fails with [`page::HALTED`] when a plug of the route's pipelines
/// halted the page's HTTP request; the host then calls the same instance's `http.handle` with
/// the route [`page::HALTED_ROUTE`], which answers the response the plug halted with, and
/// serves it (status, headers, body, session, flash) as Phoenix returns a halted conn.
pub mod page {
    /// The error text of a dead render's `mount` when a plug halted the page.
    pub const HALTED: &str = "livewasm:page-halted";
    /// The route of the `http.handle` request asking for the halted page's response.
    pub const HALTED_ROUTE: &str = "livewasm:halted-page";
}

/// Reply statuses.
pub mod status {
    /// Success.
    pub const OK: &str = "ok";
    /// Refused.
    pub const ERROR: &str = "error";
}

/// The payload of a view's `phx_join`, as the official client sends it. Read leniently, as
/// the server always did: a field of the wrong type counts as missing.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JoinPayload {
    /// The signed session token of the view's container.
    #[serde(default, deserialize_with = "lenient_string")]
    pub session: Option<String>,
    /// The signed static token (dead-rendered pages).
    #[serde(rename = "static", default, deserialize_with = "lenient_string")]
    pub static_token: Option<String>,
    /// The page URL (first join, or rejoin).
    #[serde(default, deserialize_with = "lenient_string")]
    pub url: Option<String>,
    /// The URL of a live navigation's join (instead of `url`).
    #[serde(default, deserialize_with = "lenient_string")]
    pub redirect: Option<String>,
    /// A live navigation's signed flash.
    #[serde(default, deserialize_with = "lenient_string")]
    pub flash: Option<String>,
    /// Connect params: `_csrf_token`, `_mounts`, `_mount_attempts`, the app's own.
    #[serde(default, deserialize_with = "lenient_object")]
    pub params: Map<String, Value>,
}

/// A string, or `None` for anything else.
fn lenient_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// An object, or empty for anything else.
fn lenient_object<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(map) => map,
        _ => Map::new(),
    })
}

impl JoinPayload {
    /// `_mounts` from the connect params: how often this page mounted before (0 the first time).
    pub fn mounts(&self) -> u64 {
        self.params
            .get("_mounts")
            .and_then(Value::as_u64)
            .unwrap_or(0)
    }

    /// The URL to mount and whether it is a live navigation (`redirect`).
    pub fn target_url(&self) -> Option<(&str, bool)> {
        match (&self.url, &self.redirect) {
            (Some(url), _) => Some((url, false)),
            (None, Some(url)) => Some((url, true)),
            (None, None) => None,
        }
    }
}

/// The payload of an `event` push, as the official client sends it. Only `event` must have
/// its type; the other fields are read leniently.
#[derive(Debug, Clone, Deserialize)]
pub struct EventPayload {
    /// The event name (`phx-click="inc"` → `inc`).
    pub event: String,
    /// `click`, `form`, `keyup`, `hook` …; `form` values are urlencoded strings.
    #[serde(rename = "type", default, deserialize_with = "lenient_string")]
    pub kind: Option<String>,
    /// The event's value (`{}` when absent).
    #[serde(default = "empty_object")]
    pub value: Value,
    /// Extra form fields (`_target`, submitter).
    #[serde(default, deserialize_with = "lenient_object")]
    pub meta: Map<String, Value>,
    /// The targeted live component (`phx-target`), a number or digits in a string.
    #[serde(default)]
    pub cid: Option<Value>,
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

impl EventPayload {
    /// True for a form event (`value` is an urlencoded string).
    pub fn is_form(&self) -> bool {
        self.kind.as_deref() == Some("form")
    }
}

/// A `cid` that is not a component id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`cid` {0} is not a component id")]
pub struct BadCid(pub String);

/// A component id as the client sends it: a number, or digits in a string (`phx-target="3"`).
/// `Ok(None)` for no target.
pub fn cid_of(value: Option<&Value>) -> Result<Option<u32>, BadCid> {
    let bad = |v: &Value| BadCid(v.to_string());
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| bad(v)),
        Some(v @ Value::String(s)) => s.parse().map(Some).map_err(|_| bad(v)),
        Some(v) => Err(bad(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_join_payload_reads_url_or_redirect_and_mounts() {
        let first: JoinPayload = serde_json::from_value(json!({
            "session": "s", "static": "t", "url": "http://x/a",
            "params": {"_mounts": 0, "_csrf_token": "c"}
        }))
        .unwrap();
        assert_eq!(first.target_url(), Some(("http://x/a", false)));
        assert_eq!(first.static_token.as_deref(), Some("t"));
        assert_eq!(first.mounts(), 0);
        let nav: JoinPayload =
            serde_json::from_value(json!({"redirect": "http://x/b", "params": {"_mounts": 2}}))
                .unwrap();
        assert_eq!(nav.target_url(), Some(("http://x/b", true)));
        assert_eq!(nav.mounts(), 2);
        let none: JoinPayload = serde_json::from_value(json!({})).unwrap();
        assert_eq!(none.target_url(), None);
        let odd: JoinPayload =
            serde_json::from_value(json!({"url": 3, "session": ["x"], "params": "p"})).unwrap();
        assert_eq!(odd.target_url(), None);
        assert_eq!(odd.session, None);
        assert_eq!(odd.mounts(), 0);
    }

    #[test]
    fn an_event_payload_needs_a_string_event() {
        let click: EventPayload =
            serde_json::from_value(json!({"event": "inc", "type": "click", "value": null}))
                .unwrap();
        assert_eq!(click.event, "inc");
        assert_eq!(click.value, Value::Null);
        assert!(!click.is_form());
        let form: EventPayload = serde_json::from_value(
            json!({"event": "save", "type": "form", "value": "a=1", "meta": 3}),
        )
        .unwrap();
        assert!(form.is_form());
        assert!(form.meta.is_empty());
        let bare: EventPayload = serde_json::from_value(json!({"event": "x"})).unwrap();
        assert_eq!(bare.value, json!({}));
        assert!(serde_json::from_value::<EventPayload>(json!({"event": 1})).is_err());
        assert!(serde_json::from_value::<EventPayload>(json!({})).is_err());
    }

    #[test]
    fn component_ids_are_numbers_or_digit_strings() {
        assert_eq!(cid_of(None), Ok(None));
        assert_eq!(cid_of(Some(&Value::Null)), Ok(None));
        assert_eq!(cid_of(Some(&json!(3))), Ok(Some(3)));
        assert_eq!(cid_of(Some(&json!("12"))), Ok(Some(12)));
        assert!(cid_of(Some(&json!("x"))).is_err());
        assert!(cid_of(Some(&json!(-1))).is_err());
        assert!(cid_of(Some(&json!(1u64 << 40))).is_err());
        assert_eq!(cid_of(Some(&json!([1]))), Err(BadCid("[1]".into())));
    }
}
