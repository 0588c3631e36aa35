//! Plain HTTP handlers of an app (`http:` in [`crate::app!`]): a form posted to
//! `POST /auth/log_in` that sets the cookie session, a log out that clears it.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::{Flash, Params, Session};

/// One request, as a handler sees it.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// Method, upper case (`POST`, or `DELETE` from a form's `_method` field).
    pub method: String,
    /// The route pattern that matched (e.g. `/auth/log_in`).
    pub route: String,
    /// Path, query and form params.
    pub params: Params,
    /// The signed cookie session.
    pub session: Session,
}

/// A handler's answer.
#[derive(Debug, Clone, Default)]
pub struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    redirect: Option<String>,
    body: String,
    clear_session: bool,
    session_changes: Map<String, Value>,
    flash: Flash,
}

/// A handler of `http:` routes, named in [`crate::app!`]'s `http: { POST "/log_in" => log_in; }`.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// fn log_in(request: &HttpRequest) -> HttpResponse {
///     match request.params.str("email") {
///         Some(email) if email.contains('@') => HttpResponse::redirect("/account")
///             .put_session("user_id", email)
///             .put_flash("info", "Welcome back!"),
///         _ => HttpResponse::redirect("/login").put_flash("error", "Invalid email."),
///     }
/// }
///
/// fn log_out(_: &HttpRequest) -> HttpResponse {
///     HttpResponse::redirect("/").clear_session()
/// }
///
/// let request = HttpRequest {
///     method: "POST".into(),
///     route: "/log_in".into(),
///     params: Params::from_json(r#"{"email": "ada@example.com"}"#),
///     session: Session::default(),
/// };
/// assert_eq!(log_in(&request).status(), 302);
/// # let _ = log_out(&request);
/// ```
pub type HttpHandler = fn(&HttpRequest) -> HttpResponse;

impl HttpResponse {
    /// A `302 Found` to `to`.
    pub fn redirect(to: impl Into<String>) -> HttpResponse {
        HttpResponse {
            status: 302,
            redirect: Some(to.into()),
            ..HttpResponse::default()
        }
    }

    /// An HTML page with `status`.
    pub fn html(status: u16, body: impl Into<String>) -> HttpResponse {
        HttpResponse {
            status,
            body: body.into(),
            ..HttpResponse::default()
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> HttpResponse {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets `key` in the cookie session (`put_session`).
    pub fn put_session(mut self, key: &str, value: impl Serialize) -> HttpResponse {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.session_changes.insert(key.to_string(), value);
        self
    }

    /// Drops the whole cookie session first (`configure_session(drop: true)`), e.g. on log out.
    pub fn clear_session(mut self) -> HttpResponse {
        self.clear_session = true;
        self.session_changes.clear();
        self
    }

    /// A flash message for the next page (`put_flash`).
    pub fn put_flash(
        mut self,
        kind: impl Into<String>,
        message: impl Into<String>,
    ) -> HttpResponse {
        self.flash.put(kind, message);
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Where it redirects, if it does (for a plug's or handler's own tests).
    pub fn redirect_to(&self) -> Option<&str> {
        self.redirect.as_deref()
    }

    /// The flash it sets (for a plug's or handler's own tests).
    pub fn flash(&self) -> &Flash {
        &self.flash
    }

    /// The new session given the request's: `None` when unchanged.
    pub(crate) fn new_session(&self, old: &Session) -> Option<Map<String, Value>> {
        if !self.clear_session && self.session_changes.is_empty() {
            return None;
        }
        let mut session = if self.clear_session {
            Map::new()
        } else {
            old.as_map().clone()
        };
        for (k, v) in &self.session_changes {
            session.insert(k.clone(), v.clone());
        }
        Some(session)
    }

    pub(crate) fn into_wit(
        self,
        old: &Session,
    ) -> crate::bindings::livewasm::view::types::HttpResponse {
        let session = self.new_session(old).map(|s| Value::Object(s).to_string());
        crate::bindings::livewasm::view::types::HttpResponse {
            status: self.status,
            headers: self.headers,
            redirect: self.redirect,
            body: self.body,
            session,
            flash: self.flash.to_json().to_string(),
        }
    }
}

/// The answer when no handler matches.
pub(crate) fn not_found() -> HttpResponse {
    HttpResponse::html(404, "<h1>Not Found</h1>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_changes_merge_into_the_old_session_or_replace_it() {
        let old = Session::from_json(r#"{"_csrf_token":"t","theme":"dark"}"#);
        assert_eq!(HttpResponse::redirect("/").new_session(&old), None);

        let put = HttpResponse::redirect("/").put_session("user_id", "alice");
        let session = put.new_session(&old).expect("changed");
        assert_eq!(session["user_id"], "alice");
        assert_eq!(session["theme"], "dark");
        assert_eq!(session["_csrf_token"], "t");

        let cleared = HttpResponse::redirect("/").clear_session();
        assert_eq!(cleared.new_session(&old), Some(Map::new()));

        let wit = HttpResponse::redirect("/x")
            .put_flash("info", "Hi")
            .into_wit(&old);
        assert_eq!(wit.status, 302);
        assert_eq!(wit.redirect.as_deref(), Some("/x"));
        assert_eq!(wit.flash, r#"{"info":"Hi"}"#);
        assert_eq!(wit.session, None);
    }
}
