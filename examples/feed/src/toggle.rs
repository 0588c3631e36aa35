//! A stream whose container is rendered only while `@show` is on (`:if`): posts are streamed at
//! mount and by `add` whatever `@show` is, `toggle` shows or hides the list (`/feed/toggle`,
//! `?show=on` to start shown). The list's items live in the stream until a render shows the
//! container: a stream's `:for` takes them only when it runs.

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

impl LiveView for Toggled {
    fn mount(socket: &mut Socket<Self>, params: &Params, _session: &Session) -> Result {
        let show = params.str("show") == Some("on");
        let db = Posts::new(3);
        let first = db.list(0, 3);
        assign!(socket, show = show);
        update!(socket, db, |d| *d = db);
        stream!(socket, items, first);
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, _value: &Value) -> Result {
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
    <li :for={(dom_id, post) in @items} id={dom_id} class="item">{post.body}</li>
  </ul>
</div>
"#
        )
    }
}
