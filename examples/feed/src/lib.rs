//! FeedLive from the seed ("Streams and Infinite Scrolling"): a timeline of posts held in a
//! stream, so the view never keeps the posts it has rendered. New posts are prepended, deleted
//! posts removed, liked posts updated in place; pages load at the bottom (`next-page`, from a
//! button or `phx-viewport-bottom`) or the top (`prev-page`), each keeping at most three pages
//! on the client through the stream's `limit`; `reset` starts over from page 1. The list holds
//! an empty-state child (`class="only:block hidden"`, styled by `assets/app.css`) that shows
//! only while no post is shown. `/feed/toggle` renders a stream's container inside `:if`.
//!
//! Query params: `per_page` (default 5), `total` (posts in the timeline, default 40) and
//! `scroll=off` (no viewport bindings: pages load from the buttons only).

use livewasm_sdk::prelude::*;

mod posts;
mod toggle;

use posts::{Post, Posts};
use toggle::Toggled;

/// The feed's assigns.
#[derive(Assigns, Default)]
pub struct Feed {
    page: usize,
    per_page: usize,
    end_of_timeline: bool,
    /// Load pages when the user scrolls to an edge (`phx-viewport-top`/`-bottom`).
    infinite: bool,
    /// The view's streams (`@streams.posts`, as in HEEx).
    streams: FeedStreams,
    /// The "database" the posts come from (not rendered).
    db: Posts,
}

/// The feed's streams: only operations not yet rendered live here, never the posts shown.
#[derive(Default)]
pub struct FeedStreams {
    posts: Stream<Post>,
}

impl Feed {
    /// Loads page `new_page` into the stream: forward pages are appended and keep the last
    /// three pages, backward pages are prepended and keep the first three (the seed's
    /// `paginate_posts`).
    fn paginate(socket: &mut Socket<Self>, new_page: usize) {
        let Feed {
            page, per_page, db, ..
        } = socket.assigns();
        let (page, per_page) = (*page, *per_page);
        let mut posts = db.list(new_page.saturating_sub(1) * per_page, per_page);
        let keep = i32::try_from(per_page * 3).unwrap_or(i32::MAX);
        // The official client counts every child of the container against a limit, the
        // empty-state `<li>` (kept last) included: a trailing limit keeps one more child so three
        // pages of posts stay; a leading one trims the empty state first and needs no extra.
        let (at, limit) = if new_page >= page {
            (-1, -keep.saturating_add(1))
        } else {
            posts.reverse();
            (0, keep)
        };
        if posts.is_empty() {
            assign!(socket, end_of_timeline = at == -1);
        } else {
            assign!(socket, end_of_timeline = false, page = new_page);
            stream!(socket, streams.posts, posts, at = at, limit = limit);
        }
    }

    fn post_id(value: &Value) -> Result<u32> {
        value
            .get("id")
            .and_then(|id| match id {
                Value::String(s) => s.parse().ok(),
                other => other.as_u64().and_then(|n| u32::try_from(n).ok()),
            })
            .ok_or_else(|| "a post id is required".into())
    }
}

