//! Navigation asked for by a view (`push_patch`, `push_navigate`, `redirect`): checking the
//! target and shaping what the client is sent.

use livewasm_protocol::keys::events;
use livewasm_runtime::{Navigation, NavigationKind};
use serde_json::{Map, Value, json};

/// What the client is told after a navigation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// `live_patch {to, kind}`: the URL changed, the view stays (handle-params already ran).
    Patch {
        /// Path and query.
        to: String,
        /// `push` or `replace`.
        kind: &'static str,
    },
    /// `live_redirect {to, kind, flash?}`: live navigation to another view.
    LiveRedirect {
        /// Path and query.
        to: String,
        /// `push` or `replace`.
        kind: &'static str,
        /// Signed flash token.
        flash: Option<String>,
    },
    /// `redirect {to, flash?}`: a full page load.
    Redirect {
        /// Path or external URL.
        to: String,
        /// Signed flash token.
        flash: Option<String>,
    },
}

impl Outcome {
    /// The event name (push) and the key of a reply carrying it.
    pub(crate) fn event(&self) -> &'static str {
        match self {
            Outcome::Patch { .. } => events::LIVE_PATCH,
            Outcome::LiveRedirect { .. } => events::LIVE_REDIRECT,
            Outcome::Redirect { .. } => events::REDIRECT,
        }
    }

    /// The payload (`{to, kind, flash?}`).
    pub(crate) fn payload(&self) -> Value {
        match self {
            Outcome::Patch { to, kind } => json!({"to": to, "kind": kind}),
            Outcome::LiveRedirect { to, kind, flash } => {
                let mut map = Map::new();
                map.insert("to".into(), json!(to));
                map.insert("kind".into(), json!(kind));
                if let Some(flash) = flash {
                    map.insert("flash".into(), json!(flash));
                }
                Value::Object(map)
            }
            Outcome::Redirect { to, flash } => {
                let mut map = Map::new();
                map.insert("to".into(), json!(to));
                if let Some(flash) = flash {
                    map.insert("flash".into(), json!(flash));
                }
                Value::Object(map)
            }
        }
    }

    /// `{"<event>": payload}`, for a reply.
    pub(crate) fn reply_entry(&self) -> (String, Value) {
        (self.event().to_string(), self.payload())
    }
}

/// `push` or `replace`.
pub(crate) fn history_kind(replace: bool) -> &'static str {
    if replace { "replace" } else { "push" }
}

/// True for a path of this site: `/…` but not `//…` (which browsers read as another host).
pub(crate) fn is_local_path(to: &str) -> bool {
    to.starts_with('/') && !to.starts_with("//") && !to.contains('\\')
}

/// Checks a navigation's target: patches and live navigation stay on the site, a redirect may
/// also leave it for an `http(s)` URL. `None` (logged) for anything else.
pub(crate) fn checked(navigation: Navigation) -> Option<Navigation> {
    let ok = match navigation.kind {
        NavigationKind::Patch | NavigationKind::Navigate => is_local_path(&navigation.to),
        NavigationKind::Redirect => {
            is_local_path(&navigation.to)
                || url::Url::parse(&navigation.to)
                    .is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        }
    };
    if ok {
        Some(navigation)
    } else {
        tracing::info!(to = %navigation.to, "navigation ignored: not a path of this site or an http(s) URL");
        None
    }
}

/// The absolute URL of local path `to` on the origin of `base`.
pub(crate) fn absolute(base: &str, to: &str) -> Option<String> {
    let base = url::Url::parse(base).ok()?;
    base.join(to).ok().map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_checked() {
        let nav = |kind, to: &str| Navigation {
            kind,
            to: to.into(),
            replace: false,
            flash: json!({}),
        };
        assert!(checked(nav(NavigationKind::Patch, "/a?b=1")).is_some());
        assert!(checked(nav(NavigationKind::Patch, "//evil.example/x")).is_none());
        assert!(checked(nav(NavigationKind::Navigate, "https://x.example/")).is_none());
        assert!(checked(nav(NavigationKind::Redirect, "https://x.example/")).is_some());
        assert!(checked(nav(NavigationKind::Redirect, "javascript:alert(1)")).is_none());
        assert_eq!(
            absolute("http://h:1/a/b?x=1", "/c?d=2").as_deref(),
            Some("http://h:1/c?d=2")
        );
    }

    #[test]
    fn payloads() {
        let o = Outcome::LiveRedirect {
            to: "/x".into(),
            kind: "push",
            flash: None,
        };
        assert_eq!(o.payload(), json!({"to": "/x", "kind": "push"}));
        let o = Outcome::Redirect {
            to: "/x".into(),
            flash: Some("t".into()),
        };
        assert_eq!(
            o.reply_entry(),
            ("redirect".into(), json!({"to": "/x", "flash": "t"}))
        );
    }
}
