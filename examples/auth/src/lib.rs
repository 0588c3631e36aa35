//! LiveAuth from the seed: `on_mount` hooks per live session (`assign_user` for every page,
//! `require_user`) and of a view (`AdminLive`'s `require_admin`, which also sets the layout), a cookie session set by plain HTTP handlers
//! (`POST /auth/log_in`, `DELETE /auth/log_out`), flash messages across the redirects, and the
//! router's `require_user` pipeline (`plugs.rs`) on the logged-in pages and `GET /auth/export`,
//! and its `admins_only` pipeline on `/auth/admin/audit`, whose plug halts a non-admin's page
//! request with a 403 page of its own.
//!
//! Each live session wraps its pages in a layout (`layouts.rs`): navigation and flash.
//!
//! Users (no database): `alice` is an admin, `bob` is not; both have the password `secret`.

mod hooks;
mod layouts;
mod pages;
mod plugs;
mod session;

use hooks::{assign_user, require_user};
use layouts::app_layout;
use pages::{AdminLive, HomeLive, LoginLive, ProfileLive};
use plugs::{require_admin_user, require_authenticated_user};
use session::{export_profile, log_in, log_out};

livewasm_sdk::app! {
    name: "auth",
    live_sessions: {
        "public" => [assign_user], layout: app_layout;
        "authenticated" => [require_user], layout: app_layout;
        // `require_admin` is AdminLive's own `on_mount`, and it picks the admin layout.
        "admin" => [require_user], layout: app_layout;
    },
    // The router's pipelines: a page's run on its HTTP request (the dead render), an HTTP
    // route's before its handler; the live sessions' hooks guard live mounts and navigation.
    pipelines: {
        "require_user" => [require_authenticated_user];
        // Halts with a 403 page (not a redirect) for a signed-in non-admin.
        "admins_only" => [require_admin_user];
    },
    routes: {
        "/auth" => HomeLive, action: "index", live_session: "public";
        "/auth/login" => LoginLive, action: "new", live_session: "public";
        "/auth/profile" => ProfileLive, action: "index", live_session: "authenticated",
            pipe_through: ["require_user"];
        "/auth/settings" => ProfileLive, action: "edit", live_session: "authenticated",
            pipe_through: ["require_user"];
        "/auth/admin" => AdminLive, action: "index", live_session: "admin",
            pipe_through: ["require_user"];
        "/auth/admin/audit" => AdminLive, action: "audit", live_session: "admin",
            pipe_through: ["require_user", "admins_only"];
    },
    http: {
        POST "/auth/log_in" => log_in;
        DELETE "/auth/log_out" => log_out;
        GET "/auth/export" => export_profile, pipe_through: ["require_user"];
    }
}
