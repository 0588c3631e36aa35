//! The `on_mount` hooks of the seed's `LiveAuth`.

use livewasm_sdk::prelude::*;

use crate::layouts::admin_layout;
use crate::session::get_user;

/// The session's CSRF token, for the layout's log-out form.
fn assign_csrf(socket: &mut MountSocket) {
    let csrf = socket
        .session()
        .str("_csrf_token")
        .unwrap_or_default()
        .to_string();
    socket.assign("csrf", csrf);
}

/// `on_mount(:default)`: assigns `current_user` (maybe none) for every page.
pub fn assign_user(socket: &mut MountSocket) -> OnMount {
    let user = get_user(socket.session());
    socket.assign("current_user", user);
    assign_csrf(socket);
    OnMount::Cont
}

/// `on_mount(:require_user)`: only logged-in users; others go to the login page.
pub fn require_user(socket: &mut MountSocket) -> OnMount {
    match get_user(socket.session()) {
        Some(user) => {
            socket.assign("current_user", Some(user));
            assign_csrf(socket);
            OnMount::Cont
        }
        None => {
            socket.put_flash("error", "You must log in to access this page.");
            socket.redirect("/auth/login");
            OnMount::Halt
        }
    }
}

/// `on_mount(:require_admin)`: only admins, in the admin layout; others go home.
pub fn require_admin(socket: &mut MountSocket) -> OnMount {
    match get_user(socket.session()) {
        Some(user) if user.admin => {
            socket.assign("current_user", Some(user));
            socket.put_layout(admin_layout);
            OnMount::Cont
        }
        _ => {
            socket.put_flash("error", "Admins only.");
            socket.redirect("/auth");
            OnMount::Halt
        }
    }
}
