//! ModalLive from the seed's "JavaScript Commands": client-side DOM operations without a server
//! round trip, and a `.modal` the server closes after a save.
//!
//! - `#modal`, written out as in the seed: shown and hidden by JS commands with transitions
//!   (`show_modal` / `hide_modal`), closed by its ✕ button, a click away or Escape. Its
//!   "Save" button composes `JS::push("save")` carrying a value with `add_class` and
//!   `set_attribute`; after saving, the server closes it with a `"js-exec"` push event, which
//!   the client glue runs as the JS in the modal's `data-hide` attribute.
//! - `#sidebar` gets a class with a transition, `#dropdown` toggles with in/out transitions,
//!   `#menu` / `#submit-btn` get attributes set and removed, `#content` has an event dispatched,
//!   and `JS::push("update")` sends a value with a loading class.
//! - `/modal/edit` renders the core `.modal` (with `on_cancel` patching back to `/modal` and a
//!   focus wrap); submitting its form saves the name and `push_patch`es to `/modal`, which
//!   removes the modal (its `phx-remove` hides it with a transition).

use livewasm_sdk::prelude::*;
use serde::Deserialize;

/// The page's assigns.
#[derive(Assigns, Default)]
pub struct ModalLive {
    action: String,
    name: String,
    notes_saved: u32,
    last_note: String,
    last_update: String,
}

/// The JS that opens `#modal` (the seed's `show_modal`).
pub fn show_modal() -> JS {
    JS::show("#modal")
        .with_transition3("ease-out duration-300", "opacity-0", "opacity-100")
        .show("#modal-content")
        .with_transition3(
            "ease-out duration-300",
            "opacity-0 scale-95",
            "opacity-100 scale-100",
        )
}

/// The JS that closes `#modal` (the seed's `hide_modal`); it also undoes what "Save" did.
pub fn hide_modal() -> JS {
    JS::hide("#modal")
        .with_transition3("ease-in duration-200", "opacity-100", "opacity-0")
        .hide("#modal-content")
        .with_transition3(
            "ease-in duration-200",
            "opacity-100 scale-100",
            "opacity-0 scale-95",
        )
        .remove_class("#note-form", "saving")
        .remove_attribute("#save-note", "disabled")
}

/// "Save": push the note with a value, mark the form as saving, disable the button, fade the
/// modal (the seed's "Save and Close", with its `JS.transition("fade-out", to: "#modal")`).
pub fn save_note() -> JS {
    JS::push("save")
        .with_value(json!({"note": "Remember the milk"}))
        .add_class("#note-form", "saving")
        .set_attribute("#save-note", "disabled", "true")
        .transition("#modal", "fade-out")
}

/// The seed's toggle with different in and out transitions; the button's `aria-expanded`
/// follows (`JS.toggle_attribute({"aria-expanded", "true", "false"})`).
pub fn toggle_dropdown() -> JS {
    JS::toggle("#dropdown")
        .with_in3(
            "ease-out duration-200",
            "opacity-0 scale-95",
            "opacity-100 scale-100",
        )
        .with_out3(
            "ease-in duration-150",
            "opacity-100 scale-100",
            "opacity-0 scale-95",
        )
        .toggle_attribute_between("#toggle-dropdown", "aria-expanded", "true", "false")
}

/// The `.modal` form's `name[...]` params.
#[derive(Debug, Deserialize)]
struct NameForm {
    name: String,
}

impl LiveView for ModalLive {
    fn mount(socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        assign!(socket, name = "Ada".to_string());
        Ok(())
    }

