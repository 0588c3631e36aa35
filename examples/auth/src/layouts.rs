//! The live sessions' layouts: navigation (who is signed in, log out) and flash around every
//! page, as Phoenix's `live_session …, layout: {Layouts, :app}`.

use livewasm_sdk::prelude::*;

/// Flash messages, each clearing itself on click.
fn flash_group(flash: &Flash) -> Rendered {
    let info = flash.get("info").map(str::to_string);
    let error = flash.get("error").map(str::to_string);
    html!(
        r#"
<div id="flash-group">
  <p :if={info.is_some()} id="flash-info" class="flash flash-info" role="alert"
     phx-click="lv:clear-flash" phx-value-key="info">{info.clone().unwrap_or_default()}</p>
  <p :if={error.is_some()} id="flash-error" class="flash flash-error" role="alert"
     phx-click="lv:clear-flash" phx-value-key="error">{error.clone().unwrap_or_default()}</p>
</div>
"#
    )
}

/// The navigation bar: who is logged in, and a log-out form posting `DELETE /auth/log_out`.
fn nav(user: &Option<String>, csrf: &str) -> Rendered {
    let name = user.clone().unwrap_or_default();
    html!(
        r#"
<nav id="nav">
  <a id="home-link" href="/auth" data-phx-link="redirect" data-phx-link-state="push">Home</a>
  <a id="profile-link" href="/auth/profile" data-phx-link="redirect" data-phx-link-state="push">Profile</a>
  <a id="admin-link" href="/auth/admin" data-phx-link="redirect" data-phx-link-state="push">Admin</a>
  <span :if={user.is_some()} id="current-user">Signed in as {name.clone()}</span>
  <form :if={user.is_some()} id="logout-form" action="/auth/log_out" method="post">
    <input type="hidden" name="_method" value="delete">
    <input type="hidden" name="_csrf_token" value={csrf.to_string()}>
    <button type="submit">Log out</button>
  </form>
  <a :if={user.is_none()} id="login-link" href="/auth/login" data-phx-link="redirect" data-phx-link-state="push">Log in</a>
</nav>
"#
    )
}

/// The signed-in user's name, from the hooks' `current_user`.
fn user_name(assigns: &LayoutAssigns<'_>) -> Option<String> {
    assigns
        .get::<Value>("current_user")
        .and_then(|u| u.get("name").and_then(Value::as_str).map(str::to_string))
}

/// The layout of the public and logged-in pages.
pub fn app_layout(inner: Rendered, assigns: &LayoutAssigns<'_>) -> Rendered {
    let user = user_name(assigns);
    let csrf: String = assigns.get("csrf").unwrap_or_default();
    html!(
        r#"
<div id="layout" class="layout-app">
  {nav(&user, &csrf)}
  {flash_group(assigns.flash())}
  <main>{inner}</main>
</div>
"#
    )
}

/// The admin pages' layout: the app layout under an admin banner.
pub fn admin_layout(inner: Rendered, assigns: &LayoutAssigns<'_>) -> Rendered {
    let page = app_layout(inner, assigns);
    html!(
        r#"
<div id="admin-layout" class="layout-admin">
  <p id="admin-banner">Admin area</p>
  {page}
</div>
"#
    )
}
