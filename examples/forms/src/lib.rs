//! FormLive from the seed's "Event Bindings": clicks carrying `phx-value-*`, a dropdown closed by
//! `phx-click-away`, a form validated on change (email debounced until blur, search debounced
//! 300 ms) and saved on submit, a throttled counter, window arrow keys, a search run on Enter
//! (`phx-key`), focus and blur events, and a JS hook whose `pushEvent` gets a reply.
//!
//! `/users/new` (`UserNew`) is the seed's new-user form, and `/interactive` its path for the hook.
//!
//! The hook ships with the app (`hooks:` in `app!`, source in `hooks/custom_hook.js`): the host
//! serves it as a script every page of the app loads before the client connects.

mod user_new;

pub use user_new::UserNew;

use livewasm_sdk::form::{Action, Changeset, Form, ParseValue, looks_like_email};
use livewasm_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// The user the delete button acts on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct User {
    /// Id, sent as `phx-value-id`.
    pub id: u32,
    /// Display name.
    pub name: String,
}

/// The form's fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Validated as an email.
    pub email: String,
    /// Free text.
    pub search: String,
}

/// `delete`'s params: `phx-value-id` and `phx-value-confirm`, typed.
#[derive(Debug, Deserialize)]
struct Delete {
    id: u32,
    confirm: bool,
}

/// The hook's `pushEvent("custom_event", {data})` payload.
#[derive(Debug, Deserialize)]
struct CustomEvent {
    data: String,
}

/// A position moved by the arrow keys.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Position {
    /// Column.
    pub x: i32,
    /// Row.
    pub y: i32,
}

/// The view's assigns.
#[derive(Assigns, Default)]
pub struct FormLive {
    user: Option<User>,
    notice: String,
    dropdown_open: bool,
    form: Form,
    count: u32,
    game: Position,
    last_key: String,
    search_result: String,
    focus: String,
    info: String,
    changed: String,
}

fn change_profile(params: &Value) -> Changeset<Profile> {
    Changeset::new(&Profile::default())
        .cast(params, &["email", "search"])
        .validate_required(&["email"])
        .validate_format(
            "email",
            looks_like_email,
            "must have the @ sign and no spaces",
        )
        .validate_length("search", ..=40)
}

