//! JSON kept as the text it arrived in: checked once when a guest hands it over (a broadcast,
//! a timer message, a task's argument or value), then passed on and shared as text, never
//! parsed into a tree on the host. Every subscriber of a broadcast and every tick of an
//! interval reads the same bytes.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

/// Well-formed JSON text, cheap to clone (the text is shared).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct JsonText(Arc<str>);

impl JsonText {
    /// `text` when it is one well-formed JSON value (checked without building it).
    pub fn parse(text: String) -> Result<JsonText, serde_json::Error> {
        serde_json::from_str::<serde::de::IgnoredAny>(&text)?;
        Ok(JsonText(Arc::from(text)))
    }

    /// The text of `value`.
    pub fn from_value(value: &Value) -> JsonText {
        JsonText(Arc::from(value.to_string()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shared text itself.
    pub fn shared(&self) -> &Arc<str> {
        &self.0
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: no JSON value is written in zero bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value, parsed (for tests and for callers that need to look inside).
    pub fn to_value(&self) -> Value {
        // Checked at construction, so it parses.
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }
}

impl From<&Value> for JsonText {
    fn from(value: &Value) -> JsonText {
        JsonText::from_value(value)
    }
}

impl fmt::Debug for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonText({})", &*self.0)
    }
}

impl fmt::Display for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_one_well_formed_value_passes() {
        assert_eq!(
            JsonText::parse(r#" {"a": [1, 2]} "#.into())
                .map(|t| t.to_value())
                .ok(),
            Some(json!({"a": [1, 2]}))
        );
        for bad in ["", "{", "1 2", "{\"a\":}", "nul"] {
            assert!(JsonText::parse(bad.into()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn clones_share_the_text() {
        let a = JsonText::from_value(&json!({"n": 1}));
        let b = a.clone();
        assert!(Arc::ptr_eq(a.shared(), b.shared()));
        assert_eq!(b.as_str(), r#"{"n":1}"#);
    }
}
