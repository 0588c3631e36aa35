//! [`Changeset`]: params cast onto a struct, validated, with errors per field — Ecto's changeset,
//! for forms.
//!
//! ```
//! use livewasm_sdk::form::{Action, Changeset};
//! use serde::{Deserialize, Serialize};
//! use serde_json::json;
//!
//! #[derive(Default, Serialize, Deserialize)]
//! struct User { email: String, age: u32 }
//!
//! let params = json!({"email": "nope", "age": "41", "_unused_age": ""});
//! let changeset = Changeset::new(&User::default())
//!     .cast(&params, &["email", "age"])
//!     .validate_required(&["email"])
//!     .validate_format("email", livewasm_sdk::form::looks_like_email, "must have the @ sign and no spaces")
//!     .with_action(Action::Validate);
//! let form = changeset.to_form("user");
//! assert_eq!(form.field("email").errors, vec!["must have the @ sign and no spaces"]);
//! assert_eq!(changeset.apply_changes().unwrap().age, 41);
//! ```
//!
//! Validations that check a value (`validate_format`, `validate_length`, `validate_confirmation`,
//! `validate_change`) run only on fields that changed, as Ecto's do; `validate_required` checks the
//! field's current value; `validate_acceptance` checks the params. Which errors a form shows is
//! decided by the [`Action`] (none: no errors shown) and by which fields the user has touched
//! (fields the client marks `_unused_` show none).

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::ops::{Bound, RangeBounds};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::typed::{ParamsError, UNUSED_PREFIX, from_params, unused_fields};
use crate::Form;

/// What the changeset is for; errors show on a form only once it has an action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Action {
    /// Freshly built (a mount): no errors shown.
    #[default]
    None,
    /// Validating as the user types (`phx-change`).
    Validate,
    /// Creating (a submit).
    Insert,
    /// Updating (a submit).
    Update,
}

/// Params cast onto a `T`, with the changes, the errors per field, and the action.
#[derive(Debug, Clone, PartialEq)]
pub struct Changeset<T> {
    data: Map<String, Value>,
    params: Map<String, Value>,
    changes: Map<String, Value>,
    errors: BTreeMap<String, Vec<String>>,
    action: Action,
    unused: BTreeSet<String>,
    cast: bool,
    kind: PhantomData<fn() -> T>,
}

/// The message of a value that could not be cast to its field's type.
pub const INVALID: &str = "is invalid";
/// The message of a required field left blank.
pub const BLANK: &str = "can't be blank";

/// A simple email check: one `@` with text on both sides, a dot in the domain, no whitespace.
pub fn looks_like_email(text: &str) -> bool {
    let mut parts = text.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.chars().any(char::is_whitespace)
        }
        _ => false,
    }
}

/// True for a missing value, `null`, text of only whitespace, and an empty list.
fn blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(text)) => text.trim().is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        Some(_) => false,
    }
}

/// The length `validate_length` measures: characters of text, items of a list.
fn length(value: &Value) -> Option<usize> {
    match value {
        Value::String(text) => Some(text.chars().count()),
        Value::Array(items) => Some(items.len()),
        _ => None,
    }
}

/// A form value accepted as "yes" (checkboxes send `true` or `on`).
fn accepted(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(text)) => matches!(text.trim(), "true" | "on" | "1" | "yes"),
        _ => false,
    }
}

impl<T: Serialize + DeserializeOwned> Changeset<T> {
    /// A changeset over `data` with no params, changes or errors (`change/2`).
    pub fn new(data: &T) -> Changeset<T> {
        let data = match serde_json::to_value(data) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        Changeset {
            data,
            params: Map::new(),
            changes: Map::new(),
            errors: BTreeMap::new(),
            action: Action::None,
            unused: BTreeSet::new(),
            cast: false,
            kind: PhantomData,
        }
    }

