//! Streams (`phx-update="stream"`): large or endless collections the view inserts into and
//! deletes from without keeping them. Pending operations live in the [`Stream`] assign until the
//! next render sends them; the items themselves are dropped as soon as they are rendered.
//!
//! ```
//! use livewasm_sdk::prelude::*;
//!
//! #[derive(Clone)]
//! pub struct Post {
//!     id: u32,
//!     body: String,
//! }
//!
//! impl StreamItem for Post {
//!     fn stream_id(&self) -> String {
//!         self.id.to_string()
//!     }
//! }
//!
//! #[derive(Assigns, Default)]
//! pub struct Feed {
//!     posts: Stream<Post>,
//! }
//!
//! impl LiveView for Feed {
//!     fn mount(socket: &mut Socket<Self>, _: &Params, _: &Session) -> Result {
//!         let first_page = (1..=2).map(|id| Post { id, body: format!("Post {id}") });
//!         stream!(socket, posts, first_page); // append a batch
//!         Ok(())
//!     }
//!
//!     fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
//!         let id = value["id"].as_u64().unwrap_or_default() as u32;
//!         let post = Post { id, body: value["body"].as_str().unwrap_or_default().into() };
//!         match event {
//!             // Prepend, keeping the newest 60 on the client.
//!             "new" => stream_insert!(socket, posts, post, at = 0, limit = 60),
//!             "delete" => stream_delete!(socket, posts, &post),
//!             _ => return Err(format!("unknown event `{event}`").into()),
//!         }
//!         Ok(())
//!     }
//!
//!     fn render(assigns: &Tracked<'_, Self>) -> Rendered {
//!         html!(r#"<ul id="posts" phx-update="stream"><li :for={(dom_id, post) in @posts} id={dom_id}>{post.body}</li></ul>"#)
//!     }
//! }
//!
//! let mut socket = Socket::<Feed>::new(true, None);
//! Feed::mount(&mut socket, &Params::default(), &Session::default())?;
//! let html = Feed::render(&Tracked::all(socket.assigns())).to_html();
//! assert_eq!(
//!     html,
//!     r#"<ul id="posts" phx-update="stream"><li id="posts-1">Post 1</li><li id="posts-2">Post 2</li></ul>"#
//! );
//! // Rendered items are gone from the view: the next render sends only what is new.
//! assert!(socket.assigns().posts.is_idle());
//! Feed::handle_event(&mut socket, "new", &json!({"id": 3, "body": "Fresh"}))?;
//! let html = Feed::render(&Tracked::all(socket.assigns())).to_html();
//! assert_eq!(html, r#"<ul id="posts" phx-update="stream"><li id="posts-3">Fresh</li></ul>"#);
//! # Ok::<(), livewasm_sdk::Error>(())
//! ```
//!
//! Other operations: `stream!(socket, posts, items, reset = true)` replaces everything on the
//! client, [`stream_delete_by_dom_id!`](crate::stream_delete_by_dom_id) removes by DOM id, and
//! [`stream_configure!`](crate::stream_configure) chooses the DOM ids.

use std::cell::{Cell, RefCell};
use std::fmt;

/// An item a stream can hold: its identity, from which the default DOM id
/// `"{stream name}-{stream_id}"` is made (Phoenix uses the item's `id`).
pub trait StreamItem {
    /// The item's identity within its stream.
    fn stream_id(&self) -> String;
}

