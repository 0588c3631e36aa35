//! [`Socket`]: a view's assigns with change tracking, and its effects on the client.

use std::ops::Deref;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::navigation::Navigation;
use crate::{Assigns, Flash};

/// All bits set: everything changed.
const ALL: u128 = u128::MAX;

/// The view's state as callbacks see it: the assigns (set them with [`crate::assign!`] and
/// [`crate::update!`], which mark what changed), the flash, navigation, replies and events for
/// the client.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// #[derive(Assigns, Default)]
/// pub struct Search {
///     query: String,
///     results: Vec<String>,
/// }
///
/// fn search(socket: &mut Socket<Search>, query: &str) {
///     let results: Vec<String> = ["apple", "apricot", "banana"]
///         .into_iter()
///         .filter(|fruit| fruit.starts_with(query))
///         .map(String::from)
///         .collect();
///     if results.is_empty() {
///         socket.put_flash("error", format!("Nothing matches `{query}`."));
///     }
///     assign!(socket, query = query.to_string(), results = results);
///     socket.push_patch(format!("/search?q={query}"));
/// }
///
/// // A socket as `mount` gets it over the WebSocket:
/// let mut socket = Socket::<Search>::new(true, None);
/// assert!(socket.connected());
/// search(&mut socket, "ap");
/// assert_eq!(socket.assigns().results, ["apple", "apricot"]);
/// search(&mut socket, "kiwi");
/// assert_eq!(socket.flash().get("error"), Some("Nothing matches `kiwi`."));
/// ```
pub struct Socket<V> {
    assigns: V,
    changed: u128,
    /// The fields ever set (`assign!`, `update!`, an `on_mount` hook …), for `assign_new!`.
    assigned: u128,
    connected: bool,
    action: Option<String>,
    /// A live component's own target (none for a view).
    myself: Option<crate::Myself>,
    reply: Option<Value>,
    title: Option<String>,
    flash: Flash,
    navigation: Option<Navigation>,
    mount_assigns: Map<String, Value>,
    temporary: Vec<fn(&mut V)>,
    uploads: crate::Uploads,
    /// Hooks attached at runtime (`attach_hook`).
    pub(crate) hooks: crate::attach_hook::Hooks<V>,
}

impl<V: Assigns + Default> Socket<V> {
    /// A fresh socket; everything renders the first time.
    pub fn new(connected: bool, action: Option<String>) -> Socket<V> {
        Socket {
            assigns: V::default(),
            changed: ALL,
            assigned: 0,
            connected,
            action,
            myself: None,
            reply: None,
            title: None,
            flash: Flash::new(),
            navigation: None,
            mount_assigns: Map::new(),
            temporary: Vec::new(),
            uploads: crate::Uploads::new(),
            hooks: crate::attach_hook::Hooks::default(),
        }
    }
}

impl<V: Assigns> Socket<V> {
    /// The socket's state for a hibernation snapshot: its assigns and what the SDK keeps for
    /// it; `None` when something cannot be written down (see [`crate::hibernate`]).
    pub(crate) fn snapshot(&self) -> Option<Value> {
        let idle = self.temporary.is_empty()
            && self.uploads.none_allowed()
            && self.hooks.is_empty()
            && self.navigation.is_none()
            && self.reply.is_none()
            && self.myself.is_none();
        if !idle {
            return None;
        }
        Some(serde_json::json!({
            "assigns": self.assigns.__lw_snapshot()?,
            "assigned": self.assigned.to_string(),
            "action": self.action,
            "title": self.title,
            "flash": self.flash.to_json(),
            "mount_assigns": Value::Object(self.mount_assigns.clone()),
        }))
    }

