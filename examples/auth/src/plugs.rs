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

/// The page a signed-in non-admin gets for an admins-only route.
const FORBIDDEN_PAGE: &str = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Forbidden</title></head><body><h1 id=\"forbidden\">403 Forbidden</h1>\
<p id=\"forbidden-reason\">Only admins may read the audit log.</p>\
<a id=\"home-link\" href=\"/auth\">Home</a></body></html>";

/// Lets admins through and answers everyone else with a 403 page of its own, as a Phoenix
/// plug does with `conn |> put_status(:forbidden) |> put_view(ErrorHTML) |> render(:"403")
/// |> halt()`: the page's HTTP request gets that response as it is (status, headers, body),
/// and no view mounts. It runs after `require_authenticated_user`, so a guest is sent to the
/// login page first. Live navigation sends no HTTP request: `AdminLive`'s `require_admin`
/// `on_mount` hook guards it.
pub fn require_admin_user(request: &HttpRequest) -> Plug {
    match get_user(&request.session) {
        Some(user) if user.admin => Plug::Cont,
        _ => {
            Plug::Halt(HttpResponse::html(403, FORBIDDEN_PAGE).header("cache-control", "no-store"))
        }
    }
}