/// Where and how items are inserted (`stream/4` and `stream_insert/4` options). The stream
/// macros build it from `at = …`, `limit = …`, `reset = …`, `update_only = …`; a [`Stream`]'s own
/// methods take it directly:
///
/// ```
/// use livewasm_sdk::{Stream, StreamItem, StreamOpts};
///
/// struct Msg(u32);
/// impl StreamItem for Msg {
///     fn stream_id(&self) -> String {
///         self.0.to_string()
///     }
/// }
///
/// let mut messages = Stream::named("messages");
/// messages.insert_many([Msg(1), Msg(2)], StreamOpts::default());
/// messages.insert(Msg(3), StreamOpts::default().at(0).limit(50));
/// messages.delete(&Msg(1)); // not sent yet: simply dropped
/// assert_eq!(messages.dom_id(&Msg(3)), "messages-3");
/// let pending: Vec<String> = (&messages).into_iter().map(|(dom_id, _)| dom_id).collect();
/// assert_eq!(pending, ["messages-2", "messages-3"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOpts {
    /// Position: `-1` appends (the default), `0` prepends, `n` inserts at index `n`.
    pub at: i32,
    /// After inserting, keep only the first `n` children (`n >= 0`) or the last `-n` (`n < 0`).
    pub limit: Option<i32>,
    /// Remove every item on the client before inserting (`reset: true`).
    pub reset: bool,
    /// Only update items the client already shows; never add new ones.
    pub update_only: bool,
}

impl Default for StreamOpts {
    fn default() -> StreamOpts {
        StreamOpts {
            at: -1,
            limit: None,
            reset: false,
            update_only: false,
        }
    }
}

impl StreamOpts {
    /// Sets the insert position (`-1` append, `0` prepend, `n` index).
    pub fn at(mut self, at: i32) -> StreamOpts {
        self.at = at;
        self
    }

    /// Sets the limit (`n >= 0` keeps the first `n` children, `n < 0` the last `-n`).
    pub fn limit(mut self, limit: i32) -> StreamOpts {
        self.limit = Some(limit);
        self
    }

    /// Resets the stream on the client before inserting.
    pub fn reset(mut self, reset: bool) -> StreamOpts {
        self.reset = reset;
        self
    }

    /// Only updates items already on the client.
    pub fn update_only(mut self, update_only: bool) -> StreamOpts {
        self.update_only = update_only;
        self
    }
}

/// One insert as the client receives it, and a stream's operations since the last render:
/// the very types the host diffs (one definition, in the protocol crate).
pub use livewasm_protocol::update::{StreamInsert, StreamOps};

thread_local! {
    /// Stream references handed out in this instance.
    static NEXT_REF: Cell<u32> = const { Cell::new(0) };
}

/// What a stream will send with its next render.
struct Pending<T> {
    inserts: Vec<(StreamInsert, T)>,
    deletes: Vec<String>,
    reset: bool,
}

impl<T> Default for Pending<T> {
    fn default() -> Pending<T> {
        Pending {
            inserts: Vec::new(),
            deletes: Vec::new(),
            reset: false,
        }
    }
}

/// A stream assign: holds only the operations not yet rendered. Iterating it (what a template's
/// `:for={(dom_id, item) in @posts}` does) hands out the pending items with their DOM ids and
/// forgets them.
pub struct Stream<T> {
    name: String,
    stream_ref: String,
    dom_id: Option<fn(&T) -> String>,
    pending: RefCell<Pending<T>>,
}

impl<T> Default for Stream<T> {
    fn default() -> Stream<T> {
        let n = NEXT_REF.with(|next| {
            let n = next.get();
            next.set(n.wrapping_add(1));
            n
        });
        Stream {
            name: String::new(),
            stream_ref: n.to_string(),
            dom_id: None,
            pending: RefCell::new(Pending::default()),
        }
    }
}

impl<T> fmt::Debug for Stream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pending = self.pending.borrow();
        f.debug_struct("Stream")
            .field("name", &self.name)
            .field("ref", &self.stream_ref)
            .field("pending_inserts", &pending.inserts.len())
            .field("pending_deletes", &pending.deletes)
            .field("reset", &pending.reset)
            .finish()
    }
}

impl<T: StreamItem> Stream<T> {
    /// A stream named `name` (the prefix of its default DOM ids).
    pub fn named(name: &str) -> Stream<T> {
        Stream {
            name: name.to_string(),
            ..Stream::default()
        }
    }

    /// The stream's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Names the stream if it has no name yet (the stream macros name it after its field).
    #[doc(hidden)]
    pub fn __name(&mut self, name: &str) -> &mut Stream<T> {
        if self.name.is_empty() {
            self.name = name.trim().to_string();
        }
        self
    }