impl LiveView for FormLive {
    fn mount(socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        assign_new!(socket, user, || User {
            id: 42,
            name: "Ada".into(),
        });
        assign!(
            socket,
            form = Changeset::new(&Profile::default()).to_form("profile"),
            info = "hello from the server".to_string()
        );
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
        match event {
            "delete" => {
                let delete: Delete = value.parse()?;
                let id = socket.assigns().user.as_ref().map(|u| u.id);
                if delete.confirm && id == Some(delete.id) {
                    assign!(
                        socket,
                        user = None,
                        notice = format!("User {} deleted successfully", delete.id)
                    );
                }
            }
            "toggle_dropdown" => {
                update!(socket, dropdown_open, |open: &mut bool| *open = !*open)
            }
            "hide_dropdown" => assign!(socket, dropdown_open = false),
            "validate" => {
                let params = value.get("profile").cloned().unwrap_or_default();
                let form = change_profile(&params)
                    .with_action(Action::Validate)
                    .to_form("profile");
                // `_target`: the key path of the input that changed.
                let changed = livewasm_sdk::form::target(value).join(".");
                assign!(socket, form = form, changed = changed);
            }
            "save" => {
                let params = value.get("profile").cloned().unwrap_or_default();
                // The submit button that was pressed arrives as `intent` (the submitter).
                let draft = value.get("intent").and_then(Value::as_str) == Some("draft");
                match change_profile(&params).apply_action(Action::Insert) {
                    Ok(profile) => {
                        let form = Changeset::new(&profile).to_form("profile");
                        let what = if draft { "Draft saved for" } else { "Saved" };
                        assign!(
                            socket,
                            form = form,
                            notice = format!("{what} {}", profile.email)
                        );
                    }
                    Err(changeset) => assign!(socket, form = changeset.to_form("profile")),
                }
            }
            "increment" => update!(socket, count, |c: &mut u32| *c += 1),
            "keydown" | "keyup" => {
                let key = value.get("key").and_then(Value::as_str).unwrap_or_default();
                if event == "keydown" {
                    let Position { x, y } = socket.assigns().game;
                    let moved = match key {
                        "ArrowUp" => Some(Position { x, y: y - 1 }),
                        "ArrowDown" => Some(Position { x, y: y + 1 }),
                        "ArrowLeft" => Some(Position { x: x - 1, y }),
                        "ArrowRight" => Some(Position { x: x + 1, y }),
                        _ => None,
                    };
                    if let Some(game) = moved {
                        assign!(socket, game = game);
                    }
                }
                assign!(socket, last_key = format!("{event} {key}"));
            }
            "search" => {
                let query = value.get("value").and_then(Value::as_str).unwrap_or("");
                assign!(socket, search_result = format!("Searched for {query}"));
            }
            "field_focused" | "field_blurred" => {
                let field = value.get("field").and_then(Value::as_str).unwrap_or("?");
                let what = if event == "field_focused" {
                    "Focused"
                } else {
                    "Blurred"
                };
                assign!(socket, focus = format!("{what}: {field}"));
            }
            "custom_event" => {
                let custom: CustomEvent = value.parse()?;
                assign!(socket, info = format!("Event received: {}", custom.data));
                socket.reply(json!({"echo": custom.data}));
            }
            other => return Err(format!("unknown event `{other}`").into()),
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="form-live">
  <p id="notice">{@notice.as_str()}</p>
  <button :if={@user.is_some()} id="delete" phx-click="delete" phx-value-id={@user.as_ref().map(|u| u.id).unwrap_or_default()} phx-value-confirm="true">
    Delete {@user.as_ref().map(|u| u.name.clone()).unwrap_or_default()}
  </button>

  <div class="dropdown" id="dropdown" phx-click-away="hide_dropdown">
    <button id="menu" phx-click="toggle_dropdown">Menu</button>
    <ul :if={@dropdown_open} class="menu">
      <li>Item 1</li>
      <li>Item 2</li>
    </ul>
  </div>
  <p id="outside">Outside the dropdown</p>

  <.form for={@form} id="profile-form" phx-change="validate" phx-submit="save" :let={f}>
    <.input field={f.field("email")} type="email" label="Email" phx-debounce="blur" />
    <.input field={f.field("search")} label="Search" phx-debounce="300" />
    <button type="button" id="increment" phx-click="increment" phx-throttle="1000">+</button>
    <span id="count">{@count}</span>
    <span id="changed">{@changed.as_str()}</span>
    <button type="submit" id="save" name="intent" value="save">Save</button>
    <button type="submit" id="save-draft" name="intent" value="draft">Save draft</button>
  </.form>

  <div id="game" phx-window-keydown="keydown" phx-window-keyup="keyup" phx-throttle="100">
    Position: <span id="position">{@game.x},{@game.y}</span> <span id="last-key">{@last_key.as_str()}</span>
  </div>

  <input type="text" id="search" phx-keyup="search" phx-key="Enter" phx-debounce="300" placeholder="Press Enter to search" />
  <p id="search-result">{@search_result.as_str()}</p>

  <input type="text" id="focus-email" name="email" phx-focus="field_focused" phx-blur="field_blurred" phx-value-field="email" />
  <p id="focus">{@focus.as_str()}</p>

  <div id="custom-element" phx-hook="CustomHook" data-info={@info.as_str()}>{@info.as_str()}</div>
</div>
"#
        )
    }
}

livewasm_sdk::app! {
    name: "forms",
    routes: {
        "/form" => FormLive;
        // The seed's tests reach the hook at `/interactive`.
        "/interactive" => FormLive;
        "/users/new" => UserNew;
    },
    hooks: {
        "CustomHook" => include_str!("../hooks/custom_hook.js");
    }
}
