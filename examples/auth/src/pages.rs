//! The pages: home and login (public), profile and settings (logged in), admin (admins).
//! Navigation and flash come from the live sessions' layouts (`layouts.rs`).

use livewasm_sdk::prelude::*;

use crate::session::User;

/// The current user the hooks assigned, if any.
fn current_user<V>(socket: &Socket<V>) -> Option<User> {
    socket
        .mount_assign::<Value>("current_user")
        .as_ref()
        .and_then(User::from_json)
}

/// The CSRF token of the session, for forms posted over plain HTTP.
fn csrf(session: &Session) -> String {
    session.str("_csrf_token").unwrap_or_default().to_string()
}

/// Assigns every page shares.
macro_rules! page_assigns {
    ($(#[$doc:meta])* $name:ident { $($field:ident: $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Assigns, Default)]
        pub struct $name {
            user: Option<String>,
            admin: bool,
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
    /// `/auth/login`: the login form, posted over HTTP.
    LoginLive {}
);
page_assigns!(
    /// `/auth/profile` and `/auth/settings`: logged-in users (`require_user`).
    ProfileLive { action: String }
);
page_assigns!(
    /// `/auth/admin`: admins (`require_admin`).
    AdminLive {}
);

/// Mount shared by the pages: the hooks' user and the session's CSRF token.
macro_rules! mount_common {
    ($socket:expr, $session:expr, $title:expr) => {{
        let user = current_user($socket);
        $socket.page_title($title);
        assign!(
            $socket,
            user = user.as_ref().map(|u| u.name.clone()),
            admin = user.is_some_and(|u| u.admin),
            csrf = csrf($session)
        );
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
  <p id="greeting">Hello, {@user.clone().unwrap_or_else(|| "guest".to_string())}!</p>
</div>
"#
        )
    }
}

impl LiveView for LoginLive {
    fn mount(socket: &mut Socket<Self>, _params: &Params, session: &Session) -> Result {
        mount_common!(socket, session, "Log in");
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="login">
  <h1>Log in</h1>
  <form id="login-form" action="/auth/log_in" method="post">
    <input type="hidden" name="_csrf_token" value={@csrf.clone()}>
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
        let action = socket.live_action().unwrap_or("index").to_string();
        socket.page_title(if action == "edit" {
            "Settings"
        } else {
            "Profile"
        });
        assign!(socket, action = action);
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="profile">
  <h1>{if @action == "edit" { "Settings" } else { "Profile" }}</h1>
  <p id="profile-name">{@user.clone().unwrap_or_default()}</p>
  <a id="settings-link" href="/auth/settings" data-phx-link="patch" data-phx-link-state="push">Settings</a>
  <a id="profile-tab" href="/auth/profile" data-phx-link="patch" data-phx-link-state="push">Profile tab</a>
</div>
"#
        )
    }
}

impl LiveView for AdminLive {
    fn mount(socket: &mut Socket<Self>, _params: &Params, session: &Session) -> Result {
        mount_common!(socket, session, "Admin");
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="admin">
  <h1>Admin</h1>
  <p id="admin-only">Only admins see this, {@user.clone().unwrap_or_default()}.</p>
</div>
"#
        )
    }
}