    /// Uses `dom_id` instead of `"{name}-{stream_id}"` (`stream_configure/3`).
    pub fn configure_dom_id(&mut self, dom_id: fn(&T) -> String) {
        self.dom_id = Some(dom_id);
    }

    /// The DOM id `item` gets in this stream.
    pub fn dom_id(&self, item: &T) -> String {
        match self.dom_id {
            Some(f) => f(item),
            None => format!("{}-{}", self.name, item.stream_id()),
        }
    }

    /// Inserts (or updates, when its DOM id is already shown) one item (`stream_insert/4`).
    pub fn insert(&mut self, item: T, opts: StreamOpts) {
        if opts.reset {
            self.reset();
        }
        let dom_id = self.dom_id(&item);
        let pending = self.pending.get_mut();
        // The last insert of an item before a render wins.
        pending
            .inserts
            .retain(|(insert, _)| insert.dom_id != dom_id);
        pending.inserts.push((
            StreamInsert {
                dom_id,
                at: opts.at,
                limit: opts.limit,
                update_only: opts.update_only,
            },
            item,
        ));
    }

    /// Inserts many items, each with `opts`, in order (`stream/4`): with `at: 0` each one is
    /// prepended in turn, so the last ends up first.
    pub fn insert_many(&mut self, items: impl IntoIterator<Item = T>, opts: StreamOpts) {
        if opts.reset {
            self.reset();
        }
        let opts = StreamOpts {
            reset: false,
            ..opts
        };
        for item in items {
            self.insert(item, opts);
        }
    }

    /// Removes `item` from the client (`stream_delete/3`).
    pub fn delete(&mut self, item: &T) {
        let dom_id = self.dom_id(item);
        self.delete_by_dom_id(&dom_id);
    }

    /// Removes the element with `dom_id` from the client (`stream_delete_by_dom_id/3`).
    pub fn delete_by_dom_id(&mut self, dom_id: &str) {
        let pending = self.pending.get_mut();
        // An insert not yet sent is simply dropped.
        pending
            .inserts
            .retain(|(insert, _)| insert.dom_id != dom_id);
        if !pending.deletes.iter().any(|d| d == dom_id) {
            pending.deletes.push(dom_id.to_string());
        }
    }

    /// Drops every item on the client; inserts made afterwards are shown alone.
    pub fn reset(&mut self) {
        let pending = self.pending.get_mut();
        pending.inserts.clear();
        pending.deletes.clear();
        pending.reset = true;
    }
}

impl<T> Stream<T> {
    /// True when nothing is waiting to be rendered.
    pub fn is_idle(&self) -> bool {
        let pending = self.pending.borrow();
        pending.inserts.is_empty() && pending.deletes.is_empty() && !pending.reset
    }

    /// Takes the operations to send (a template's `:for` does this before iterating): the
    /// inserts' metadata (the items stay for the iteration), the deletes and the reset flag.
    fn take_ops(&self) -> StreamOps {
        let mut pending = self.pending.borrow_mut();
        StreamOps {
            stream_ref: self.stream_ref.clone(),
            inserts: pending.inserts.iter().map(|(i, _)| i.clone()).collect(),
            deletes: std::mem::take(&mut pending.deletes),
            reset: std::mem::take(&mut pending.reset),
        }
    }
}

impl<T> IntoIterator for &Stream<T> {
    type Item = (String, T);
    type IntoIter = std::vec::IntoIter<(String, T)>;

    /// Hands out the pending items with their DOM ids, and forgets them.
    fn into_iter(self) -> Self::IntoIter {
        let inserts = std::mem::take(&mut self.pending.borrow_mut().inserts);
        inserts
            .into_iter()
            .map(|(insert, item)| (insert.dom_id, item))
            .collect::<Vec<_>>()
            .into_iter()
    }
}

/// The source of a template's `:for`, wrapped so that a [`Stream`] can be told apart from any
/// other iterable (autoref specialization: see [`__StreamSource`] and [`__PlainSource`]).
#[doc(hidden)]
pub struct __ForSource<'a, S>(pub &'a S);

/// A `:for` over a stream: its operations ride on the comprehension.
#[doc(hidden)]
pub trait __StreamSource {
    /// The stream's operations.
    fn __lw_stream_ops(&self) -> Option<StreamOps>;
}