impl LiveView for Feed {
    fn mount(socket: &mut Socket<Self>, params: &Params, _session: &Session) -> Result {
        let number = |key: &str, default: usize| {
            params
                .str(key)
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let per_page = number("per_page", 5).clamp(1, 100);
        let total = u32::try_from(number("total", 40).min(10_000)).unwrap_or(40);
        let infinite = params.str("scroll") != Some("off");
        assign!(
            socket,
            page = 1,
            per_page = per_page,
            end_of_timeline = false,
            infinite = infinite
        );
        update!(socket, db, |db| *db = Posts::new(total));
        socket.page_title("Live Feed");
        Ok(())
    }

    fn handle_params(socket: &mut Socket<Self>, _params: &Params, _url: &str) -> Result {
        Feed::paginate(socket, 1);
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
        match event {
            "next-page" => {
                let page = socket.assigns().page;
                Feed::paginate(socket, page + 1);
            }
            "prev-page" if value.get("_overran") == Some(&Value::Bool(true)) => {
                Feed::paginate(socket, 1);
            }
            "prev-page" => {
                let page = socket.assigns().page;
                if page > 1 {
                    Feed::paginate(socket, page - 1);
                }
            }
            "delete" => {
                let id = Feed::post_id(value)?;
                let mut post = None;
                update!(socket, db, |db: &mut Posts| post = db.delete(id));
                match post {
                    Some(post) => {
                        stream_delete!(socket, streams.posts, &post);
                        socket.put_flash("info", "Post deleted");
                    }
                    None => socket.put_flash("error", "Could not delete post"),
                }
            }
            "like" => {
                let id = Feed::post_id(value)?;
                let mut post = None;
                update!(socket, db, |db: &mut Posts| post = db.like(id));
                if let Some(post) = post {
                    // Already on the page: updated where it stands.
                    stream_insert!(socket, streams.posts, post);
                }
            }
            "new-post" => {
                let mut post = None;
                update!(socket, db, |db: &mut Posts| post = Some(db.create()));
                if let Some(post) = post {
                    stream_insert!(socket, streams.posts, post, at = 0);
                }
            }
            "reset" => {
                let per_page = socket.assigns().per_page;
                let first = socket.assigns().db.list(0, per_page);
                assign!(socket, page = 1, end_of_timeline = false);
                stream!(socket, streams.posts, first, reset = true);
            }
            other => return Err(format!("unknown event `{other}`").into()),
        }
        Ok(())
    }

    /// `{"new_post": true}` publishes a post (as a PubSub broadcast would); `{"post_liked": id}`
    /// updates one in place.
    fn handle_info(socket: &mut Socket<Self>, message: &Value) -> Result {
        if message.get("new_post").is_some() {
            let mut post = None;
            update!(socket, db, |db: &mut Posts| post = Some(db.create()));
            if let Some(post) = post {
                stream_insert!(socket, streams.posts, post, at = 0);
            }
        } else if let Some(id) = message.get("post_liked") {
            let id = Feed::post_id(&json!({ "id": id }))?;
            let mut post = None;
            update!(socket, db, |db: &mut Posts| post = db.like(id));
            if let Some(post) = post {
                stream_insert!(socket, streams.posts, post);
            }
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        let flash = assigns.flash();
        html!(
            r#"
<div class="feed">
  <h1>Live Feed</h1>
  <p id="flash" role="alert">{flash.get("info").unwrap_or_default()}</p>
  <p id="page">Page {@page}</p>
  <nav>
    <button id="new-post" phx-click="new-post">New post</button>
    <button id="prev-page" phx-click="prev-page">Newer posts</button>
    <button id="reset" phx-click="reset">Back to the top</button>
  </nav>
  <ul
    id="posts"
    phx-update="stream"
    phx-viewport-top={(@infinite && @page > 1).then_some("prev-page")}
    phx-viewport-bottom={(@infinite && !@end_of_timeline).then_some("next-page")}
    style={padding(@page, @end_of_timeline)}
  >
    <li id="posts-empty" class="only:block hidden">No posts yet.</li>
    <li :for={(dom_id, post) in @streams.posts} id={dom_id} class="post">
      <article>
        <header><h3>{post.author}</h3><time datetime={post.inserted_at.clone()}>{post.inserted_at}</time></header>
        <div class="content">{post.body}</div>
        <footer>
          <button class="like" phx-click="like" phx-value-id={post.id}>♥ {post.likes}</button>
          <button class="delete" phx-click="delete" phx-value-id={post.id} data-confirm="Are you sure?">Delete</button>
        </footer>
      </article>
    </li>
  </ul>
  <p :if={@end_of_timeline} id="end">You reached the end of the timeline.</p>
  <button :if={!@end_of_timeline} id="load-more" phx-click="next-page">Load more</button>
</div>
"#
        )
    }
}

/// The list's padding (the seed's `pt-[calc(200vh)]`/`pb-[calc(200vh)]` classes): while there
/// is more to load on a side, that side gets a screen-high gap, so its viewport binding fires only
/// when the user really scrolls to the edge of the loaded posts.
fn padding(page: usize, end_of_timeline: bool) -> String {
    let top = if page == 1 { "2.5rem" } else { "200vh" };
    let bottom = if end_of_timeline { "2.5rem" } else { "200vh" };
    format!("padding-top: {top}; padding-bottom: {bottom}")
}

livewasm_sdk::app! {
    name: "feed",
    routes: {
        "/feed" => Feed;
        "/feed/toggle" => Toggled;
    },
    assets: [("app.css", include_bytes!("../assets/app.css"))],
}
