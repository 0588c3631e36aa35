//! Flash messages: short notices (`info`, `error` …) shown once, as Phoenix's `put_flash`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The flash of a view: one message per kind. Views set it with
/// [`Socket::put_flash`](crate::Socket::put_flash) and show it with `<.flash_group>`.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// let mut flash = Flash::new();
/// flash.put("info", "Saved.");
/// flash.put("error", "But the mail was not sent.");
/// assert_eq!(flash.get("info"), Some("Saved."));
/// let kinds: Vec<&str> = flash.iter().map(|(kind, _)| kind).collect();
/// assert_eq!(kinds, ["error", "info"]);
///
/// let html = html!(r#"<.flash_group flash={&flash} />"#).to_html();
/// assert!(html.contains(r#"id="flash-info""#) && html.contains("<p>Saved.</p>"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash(BTreeMap<String, String>);

impl Flash {
    /// An empty flash.
    pub const fn new() -> Flash {
        Flash(BTreeMap::new())
    }

    /// The flash as a JSON object (kind → message).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        )
    }

    /// A flash from a JSON object of strings (anything else is skipped).
    pub fn from_json(value: &serde_json::Value) -> Flash {
        let mut flash = Flash::new();
        if let Some(map) = value.as_object() {
            for (kind, message) in map {
                if let Some(message) = message.as_str() {
                    flash.put(kind.clone(), message);
                }
            }
        }
        flash
    }

    /// The message of `kind`, when there is one.
    pub fn get(&self, kind: &str) -> Option<&str> {
        self.0.get(kind).map(String::as_str)
    }

    /// Sets the message of `kind`.
    pub fn put(&mut self, kind: impl Into<String>, message: impl Into<String>) {
        self.0.insert(kind.into(), message.into());
    }

    /// Removes the message of `kind` (every kind with `None`).
    pub fn clear(&mut self, kind: Option<&str>) {
        match kind {
            Some(kind) => {
                self.0.remove(kind);
            }
            None => self.0.clear(),
        }
    }

    /// True when there is no message.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `(kind, message)` pairs in kind order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::Flash;

    #[test]
    fn put_get_clear() {
        let mut flash = Flash::new();
        flash.put("info", "Saved");
        flash.put("error", "Oops");
        assert_eq!(flash.get("info"), Some("Saved"));
        assert_eq!(flash.iter().count(), 2);
        flash.clear(Some("info"));
        assert_eq!(flash.get("info"), None);
        flash.clear(None);
        assert!(flash.is_empty());
    }
}