    /// Casts the `permitted` fields (fields of `T`) of `params` (one form's params, `value["user"]`) to their
    /// types in `T`: a value that does not fit gets [`INVALID`]; a value equal to the data is no
    /// change; text of only whitespace is empty. Remembers the params (the form shows them as typed) and the untouched fields.
    pub fn cast(mut self, params: &Value, permitted: &[&str]) -> Changeset<T> {
        let params = params.as_object().cloned().unwrap_or_default();
        self.unused = unused_fields(&Value::Object(params.clone()));
        self.cast = true;
        for field in permitted {
            let Some(raw) = params.get(*field) else {
                continue;
            };
            if !self.data.contains_key(*field) {
                // A programming error (Ecto raises): say so where the form shows errors.
                self.push_error(field, "is not a field of the changeset's data");
                continue;
            }
            // As Ecto's empty values: text of only whitespace is empty.
            let raw = match raw {
                Value::String(text) if text.trim().is_empty() => Value::String(String::new()),
                other => other.clone(),
            };
            let mut candidate = self.data.clone();
            candidate.extend(self.changes.clone());
            candidate.insert((*field).to_string(), raw);
            let typed = from_params::<T>(&Value::Object(candidate))
                .ok()
                .and_then(|t| serde_json::to_value(t).ok())
                .and_then(|mut v| v.get_mut(*field).map(Value::take));
            match typed {
                Some(value) if self.data.get(*field) == Some(&value) => {
                    self.changes.remove(*field);
                }
                Some(value) => {
                    self.changes.insert((*field).to_string(), value);
                }
                None => self.push_error(field, INVALID),
            }
        }
        self.params.extend(params);
        self
    }

    /// Sets the action (what `Map.put(changeset, :action, :validate)` does).
    pub fn with_action(mut self, action: Action) -> Changeset<T> {
        self.action = action;
        self
    }

    /// Adds an error to a field.
    pub fn add_error(mut self, field: &str, message: impl Into<String>) -> Changeset<T> {
        self.push_error(field, message);
        self
    }

    fn push_error(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .entry(field.to_string())
            .or_default()
            .push(message.into());
    }

    fn has_error(&self, field: &str) -> bool {
        self.errors.get(field).is_some_and(|e| !e.is_empty())
    }

    /// The field's value: its change, else the data.
    pub fn get_field(&self, field: &str) -> Option<&Value> {
        self.changes.get(field).or_else(|| self.data.get(field))
    }

    /// The field's change, if it has one.
    pub fn get_change(&self, field: &str) -> Option<&Value> {
        self.changes.get(field)
    }

    /// The field's param as sent.
    pub fn get_param(&self, field: &str) -> Option<&Value> {
        self.params.get(field)
    }

    /// All changes, typed, by field.
    pub fn changes(&self) -> &Map<String, Value> {
        &self.changes
    }

    /// [`BLANK`] on each field whose value is blank (unless it already has an error).
    pub fn validate_required(mut self, fields: &[&str]) -> Changeset<T> {
        for field in fields {
            if !self.has_error(field) && blank(self.get_field(field)) {
                self.push_error(field, BLANK);
            }
        }
        self
    }

    /// `message` when the field's changed text fails `check` (see [`looks_like_email`]).
    pub fn validate_format(
        self,
        field: &str,
        check: impl Fn(&str) -> bool,
        message: &str,
    ) -> Changeset<T> {
        self.validate_change(field, |value| match value {
            Value::String(text) if !check(text) => Some(message.to_string()),
            _ => None,
        })
    }

    /// The changed text's characters (or list's items) must fall in `range` (`8..=72`, `3..`).
    pub fn validate_length(self, field: &str, range: impl RangeBounds<usize>) -> Changeset<T> {
        let min = match range.start_bound() {
            Bound::Included(n) => Some(*n),
            Bound::Excluded(n) => Some(n + 1),
            Bound::Unbounded => None,
        };
        let max = match range.end_bound() {
            Bound::Included(n) => Some(*n),
            Bound::Excluded(n) => Some(n.saturating_sub(1)),
            Bound::Unbounded => None,
        };
        self.validate_change(field, |value| {
            let len = length(value)?;
            let unit = if value.is_string() {
                "character"
            } else {
                "item"
            };
            let plural = |n: usize| if n == 1 { "" } else { "s" };
            match (min, max) {
                (Some(min), _) if len < min => {
                    Some(format!("should be at least {min} {unit}{}", plural(min)))
                }
                (_, Some(max)) if len > max => {
                    Some(format!("should be at most {max} {unit}{}", plural(max)))
                }
                _ => None,
            }
        })
    }

    /// When the field changed, `<field>_confirmation` in the params must equal it; the error
    /// ("does not match confirmation") goes on the confirmation field.
    pub fn validate_confirmation(mut self, field: &str) -> Changeset<T> {
        let Some(value) = self.changes.get(field) else {
            return self;
        };
        let key = format!("{field}_confirmation");
        let confirmation = self.params.get(&key);
        let matches = match (value, confirmation) {
            (_, None) => true,
            (Value::String(a), Some(Value::String(b))) => a == b,
            (a, Some(b)) => Some(a) == from_params::<Value>(b).ok().as_ref(),
        };
        if !matches {
            self.push_error(&key, "does not match confirmation");
        }
        self
    }

