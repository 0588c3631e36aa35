//! Pipelines of plugs, Phoenix's `pipeline :require_user do plug … end` and
//! `pipe_through [:browser, :require_user]`: functions that look at an HTTP request before the
//! page or handler does and let it through or answer it themselves.
//!
//! ```
//! use livewasm_sdk::prelude::*;
//!
//! /// Only signed-in visitors; others go to the login page.
//! fn require_user(request: &HttpRequest) -> Plug {
//!     if request.session.str("user").is_some() {
//!         Plug::Cont
//!     } else {
//!         Plug::Halt(HttpResponse::redirect("/login").put_flash("error", "Log in first."))
//!     }
//! }
//!
//! # #[derive(Assigns, Default)] pub struct Profile {}
//! # impl LiveView for Profile {
//! #     fn mount(_: &mut Socket<Self>, _: &Params, _: &Session) -> Result { Ok(()) }
//! #     fn render(_: &Tracked<'_, Self>) -> Rendered { html!("<p>Profile</p>") }
//! # }
//! # fn export(_: &HttpRequest) -> HttpResponse { HttpResponse::html(200, "csv") }
//! livewasm_sdk::app! {
//!     name: "accounts",
//!     pipelines: {
//!         "require_user" => [require_user];
//!     },
//!     routes: {
//!         "/profile" => Profile, pipe_through: ["require_user"];
//!     },
//!     http: {
//!         GET "/export" => export, pipe_through: ["require_user"];
//!     }
//! }
//! ```
//!
//! As in Phoenix, pipelines run on HTTP requests: the dead render of a page (before its live
//! session's `on_mount` hooks) and the plain HTTP handlers. A live mount and live navigation
//! send no HTTP request, so they run none: guard views with `on_mount` too (as the seed's
//! `live_session :authenticated` does). A plug that halts answers the request with its
//! response, page or HTTP route alike, as Phoenix returns a halted conn: a redirect (its flash
//! goes along), or any status with its headers and body (a 403 page, a 404), its session
//! changes and flash included. A `pipe_through` naming no declared pipeline does not compile.

use crate::{HttpRequest, HttpResponse};

/// What a plug decides.
#[derive(Debug, Clone)]
pub enum Plug {
    /// Let the request through to the next plug, then the page or handler.
    Cont,
    /// Answer the request with this response; nothing after runs (Phoenix's `halt/1`).
    Halt(HttpResponse),
}

/// A plug: a function of the request, named in `app!`'s `pipelines:`.
pub type PlugFn = fn(&HttpRequest) -> Plug;

/// One pipeline: its name and its plugs, in order.
pub type PipelineDecl = (&'static str, Vec<PlugFn>);

/// Runs the plugs of the pipelines `through` names, in order; the first halt's response, if
/// any plug halts. An unknown name is skipped (`app!` refuses those at compile time).
pub(crate) fn run(
    pipelines: &[PipelineDecl],
    through: &[&str],
    request: &HttpRequest,
) -> Option<HttpResponse> {
    through
        .iter()
        .filter_map(|name| pipelines.iter().find(|(n, _)| n == name))
        .flat_map(|(_, plugs)| plugs.iter())
        .find_map(|plug| match plug(request) {
            Plug::Cont => None,
            Plug::Halt(response) => Some(response),
        })
}

/// Panics (at compile time, in a `const`) when one of `used` is not in `declared`.
#[doc(hidden)]
pub const fn __check_names(declared: &[&str], used: &[&str]) {
    let mut i = 0;
    while i < used.len() {
        let mut found = false;
        let mut j = 0;
        while j < declared.len() {
            if crate::verified_path::same_str(used[i], declared[j]) {
                found = true;
            }
            j += 1;
        }
        if !found {
            panic!("pipe_through names a pipeline that app!'s `pipelines:` does not declare");
        }
        i += 1;
    }
}

/// The path of an absolute URL (`http://host/a/b?x=1` → `/a/b`).
pub(crate) fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.find('/').map_or("/", |at| &rest[at..]);
    path.split(['?', '#']).next().unwrap_or("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Params, Session};

    fn request(user: Option<&str>) -> HttpRequest {
        let session = match user {
            Some(user) => Session::from_json(&format!(r#"{{"user":"{user}"}}"#)),
            None => Session::default(),
        };
        HttpRequest {
            method: "GET".into(),
            route: "/profile".into(),
            params: Params::default(),
            session,
        }
    }

    fn require_user(request: &HttpRequest) -> Plug {
        match request.session.str("user") {
            Some(_) => Plug::Cont,
            None => Plug::Halt(HttpResponse::redirect("/login")),
        }
    }

    fn forbid_mallory(request: &HttpRequest) -> Plug {
        match request.session.str("user") {
            Some("mallory") => Plug::Halt(HttpResponse::html(403, "no")),
            _ => Plug::Cont,
        }
    }

    #[test]
    fn plugs_run_in_order_and_the_first_halt_answers() {
        let pipelines: Vec<PipelineDecl> = vec![
            ("require_user", vec![require_user as PlugFn]),
            ("strict", vec![forbid_mallory as PlugFn]),
        ];
        let through = ["require_user", "strict"];
        assert!(run(&pipelines, &through, &request(Some("ada"))).is_none());
        let halted = run(&pipelines, &through, &request(None)).expect("halted");
        assert_eq!(halted.status(), 302);
        let halted = run(&pipelines, &through, &request(Some("mallory"))).expect("halted");
        assert_eq!(halted.status(), 403);
        assert!(run(&pipelines, &["strict"], &request(None)).is_none());
    }

    #[test]
    fn names_are_checked_and_url_paths_taken() {
        __check_names(&["a", "b"], &["b", "a", "b"]);
        assert_eq!(url_path("http://h:4000/a/b?x=1#y"), "/a/b");
        assert_eq!(url_path("https://h"), "/");
        assert_eq!(url_path("/plain?q"), "/plain");
    }

    #[test]
    #[should_panic(expected = "does not declare")]
    fn an_unknown_name_panics() {
        __check_names(&["a"], &["c"]);
    }
}
