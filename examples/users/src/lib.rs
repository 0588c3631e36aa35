//! The seed's users page: a list of users, each shown by a `UserCard` live component with its
//! own state and events (`phx-target={@myself}`): expand/collapse (collapsing again by itself
//! after 5 s, `send_update_after`), edit and save a name, cancel an edit (a JS push targeted at
//! the card, `JS::push("cancel").with_target(@myself)`, Phoenix's `JS.push("cancel", target:
//! @myself)`). Saving stores the new name, shows the saved user and tells the parent view,
//! which says so; the parent also changes cards through `send_update` ("Mark VIP") and through
//! their attributes ("Show emails").
//!
//! The parent lists only the users' ids and places a card per id
//! (`<.live_component module={UserCard} id=… props={CardUpdate::Show { user_id, … }} />`);
//! the cards load their users themselves, all of them together: `UserCard::update_many`
//! (Phoenix's `update_many/1`) receives every card a render placed and reads their users in
//! one SQL query, instead of one query per card.
//!
//! "Send Message" in an expanded card is the seed's: the card sends `{open_chat: id}` to the
//! parent (Phoenix's `send(self(), {:open_chat, user_id})` from a component), which
//! `push_navigate`s to `/chat/:id`, the `ChatLive` view.
//!
//! The users are kept in the app's SQL database (`sql`, schema and seed rows in
//! `data::MIGRATIONS`): the list of ids is read at mount, the cards' users whenever the parent
//! places them, "Add user" and "Delete" write through the parent, and a card saves its own
//! edits (Phoenix's component calling `Accounts.update_user`) before telling the parent, so
//! additions, renames and deletions are there for every visitor and, on a host that keeps its
//! apps' databases, after the host restarts.

mod data;

use livewasm_sdk::prelude::*;
use serde::{Deserialize, Serialize};

pub use data::User;

/// The `phx-value-id` of an event.
fn user_id(value: &Value) -> Result<u32> {
    value
        .get("id")
        .and_then(Value::as_str)
        .and_then(|id| id.parse::<u32>().ok())
        .ok_or_else(|| "the event needs a user id".into())
}

/// The users page.
#[derive(Assigns, Default)]
pub struct UsersLive {
    /// The ids of the users listed; each id's card loads its user.
    user_ids: Vec<u32>,
    show_email: bool,
    notice: String,
}

impl LiveView for UsersLive {
    fn mount(socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        assign!(
            socket,
            user_ids = data::ids()?,
            show_email = false,
            notice = String::new()
        );
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
        match event {
            "toggle_emails" => {
                let show = !socket.assigns().show_email;
                assign!(socket, show_email = show);
            }
            "add" => {
                let id = data::create("New here.")?.id;
                update!(socket, user_ids, |ids: &mut Vec<u32>| ids.push(id));
                assign!(socket, notice = format!("Added user {id}"));
            }
            "delete" => {
                // The card leaves the page; the client reports it destroyed, and its state goes.
                let id = user_id(value)?;
                data::delete(id)?;
                update!(socket, user_ids, |ids: &mut Vec<u32>| ids
                    .retain(|&i| i != id));
                assign!(socket, notice = format!("Deleted user {id}"));
            }
            "mark_vip" => {
                let id = user_id(value)?;
                // The card confirms through `handle_info` once it has applied the update.
                send_update::<UserCard>(UserCard::id_for(id), CardUpdate::Vip);
            }
            other => return Err(format!("unknown event `{other}`").into()),
        }
        Ok(())
    }