    /// Takes the state of a snapshot [`Self::snapshot`] wrote; everything renders again.
    pub(crate) fn restore(&mut self, snapshot: &Value) -> std::result::Result<(), String> {
        let assigns = snapshot
            .get("assigns")
            .cloned()
            .and_then(V::__lw_restore)
            .ok_or("the snapshot's assigns do not fit this version's view")?;
        self.assigns = assigns;
        self.assigned = snapshot
            .get("assigned")
            .and_then(Value::as_str)
            .and_then(|bits| bits.parse().ok())
            .unwrap_or(0);
        self.action = snapshot
            .get("action")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.title = snapshot
            .get("title")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.flash = snapshot
            .get("flash")
            .map(Flash::from_json)
            .unwrap_or_default();
        self.mount_assigns = snapshot
            .get("mount_assigns")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        self.connected = true;
        self.changed = ALL;
        Ok(())
    }
}

impl<V> Socket<V> {
    /// True over the WebSocket, false during the dead HTTP render.
    pub fn connected(&self) -> bool {
        self.connected
    }

    /// The live action of the route (`:index`, `:edit` …).
    pub fn live_action(&self) -> Option<&str> {
        self.action.as_deref()
    }

    #[doc(hidden)]
    pub fn __set_myself(&mut self, myself: crate::Myself) {
        self.myself = Some(myself);
    }

    /// The live component this socket belongs to (`None` for a view's own socket).
    pub(crate) fn component_target(&self) -> Option<crate::Myself> {
        self.myself
    }

    #[doc(hidden)]
    pub fn __set_action(&mut self, action: Option<String>) {
        self.action = action;
    }

    /// The assigns, read-only.
    pub fn assigns(&self) -> &V {
        &self.assigns
    }

    /// The assigns, mutable, marking every field changed (prefer [`crate::assign!`]).
    pub fn assigns_mut(&mut self) -> &mut V {
        self.changed = ALL;
        self.assigned = ALL;
        &mut self.assigns
    }

    /// Sets a field if the value differs, marking its bit (used by [`crate::assign!`]).
    #[doc(hidden)]
    pub fn __assign<T: PartialEq>(
        &mut self,
        bit: u128,
        field: impl FnOnce(&mut V) -> &mut T,
        value: T,
    ) {
        self.assigned |= bit;
        let slot = field(&mut self.assigns);
        if *slot != value {
            *slot = value;
            self.changed |= bit;
        }
    }

    /// Changes a field in place and marks its bit (used by [`crate::update!`]).
    #[doc(hidden)]
    pub fn __update<T>(
        &mut self,
        bit: u128,
        field: impl FnOnce(&mut V) -> &mut T,
        f: impl FnOnce(&mut T),
    ) {
        f(field(&mut self.assigns));
        self.changed |= bit;
        self.assigned |= bit;
    }

    /// The view's uploads (`allow_upload`), with their entries.
    pub fn uploads(&self) -> &crate::Uploads {
        &self.uploads
    }

    #[doc(hidden)]
    pub fn __uploads_mut(&mut self) -> &mut crate::Uploads {
        &mut self.uploads
    }

    /// The flash (messages shown once, carried across navigation).
    pub fn flash(&self) -> &Flash {
        &self.flash
    }

    /// Sets the flash message of `kind` (`put_flash`). The page shows it with
    /// `<.flash_group flash={assigns.flash()} />`; it survives `push_navigate` and `redirect`.
    ///
    /// ```
    /// use livewasm_sdk::prelude::*;
    ///
    /// # #[derive(Assigns, Default)] pub struct Article { title: String }
    /// let mut socket = Socket::<Article>::new(true, None);
    /// socket.put_flash("info", "Article saved.");
    /// assert_eq!(socket.flash().get("info"), Some("Article saved."));
    /// socket.clear_flash(Some("info"));
    /// assert!(socket.flash().is_empty());
    /// ```
    pub fn put_flash(&mut self, kind: impl Into<String>, message: impl Into<String>) {
        self.flash.put(kind, message);
    }

    /// Clears the flash message of `kind`, or every message with `None` (`clear_flash`).
    pub fn clear_flash(&mut self, kind: Option<&str>) {
        self.flash.clear(kind);
    }

