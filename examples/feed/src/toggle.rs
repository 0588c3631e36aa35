//! A stream whose container is rendered only while `@show` is on (`:if`): posts are streamed at
//! mount and by `add` whatever `@show` is, `toggle` shows or hides the list (`/feed/toggle`,
//! `?show=on` to start shown). The list's items live in the stream until a render shows the
//! container: a stream's `:for` takes them only when it runs.
//!
//! The stream is configured (`stream_configure!`, Phoenix's `stream_configure/3`) to give its
//! items the DOM ids `toggled-post-<id>` instead of the default `items-<id>`; "Remove" sends
//! the DOM id back (`phx-value-dom-id`) and the view deletes by it
//! (`stream_delete_by_dom_id!`).

use livewasm_sdk::prelude::*;

use crate::posts::{Post, Posts};

/// The toggled list's assigns.
#[derive(Assigns, Default)]
pub struct Toggled {
    /// Whether the list (the stream's container) is rendered.
    show: bool,
    /// The stream.
    items: Stream<Post>,
    /// Where new posts come from (not rendered).
    db: Posts,
}

/// The DOM id of a post in this list (the stream's configured `dom_id`).
fn toggled_dom_id(post: &Post) -> String {
    format!("toggled-post-{}", post.id)
}

impl LiveView for Toggled {
    fn mount(socket: &mut Socket<Self>, params: &Params, _session: &Session) -> Result {
        let show = params.str("show") == Some("on");
        let db = Posts::new(3);
        let first = db.list(0, 3);
        assign!(socket, show = show);
        update!(socket, db, |d| *d = db);
        stream_configure!(socket, items, dom_id = toggled_dom_id);
        stream!(socket, items, first);
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
        match event {
            "toggle" => {
                let show = !socket.assigns().show;
                assign!(socket, show = show);
            }
            "add" => {
                let mut post = None;
                update!(socket, db, |db: &mut Posts| post = Some(db.create()));
                if let Some(post) = post {
                    stream_insert!(socket, items, post);
                }
            }
            "remove" => {
                let dom_id = value
                    .get("dom-id")
                    .and_then(Value::as_str)
                    .ok_or("remove needs a dom-id")?;
                if !dom_id.starts_with("toggled-post-") {
                    return Err(format!("`{dom_id}` is not an item of this list").into());
                }
                stream_delete_by_dom_id!(socket, items, dom_id);
            }
            other => return Err(format!("unknown event `{other}`").into()),
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div class="toggled">
  <button id="toggle" phx-click="toggle">Show or hide</button>
  <button id="add" phx-click="add">Add a post</button>
  <ul :if={@show} id="items" phx-update="stream">
    <li :for={(dom_id, post) in @items} id={dom_id.clone()} class="item">{post.body} <button class="remove" phx-click="remove" phx-value-dom-id={dom_id}>Remove</button></li>
  </ul>
</div>
"#
        )
    }
}