    /// Messages from the cards (`send_parent`).
    fn handle_info(socket: &mut Socket<Self>, message: &Value) -> Result {
        if let Some(saved) = message.get("saved") {
            // The card saved the user and shows it already.
            let saved: User = saved.parse()?;
            assign!(socket, notice = format!("Saved {}", saved.name));
        } else if let Some(id) = message.get("gone").and_then(Value::as_u64) {
            // The card's user was deleted on another page: its card leaves this one too.
            update!(socket, user_ids, |ids: &mut Vec<u32>| ids
                .retain(|&i| u64::from(i) != id));
            assign!(socket, notice = format!("User {id} was deleted elsewhere"));
        } else if let Some(id) = message.get("open_chat").and_then(Value::as_u64) {
            socket.push_navigate(format!("/chat/{id}"));
        } else if let Some(id) = message.get("vip").and_then(Value::as_u64) {
            assign!(socket, notice = format!("User {id} is a VIP"));
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="users">
  <h1>Users</h1>
  <p id="notice">{@notice}</p>
  <button id="toggle-emails" phx-click="toggle_emails">Show emails</button>
  <button id="add-user" phx-click="add">Add user</button>
  <div class="users-grid">
    <div :for={id in @user_ids.iter().copied()} :key={id} class="slot">
      <.live_component module={UserCard} id={UserCard::id_for(id)} props={CardUpdate::Show { user_id: id, show_email: @show_email }} />
      <button class="vip" phx-click="mark_vip" phx-value-id={id}>Mark VIP</button>
      <button class="delete" phx-click="delete" phx-value-id={id}>Delete</button>
    </div>
  </div>
</div>
"#
        )
    }
}

/// What a card receives: its parent's attributes, or an update sent to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum CardUpdate {
    /// The parent places the card (`<.live_component module={UserCard} id={UserCard::id_for(id)}
    /// props={CardUpdate::Show { user_id: id, show_email: @show_email }} />`); the card loads
    /// the user itself, with every other card of the same render ([`UserCard::update_many`]).
    Show {
        /// The id of the user to show.
        user_id: u32,
        /// Whether to show the email.
        show_email: bool,
    },
    /// `send_update` from the parent: mark the user as a VIP.
    Vip,
    /// `send_update_after` from the card itself: collapse the details.
    Collapse,
}

/// The longest name a card saves.
const MAX_NAME_CHARS: usize = 100;

/// How long the details stay open before they collapse on their own.
const AUTO_COLLAPSE_MS: u32 = 5000;

/// The seed's `UserCardComponent`.
#[derive(Assigns, Default)]
pub struct UserCard {
    id: String,
    user: Option<User>,
    show_email: bool,
    expanded: bool,
    editing: bool,
    vip: bool,
    saves: u32,
}

impl UserCard {
    /// The component id user `user_id`'s card is placed with (also its root element's id).
    ///
    /// A path (`UserCard::id_for(id)`) rather than a free function in the template: the
    /// template compiler takes a call of a free function without assigns as reading anything,
    /// and would then place every card again on each render of the page.
    pub fn id_for(user_id: u32) -> String {
        format!("user-{user_id}")
    }
}

impl LiveComponent for UserCard {
    type Props = CardUpdate;

    fn mount(socket: &mut ComponentSocket<Self>) -> Result {
        let id = socket.id().to_string();
        assign!(socket, id = id, expanded = false);
        Ok(())
    }

    /// One card's update (`send_update`, `send_update_after`): a batch of one.
    fn update(socket: &mut ComponentSocket<Self>, props: CardUpdate) -> Result {
        Self::update_many(vec![(socket, props)])
    }

    /// Every card the parent's render placed, together (Phoenix's `update_many/1`): the users
    /// of all of them are read in one query (`data::by_ids`), then each card takes its own. A
    /// card whose user is gone (deleted on another page) tells the parent, which drops it.
    fn update_many(batch: Vec<(&mut ComponentSocket<Self>, CardUpdate)>) -> Result {
        let ids: Vec<u32> = batch
            .iter()
            .filter_map(|(_, props)| match props {
                CardUpdate::Show { user_id, .. } => Some(*user_id),
                CardUpdate::Vip | CardUpdate::Collapse => None,
            })
            .collect();
        let users = data::by_ids(&ids)?;
        for (socket, props) in batch {
            match props {
                CardUpdate::Show {
                    user_id,
                    show_email,
                } => match users.get(&user_id) {
                    Some(user) => {
                        assign!(socket, user = Some(user.clone()), show_email = show_email);
                    }
                    None => {
                        assign!(socket, show_email = show_email);
                        socket.send_parent(json!({ "gone": user_id }));
                    }
                },
                CardUpdate::Vip => {
                    assign!(socket, vip = true);
                    let id = socket.assigns().user.as_ref().map(|u| u.id);
                    socket.send_parent(json!({ "vip": id }));
                }
                CardUpdate::Collapse => assign!(socket, expanded = false),
            }
        }
        Ok(())
    }

