//! UserRegistrationLive from the seed: a sign-up form validated as the user types (errors only on
//! fields the user has touched), saved on submit with `phx-disable-with`, then posted over plain
//! HTTP with `phx-trigger-action`; after a reconnect, `phx-auto-recover` sends the typed values
//! to a custom recovery event that restores them.
//!
//! Routes: `/users/register` (the form), `/users/log_in` (a view), and `POST /users/log_in` (a
//! plain HTTP handler: signs the new user in through the cookie session and redirects back).
//!
//! Registered users are kept in the app's SQL database (`sql`, schema in [`MIGRATIONS`]): a
//! `users` table whose email is unique, case-insensitively (`COLLATE NOCASE` and a unique
//! index, as `mix phx.gen.auth` makes it on SQLite). As with Ecto, the check is made twice: a
//! lookup while the user types (`unsafe_validate_unique`: quick feedback, but two sign-ups may
//! both pass it), and the insert on submit, where the unique index refuses a second row for an
//! email and the refusal becomes the field's error (`unique_constraint`). An email taken once
//! stays taken, for every visitor and across host restarts. The password is checked, never
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

/// An email registered from the start (the seed row of [`MIGRATIONS`]).
pub const TAKEN: &str = "taken@example.com";

/// The app's schema, in order (only ever append).
pub const MIGRATIONS: [&str; 3] = [
    "CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        email TEXT NOT NULL COLLATE NOCASE,
        inserted_at INTEGER NOT NULL DEFAULT (unixepoch())
    )",
    "CREATE UNIQUE INDEX users_email_index ON users (email)",
    "INSERT INTO users (email) VALUES ('taken@example.com')",
];

/// The error of an email someone registered already (Ecto's, for both checks).
pub const TAKEN_MESSAGE: &str = "has already been taken";

/// What SQLite says when the insert breaks `users_email_index`.
const EMAIL_INDEX_VIOLATION: &str = "UNIQUE constraint failed: users.email";

/// The registration changeset (`Accounts.change_user_registration` in the seed): the checks
/// that need no database.
pub fn change_registration(params: &Value) -> Changeset<Registration> {
    Changeset::new(&Registration::default())
        .cast(params, &["email", "password"])
        .validate_required(&["email", "password"])
        .validate_format(
            "email",
            looks_like_email,
            "must have the @ sign and no spaces",
        )
        .validate_length("email", ..=160)
        .validate_length("password", 8..=72)
        .validate_confirmation("password")
        .validate_acceptance("terms")
}

/// Ecto's `unsafe_validate_unique(:email, Repo)`: when the email is otherwise valid, looks it
/// up and adds [`TAKEN_MESSAGE`] if a user has it. Only a hint: a sign-up may take the email
/// between this lookup and the insert, which the unique index then refuses.
pub fn unsafe_validate_unique_email(
    changeset: Changeset<Registration>,
) -> Result<Changeset<Registration>> {
    if changeset.errors().contains_key("email") {
        return Ok(changeset);
    }
    let Some(email) = changeset.get_change("email").and_then(Value::as_str) else {
        return Ok(changeset);
    };
    let found = sql::query(
        "SELECT 1 FROM users WHERE email = ? LIMIT 1",
        &[email.trim().into()],
    )?;
    Ok(if found.is_empty() {
        changeset
    } else {
        changeset.add_error("email", TAKEN_MESSAGE)
    })
}

/// `Accounts.register_user` of the seed: inserts the user when `params` are valid. An email the
/// unique index refuses comes back as the email's error (Ecto's `unique_constraint(:email)`),
/// as do the other errors; an error of the database itself is the view's.
pub fn register_user(params: &Value) -> Result<Result<Registration, Changeset<Registration>>> {
    let changeset = change_registration(params);
    if !changeset.is_valid() {
        // The insert will not run: the lookup lets the form show every error at once.
        return Ok(Err(
            unsafe_validate_unique_email(changeset)?.with_action(Action::Insert)
        ));
    }
    let registration = match changeset.clone().apply_action(Action::Insert) {
        Ok(registration) => registration,
        Err(changeset) => return Ok(Err(changeset)),
    };
    let email = registration.email.trim().to_string();
    match sql::execute("INSERT INTO users (email) VALUES (?)", &[(&email).into()]) {
        Ok(_) => Ok(Ok(Registration {
            email,
            ..registration
        })),
        Err(e) if e.message().contains(EMAIL_INDEX_VIOLATION) => Ok(Err(changeset
            .add_error("email", TAKEN_MESSAGE)
            .with_action(Action::Insert))),
        Err(e) => Err(e),
    }
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
                let changeset = change_registration(&user_params(value));
                let changeset = unsafe_validate_unique_email(changeset)?;
                assign_form(socket, &changeset.with_action(Action::Validate));
                if event == "recover_registration" {
                    assign!(socket, recovered = true);
                }
            }
            "save" => match register_user(&user_params(value))? {
                Ok(registration) => {
                    assign_form(socket, &Changeset::new(&registration));
                    assign!(
                        socket,
                        trigger_submit = true,
                        registered = Some(registration.email)
                    );
                }
                Err(changeset) => assign_form(socket, &changeset),
            },
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
    },
    migrations: MIGRATIONS,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_row_is_the_taken_email() {
        assert!(MIGRATIONS[2].contains(&format!("'{TAKEN}'")));
    }

    #[test]
    fn the_changeset_alone_does_not_reach_the_database() {
        let changeset = change_registration(&json!({"email": TAKEN, "password": "correct horse",
            "password_confirmation": "correct horse", "terms": "true"}));
        assert!(changeset.is_valid(), "{:?}", changeset.errors());
    }
}
