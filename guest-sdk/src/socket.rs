//! [`Socket`]: a view's assigns with change tracking, and its effects on the client.

use std::ops::Deref;

use serde::Serialize;
use serde_json::Value;

use crate::Assigns;

/// All bits set: everything changed.
const ALL: u128 = u128::MAX;

/// The view's state as callbacks see it.
pub struct Socket<V> {
    assigns: V,
    changed: u128,
    connected: bool,
    action: Option<String>,
    reply: Option<Value>,
    title: Option<String>,
}

impl<V: Assigns + Default> Socket<V> {
    /// A fresh socket; everything renders the first time.
    pub fn new(connected: bool, action: Option<String>) -> Socket<V> {
        Socket {
            assigns: V::default(),
            changed: ALL,
            connected,
            action,
            reply: None,
            title: None,
        }
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
    }

    /// Sets the page title (sent as `t`).
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

    /// Dispatches `phx:<event>` on the client's window with `payload` (`push_event`).
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

    /// Starts a render: the assigns with the change set, which is then cleared.
    #[doc(hidden)]
    pub fn __begin_render(&mut self) -> Tracked<'_, V> {
        let changed = std::mem::take(&mut self.changed);
        Tracked {
            assigns: &self.assigns,
            changed,
        }
    }
}

/// The assigns as a template sees them: the view's fields plus which of them changed.
pub struct Tracked<'a, V> {
    assigns: &'a V,
    changed: u128,
}

impl<'a, V> Tracked<'a, V> {
    /// Every field marked changed (a first render, or a test).
    pub fn all(assigns: &'a V) -> Tracked<'a, V> {
        Tracked {
            assigns,
            changed: ALL,
        }
    }

    /// Only the fields in `changed` marked changed.
    pub fn with_changes(assigns: &'a V, changed: u128) -> Tracked<'a, V> {
        Tracked { assigns, changed }
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
        self.assigns
    }
}

/// Sets assigns, marking only the ones whose value changed:
/// `assign!(socket, temperature = 71, last_update = now)`.
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
#[macro_export]
macro_rules! update {
    ($socket:expr, $field:ident, $f:expr) => {{
        let __socket = &mut *$socket;
        let __bit = __socket.assigns().__lw_bit(stringify!($field));
        __socket.__update(__bit, |__a| &mut __a.$field, $f);
    }};
}
