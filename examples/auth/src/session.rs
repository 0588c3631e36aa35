//! The users, and the plain HTTP handlers that log them in and out through the cookie session.

use livewasm_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// A user, as the hooks assign it (`current_user`): a view's `current_user: Option<User>`
/// field receives it as it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Login name.
    pub name: String,
    /// May open `/auth/admin`.
    pub admin: bool,
}

/// The known users: `(name, password, admin)`.
const USERS: &[(&str, &str, bool)] = &[("alice", "secret", true), ("bob", "secret", false)];

/// The user named in the session (`user_id`), if any (`get_user(session)` of the seed).
pub fn get_user(session: &Session) -> Option<User> {
    let name = session.str("user_id")?;
    USERS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(n, _, admin)| User {
            name: (*n).to_string(),
            admin: *admin,
        })
}

/// `POST /auth/log_in`: checks the form's name and password; on success the session names
/// the user and the browser goes to the page it came for (`return_to`), else its profile.
pub fn log_in(request: &HttpRequest) -> HttpResponse {
    let field = |name: &str| {
        request
            .params
            .get("user")
            .and_then(|u| u.get(name))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (name, password) = (field("name"), field("password"));
    // Back to the page the `require_user` plug sent the user away from: only a path of this
    // app (no `//host`, which would leave the site).
    let return_to = request
        .params
        .str("return_to")
        .filter(|to| to.starts_with("/auth/") && !to.contains("//") && !to.contains('\\'))
        .unwrap_or("/auth/profile")
        .to_string();
    match USERS.iter().find(|(n, p, _)| *n == name && *p == password) {
        Some((n, _, _)) => HttpResponse::redirect(return_to)
            .put_session("user_id", n)
            .put_flash("info", format!("Welcome back, {n}!")),
        None => {
            HttpResponse::redirect("/auth/login").put_flash("error", "Invalid name or password")
        }
    }
}

/// `GET /auth/export`: the signed-in user's profile as CSV (behind the `require_user` plug,
/// which answers anyone else with a redirect to the login page).
pub fn export_profile(request: &HttpRequest) -> HttpResponse {
    match get_user(&request.session) {
        Some(user) => {
            HttpResponse::html(200, format!("name,admin\n{},{}\n", user.name, user.admin))
                .header("content-type", "text/csv; charset=utf-8")
        }
        // Only reached if the plug is gone: refuse rather than leak.
        None => HttpResponse::html(403, "<h1>Forbidden</h1>"),
    }
}

/// `DELETE /auth/log_out`: drops the session.
pub fn log_out(_request: &HttpRequest) -> HttpResponse {
    HttpResponse::redirect("/auth")
        .clear_session()
        .put_flash("info", "Logged out successfully.")
}
