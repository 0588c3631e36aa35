//! SortableList from the seed's "Hooks and Middleware": `attach_hook` at runtime.
//!
//! A client hook (`hooks/sortable.js`, shipped with the app) lets the user drag an item onto
//! another, or move the focused one with Alt+↑ / Alt+↓, and pushes `"reposition"`
//! `{from, to}`. The view never sees that event: `mount` attaches a `"sortable"`
//! `handle_event` hook that reorders the items, replies with the new order and halts, after a
//! `"logger"` hook that logs every event and continues. `"disable_sort"` detaches the sortable
//! hook (`detach_hook`), so a reposition then reaches the view, which refuses it;
//! `"enable_sort"` attaches it again. An `after_render` hook pushes the order to the client
//! whenever it changed, and the live session's `on_mount` hook attaches a view-independent
//! `"ping"` hook that answers `ping` events itself.
//!
//! A `handle_info` hook (`"restore"`) intercepts messages too: "Reset order" sends the view
//! `{"restore": "initial"}` (`send(self(), …)`), which the hook handles (the first order comes
//! back) and halts, so the view's `handle_info` never sees it; every other message passes on
//! to `handle_info`, which shows it ("Say hello" sends `{"hello": …}`).

use livewasm_sdk::prelude::*;
use serde::Deserialize;

/// One list item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Stable id (the element is `item-<id>`).
    pub id: u32,
    /// What the item shows.
    pub name: String,
}

/// The list's assigns.
#[derive(Assigns, Default)]
pub struct SortableList {
    items: Vec<Item>,
    sorting: bool,
    logged: u32,
    last_event: String,
    moved: String,
    announced: Vec<u32>,
    /// What the view's own `handle_info` saw last.
    last_info: String,
    /// How many messages the `"restore"` hook handled.
    restored: u32,
}

/// The hook's `pushEvent("reposition", {from, to})` payload (buttons send the same as text).
#[derive(Debug, Deserialize)]
struct Reposition {
    from: usize,
    to: usize,
}

fn fetch_items() -> Vec<Item> {
    [
        "Write the spec",
        "Build the host",
        "Ship the SDK",
        "Test in Chromium",
        "Deploy",
    ]
    .iter()
    .zip(1..)
    .map(|(name, id)| Item {
        id,
        name: (*name).to_string(),
    })
    .collect()
}

fn ids(items: &[Item]) -> Vec<u32> {
    items.iter().map(|item| item.id).collect()
}

/// Moves the item at `from` to index `to`; `None` when either is out of range.
pub fn reorder(items: &[Item], from: usize, to: usize) -> Option<Vec<Item>> {
    if from >= items.len() || to >= items.len() {
        return None;
    }
    let mut items = items.to_vec();
    let item = items.remove(from);
    items.insert(to, item);
    Some(items)
}

/// The `"sortable"` hook: handles `"reposition"` and halts; every other event continues.
fn handle_sort(
    socket: &mut Socket<SortableList>,
    event: &str,
    value: &Value,
) -> Result<HookResult> {
    if event != "reposition" {
        return Ok(HookResult::Cont);
    }
    let Reposition { from, to } = value.parse()?;
    match reorder(&socket.assigns().items, from, to) {
        Some(items) => {
            let moved = format!("item-{}", items[to].id);
            socket.reply(json!({"ok": true, "order": ids(&items)}));
            assign!(socket, items = items, moved = moved);
        }
        None => socket.reply(json!({"ok": false, "order": ids(&socket.assigns().items)})),
    }
    Ok(HookResult::Halt)
}

/// The `"logger"` hook: logs every event and counts it, then continues.
fn log_events(socket: &mut Socket<SortableList>, event: &str, value: &Value) -> Result<HookResult> {
    log::info(&format!("Event: {event}, Params: {value}"));
    let logged = socket.assigns().logged + 1;
    assign!(socket, logged = logged, last_event = event.to_string());
    Ok(HookResult::Cont)
}

/// The `after_render` hook: tells the client the order whenever it changed.
fn announce_order(socket: &mut Socket<SortableList>) {
    let order = ids(&socket.assigns().items);
    if socket.connected() && order != socket.assigns().announced {
        socket.push_event("sortable:order", json!({ "order": order }));
        assign!(socket, announced = order);
    }
}

/// The `"restore"` `handle_info` hook: `{"restore": "initial"}` puts the first order back and
/// halts (the view's `handle_info` does not run); every other message continues.
fn restore_order(socket: &mut Socket<SortableList>, message: &Value) -> Result<HookResult> {
    if message.get("restore").and_then(Value::as_str) != Some("initial") {
        return Ok(HookResult::Cont);
    }
    let restored = socket.assigns().restored + 1;
    assign!(
        socket,
        items = fetch_items(),
        moved = String::new(),
        restored = restored
    );
    Ok(HookResult::Halt)
}

/// A view-independent hook the live session attaches: answers `ping` and halts.
fn ping(socket: &mut dyn HookSocket, event: &str, _: &Value) -> Result<HookResult> {
    if event != "ping" {
        return Ok(HookResult::Cont);
    }
    socket.reply_value(json!({"pong": socket.connected()}));
    Ok(HookResult::Halt)
}