    #[doc(hidden)]
    pub fn __set_flash(&mut self, flash: Flash) {
        self.flash = flash;
    }

    /// Patches the URL to `to` without remounting (`push_patch`): `handle_params` runs with
    /// the new URL's params and live action, and the browser pushes a history entry.
    ///
    /// ```
    /// use livewasm_sdk::prelude::*;
    ///
    /// #[derive(Assigns, Default)]
    /// pub struct Articles {
    ///     page: u32,
    /// }
    ///
    /// impl LiveView for Articles {
    ///     fn mount(_: &mut Socket<Self>, _: &Params, _: &Session) -> Result {
    ///         Ok(())
    ///     }
    ///
    ///     // Reached on mount and after every patch: the URL is the source of truth.
    ///     fn handle_params(socket: &mut Socket<Self>, params: &Params, _url: &str) -> Result {
    ///         let page = params.str("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    ///         assign!(socket, page = page);
    ///         Ok(())
    ///     }
    ///
    ///     fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
    ///         match event {
    ///             "next" => {
    ///                 let next = socket.assigns().page + 1;
    ///                 socket.push_patch(format!("/articles?page={next}"));
    ///             }
    ///             // Another view of the same live session: the flash goes along.
    ///             "open" => {
    ///                 let id = value["id"].as_str().unwrap_or_default();
    ///                 socket.push_navigate(format!("/articles/{id}"));
    ///             }
    ///             _ => {}
    ///         }
    ///         Ok(())
    ///     }
    ///
    ///     fn render(assigns: &Tracked<'_, Self>) -> Rendered {
    ///         html!(r#"<p>Page {@page}</p><button phx-click="next">Next</button>"#)
    ///     }
    /// }
    /// # let mut socket = Socket::<Articles>::new(true, None);
    /// # Articles::handle_params(&mut socket, &Params::from_json(r#"{"page": "2"}"#), "/articles?page=2")?;
    /// # assert_eq!(socket.assigns().page, 2);
    /// # Articles::handle_event(&mut socket, "next", &json!({}))?;
    /// # Ok::<(), livewasm_sdk::Error>(())
    /// ```
    pub fn push_patch(&mut self, to: impl Into<String>) {
        self.navigation = Some(Navigation::patch(to.into(), false));
    }

    /// [`Self::push_patch`] replacing the current history entry (`replace: true`).
    pub fn push_patch_replace(&mut self, to: impl Into<String>) {
        self.navigation = Some(Navigation::patch(to.into(), true));
    }

    /// Navigates live to another view of the same live session (`push_navigate`); the flash
    /// goes along.
    pub fn push_navigate(&mut self, to: impl Into<String>) {
        self.navigation = Some(Navigation::navigate(to.into(), false));
    }

    /// [`Self::push_navigate`] replacing the current history entry.
    pub fn push_navigate_replace(&mut self, to: impl Into<String>) {
        self.navigation = Some(Navigation::navigate(to.into(), true));
    }

    /// A full page load of `to` (`redirect(to: …)`), a path of this site or an external
    /// `http(s)` URL (`redirect(external: …)`); the flash goes along.
    pub fn redirect(&mut self, to: impl Into<String>) {
        self.navigation = Some(Navigation::redirect(to.into()));
    }

    #[doc(hidden)]
    pub fn __take_navigation(&mut self) -> Option<Navigation> {
        self.navigation.take()
    }

    /// A value an `on_mount` hook assigned under `key` (e.g. `current_user`), decoded.
    ///
    /// ```
    /// use livewasm_sdk::prelude::*;
    ///
    /// #[derive(Assigns, Default)]
    /// pub struct Profile {
    ///     user: String,
    /// }
    ///
    /// // The live session's hook ran `socket.assign("current_user", "ada")` (see `OnMount`).
    /// fn mount(socket: &mut Socket<Profile>, _: &Params, _: &Session) -> Result {
    ///     let user: Option<String> = socket.mount_assign("current_user");
    ///     assign!(socket, user = user.unwrap_or_else(|| "guest".into()));
    ///     Ok(())
    /// }
    /// # let mut socket = Socket::<Profile>::new(false, None);
    /// # mount(&mut socket, &Params::default(), &Session::default())?;
    /// # assert_eq!(socket.assigns().user, "guest");
    /// # Ok::<(), livewasm_sdk::Error>(())
    /// ```
    pub fn mount_assign<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.mount_assigns
            .get(key)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// Everything the `on_mount` hooks assigned.
    pub fn mount_assigns(&self) -> &Map<String, Value> {
        &self.mount_assigns
    }

