//! Signing in and out: the login page (`/ops/login`) posts an API token to `POST /ops/login`,
//! which asks the host for the overview with it (so a bad token is refused here, with the
//! host's reason in the flash) and keeps it in the signed session cookie; `POST /ops/logout`
//! drops the session.

use livewasm_sdk::operator;
use livewasm_sdk::prelude::*;

/// The session key holding the API token.
pub const TOKEN_KEY: &str = "operator_token";

/// The login page's assigns.
#[derive(Assigns, Default)]
pub struct LoginLive {
    csrf: String,
}

impl LiveView for LoginLive {
    fn mount(socket: &mut Socket<Self>, _params: &Params, session: &Session) -> Result {
        let csrf = session.str("_csrf_token").unwrap_or_default().to_string();
        assign!(socket, csrf = csrf);
        socket.page_title("Sign in");
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        let info = assigns.flash().get("info").unwrap_or_default().to_string();
        let error = assigns.flash().get("error").unwrap_or_default().to_string();
        html!(
            r#"
<main id="ops-login" class="ops-login">
  <h1>Livewasm dashboard</h1>
  <p :if={!info.is_empty()} id="flash-info" class="flash flash-info" role="status">{info.as_str()}</p>
  <p :if={!error.is_empty()} id="flash-error" class="flash flash-error" role="alert">{error.as_str()}</p>
  <form id="login-form" action="/ops/login" method="post">
    <input type="hidden" name="_csrf_token" value={@csrf.clone()}>
    <label for="token">API token (operator: every tenant; tenant: its own apps)</label>
    <input id="token" type="password" name="token" autocomplete="off" required>
    <button type="submit">Sign in</button>
  </form>
</main>
"#
        )
    }
}

/// `POST /ops/login`: a token the host accepts goes into the session; any other back to the
/// login page with the host's reason.
pub fn log_in(request: &HttpRequest) -> HttpResponse {
    let token = request.params.str("token").unwrap_or_default().trim();
    if token.is_empty() {
        return HttpResponse::redirect("/ops/login").put_flash("error", "Enter an API token.");
    }
    match operator::overview(token) {
        Ok(overview) => {
            let who = match &overview.tenant {
                Some(tenant) => format!("Signed in as tenant {tenant}."),
                None => "Signed in as operator.".to_string(),
            };
            HttpResponse::redirect("/ops")
                .put_session(TOKEN_KEY, token)
                .put_flash("info", who)
        }
        Err(e) => HttpResponse::redirect("/ops/login").put_flash("error", e.to_string()),
    }
}

/// `POST /ops/logout`: drops the session.
pub fn log_out(_request: &HttpRequest) -> HttpResponse {
    HttpResponse::redirect("/ops/login")
        .clear_session()
        .put_flash("info", "Signed out.")
}