/// The live session's `on_mount` hook: attaches [`ping`] to every view of the session.
pub fn attach_ping(socket: &mut MountSocket) -> OnMount {
    match socket.attach_hook("ping", SharedHook::HandleEvent(ping)) {
        Ok(()) => OnMount::Cont,
        Err(error) => {
            log::error(&error.to_string());
            socket.redirect("/");
            OnMount::Halt
        }
    }
}

impl LiveView for SortableList {
    fn mount(socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        assign!(socket, items = fetch_items(), sorting = true);
        socket.attach_hook("logger", Hook::HandleEvent(log_events))?;
        socket.attach_hook("sortable", Hook::HandleEvent(handle_sort))?;
        socket.attach_hook("announce", Hook::AfterRender(announce_order))?;
        socket.attach_hook("restore", Hook::HandleInfo(restore_order))?;
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, _value: &Value) -> Result {
        match event {
            "disable_sort" => {
                socket.detach_hook("sortable", Stage::HandleEvent);
                assign!(socket, sorting = false);
            }
            "enable_sort" => {
                if !socket.has_hook("sortable", Stage::HandleEvent) {
                    socket.attach_hook("sortable", Hook::HandleEvent(handle_sort))?;
                }
                assign!(socket, sorting = true);
            }
            // Handled by the "restore" info hook, not by `handle_info`.
            "reset_order" => {
                timers::send_self(&json!({"restore": "initial"}));
            }
            "say_hello" => {
                timers::send_self(&json!({"hello": "from the page"}));
            }
            // Only reached while the sortable hook is detached.
            "reposition" => {
                socket.put_flash("error", "Sorting is disabled.");
                socket.reply(json!({"ok": false, "order": ids(&socket.assigns().items)}));
            }
            other => return Err(format!("unknown event `{other}`").into()),
        }
        Ok(())
    }

    /// Messages the `"restore"` hook let through.
    fn handle_info(socket: &mut Socket<Self>, message: &Value) -> Result {
        assign!(socket, last_info = message.to_string());
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        let error = assigns.flash().get("error").unwrap_or_default().to_string();
        html!(
            r#"
<div id="sortable-page">
  <h1>Sortable list</h1>
  <p id="flash-error" :if={!error.is_empty()} role="alert">{error.as_str()}</p>
  <p>Drag an item onto another, or focus it and press Alt+↑ / Alt+↓.</p>
  <ul id="items" phx-hook="Sortable" data-moved={@moved.as_str()}>
    <li :for={(index, item) in @items.iter().enumerate()} :key={item.id} id={format!("item-{}", item.id)} data-sortable-item="true" data-id={item.id} tabindex="0">
      <span class="name">{item.name.as_str()}</span>
      <button :if={index > 0} class="up" phx-click="reposition" phx-value-from={index} phx-value-to={index.saturating_sub(1)} aria-label="Move up">↑</button>
      <button :if={index + 1 < @items.len()} class="down" phx-click="reposition" phx-value-from={index} phx-value-to={index + 1} aria-label="Move down">↓</button>
    </li>
  </ul>
  <button id="toggle-sort" phx-click={if @sorting { "disable_sort" } else { "enable_sort" }}>{if @sorting { "Disable sorting" } else { "Enable sorting" }}</button>
  <p id="sorting">Sorting is {if @sorting { "on" } else { "off" }}.</p>
  <p id="log">Events logged: {@logged} (last: {@last_event.as_str()})</p>
  <button id="reset-order" phx-click="reset_order">Reset order</button>
  <button id="say-hello" phx-click="say_hello">Say hello</button>
  <p id="restored">Order restored {@restored} times</p>
  <p id="last-info">Last message: {@last_info.as_str()}</p>
  <p id="order-status" phx-update="ignore"></p>
  <.link navigate="/sortable/about" id="to-about">About this list</.link>
</div>
"#
        )
    }
}

/// A second view of the live session: live navigation between it and the list keeps the
/// page (and the app's hooks, loaded with the first page).
#[derive(Assigns, Default)]
pub struct SortableAbout {}

impl LiveView for SortableAbout {
    fn mount(_socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        Ok(())
    }

    fn render(_assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"<div id="about-page"><h1>About</h1><p>The list's hooks are attached at runtime.</p><.link navigate="/sortable" id="to-list">Back to the list</.link></div>"#
        )
    }
}

livewasm_sdk::app! {
    name: "sortable",
    live_sessions: {
        "sortable" => [attach_ping];
    },
    routes: {
        "/sortable" => SortableList, live_session: "sortable";
        "/sortable/about" => SortableAbout, live_session: "sortable";
    },
    hooks: {
        "Sortable" => include_str!("../hooks/sortable.js");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reorder_moves_one_item_and_refuses_out_of_range() {
        let items = fetch_items();
        let moved = reorder(&items, 0, 2).expect("in range");
        assert_eq!(ids(&moved), [2, 3, 1, 4, 5]);
        let moved = reorder(&items, 4, 0).expect("in range");
        assert_eq!(ids(&moved), [5, 1, 2, 3, 4]);
        assert!(reorder(&items, 5, 0).is_none());
        assert!(reorder(&items, 0, 9).is_none());
    }
}