    /// Computes a new value from the field's current value and all the assigns, and sets it if
    /// it differs (used by [`crate::update_with!`]).
    #[doc(hidden)]
    pub fn __update_with<T: PartialEq>(
        &mut self,
        bit: u128,
        field: impl FnOnce(&mut V) -> &mut T,
        current: impl FnOnce(&V) -> &T,
        f: impl FnOnce(&T, &V) -> T,
    ) {
        let value = f(current(&self.assigns), &self.assigns);
        self.__assign(bit, field, value);
    }

    /// Registers a temporary assign: after every render, `reset` puts the field back to its
    /// default without marking it changed (used by [`crate::temporary_assigns!`]).
    #[doc(hidden)]
    pub fn __temporary(&mut self, reset: fn(&mut V)) {
        self.temporary.push(reset);
    }

    /// Sets the page title (sent as `t`): `socket.page_title(format!("{} · Articles", title))`.
    pub fn page_title(&mut self, title: impl Into<String>) {
        let title = title.into();
        if self.title.as_deref() != Some(title.as_str()) {
            self.title = Some(title);
        }
    }

    /// Replies to the current event (a hook's `pushEvent` promise resolves with it).
    pub fn reply(&mut self, value: impl Serialize) {
        self.reply = serde_json::to_value(value).ok();
    }

    /// Dispatches `phx:<event>` on the client's window with `payload` (`push_event`); a client
    /// hook receives it in `this.handleEvent(event, …)`. A host call: it runs inside a view.
    ///
    /// ```no_run
    /// use livewasm_sdk::prelude::*;
    ///
    /// # #[derive(Assigns, Default)] pub struct Game { score: u32 }
    /// fn handle_event(socket: &mut Socket<Game>, event: &str, value: &Value) -> Result {
    ///     if event == "hit" {
    ///         update!(socket, score, |s| *s += 10);
    ///         let score = socket.assigns().score;
    ///         socket.push_event("score", json!({ "score": score }));
    ///         // The hook's `pushEvent("hit", …, reply => …)` gets this:
    ///         socket.reply(json!({ "ok": true, "at": value["at"] }));
    ///     }
    ///     Ok(())
    /// }
    /// # let mut socket = Socket::<Game>::new(true, None);
    /// # handle_event(&mut socket, "hit", &json!({"at": 3}))?;
    /// # Ok::<(), livewasm_sdk::Error>(())
    /// ```
    pub fn push_event(&mut self, event: &str, payload: impl Serialize) {
        let payload = serde_json::to_string(&payload).unwrap_or_else(|_| "null".into());
        crate::bindings::livewasm::view::effects::push_event(event, &payload);
    }

    #[doc(hidden)]
    pub fn __take_reply(&mut self) -> Option<Value> {
        self.reply.take()
    }

    #[doc(hidden)]
    pub fn __take_title(&mut self) -> Option<String> {
        self.title.take()
    }

    /// True when the field of `bit` was ever set (used by [`crate::assign_new!`]).
    #[doc(hidden)]
    pub fn __is_assigned(&self, bit: u128) -> bool {
        self.assigned & bit != 0
    }

    /// Marks the fields of `bits` changed again (a render that must be redone).
    #[doc(hidden)]
    pub fn __mark_changed(&mut self, bits: u128) {
        self.changed |= bits;
    }