impl<T> __StreamSource for __ForSource<'_, &Stream<T>> {
    fn __lw_stream_ops(&self) -> Option<StreamOps> {
        Some(self.0.take_ops())
    }
}

/// A `:for` over anything else: no stream operations.
#[doc(hidden)]
pub trait __PlainSource {
    /// Always `None`.
    fn __lw_stream_ops(&self) -> Option<StreamOps>;
}

impl<S> __PlainSource for &__ForSource<'_, S> {
    fn __lw_stream_ops(&self) -> Option<StreamOps> {
        None
    }
}

/// Builds the options of the stream macros from `name = value` pairs.
#[doc(hidden)]
#[macro_export]
macro_rules! __stream_opts {
    ($($opt:ident = $value:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut __opts = $crate::StreamOpts::default();
        $( __opts = __opts.$opt($value); )*
        __opts
    }};
}

/// Inserts a batch of items into a stream assign (`stream/4`), marking it changed:
/// `stream!(socket, posts, items)`, `stream!(socket, posts, items, at = 0, limit = 60)`,
/// `stream!(socket, posts, items, reset = true)`. The field may be nested (`streams.posts`);
/// the stream is named after the last segment.
#[macro_export]
macro_rules! stream {
    ($socket:expr, $first:ident $(. $rest:ident)*, $items:expr $(, $opt:ident = $value:expr)* $(,)?) => {{
        let __socket = &mut *$socket;
        let __bit = __socket.assigns().__lw_bit(stringify!($first));
        let __items = $items;
        let __opts = $crate::__stream_opts!($($opt = $value),*);
        let __name = stringify!($first $(. $rest)*).rsplit('.').next().unwrap_or_default();
        __socket.__update(__bit, |__a| &mut __a.$first $(. $rest)*, |__s| {
            __s.__name(__name).insert_many(__items, __opts)
        });
    }};
}

/// Inserts or updates one item of a stream assign (`stream_insert/4`):
/// `stream_insert!(socket, posts, post)`, `stream_insert!(socket, posts, post, at = 0)`.
#[macro_export]
macro_rules! stream_insert {
    ($socket:expr, $first:ident $(. $rest:ident)*, $item:expr $(, $opt:ident = $value:expr)* $(,)?) => {{
        let __socket = &mut *$socket;
        let __bit = __socket.assigns().__lw_bit(stringify!($first));
        let __item = $item;
        let __opts = $crate::__stream_opts!($($opt = $value),*);
        let __name = stringify!($first $(. $rest)*).rsplit('.').next().unwrap_or_default();
        __socket.__update(__bit, |__a| &mut __a.$first $(. $rest)*, |__s| {
            __s.__name(__name).insert(__item, __opts)
        });
    }};
}

/// Removes an item from a stream on the client (`stream_delete/3`):
/// `stream_delete!(socket, posts, &post)`.
#[macro_export]
macro_rules! stream_delete {
    ($socket:expr, $first:ident $(. $rest:ident)*, $item:expr $(,)?) => {{
        let __socket = &mut *$socket;
        let __bit = __socket.assigns().__lw_bit(stringify!($first));
        let __item = $item;
        let __name = stringify!($first $(. $rest)*).rsplit('.').next().unwrap_or_default();
        __socket.__update(__bit, |__a| &mut __a.$first $(. $rest)*, |__s| {
            __s.__name(__name).delete(__item)
        });
    }};
}

/// Removes the element with a DOM id from a stream on the client
/// (`stream_delete_by_dom_id/3`): `stream_delete_by_dom_id!(socket, posts, "posts-3")`.
#[macro_export]
macro_rules! stream_delete_by_dom_id {
    ($socket:expr, $first:ident $(. $rest:ident)*, $dom_id:expr $(,)?) => {{
        let __socket = &mut *$socket;
        let __bit = __socket.assigns().__lw_bit(stringify!($first));
        let __dom_id: &str = &$dom_id;
        __socket.__update(__bit, |__a| &mut __a.$first $(. $rest)*, |__s| {
            __s.delete_by_dom_id(__dom_id)
        });
    }};
}