    /// Once params were cast, the field's param must say yes (`true`, `on`): "must be accepted".
    pub fn validate_acceptance(mut self, field: &str) -> Changeset<T> {
        if self.cast && !accepted(self.params.get(field)) {
            self.push_error(field, "must be accepted");
        }
        self
    }

    /// A custom check of a changed field: `check` returns the error message, if any.
    pub fn validate_change(
        mut self,
        field: &str,
        check: impl FnOnce(&Value) -> Option<String>,
    ) -> Changeset<T> {
        if let Some(message) = self.changes.get(field).and_then(check) {
            self.push_error(field, message);
        }
        self
    }

    /// True when there are no errors.
    pub fn is_valid(&self) -> bool {
        self.errors.values().all(Vec::is_empty)
    }

    /// Every error, by field.
    pub fn errors(&self) -> &BTreeMap<String, Vec<String>> {
        &self.errors
    }

    /// The action.
    pub fn action(&self) -> Action {
        self.action
    }

    /// Fields the user has not touched yet (from the params' `_unused_` keys).
    pub fn unused(&self) -> &BTreeSet<String> {
        &self.unused
    }

    /// The errors a form shows: none without an action, and none on untouched fields.
    pub fn errors_to_show(&self) -> BTreeMap<String, Vec<String>> {
        if self.action == Action::None {
            return BTreeMap::new();
        }
        self.errors
            .iter()
            .filter(|(field, errors)| !errors.is_empty() && !self.unused.contains(*field))
            .map(|(field, errors)| (field.clone(), errors.clone()))
            .collect()
    }

    /// The data with the changes applied (valid or not; cast errors left the data's value).
    pub fn apply_changes(&self) -> Result<T, ParamsError> {
        let mut merged = self.data.clone();
        merged.extend(self.changes.clone());
        from_params(&Value::Object(merged))
    }

    /// Sets the action, then gives the changed data when valid, else the changeset back
    /// (`apply_action/2`).
    // The changeset goes back whole so the form can render its errors, as Ecto's does.
    #[allow(clippy::result_large_err)]
    pub fn apply_action(self, action: Action) -> Result<T, Changeset<T>> {
        let changeset = self.with_action(action);
        if !changeset.is_valid() {
            return Err(changeset);
        }
        match changeset.apply_changes() {
            Ok(data) => Ok(data),
            Err(error) => Err(changeset.add_error(&error.path, INVALID)),
        }
    }

    /// The form to render (`to_form(changeset, as: name)`): values as the user typed them (else
    /// the changes, else the data) and the errors to show.
    pub fn to_form(&self, name: &str) -> Form {
        let mut params = self.data.clone();
        params.extend(self.changes.clone());
        params.extend(
            self.params
                .iter()
                .filter(|(key, _)| !key.starts_with(UNUSED_PREFIX))
                .map(|(key, value)| (key.clone(), value.clone())),
        );
        Form::new(name, params).with_errors(self.errors_to_show())
    }
}

