//! UserRegistrationLive from the seed: a sign-up form validated as the user types (errors only on
//! fields the user has touched), saved on submit with `phx-disable-with`, then posted over plain
//! HTTP with `phx-trigger-action`; after a reconnect, `phx-auto-recover` sends the typed values
//! to a custom recovery event that restores them.
//!
//! Routes: `/users/register` (the form), `/users/log_in` (a view), and `POST /users/log_in` (a
//! plain HTTP handler: signs the new user in through the cookie session and redirects back).
//!
//! Registered emails are kept in the app's key-value store (`kv`, one key per email, claimed
//! with compare-and-set so two sign-ups racing for one email cannot both win): an email taken
//! once stays taken, for every visitor and across host restarts. The password is checked, never
//! stored.

use livewasm_sdk::form::{Action, Changeset, Form, looks_like_email};
use livewasm_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// What a registration records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Registration {
    /// The user's email.
    pub email: String,
    /// The chosen password.
    pub password: String,
}

/// An email registered from the start (the store is seeded with it).
pub const TAKEN: &str = "taken@example.com";

/// Where a registered email is kept (emails compare case-insensitively).
fn user_key(email: &str) -> String {
    format!("user/{}", email.trim().to_lowercase())
}

/// What the store keeps of a user: the email alone.
fn user_record(email: &str) -> Vec<u8> {
    json!({"email": email.trim()}).to_string().into_bytes()
}

/// Registers [`TAKEN`] once per store.
fn seed() -> Result {
    if kv::compare_and_set("seeded", None, Some(b"1"))? {
        kv::set(&user_key(TAKEN), &user_record(TAKEN))?;
    }
    Ok(())
}

/// Whether the `email` of `params` is registered already.
fn email_taken(params: &Value) -> Result<bool> {
    let Some(email) = params.get("email").and_then(Value::as_str) else {
        return Ok(false);
    };
    if email.trim().is_empty() || email.len() > 160 {
        return Ok(false);
    }
    seed()?;
    Ok(kv::get(&user_key(email))?.is_some())
}

/// The registration changeset (`Accounts.change_user_registration` in the seed), given whether
/// the email is taken.
pub fn change_registration(params: &Value, taken: bool) -> Changeset<Registration> {
    Changeset::new(&Registration::default())
        .cast(params, &["email", "password"])
        .validate_required(&["email", "password"])
        .validate_format(
            "email",
            looks_like_email,
            "must have the @ sign and no spaces",
        )
        .validate_length("email", ..=160)
        .validate_change("email", move |_| {
            taken.then(|| "has already been taken".to_string())
        })
        .validate_length("password", 8..=72)
        .validate_confirmation("password")
        .validate_acceptance("terms")
}

/// The view's assigns.
#[derive(Assigns, Default)]
pub struct UserRegistration {
    form: Form,
    trigger_submit: bool,
    recovered: bool,
    registered: Option<String>,
    csrf: String,
}

/// The CSRF token a plain HTTP form post must carry (`_csrf_token`).
fn csrf(session: &Session) -> String {
    session.str("_csrf_token").unwrap_or_default().to_string()
}

fn assign_form(socket: &mut Socket<UserRegistration>, changeset: &Changeset<Registration>) {
    assign!(socket, form = changeset.to_form("user"));
}

/// The `user` params of a form event (empty when absent).
fn user_params(value: &Value) -> Value {
    value.get("user").cloned().unwrap_or_else(|| json!({}))
}