/// Configures a stream assign (`stream_configure/3`); call it in `mount` before inserting:
/// `stream_configure!(socket, posts, dom_id = |p: &Post| format!("post-{}", p.id))`.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// pub struct Song {
///     isrc: String,
/// }
///
/// impl StreamItem for Song {
///     fn stream_id(&self) -> String {
///         self.isrc.clone()
///     }
/// }
///
/// #[derive(Assigns, Default)]
/// pub struct Playlist {
///     songs: Stream<Song>,
/// }
///
/// fn mount(socket: &mut Socket<Playlist>, _: &Params, _: &Session) -> Result {
///     stream_configure!(socket, songs, dom_id = song_id);
///     stream!(socket, songs, [Song { isrc: "GBAYE0601498".into() }]);
///     Ok(())
/// }
///
/// fn song_id(song: &Song) -> String {
///     format!("song-{}", song.isrc.to_lowercase())
/// }
///
/// let mut socket = Socket::<Playlist>::new(true, None);
/// mount(&mut socket, &Params::default(), &Session::default())?;
/// let song = Song { isrc: "X1".into() };
/// assert_eq!(socket.assigns().songs.dom_id(&song), "song-x1");
///
/// // Remove an element by the DOM id the client reported (e.g. `phx-value-id`):
/// stream_delete_by_dom_id!(&mut socket, songs, "song-gbaye0601498");
/// # Ok::<(), livewasm_sdk::Error>(())
/// ```
#[macro_export]
macro_rules! stream_configure {
    ($socket:expr, $first:ident $(. $rest:ident)*, dom_id = $dom_id:expr $(,)?) => {{
        let __socket = &mut *$socket;
        let __bit = __socket.assigns().__lw_bit(stringify!($first));
        let __name = stringify!($first $(. $rest)*).rsplit('.').next().unwrap_or_default();
        __socket.__update(__bit, |__a| &mut __a.$first $(. $rest)*, |__s| {
            __s.__name(__name).configure_dom_id($dom_id)
        });
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Post(u32);

    impl StreamItem for Post {
        fn stream_id(&self) -> String {
            self.0.to_string()
        }
    }

    #[allow(clippy::needless_borrow)]
    fn ops_of(stream: &Stream<Post>) -> Option<StreamOps> {
        #[allow(unused_imports)]
        use super::{__PlainSource as _, __StreamSource as _};
        (&__ForSource(&stream)).__lw_stream_ops()
    }

    #[derive(crate::Assigns, Default)]
    struct Feed {
        title: String,
        streams: FeedStreams,
    }

    #[derive(Default)]
    struct FeedStreams {
        posts: Stream<Post>,
    }

    fn render(socket: &mut crate::Socket<Feed>) -> crate::Rendered {
        let assigns = socket.__begin_render();
        let assigns = &assigns;
        crate::html!(
            r#"<h1>{@title}</h1><ul id="posts" phx-update="stream"><li :for={(dom_id, post) in @streams.posts} id={dom_id}>{post.0}</li></ul>"#
        )
    }

    fn list(rendered: &crate::Rendered) -> Option<&crate::List> {
        rendered.dynamics.iter().find_map(|d| match d {
            crate::Dyn::List(list) => Some(list),
            _ => None,
        })
    }

    #[test]
    fn a_template_for_over_a_stream_carries_its_operations() {
        let mut socket = crate::Socket::<Feed>::new(true, None);
        crate::stream!(
            &mut socket,
            streams.posts,
            [Post(1), Post(2)],
            at = 0,
            limit = 5
        );
        let first = render(&mut socket);
        let comprehension = list(&first).expect("the stream's comprehension");
        let ops = comprehension.stream.as_ref().expect("stream operations");
        let inserts: Vec<_> = ops
            .inserts
            .iter()
            .map(|i| (i.dom_id.as_str(), i.at, i.limit))
            .collect();
        assert_eq!(inserts, [("posts-1", 0, Some(5)), ("posts-2", 0, Some(5))]);
        assert_eq!(
            first.to_html(),
            "<h1></h1><ul id=\"posts\" phx-update=\"stream\"><li id=\"posts-1\">1</li><li id=\"posts-2\">2</li></ul>"
        );
        // The items are gone from the view once rendered.
        assert!(socket.assigns().streams.posts.is_idle());
        // Nothing changed: the slot is not even evaluated.
        crate::assign!(&mut socket, title = "t".to_string());
        let second = render(&mut socket);
        assert!(matches!(second.dynamics[1], crate::Dyn::Unchanged));
        crate::stream_delete!(&mut socket, streams.posts, &Post(1));
        crate::stream_delete_by_dom_id!(&mut socket, streams.posts, "posts-2");
        let third = render(&mut socket);
        let ops = list(&third).and_then(|l| l.stream.clone()).expect("ops");
        assert_eq!(ops.deletes, ["posts-1", "posts-2"]);
        assert!(list(&third).is_some_and(|l| l.entries.is_empty()));
        crate::stream!(&mut socket, streams.posts, [Post(3)], reset = true);
        let fourth = render(&mut socket);
        let ops = list(&fourth).and_then(|l| l.stream.clone()).expect("ops");
        assert!(ops.reset);
        assert_eq!(ops.inserts.len(), 1);
    }

    #[test]
    fn a_render_takes_the_pending_operations_and_forgets_the_items() {
        let mut stream = Stream::named("posts");
        stream.insert_many([Post(1), Post(2)], StreamOpts::default());
        stream.insert(Post(3), StreamOpts::default().at(0).limit(2));
        stream.delete_by_dom_id("posts-9");
        let ops = ops_of(&stream).expect("a stream");
        assert_eq!(ops.deletes, vec!["posts-9".to_string()]);
        assert!(!ops.reset);
        let ids: Vec<_> = ops
            .inserts
            .iter()
            .map(|i| (i.dom_id.as_str(), i.at, i.limit))
            .collect();
        assert_eq!(
            ids,
            [
                ("posts-1", -1, None),
                ("posts-2", -1, None),
                ("posts-3", 0, Some(2))
            ]
        );
        let items: Vec<_> = (&stream).into_iter().collect();
        assert_eq!(items[2], ("posts-3".to_string(), Post(3)));
        assert!(stream.is_idle());
        let again = ops_of(&stream).expect("a stream");
        assert!(again.inserts.is_empty() && again.deletes.is_empty());
    }

    #[test]
    fn deleting_an_unsent_insert_drops_it_and_reset_clears_everything_before() {
        let mut stream = Stream::named("posts");
        stream.insert(Post(1), StreamOpts::default());
        stream.delete(&Post(1));
        stream.insert(Post(2), StreamOpts::default());
        stream.insert(Post(2), StreamOpts::default().at(0));
        let ops = ops_of(&stream).expect("a stream");
        assert_eq!(ops.inserts.len(), 1);
        assert_eq!(ops.inserts[0].at, 0);
        assert_eq!(ops.deletes, vec!["posts-1".to_string()]);
        let _ = (&stream).into_iter().count();
        stream.delete(&Post(5));
        stream.insert_many([Post(7)], StreamOpts::default().reset(true));
        let ops = ops_of(&stream).expect("a stream");
        assert!(ops.reset);
        assert!(ops.deletes.is_empty());
        assert_eq!(ops.inserts[0].dom_id, "posts-7");
    }

    #[test]
    #[allow(clippy::needless_borrow)]
    fn other_sources_carry_no_stream_and_dom_ids_can_be_configured() {
        #[allow(unused_imports)]
        use super::{__PlainSource as _, __StreamSource as _};
        let v = vec![1, 2];
        let source = &v;
        assert_eq!((&__ForSource(&source)).__lw_stream_ops(), None);
        let mut stream: Stream<Post> = Stream::named("posts");
        stream.configure_dom_id(|p| format!("post-{}", p.0 * 10));
        assert_eq!(stream.dom_id(&Post(4)), "post-40");
        let a: Stream<Post> = Stream::default();
        let b: Stream<Post> = Stream::default();
        assert_ne!(a.stream_ref, b.stream_ref);
    }
}