    /// Starts a render: the assigns with the change set, which is then cleared.
    #[doc(hidden)]
    pub fn __begin_render(&mut self) -> Tracked<'_, V> {
        let changed = std::mem::take(&mut self.changed);
        Tracked {
            assigns: Held::Render(AfterRender {
                assigns: &mut self.assigns,
                temporary: &self.temporary,
            }),
            changed,
            flash: &self.flash,
            uploads: &self.uploads,
            action: self.action.as_deref(),
            myself: self.myself,
        }
    }
}

impl<V: Assigns> Socket<V> {
    /// Takes what the `on_mount` hooks assigned: each value whose key names a field of the
    /// view marked `#[on_mount]`, and fits the field's type, sets that field (as in Phoenix,
    /// where a hook's `assign` lands in the view's assigns); all of them stay readable with
    /// [`Socket::mount_assign`].
    #[doc(hidden)]
    pub fn __set_mount_assigns(&mut self, assigns: Map<String, Value>) {
        for (key, value) in &assigns {
            if let Some(bit) = self.assigns.__lw_set_json(key, value) {
                self.changed |= bit;
                self.assigned |= bit;
            }
        }
        self.mount_assigns = assigns;
    }
}

/// The flash of a [`Tracked`] built outside a socket.
static NO_FLASH: Flash = Flash::new();
/// The uploads of a [`Tracked`] built outside a socket.
static NO_UPLOADS: crate::Uploads = crate::Uploads::new();

/// How a [`Tracked`] holds the assigns.
enum Held<'a, V> {
    /// Read-only (tests, nested templates).
    Shared(&'a V),
    /// A socket's render: its temporary assigns are reset when the render ends.
    Render(AfterRender<'a, V>),
}

/// Resets a socket's temporary assigns when dropped, i.e. when its render ends.
struct AfterRender<'a, V> {
    assigns: &'a mut V,
    temporary: &'a [fn(&mut V)],
}

impl<V> Drop for AfterRender<'_, V> {
    fn drop(&mut self) {
        for reset in self.temporary {
            reset(self.assigns);
        }
    }
}

/// The assigns as a template sees them: the view's fields plus which of them changed.
/// When a socket's render ends (its `Tracked` is dropped), temporary assigns are reset.
///
/// A dynamic that reads only assigns which did not change is not evaluated: it renders as
/// [`Dyn::Unchanged`](crate::Dyn::Unchanged) and the host keeps what the client shows.
///
/// ```
/// use livewasm_sdk::prelude::*;
/// use livewasm_sdk::Dyn;
///
/// #[derive(Assigns, Default)]
/// pub struct Clock {
///     time: String,
///     zone: String,
/// }
///
/// fn render(assigns: &Tracked<'_, Clock>) -> Rendered {
///     html!(r#"<p>{@time} <small>{@zone}</small></p>"#)
/// }
///
/// let clock = Clock { time: "12:00".into(), zone: "UTC".into() };
/// assert_eq!(render(&Tracked::all(&clock)).to_html(), "<p>12:00 <small>UTC</small></p>");
///
/// // Only `time` (the first field, bit 0) changed: `zone` is not evaluated again.
/// let update = render(&Tracked::with_changes(&clock, 0b01));
/// assert_eq!(update.dynamics, [Dyn::Html("12:00".into()), Dyn::Unchanged]);
/// ```
pub struct Tracked<'a, V> {
    assigns: Held<'a, V>,
    changed: u128,
    flash: &'a Flash,
    uploads: &'a crate::Uploads,
    action: Option<&'a str>,
    myself: Option<crate::Myself>,
}