impl LiveView for UserRegistration {
    fn mount(socket: &mut Socket<Self>, _params: &Params, session: &Session) -> Result {
        assign!(socket, trigger_submit = false, csrf = csrf(session));
        assign_form(socket, &Changeset::new(&Registration::default()));
        socket.page_title("Register");
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
        match event {
            "validate" | "recover_registration" => {
                let params = user_params(value);
                let taken = email_taken(&params)?;
                let changeset = change_registration(&params, taken).with_action(Action::Validate);
                assign_form(socket, &changeset);
                if event == "recover_registration" {
                    assign!(socket, recovered = true);
                }
            }
            "save" => {
                let params = user_params(value);
                let taken = email_taken(&params)?;
                match change_registration(&params, taken).apply_action(Action::Insert) {
                    Ok(registration) => {
                        // The claim itself: only one sign-up gets an email.
                        let record = user_record(&registration.email);
                        if kv::compare_and_set(&user_key(&registration.email), None, Some(&record))?
                        {
                            let saved = Changeset::new(&registration);
                            assign_form(socket, &saved);
                            assign!(
                                socket,
                                trigger_submit = true,
                                registered = Some(registration.email)
                            );
                        } else {
                            let changeset =
                                change_registration(&params, true).with_action(Action::Insert);
                            assign_form(socket, &changeset);
                        }
                    }
                    Err(changeset) => assign_form(socket, &changeset),
                }
            }
            other => return Err(format!("unknown event `{other}`").into()),
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div class="registration-form">
  <h1>Register for an account</h1>
  <p>Already registered? <a href="/users/log_in">Sign in</a></p>
  <p :if={@recovered} id="recovered">Your entries were restored after the reconnect.</p>
  <p :if={@registered.is_some()} id="registered">Account created for {@registered.clone().unwrap_or_default()}; signing you in…</p>
  <.form for={@form} id="registration_form" action="/users/log_in?_action=registered" method="post"
         phx-submit="save" phx-change="validate" phx-trigger-action={@trigger_submit}
         phx-auto-recover="recover_registration" :let={f}>
    <input type="hidden" name="_csrf_token" value={@csrf.as_str()} />
    <.input field={f.field("email")} type="email" label="Email" required />
    <.input field={f.field("password")} type="password" label="Password" required />
    <.input field={f.field("password_confirmation")} type="password" label="Confirm Password" required />
    <.input field={f.field("terms")} type="checkbox" label="I agree to the terms and conditions" />
    <:actions>
      <.button type="submit" name="save" value="create" phx-disable-with="Creating account..." class="w-full">Create an account</.button>
    </:actions>
  </.form>
</div>
"#
        )
    }
}

/// Where the registration form posts (`phx-trigger-action`) and where users sign in.
#[derive(Assigns, Default)]
pub struct UserLogin {
    email: String,
    registered: bool,
    signed_in: Option<String>,
    csrf: String,
}

impl LiveView for UserLogin {
    fn mount(socket: &mut Socket<Self>, params: &Params, session: &Session) -> Result {
        let email = params.str("email").unwrap_or_default().to_string();
        let registered = params.str("_action") == Some("registered");
        let signed_in = session.str(SESSION_USER).map(str::to_string);
        assign!(
            socket,
            email = email,
            registered = registered,
            signed_in = signed_in,
            csrf = csrf(session)
        );
        socket.page_title("Log in");
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div class="login">
  <h1>Log in</h1>
  <p :if={@registered} id="welcome">Account created successfully. Welcome!</p>
  <p :if={@signed_in.is_some()} id="signed-in">Signed in as {@signed_in.clone().unwrap_or_default()}</p>
  <form id="login_form" action="/users/log_in" method="post">
    <input type="hidden" name="_csrf_token" value={@csrf.as_str()} />
    <input type="email" name="user[email]" value={@email.as_str()} />
    <input type="password" name="user[password]" />
    <button type="submit">Log in</button>
  </form>
</div>
"#
        )
    }
}

/// The session key of the signed-in user's email.
pub const SESSION_USER: &str = "user_email";

/// `POST /users/log_in`: what `phx-trigger-action` posts after a registration (and what the log
/// in form posts). Signs the user in through the cookie session and redirects to the log in page.
pub fn log_in(request: &HttpRequest) -> HttpResponse {
    let login: Result<Registration, _> = request.params.get("user").unwrap_or(&Value::Null).parse();
    match login {
        Ok(user) if looks_like_email(&user.email) && !user.password.is_empty() => {
            let registered = request.params.str("_action") == Some("registered");
            let to = if registered {
                "/users/log_in?_action=registered"
            } else {
                "/users/log_in"
            };
            HttpResponse::redirect(to)
                .put_session(SESSION_USER, user.email)
                .put_flash("info", "Welcome!")
        }
        _ => {
            HttpResponse::redirect("/users/log_in").put_flash("error", "Invalid email or password")
        }
    }
}

livewasm_sdk::app! {
    name: "registration",
    routes: {
        "/users/register" => UserRegistration;
        "/users/log_in" => UserLogin;
    },
    http: {
        POST "/users/log_in" => log_in;
    }
}