    fn handle_event(socket: &mut ComponentSocket<Self>, event: &str, value: &Value) -> Result {
        match event {
            "toggle_expand" => {
                let expanded = !socket.assigns().expanded;
                assign!(socket, expanded = expanded);
                if expanded {
                    let id = socket.id().to_string();
                    send_update_after::<UserCard>(id, CardUpdate::Collapse, AUTO_COLLAPSE_MS);
                }
            }
            "edit" => assign!(socket, editing = true),
            "cancel" => assign!(socket, editing = false),
            "send_message" => {
                let id: u32 = value
                    .get("user-id")
                    .and_then(Value::as_str)
                    .and_then(|id| id.parse().ok())
                    .ok_or("send_message needs a user-id")?;
                socket.send_parent(json!({ "open_chat": id }));
            }
            // The same from the card itself: a component may navigate (Phoenix allows
            // `push_navigate` on a component's socket).
            "chat_now" => {
                let id = socket.assigns().user.as_ref().map(|u| u.id);
                let id = id.ok_or("the card has no user")?;
                socket.push_navigate(format!("/chat/{id}"));
            }
            "save" => {
                let name = value
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .unwrap_or_default()
                    .to_string();
                if name.is_empty() {
                    return Err("a name is required".into());
                }
                if name.chars().count() > MAX_NAME_CHARS {
                    return Err(format!("a name has at most {MAX_NAME_CHARS} characters").into());
                }
                let id = socket.assigns().user.as_ref().map(|u| u.id);
                let id = id.ok_or("the card has no user")?;
                match data::rename(id, &name)? {
                    Some(user) => {
                        // The card shows what it saved; the parent only hears of it.
                        let saves = socket.assigns().saves + 1;
                        let saved = json!({ "saved": &user });
                        assign!(socket, user = Some(user), editing = false, saves = saves);
                        socket.send_parent(saved);
                    }
                    None => socket.send_parent(json!({ "gone": id })),
                }
            }
            other => return Err(format!("unknown event `{other}`").into()),
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id={@id} class={class_list([Some("user-card"), @vip.then_some("vip")])}>
  <h3>{@user.as_ref().map(|u| u.name.as_str()).unwrap_or("")}</h3>
  <p :if={@show_email} class="email">{@user.as_ref().map(|u| u.email.as_str()).unwrap_or("")}</p>
  <span :if={@vip} class="badge">VIP</span>
  <button class="expand" phx-click="toggle_expand" phx-target={@myself}>{if @expanded { "Less" } else { "More" }}</button>
  <div :if={@expanded} class="details">
    <p>Bio: {@user.as_ref().map(|u| u.bio.as_str()).unwrap_or("")}</p>
    <button class="send-message" phx-click="send_message" phx-value-user-id={@user.as_ref().map(|u| u.id).unwrap_or_default()} phx-target={@myself}>Send Message</button>
    <button class="chat-now" phx-click="chat_now" phx-target={@myself}>Chat now</button>
  </div>
  <button :if={!@editing} class="edit" phx-click="edit" phx-target={@myself}>Edit</button>
  <form :if={@editing} phx-submit="save" phx-target={@myself}>
    <h4>Edit User</h4>
    <input type="text" name="name" maxlength="100" value={@user.as_ref().map(|u| u.name.clone()).unwrap_or_default()} />
    <button type="submit">Save</button>
    <button type="button" class="cancel" phx-click={JS::push("cancel").with_target(@myself)}>Cancel</button>
  </form>
  <small class="saves">Saved {@saves} times</small>
</div>
"#
        )
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Its number in this chat (the element is `message-<id>`).
    pub id: u32,
    /// What was said.
    pub text: String,
}

/// The longest message the chat takes.
const MAX_MESSAGE_CHARS: usize = 500;

/// `/chat/:id`: where "Send Message" leads (the seed's `push_navigate(~p"/chat/#{user_id}")`).
///
/// Its messages are a temporary assign (Phoenix's `temporary_assigns: [messages: []]`): each
/// render sends the messages added since the last one, then the view empties the list, so
/// the view never keeps the conversation; the page keeps it (`phx-update="append"`).
/// "Leave chat" goes back to the users with `push_navigate(replace: true)`: the chat's
/// history entry is replaced, so Back does not return to it.
#[derive(Assigns, Default)]
pub struct ChatLive {
    with: Option<User>,
    /// Messages not yet rendered (emptied after every render).
    messages: Vec<ChatMessage>,
    /// How many messages were sent.
    sent: u32,
    /// What the message field holds (from `phx-change`).
    draft: String,
}

/// The `text` field of the chat form's params.
fn text_field(value: &Value) -> String {
    value
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

impl LiveView for ChatLive {
    fn mount(socket: &mut Socket<Self>, params: &Params, _session: &Session) -> Result {
        let id: u32 = params
            .str("id")
            .and_then(|id| id.parse().ok())
            .ok_or("the chat needs a user id")?;
        let with = data::find(id)?;
        socket.page_title("Chat");
        temporary_assigns!(socket, messages);
        if let Some(user) = &with {
            let greeting = format!("You are now chatting with {}.", user.name);
            update!(socket, messages, |m: &mut Vec<ChatMessage>| m.push(
                ChatMessage {
                    id: 0,
                    text: greeting
                }
            ));
        }
        assign!(socket, with = with);
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
        match event {
            "typing" => assign!(socket, draft = text_field(value)),
            "send" => {
                let text = text_field(value).trim().to_string();
                if text.is_empty() {
                    return Ok(());
                }
                if text.chars().count() > MAX_MESSAGE_CHARS {
                    return Err(
                        format!("a message has at most {MAX_MESSAGE_CHARS} characters").into(),
                    );
                }
                let id = socket.assigns().sent + 1;
                // The list holds only what the last render did not send: this adds to it.
                update!(socket, messages, |m: &mut Vec<ChatMessage>| m
                    .push(ChatMessage { id, text }));
                assign!(socket, sent = id, draft = String::new());
            }
            "leave" => socket.push_navigate_replace("/users"),
            other => return Err(format!("unknown event `{other}`").into()),
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="chat">
  <h1 :if={@with.is_some()}>Chat with {@with.as_ref().map(|u| u.name.as_str()).unwrap_or("")}</h1>
  <p :if={@with.is_none()} id="no-user">No such user.</p>
  <ul id="messages" phx-update="append">
    <li :for={message in @messages.iter()} id={format!("message-{}", message.id)}>{message.text.as_str()}</li>
  </ul>
  <form :if={@with.is_some()} id="chat-form" phx-change="typing" phx-submit="send">
    <input type="text" name="text" maxlength="500" autocomplete="off" value={@draft.as_str()} />
    <button type="submit">Send</button>
  </form>
  <p id="sent">Sent {@sent} messages</p>
  <p id="draft-length">{@draft.chars().count()} characters typed</p>
  <a id="back" href="/users" data-phx-link="redirect" data-phx-link-state="push">Back to users</a>
  <button id="leave" phx-click="leave">Leave chat</button>
</div>
"#
        )
    }
}

livewasm_sdk::app! {
    name: "users",
    routes: {
        // One live session: `push_navigate` from the users to a chat stays live.
        "/users" => UsersLive, live_session: "users";
        "/chat/:id" => ChatLive, live_session: "users";
    },
    migrations: data::MIGRATIONS,
    assets: [("app.css", include_bytes!("../assets/app.css"))],
}
