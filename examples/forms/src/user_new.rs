//! `/users/new` of the seed's "form validation and submission" test: a `#user-form` for a
//! user's email and name, validated on change ("must have the @ sign") and created on submit
//! ("User created successfully").

use livewasm_sdk::form::{Action, Changeset, Form};
use livewasm_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// A new user's fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewUser {
    /// Must hold an `@`.
    pub email: String,
    /// Required.
    pub name: String,
}

/// The view's assigns.
#[derive(Assigns, Default)]
pub struct UserNew {
    form: Form,
    created: Option<String>,
}

fn change_user(params: &Value) -> Changeset<NewUser> {
    Changeset::new(&NewUser::default())
        .cast(params, &["email", "name"])
        .validate_required(&["email", "name"])
        .validate_format("email", |email| email.contains('@'), "must have the @ sign")
}

impl LiveView for UserNew {
    fn mount(socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        assign!(
            socket,
            form = Changeset::new(&NewUser::default()).to_form("user")
        );
        socket.page_title("New User");
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
        let params = value.get("user").cloned().unwrap_or_default();
        match event {
            "validate" => {
                let form = change_user(&params)
                    .with_action(Action::Validate)
                    .to_form("user");
                assign!(socket, form = form);
            }
            "save" => match change_user(&params).apply_action(Action::Insert) {
                Ok(user) => {
                    socket.put_flash("info", "User created successfully");
                    assign!(
                        socket,
                        form = Changeset::new(&NewUser::default()).to_form("user"),
                        created = Some(user.name)
                    );
                }
                Err(changeset) => assign!(socket, form = changeset.to_form("user")),
            },
            other => return Err(format!("unknown event `{other}`").into()),
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="user-new">
  <.flash_group flash={@flash} />
  <h1>New User</h1>
  <.form for={@form} id="user-form" phx-change="validate" phx-submit="save" :let={f}>
    <.input field={f.field("email")} type="email" label="Email" />
    <.input field={f.field("name")} label="Name" />
    <:actions><.button type="submit">Save User</.button></:actions>
  </.form>
  <p :if={@created.is_some()} id="created">Created {@created.clone().unwrap_or_default()}</p>
</div>
"#
        )
    }
}
