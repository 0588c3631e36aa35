//! Typed access to event params: [`ParseValue::parse`] deserializes a form's (or any event's)
//! params into a serde struct, reading form text as numbers and booleans where the struct asks
//! for them, with an error naming the field that did not fit. [`unused_fields`] and [`target`]
//! read what the client says about which fields the user has touched.

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::lenient::Lenient;

/// The prefix the client puts before the last name segment of a field the user has not touched.
pub const UNUSED_PREFIX: &str = "_unused_";

/// Why params did not deserialize into the struct asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamsError {
    /// Where in the params (`user.age`, `items[1].name`; `.` for the top level).
    pub path: String,
    /// What was wrong (`invalid value: string "abc", expected u32`).
    pub message: String,
}

impl std::fmt::Display for ParamsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "params `{}`: {}", self.path, self.message)
    }
}

impl std::error::Error for ParamsError {}

impl From<ParamsError> for crate::Error {
    fn from(error: ParamsError) -> crate::Error {
        crate::Error::new(error.to_string())
    }
}

/// Deserializes `value` into `T` leniently (form text becomes numbers, booleans, `None`).
pub fn from_params<T: DeserializeOwned>(value: &Value) -> Result<T, ParamsError> {
    serde_path_to_error::deserialize(Lenient(value)).map_err(|error| ParamsError {
        path: error.path().to_string(),
        message: error.inner().to_string(),
    })
}

/// Typed access to event params: `value.parse::<Signup>()?` or `value.parse_at::<User>("user")?`.
///
/// ```
/// use livewasm_sdk::prelude::*;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// pub struct Signup {
///     email: String,
///     age: u32,
///     terms: bool,
///     nickname: Option<String>,
/// }
///
/// // What a form's `phx-submit` sends: every value is text.
/// let value = json!({
///     "user": {"email": "ada@example.com", "age": "36", "terms": "on", "nickname": ""}
/// });
/// let signup: Signup = value.parse_at("user")?;
/// assert_eq!((signup.email.as_str(), signup.age, signup.terms), ("ada@example.com", 36, true));
/// assert_eq!(signup.nickname, None);
///
/// // An error names the field that did not fit (and converts into a view `Error` with `?`).
/// let bad = json!({"user": {"email": "a@b.co", "age": "old", "terms": "on"}});
/// let error = bad.parse_at::<Signup>("user").err().map(|e| e.path);
/// assert_eq!(error.as_deref(), Some("user.age"));
/// # Ok::<(), livewasm_sdk::Error>(())
/// ```
pub trait ParseValue {
    /// Deserializes the whole value into `T` (see [`from_params`]).
    fn parse<T: DeserializeOwned>(&self) -> Result<T, ParamsError>;

    /// Deserializes the value under `key` (a form's name: `user` for `user[email]`); a missing key
    /// is an error naming it.
    fn parse_at<T: DeserializeOwned>(&self, key: &str) -> Result<T, ParamsError>;
}

impl ParseValue for Value {
    fn parse<T: DeserializeOwned>(&self) -> Result<T, ParamsError> {
        from_params(self)
    }

    fn parse_at<T: DeserializeOwned>(&self, key: &str) -> Result<T, ParamsError> {
        match self.get(key) {
            Some(inner) => from_params(inner).map_err(|mut error| {
                error.path = if error.path == "." {
                    key.to_string()
                } else {
                    format!("{key}.{}", error.path)
                };
                error
            }),
            None => Err(ParamsError {
                path: key.to_string(),
                message: "missing".into(),
            }),
        }
    }
}

/// The fields of a form's params the user has not touched yet: the client sends an empty
/// `_unused_<field>` next to each (`{"_unused_email": "", "email": ""}` gives `email`).
pub fn unused_fields(params: &Value) -> BTreeSet<String> {
    params
        .as_object()
        .map(|map| {
            map.keys()
                .filter_map(|key| key.strip_prefix(UNUSED_PREFIX))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The key path of the input that triggered a change event (`["user", "email"]`), when known.
pub fn target(event: &Value) -> Vec<String> {
    match event.get("_target") {
        Some(Value::Array(path)) => path
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(name)) if name != "undefined" => vec![name.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Signup {
        email: String,
        age: u32,
        score: f64,
        terms: bool,
        nickname: Option<String>,
        referrer: Option<u64>,
        #[serde(default)]
        tags: Vec<u8>,
        kind: Kind,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Person,
        Company,
    }

    #[test]
    fn form_text_becomes_the_types_asked_for() {
        let params = json!({"user": {
            "email": "a@b.c", "age": " 42", "score": "1.5", "terms": "on", "nickname": "",
            "referrer": "7", "tags": ["1", "2"], "kind": "company", "_unused_email": ""
        }});
        let signup: Signup = params.parse_at("user").expect("parses");
        assert_eq!(
            signup,
            Signup {
                email: "a@b.c".into(),
                age: 42,
                score: 1.5,
                terms: true,
                nickname: None,
                referrer: Some(7),
                tags: vec![1, 2],
                kind: Kind::Company,
            }
        );
        // Plain JSON (a click's or a hook's payload) reads as before; numbers become text.
        let plain = json!({"email": 5, "age": 3, "score": 2, "terms": false,
                           "nickname": null, "referrer": null, "kind": "person"});
        let signup: Signup = plain.parse().expect("parses");
        assert_eq!(
            (signup.email.as_str(), signup.age, signup.terms),
            ("5", 3, false)
        );
    }

    #[test]
    fn wrong_types_name_the_field() {
        let params = json!({"user": {"email": "x", "age": "old", "score": "1", "terms": "on",
                                     "kind": "person"}});
        let error = params
            .parse_at::<Signup>("user")
            .expect_err("age is not a number");
        assert_eq!(error.path, "user.age");
        assert!(error.message.contains("\"old\""), "{error}");
        assert!(
            error.to_string().starts_with("params `user.age`"),
            "{error}"
        );
        let error = json!({"user": {"email": "x", "age": "1", "score": "1", "terms": "maybe",
                                    "kind": "person"}})
        .parse_at::<Signup>("user")
        .expect_err("terms is not a boolean");
        assert_eq!(error.path, "user.terms");
        let error = json!({"email": "x"})
            .parse::<Signup>()
            .expect_err("missing age");
        assert!(error.message.contains("missing field"), "{error}");
        let error = json!({}).parse_at::<Signup>("user").expect_err("no user");
        assert_eq!(
            (error.path.as_str(), error.message.as_str()),
            ("user", "missing")
        );
        let as_view_error: crate::Error = error.into();
        assert!(as_view_error.message().contains("user"));
    }

    #[test]
    fn unused_fields_and_target() {
        let user = json!({"_unused_email": "", "email": "", "name": "bob", "_unused_bio": ""});
        let unused: Vec<String> = unused_fields(&user).into_iter().collect();
        assert_eq!(unused, vec!["bio", "email"]);
        assert!(unused_fields(&json!("x")).is_empty());
        assert_eq!(
            target(&json!({"_target": ["user", "name"]})),
            vec!["user", "name"]
        );
        assert!(target(&json!({"_target": "undefined"})).is_empty());
        assert!(target(&json!({})).is_empty());
    }
}
