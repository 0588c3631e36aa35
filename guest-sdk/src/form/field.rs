//! [`Form`] and [`FormField`]: the render-side view of a form's params and errors.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A form ready to render: its params (as the last form event or the data gave them) and the
/// errors to show, per field. Build it with [`Form::new`] or from a changeset
/// ([`Changeset::to_form`](crate::form::Changeset::to_form)), keep it in an assign, and render it
/// with `<.form for={@form}>` and `<.input field={f.field("email")}>`.
///
/// ```
/// use livewasm_sdk::form::{Action, Changeset, looks_like_email};
/// use livewasm_sdk::prelude::*;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Default, Serialize, Deserialize)]
/// pub struct Signup {
///     email: String,
/// }
///
/// #[derive(Assigns, Default)]
/// pub struct SignupLive {
///     form: Form,
/// }
///
/// fn changeset(params: &Value) -> Changeset<Signup> {
///     Changeset::new(&Signup::default())
///         .cast(params, &["email"])
///         .validate_required(&["email"])
///         .validate_format("email", looks_like_email, "must have the @ sign")
/// }
///
/// impl LiveView for SignupLive {
///     fn mount(socket: &mut Socket<Self>, _: &Params, _: &Session) -> Result {
///         assign!(socket, form = changeset(&json!({})).to_form("signup"));
///         Ok(())
///     }
///
///     fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
///         let params = &value["signup"];
///         match event {
///             "validate" => {
///                 let form = changeset(params).with_action(Action::Validate).to_form("signup");
///                 assign!(socket, form = form);
///             }
///             "save" => match changeset(params).apply_action(Action::Insert) {
///                 Ok(signup) => socket.put_flash("info", format!("Welcome, {}!", signup.email)),
///                 Err(invalid) => assign!(socket, form = invalid.to_form("signup")),
///             },
///             _ => {}
///         }
///         Ok(())
///     }
///
///     fn render(assigns: &Tracked<'_, Self>) -> Rendered {
///         html!(r#"<.form for={@form} phx-change="validate" phx-submit="save" :let={f}><.input field={f.field("email")} type="email" label="Email" /></.form>"#)
///     }
/// }
///
/// let mut socket = Socket::<SignupLive>::new(true, None);
/// SignupLive::mount(&mut socket, &Params::default(), &Session::default())?;
/// SignupLive::handle_event(&mut socket, "validate", &json!({"signup": {"email": "ada"}}))?;
/// let email = socket.assigns().form.field("email");
/// assert_eq!(email.value.as_deref(), Some("ada"));
/// assert_eq!(email.errors, ["must have the @ sign"]);
///
/// let html = SignupLive::render(&Tracked::all(socket.assigns())).to_html();
/// assert!(html.contains(r#"<p class="error" data-for="email">must have the @ sign</p>"#));
///
/// let submit = json!({"signup": {"email": "ada@example.com"}});
/// SignupLive::handle_event(&mut socket, "save", &submit)?;
/// assert_eq!(socket.flash().get("info"), Some("Welcome, ada@example.com!"));
/// # Ok::<(), livewasm_sdk::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Form {
    /// The params key the fields nest under (`user` gives `user[email]`); empty for none.
    pub name: String,
    /// The DOM id prefix of the fields (defaults to `name`).
    pub id: String,
    /// The field values, by field name.
    pub params: Map<String, Value>,
    /// The errors to show, by field name (already filtered: untouched fields have none).
    pub errors: BTreeMap<String, Vec<String>>,
}

impl Form {
    /// A form named `name` (the params key) with these values and no errors.
    pub fn new(name: impl Into<String>, params: Map<String, Value>) -> Form {
        let name = name.into();
        Form {
            id: name.clone(),
            name,
            params,
            errors: BTreeMap::new(),
        }
    }

    /// The same form with these errors to show.
    pub fn with_errors(mut self, errors: BTreeMap<String, Vec<String>>) -> Form {
        self.errors = errors;
        self
    }

    /// One field: its DOM id and name, its value as text, and its errors to show (what
    /// Phoenix's `@form[:email]` gives).
    ///
    /// ```
    /// use std::collections::BTreeMap;
    ///
    /// use livewasm_sdk::prelude::*;
    ///
    /// let params = json!({"email": "ada@example", "age": 36});
    /// let errors = BTreeMap::from([("email".to_string(), vec!["is invalid".to_string()])]);
    /// let params = params.as_object().cloned().unwrap_or_default();
    /// let form = Form::new("user", params).with_errors(errors);
    ///
    /// let email = form.field("email");
    /// assert_eq!((email.id.as_str(), email.name.as_str()), ("user_email", "user[email]"));
    /// assert_eq!(email.value.as_deref(), Some("ada@example"));
    /// assert_eq!(email.errors, ["is invalid"]);
    /// assert_eq!(form.field("age").value.as_deref(), Some("36"));
    /// assert!(form.field("age").errors.is_empty());
    /// ```
    pub fn field(&self, field: &str) -> FormField {
        let (id, name) = if self.name.is_empty() {
            (field.to_string(), field.to_string())
        } else {
            (
                format!("{}_{field}", self.id),
                format!("{}[{field}]", self.name),
            )
        };
        FormField {
            id,
            name,
            field: field.to_string(),
            value: self.params.get(field).and_then(value_text),
            errors: self.errors.get(field).cloned().unwrap_or_default(),
            form: self.id.clone(),
        }
    }
}

/// A form value as the text an input shows; `None` for null and for nested data.
fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// One field of a [`Form`], as `.input` renders it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormField {
    /// DOM id (`user_email`).
    pub id: String,
    /// Input name (`user[email]`).
    pub name: String,
    /// The field's own name (`email`).
    pub field: String,
    /// Current value as text, when there is one.
    pub value: Option<String>,
    /// Errors to show next to the input (empty when none, or the field is untouched).
    pub errors: Vec<String>,
    /// The id of the form it belongs to.
    pub form: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_field_names_ids_values_and_errors() {
        let Value::Object(params) = json!({"email": "a@b", "age": 3, "tags": ["x"]}) else {
            panic!("object")
        };
        let mut errors = BTreeMap::new();
        errors.insert("email".to_string(), vec!["is invalid".to_string()]);
        let form = Form::new("user", params).with_errors(errors);
        let email = form.field("email");
        assert_eq!(email.id, "user_email");
        assert_eq!(email.name, "user[email]");
        assert_eq!(email.value.as_deref(), Some("a@b"));
        assert_eq!(email.errors, vec!["is invalid"]);
        assert_eq!(form.field("age").value.as_deref(), Some("3"));
        assert_eq!(form.field("tags").value, None);
        assert!(form.field("name").errors.is_empty());
        let bare = Form::new("", Map::new()).field("q");
        assert_eq!((bare.id.as_str(), bare.name.as_str()), ("q", "q"));
    }
}