    fn handle_params(socket: &mut Socket<Self>, _params: &Params, _url: &str) -> Result {
        let action = socket.live_action().unwrap_or("index").to_string();
        assign!(socket, action = action);
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
        match event {
            "save" => {
                let note = value
                    .get("note")
                    .and_then(Value::as_str)
                    .ok_or("save needs a note")?
                    .to_string();
                let saved = socket.assigns().notes_saved + 1;
                assign!(socket, notes_saved = saved, last_note = note);
                // The server closes the modal: the client glue runs `#modal`'s `data-hide`.
                socket.push_event("js-exec", json!({"to": "#modal", "attr": "data-hide"}));
            }
            "update" => {
                let key = value.get("key").and_then(Value::as_str).unwrap_or_default();
                assign!(socket, last_update = key.to_string());
            }
            "save_name" => {
                let form: NameForm = value.parse_at("user")?;
                let name = form.name.trim().to_string();
                if name.is_empty() {
                    socket.put_flash("error", "Name can't be blank.");
                    return Ok(());
                }
                assign!(socket, name = name);
                socket.put_flash("info", "Name saved.");
                socket.push_patch("/modal");
            }
            other => return Err(format!("unknown event `{other}`").into()),
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        let info = assigns.flash().get("info").unwrap_or_default().to_string();
        let error = assigns.flash().get("error").unwrap_or_default().to_string();
        html!(
            r##"
<div id="modal-page">
  <h1>JS commands</h1>
  <p id="flash-info" :if={!info.is_empty()} role="status">{info.as_str()}</p>
  <p id="name">Name: {@name.as_str()}</p>
  <p id="notes">Notes saved: {@notes_saved} {@last_note.as_str()}</p>
  <p id="last-update">Last update: {@last_update.as_str()}</p>

  <button id="open-modal" phx-click={show_modal()}>Open Modal</button>
  <div id="modal" class="modal hidden" style="display: none;" data-hide={hide_modal()} phx-window-keydown={hide_modal()} phx-key="escape">
    <div id="modal-content" class="modal-content" phx-click-away={hide_modal()}>
      <button id="close-modal" phx-click={hide_modal()} aria-label="close">✕</button>
      <h2>Modal Title</h2>
      <p>Modal content here</p>
      <div id="note-form" class="form">
        <button id="save-note" phx-click={save_note()}>Save</button>
      </div>
    </div>
  </div>

  <button id="show-sidebar" phx-click={JS::add_class("#sidebar", "active").with_transition3("ease-out duration-300", "opacity-0", "opacity-100")}>Show Sidebar</button>
  <nav id="sidebar">Sidebar</nav>

  <button id="toggle-dropdown" aria-expanded="false" phx-click={toggle_dropdown()}>Toggle Dropdown</button>
  <ul id="dropdown" style="display: none;"><li>One</li><li>Two</li></ul>

  <button id="enable-form" phx-click={JS::set_attribute("#menu", "aria-expanded", "true").remove_attribute("#submit-btn", "disabled")}>Enable Form</button>
  <div id="menu" aria-expanded="false">Menu</div>
  <button id="submit-btn" disabled>Submit</button>

  <button id="copy" phx-click={JS::dispatch("#content", "my_app:copy").with_detail(json!({"text": "copied"}))}>Copy to Clipboard</button>
  <div id="content">Some content</div>

  <button id="update" phx-click={JS::push("update").with_value(json!({"key": "value"})).with_loading(".spinner").with_page_loading()}>Update</button>
  <span class="spinner">…</span>

  <a id="edit-name" href="/modal/edit" data-phx-link="patch" data-phx-link-state="push">Edit name</a>

  <.modal :if={@action == "edit"} id="edit-modal" on_cancel={JS::patch("/modal")}>
    <h2 id="edit-modal-title">Edit name</h2>
    <p id="edit-error" :if={!error.is_empty()}>{error.as_str()}</p>
    <form id="name-form" phx-submit="save_name">
      <input type="text" id="name-input" name="user[name]" value={@name.as_str()} />
      <button type="submit" id="save-name">Save name</button>
    </form>
  </.modal>
</div>
"##
        )
    }
}

livewasm_sdk::app! {
    name: "modal",
    routes: {
        "/modal" => ModalLive, action: "index";
        "/modal/edit" => ModalLive, action: "edit";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commands_encode_as_the_client_reads_them() {
        let show: Value = serde_json::from_str(&show_modal().to_json()).expect("JSON");
        assert_eq!(show[0][0], "show");
        assert_eq!(show[0][1]["to"], "#modal");
        assert_eq!(
            show[0][1]["transition"],
            json!([["ease-out", "duration-300"], ["opacity-0"], ["opacity-100"]])
        );
        let save: Value = serde_json::from_str(&save_note().to_json()).expect("JSON");
        assert_eq!(
            save[0],
            json!(["push", {"event": "save", "value": {"note": "Remember the milk"}}])
        );
        assert_eq!(save[2][0], "set_attr");
        let toggle: Value = serde_json::from_str(&toggle_dropdown().to_json()).expect("JSON");
        assert_eq!(
            toggle,
            json!([["toggle", {
                "to": "#dropdown",
                "ins": [["ease-out", "duration-200"], ["opacity-0", "scale-95"], ["opacity-100", "scale-100"]],
                "outs": [["ease-in", "duration-150"], ["opacity-100", "scale-100"], ["opacity-0", "scale-95"]]
            }], ["toggle_attr", {"to": "#toggle-dropdown", "attr": ["aria-expanded", "true", "false"]}]])
        );
    }
}
