//! The pages: home and login (public), profile and settings (logged in), admin (admins).
//! Navigation and flash come from the live sessions' layouts (`layouts.rs`).

use livewasm_sdk::prelude::*;

use crate::session::User;

/// The current user's name, or `otherwise`.
fn name_or(user: &Option<User>, otherwise: &str) -> String {
    user.as_ref()
        .map_or_else(|| otherwise.to_string(), |u| u.name.clone())
}

/// The CSRF token of the session, for forms posted over plain HTTP.
fn csrf(session: &Session) -> String {
    session.str("_csrf_token").unwrap_or_default().to_string()
}

/// Assigns every page shares; the live session's hooks set `current_user` (as in Phoenix,
/// their `assign` lands in the field of that name).
macro_rules! page_assigns {
    ($(#[$doc:meta])* $name:ident { $($field:ident: $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Assigns, Default)]
        pub struct $name {
            #[on_mount]
            current_user: Option<User>,
            csrf: String,
            $($field: $ty),*
        }
    };
}

page_assigns!(
    /// `/auth`: anyone; greets the current user if there is one.
    HomeLive {}
);
page_assigns!(
    /// `/auth/login`: the login form, posted over HTTP; `?return_to=` (from the `require_user`
    /// plug) goes along with it.
    LoginLive { return_to: Option<String> }
);
page_assigns!(
    /// `/auth/profile` and `/auth/settings`: logged-in users (`require_user`).
    ProfileLive {}
);
page_assigns!(
    /// `/auth/admin`: admins (`require_admin`).
    AdminLive {}
);

/// Mount shared by the pages: the title and the session's CSRF token.
macro_rules! mount_common {
    ($socket:expr, $session:expr, $title:expr) => {{
        $socket.page_title($title);
        assign!($socket, csrf = csrf($session));
    }};
}

impl LiveView for HomeLive {
    fn mount(socket: &mut Socket<Self>, _params: &Params, session: &Session) -> Result {
        mount_common!(socket, session, "Home");
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="home">
  <h1>Welcome</h1>
  <p id="greeting">Hello, {name_or(&@current_user, "guest")}!</p>
</div>
"#
        )
    }
}

impl LiveView for LoginLive {
    fn mount(socket: &mut Socket<Self>, params: &Params, session: &Session) -> Result {
        mount_common!(socket, session, "Log in");
        let return_to = params.str("return_to").map(str::to_string);
        assign!(socket, return_to = return_to);
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="login">
  <h1>Log in</h1>
  <form id="login-form" action="/auth/log_in" method="post">
    <input type="hidden" name="_csrf_token" value={@csrf.clone()}>
    <input :if={@return_to.is_some()} type="hidden" name="return_to" value={@return_to.clone().unwrap_or_default()}>
    <label>Name <input id="user_name" type="text" name="user[name]"></label>
    <label>Password <input id="user_password" type="password" name="user[password]"></label>
    <button type="submit">Log in</button>
  </form>
</div>
"#
        )
    }
}

impl LiveView for ProfileLive {
    fn mount(socket: &mut Socket<Self>, _params: &Params, session: &Session) -> Result {
        mount_common!(socket, session, "Profile");
        Ok(())
    }

    fn handle_params(socket: &mut Socket<Self>, _params: &Params, _url: &str) -> Result {
        let edit = socket.live_action() == Some("edit");
        socket.page_title(if edit { "Settings" } else { "Profile" });
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="profile">
  <h1>{if @live_action == "edit" { "Settings" } else { "Profile" }}</h1>
  <p id="profile-name">{name_or(&@current_user, "")}</p>
  <a id="settings-link" href="/auth/settings" data-phx-link="patch" data-phx-link-state="push">Settings</a>
  <a id="profile-tab" href="/auth/profile" data-phx-link="patch" data-phx-link-state="push">Profile tab</a>
</div>
"#
        )
    }
}

impl LiveView for AdminLive {
    fn on_mount() -> &'static [(&'static str, OnMountHook)] {
        &[("require_admin", crate::hooks::require_admin)]
    }

    fn mount(socket: &mut Socket<Self>, _params: &Params, session: &Session) -> Result {
        mount_common!(socket, session, "Admin");
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="admin">
  <h1>Admin</h1>
  <p id="admin-only">Only admins see this, {name_or(&@current_user, "")}.</p>
</div>
"#
        )
    }
}
