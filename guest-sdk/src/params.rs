//! Params (path and query) and the user session, as handed to `mount`.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A JSON object with string lookups.
macro_rules! json_object {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        #[doc = concat!("The ", $what, " (a JSON object).")]
        $(#[$doc])*
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

json_object!(
    ///
    /// `mount` and `handle_params` get them: `/users/:id?tab=posts` gives `id` and `tab`, all as
    /// text; [`Params::parse`] reads them into a struct, numbers and booleans included.
    ///
    /// ```
    /// use livewasm_sdk::prelude::*;
    /// use serde::Deserialize;
    ///
    /// #[derive(Deserialize)]
    /// pub struct Page {
    ///     page: u32,
    ///     q: Option<String>,
    /// }
    ///
    /// let params = Params::from_json(r#"{"id": "42", "page": "3", "q": ""}"#);
    /// assert_eq!(params.str("id"), Some("42"));
    /// assert_eq!(params.str("missing"), None);
    /// let page: Page = params.parse()?;
    /// assert_eq!((page.page, page.q), (3, None));
    /// # Ok::<(), livewasm_sdk::Error>(())
    /// ```
    Params,
    "path and query params of the URL"
);
json_object!(
    ///
    /// The host signs it into a cookie; an app's HTTP handlers change it
    /// ([`HttpResponse::put_session`](crate::HttpResponse::put_session)), views read it:
    ///
    /// ```
    /// use livewasm_sdk::prelude::*;
    ///
    /// let session = Session::from_json(r#"{"user_id": "ada"}"#);
    /// let user = session.str("user_id").unwrap_or("guest");
    /// assert_eq!(user, "ada");
    /// ```
    Session,
    "signed user session"
);