impl<'a, V> Tracked<'a, V> {
    /// Every field marked changed (a first render, or a test).
    pub fn all(assigns: &'a V) -> Tracked<'a, V> {
        Tracked {
            assigns: Held::Shared(assigns),
            changed: ALL,
            flash: &NO_FLASH,
            uploads: &NO_UPLOADS,
            action: None,
            myself: None,
        }
    }

    /// Only the fields in `changed` marked changed.
    pub fn with_changes(assigns: &'a V, changed: u128) -> Tracked<'a, V> {
        Tracked {
            assigns: Held::Shared(assigns),
            changed,
            flash: &NO_FLASH,
            uploads: &NO_UPLOADS,
            action: None,
            myself: None,
        }
    }

    /// The same assigns seeing `flash` (for tests of templates that show it).
    pub fn with_flash(self, flash: &'a Flash) -> Tracked<'a, V> {
        Tracked { flash, ..self }
    }

    /// The same assigns under the live action `action` (for tests of templates reading
    /// `@live_action`).
    pub fn with_live_action(self, action: Option<&'a str>) -> Tracked<'a, V> {
        Tracked { action, ..self }
    }

    /// A live component's own target (`@myself`: `phx-target={@myself}`,
    /// `JS::push(..).with_target(@myself)`); none in a view, where the attribute is left out
    /// and a push goes to the view.
    pub fn myself(&self) -> Option<crate::Myself> {
        self.myself
    }

    /// The route's live action (`@live_action`). Like the flash, slots reading it are
    /// evaluated on every render and the host sends only what changed.
    pub fn live_action(&self) -> crate::LiveAction<'a> {
        crate::LiveAction::new(self.action)
    }

    /// The view's flash (`@flash` in Phoenix). Template slots reading it read no assign, so
    /// they are evaluated on every render and the host sends them only when they changed.
    pub fn flash(&self) -> &'a Flash {
        self.flash
    }

    /// The view's uploads (`@uploads`). Like the flash, slots reading them are evaluated on
    /// every render and the host sends only what changed.
    pub fn uploads(&self) -> &'a crate::Uploads {
        self.uploads
    }

    /// The upload named `name` (`@uploads.avatar`); an empty one when never allowed.
    pub fn upload(&self, name: &str) -> &'a crate::components::UploadConfig {
        self.uploads.get(name)
    }

    /// The change set (one bit per field).
    #[doc(hidden)]
    pub fn __changed(&self) -> u128 {
        self.changed
    }
}

impl<V> Deref for Tracked<'_, V> {
    type Target = V;

    fn deref(&self) -> &V {
        match &self.assigns {
            Held::Shared(assigns) => assigns,
            Held::Render(render) => render.assigns,
        }
    }
}

/// Sets assigns, marking only the ones whose value changed:
/// `assign!(socket, temperature = 71, last_update = now)`.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// #[derive(Assigns, Default)]
/// pub struct Thermostat {
///     temperature: i64,
///     mode: String,
/// }
///
/// let mut socket = Socket::<Thermostat>::new(true, None);
/// assign!(&mut socket, temperature = 71, mode = "heat".to_string());
/// assert_eq!(socket.assigns().temperature, 71);
/// assert_eq!(socket.assigns().mode, "heat");
/// ```
#[macro_export]
macro_rules! assign {
    ($socket:expr, $($field:ident = $value:expr),+ $(,)?) => {{
        let __socket = &mut *$socket;
        $(
            let __value = $value;
            let __bit = __socket.assigns().__lw_bit(stringify!($field));
            __socket.__assign(__bit, |__a| &mut __a.$field, __value);
        )+
    }};
}

/// Changes an assign in place and marks it changed: `update!(socket, count, |c| *c += 1)`.
/// Handy for collections, which `assign!` would have to clone.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// #[derive(Assigns, Default)]
/// pub struct Chat {
///     messages: Vec<String>,
///     unread: u32,
/// }
///
/// let mut socket = Socket::<Chat>::new(true, None);
/// update!(&mut socket, messages, |m| m.push("hello".into()));
/// update!(&mut socket, unread, |n| *n += 1);
/// assert_eq!(socket.assigns().messages, ["hello"]);
/// assert_eq!(socket.assigns().unread, 1);
/// ```
#[macro_export]
macro_rules! update {
    ($socket:expr, $field:ident, $f:expr) => {{
        let __socket = &mut *$socket;
        let __bit = __socket.assigns().__lw_bit(stringify!($field));
        __socket.__update(__bit, |__a| &mut __a.$field, $f);
    }};
}

