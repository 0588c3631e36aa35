//! The router's plugs: `require_authenticated_user` (the `pipe_through [:browser,
//! :require_user]` of the seed's router, named after `mix phx.gen.auth`'s plug). It runs on
//! the HTTP request of a page (before the live session's `on_mount` hooks, which guard the
//! live mount and live navigation) and of an HTTP route.

use livewasm_sdk::prelude::*;

use crate::session::get_user;

/// Lets signed-in users through; sends others to the login page, which brings them back to
/// the page they asked for once logged in (`return_to`).
pub fn require_authenticated_user(request: &HttpRequest) -> Plug {
    if get_user(&request.session).is_some() {
        return Plug::Cont;
    }
    let mut to = String::from("/auth/login?return_to=");
    livewasm_sdk::verified_path::__push_encoded(&mut to, &request.route);
    Plug::Halt(
        HttpResponse::redirect(to).put_flash("error", "You must log in to access this page."),
    )
}
