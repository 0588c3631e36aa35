//! Params (path and query) and the user session, as handed to `mount`.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A JSON object with string lookups.
macro_rules! json_object {
    ($name:ident, $what:literal) => {
        #[doc = concat!("The ", $what, " (a JSON object).")]
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name(Map<String, Value>);

        impl $name {
            /// Parses the JSON text the host sent; anything but an object is empty.
            pub fn from_json(text: &str) -> $name {
                match serde_json::from_str(text) {
                    Ok(Value::Object(map)) => $name(map),
                    _ => $name(Map::new()),
                }
            }

            /// A value, when present.
            pub fn get(&self, key: &str) -> Option<&Value> {
                self.0.get(key)
            }

            /// A string value, when present and a string.
            pub fn str(&self, key: &str) -> Option<&str> {
                self.0.get(key).and_then(Value::as_str)
            }

            /// Deserializes the whole object into `T`; text becomes numbers and booleans where
            /// `T` asks for them (see [`crate::form::from_params`]), and an error names the field.
            pub fn parse<T: DeserializeOwned>(&self) -> crate::Result<T> {
                Ok(crate::form::from_params(&Value::Object(self.0.clone()))?)
            }

            /// The underlying map.
            pub fn as_map(&self) -> &Map<String, Value> {
                &self.0
            }
        }
    };
}

json_object!(Params, "path and query params of the URL");
json_object!(Session, "signed user session");