/// `to_form(changeset, as: name)`: see [`Changeset::to_form`].
pub fn to_form<T: Serialize + DeserializeOwned>(changeset: &Changeset<T>, name: &str) -> Form {
    changeset.to_form(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
    struct User {
        email: String,
        password: String,
        age: Option<u32>,
        admin: bool,
    }

    fn registration(params: &Value) -> Changeset<User> {
        Changeset::new(&User::default())
            .cast(params, &["email", "password", "age"])
            .validate_required(&["email", "password"])
            .validate_format(
                "email",
                looks_like_email,
                "must have the @ sign and no spaces",
            )
            .validate_length("password", 8..=72)
            .validate_confirmation("password")
            .validate_acceptance("terms")
    }

    #[test]
    fn cast_types_values_and_reports_cast_errors() {
        let cs = Changeset::new(&User::default()).cast(
            &json!({"email": "a@b.co", "age": "41", "admin": "true"}),
            &["email", "age"],
        );
        assert_eq!(cs.get_change("age"), Some(&json!(41)));
        assert_eq!(cs.get_change("admin"), None, "not permitted");
        let unknown = Changeset::new(&User::default()).cast(&json!({"nope": "1"}), &["nope"]);
        assert_eq!(
            unknown.errors()["nope"],
            vec!["is not a field of the changeset's data"]
        );
        assert!(cs.is_valid());
        let user = cs.apply_changes().expect("applies");
        assert_eq!(user.age, Some(41));
        assert!(!user.admin);

        let cs = Changeset::new(&User::default()).cast(&json!({"age": "old"}), &["age"]);
        assert_eq!(cs.errors()["age"], vec![INVALID]);
        assert_eq!(cs.apply_changes().expect("data kept").age, None);
        // A value equal to the data is no change; an empty Option field is None.
        let cs = Changeset::new(&User::default())
            .cast(&json!({"email": "", "age": ""}), &["email", "age"]);
        assert!(cs.changes().is_empty());
    }

    #[test]
    fn validations_and_messages() {
        let cs = registration(&json!({"email": "no at", "password": "short",
                                      "password_confirmation": "other", "terms": "false"}));
        let errors = cs.errors();
        assert_eq!(errors["email"], vec!["must have the @ sign and no spaces"]);
        assert_eq!(errors["password"], vec!["should be at least 8 characters"]);
        assert_eq!(
            errors["password_confirmation"],
            vec!["does not match confirmation"]
        );
        assert_eq!(errors["terms"], vec!["must be accepted"]);
        assert!(!cs.is_valid());

        let cs = registration(&json!({"email": " ", "password": ""}));
        assert_eq!(cs.errors()["email"], vec![BLANK]);
        assert_eq!(cs.errors()["password"], vec![BLANK]);

        let long = "x".repeat(73);
        let cs = registration(&json!({"email": "a@b.co", "password": long,
                                      "password_confirmation": long, "terms": "on"}));
        assert_eq!(cs.errors().len(), 1, "{:?}", cs.errors());
        assert_eq!(
            cs.errors()["password"],
            vec!["should be at most 72 characters"]
        );

        let good = json!({"email": "a@b.co", "password": "12345678",
                          "password_confirmation": "12345678", "terms": "true"});
        let user = registration(&good)
            .apply_action(Action::Insert)
            .expect("valid");
        assert_eq!(user.email, "a@b.co");

        let custom = registration(&good)
            .validate_change("email", |v| {
                (v == "a@b.co").then(|| "has already been taken".into())
            })
            .add_error("password", "too common");
        assert_eq!(custom.errors()["email"], vec!["has already been taken"]);
        assert_eq!(custom.errors()["password"], vec!["too common"]);
        let back = custom.apply_action(Action::Insert).expect_err("invalid");
        assert_eq!(back.action(), Action::Insert);
    }

    #[test]
    fn errors_show_only_with_an_action_and_on_touched_fields() {
        let params = json!({"email": "bad", "_unused_password": "", "password": "",
                            "_unused_password_confirmation": "", "password_confirmation": "",
                            "terms": "false", "_unused_terms": ""});
        let cs = registration(&params);
        assert!(
            cs.to_form("user").errors.is_empty(),
            "no action: nothing shown"
        );
        let form = cs.clone().with_action(Action::Validate).to_form("user");
        assert_eq!(
            form.field("email").errors,
            vec!["must have the @ sign and no spaces"]
        );
        assert!(form.field("password").errors.is_empty(), "untouched");
        assert!(form.field("terms").errors.is_empty(), "untouched");
        assert_eq!(
            form.field("email").value.as_deref(),
            Some("bad"),
            "shown as typed"
        );
        assert_eq!(form.field("email").name, "user[email]");
        assert!(!form.params.contains_key("_unused_password"));
        let unused: Vec<&String> = cs.unused().iter().collect();
        assert_eq!(unused, ["password", "password_confirmation", "terms"]);
        // A submit (no `_unused_` keys) shows everything.
        let submitted = registration(&json!({"email": "bad"})).with_action(Action::Insert);
        let form = to_form(&submitted, "user");
        assert_eq!(form.field("password").errors, vec![BLANK]);
        assert_eq!(form.field("terms").errors, vec!["must be accepted"]);
    }

    #[test]
    fn email_check() {
        for good in ["a@b.co", "first.last+tag@example.org"] {
            assert!(looks_like_email(good), "{good}");
        }
        for bad in [
            "", "a", "a@", "@b.co", "a@b", "a b@c.de", "a@b@c.de", "a@.co", "a@co.",
        ] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }
}