/// Sets an assign only when nothing has set it yet — not `mount`, an earlier callback, nor an
/// `on_mount` hook (whose value for a field of the same name lands in it) — computing it then
/// and only then: `assign_new!(socket, current_user, || fetch_current_user())`. As in
/// Phoenix, a field once set (even to `None`) counts as present. The closure may return the
/// field's type or anything that converts into it (a `T` for an `Option<T>` field).
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// #[derive(Assigns, Default)]
/// pub struct Settings {
///     theme: Option<String>,
///     #[on_mount]
///     page_size: u32,
/// }
///
/// let mut socket = Socket::<Settings>::new(true, None);
/// assign_new!(&mut socket, theme, || "dark".to_string());
/// assign_new!(&mut socket, theme, || "light".to_string()); // already set: not computed
/// assert_eq!(socket.assigns().theme.as_deref(), Some("dark"));
///
/// // A hook's value counts as set.
/// let mut socket = Socket::<Settings>::new(true, None);
/// let hooks = json!({"page_size": 50});
/// socket.__set_mount_assigns(hooks.as_object().cloned().unwrap_or_default());
/// assign_new!(&mut socket, page_size, || 20u32);
/// assert_eq!(socket.assigns().page_size, 50);
/// ```
#[macro_export]
macro_rules! assign_new {
    ($socket:expr, $field:ident, $f:expr) => {{
        let __socket = &mut *$socket;
        let __bit = __socket.assigns().__lw_bit(stringify!($field));
        if !__socket.__is_assigned(__bit) {
            let __value = ($f)();
            __socket.__assign(
                __bit,
                |__a| &mut __a.$field,
                ::core::convert::Into::into(__value),
            );
        }
    }};
}

/// Sets an assign from its current value and all the assigns, marking it only if it changed:
/// `update_with!(socket, max_users, |max, assigns| (*max).max(assigns.users.len()))`.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// #[derive(Assigns, Default)]
/// pub struct Room {
///     users: Vec<String>,
///     max_users: usize,
/// }
///
/// let mut socket = Socket::<Room>::new(true, None);
/// assign!(&mut socket, users = vec!["ada".to_string(), "grace".to_string()]);
/// update_with!(&mut socket, max_users, |max, assigns| (*max).max(assigns.users.len()));
/// assert_eq!(socket.assigns().max_users, 2);
/// ```
#[macro_export]
macro_rules! update_with {
    ($socket:expr, $field:ident, $f:expr) => {{
        let __socket = &mut *$socket;
        let __bit = __socket.assigns().__lw_bit(stringify!($field));
        __socket.__update_with(__bit, |__a| &mut __a.$field, |__a| &__a.$field, $f);
    }};
}

/// Declares temporary assigns: after each render these fields go back to their `Default`
/// (without being marked changed), so a large value is sent once and not kept in memory:
/// `temporary_assigns!(socket, messages)`. Call it in `mount`.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// #[derive(Assigns, Default)]
/// pub struct Log {
///     lines: Vec<String>,
/// }
///
/// fn mount(socket: &mut Socket<Log>, _: &Params, _: &Session) -> Result {
///     temporary_assigns!(socket, lines);
///     assign!(socket, lines = vec!["booted".to_string()]); // sent once, then dropped
///     Ok(())
/// }
/// # let mut socket = Socket::<Log>::new(true, None);
/// # mount(&mut socket, &Params::default(), &Session::default())?;
/// # Ok::<(), livewasm_sdk::Error>(())
/// ```
#[macro_export]
macro_rules! temporary_assigns {
    ($socket:expr, $($field:ident),+ $(,)?) => {{
        let __socket = &mut *$socket;
        $(
            __socket.__temporary(|__a| __a.$field = ::core::default::Default::default());
        )+
    }};
}
