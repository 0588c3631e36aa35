//! `attach_hook`: functions attached to a view at runtime that run before its own
//! `handle_params`, `handle_event`, `handle_info` and `handle_async` (and after each render),
//! and may handle
//! the callback themselves and halt it.
//!
//! ```
//! use livewasm_sdk::prelude::*;
//!
//! #[derive(Assigns, Default)]
//! pub struct SortableList {
//!     items: Vec<String>,
//! }
//!
//! /// Handles `reposition` events (from a client hook) before the view sees them.
//! fn handle_sort(
//!     socket: &mut Socket<SortableList>,
//!     event: &str,
//!     value: &Value,
//! ) -> Result<HookResult> {
//!     if event != "reposition" {
//!         return Ok(HookResult::Cont); // the view's handle_event runs
//!     }
//!     let (from, to) = (value["from"].as_u64(), value["to"].as_u64());
//!     if let (Some(from), Some(to)) = (from, to) {
//!         update!(socket, items, |items| {
//!             let item = items.remove(from as usize);
//!             items.insert(to as usize, item);
//!         });
//!     }
//!     socket.reply(json!({"ok": true}));
//!     Ok(HookResult::Halt) // handled: the view's handle_event does not run
//! }
//!
//! fn mount(socket: &mut Socket<SortableList>, _: &Params, _: &Session) -> Result {
//!     assign!(socket, items = vec!["a".into(), "b".into(), "c".into()]);
//!     socket.attach_hook("sortable", Hook::HandleEvent(handle_sort))?;
//!     Ok(())
//! }
//!
//! let mut socket = Socket::<SortableList>::new(true, None);
//! mount(&mut socket, &Params::default(), &Session::default())?;
//! assert!(socket.has_hook("sortable", Stage::HandleEvent));
//! // The same name cannot be attached twice to one stage.
//! assert!(socket.attach_hook("sortable", Hook::HandleEvent(handle_sort)).is_err());
//! assert!(socket.detach_hook("sortable", Stage::HandleEvent));
//!
//! // The host runs the hook before the view's `handle_event`; called directly here:
//! let result = handle_sort(&mut socket, "reposition", &json!({"from": 0, "to": 2}))?;
//! assert_eq!(result, HookResult::Halt);
//! assert_eq!(socket.assigns().items, ["b", "c", "a"]);
//! # Ok::<(), livewasm_sdk::Error>(())
//! ```
//!
//! Hooks of one stage run in the order they were attached; the first that returns
//! [`HookResult::Halt`] stops the chain and the view's own callback does not run (an event hook
//! may `socket.reply(..)` first). A name is unique per stage; [`crate::Socket::detach_hook`]
//! removes it. `on_mount` hooks attach view-independent hooks with
//! [`crate::MountSocket::attach_hook`]; those see the view through [`HookSocket`].

use std::fmt;

use serde_json::Value;

use crate::{AsyncOutcome, Error, Flash, Params, Result, Socket};

/// The callback a hook is attached to (Phoenix's `:handle_event`, `:after_render` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Before the view's `handle_params`.
    HandleParams,
    /// Before the view's `handle_event`.
    HandleEvent,
    /// Before the view's `handle_info`.
    HandleInfo,
    /// Before the view's `handle_async` (results of `start_async` tasks).
    HandleAsync,
    /// After each render of the view.
    AfterRender,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::HandleParams => "handle_params",
            Stage::HandleEvent => "handle_event",
            Stage::HandleInfo => "handle_info",
            Stage::HandleAsync => "handle_async",
            Stage::AfterRender => "after_render",
        })
    }
}

/// What a hook decides (`{:cont, socket}` / `{:halt, socket}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookResult {
    /// Go on with the next hook, then the view's own callback.
    Cont,
    /// Stop here: the callback is handled.
    Halt,
}

/// A hook on `handle_event`: the socket, the event name and its value.
pub type EventHook<V> = fn(&mut Socket<V>, &str, &Value) -> Result<HookResult>;
/// A hook on `handle_params`: the socket, the params and the URL.
pub type ParamsHook<V> = fn(&mut Socket<V>, &Params, &str) -> Result<HookResult>;
/// A hook on `handle_info`: the socket and the message.
pub type InfoHook<V> = fn(&mut Socket<V>, &Value) -> Result<HookResult>;
/// A hook on `handle_async`: the socket, the task's name and its outcome.
pub type AsyncHook<V> = fn(&mut Socket<V>, &str, &AsyncOutcome) -> Result<HookResult>;
/// A hook run after each render (e.g. to `push_event` what the page now shows).
pub type AfterRenderHook<V> = fn(&mut Socket<V>);

/// A hook written for one view type, with its stage.
pub enum Hook<V> {
    /// See [`ParamsHook`].
    HandleParams(ParamsHook<V>),
    /// See [`EventHook`].
    HandleEvent(EventHook<V>),
    /// See [`InfoHook`].
    HandleInfo(InfoHook<V>),
    /// See [`AsyncHook`].
    HandleAsync(AsyncHook<V>),
    /// See [`AfterRenderHook`].
    AfterRender(AfterRenderHook<V>),
}

impl<V> Clone for Hook<V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<V> Copy for Hook<V> {}

impl<V> Hook<V> {
    /// The stage it runs at.
    pub fn stage(&self) -> Stage {
        match self {
            Hook::HandleParams(_) => Stage::HandleParams,
            Hook::HandleEvent(_) => Stage::HandleEvent,
            Hook::HandleInfo(_) => Stage::HandleInfo,
            Hook::HandleAsync(_) => Stage::HandleAsync,
            Hook::AfterRender(_) => Stage::AfterRender,
        }
    }
}

/// What a view-independent hook (attached by an `on_mount` hook) can do with any view's socket.
pub trait HookSocket {
    /// True over the WebSocket.
    fn connected(&self) -> bool;
    /// The live action of the route.
    fn live_action(&self) -> Option<&str>;
    /// The flash.
    fn flash(&self) -> &Flash;
    /// Sets a flash message.
    fn put_flash(&mut self, kind: &str, message: &str);
    /// A value an `on_mount` hook assigned.
    fn mount_assign_value(&self, key: &str) -> Option<&Value>;
    /// Replies to the current event (a client hook's `pushEvent` gets it).
    fn reply_value(&mut self, value: Value);
    /// Dispatches `phx:<event>` on the client.
    fn push_event_value(&mut self, event: &str, payload: Value);
    /// `push_patch`.
    fn push_patch(&mut self, to: &str);
    /// `push_navigate`.
    fn push_navigate(&mut self, to: &str);
    /// A full page load of `to`.
    fn redirect(&mut self, to: &str);
}

impl<V> HookSocket for Socket<V> {
    fn connected(&self) -> bool {
        Socket::connected(self)
    }
    fn live_action(&self) -> Option<&str> {
        Socket::live_action(self)
    }
    fn flash(&self) -> &Flash {
        Socket::flash(self)
    }
    fn put_flash(&mut self, kind: &str, message: &str) {
        Socket::put_flash(self, kind, message);
    }
    fn mount_assign_value(&self, key: &str) -> Option<&Value> {
        self.mount_assigns().get(key)
    }
    fn reply_value(&mut self, value: Value) {
        self.reply(value);
    }
    fn push_event_value(&mut self, event: &str, payload: Value) {
        self.push_event(event, payload);
    }
    fn push_patch(&mut self, to: &str) {
        Socket::push_patch(self, to);
    }
    fn push_navigate(&mut self, to: &str) {
        Socket::push_navigate(self, to);
    }
    fn redirect(&mut self, to: &str) {
        Socket::redirect(self, to);
    }
}

/// A hook for any view, attached by an `on_mount` hook, with its stage.
#[derive(Debug, Clone, Copy)]
pub enum SharedHook {
    /// Before `handle_params`.
    HandleParams(fn(&mut dyn HookSocket, &Params, &str) -> Result<HookResult>),
    /// Before `handle_event`.
    HandleEvent(fn(&mut dyn HookSocket, &str, &Value) -> Result<HookResult>),
    /// Before `handle_info`.
    HandleInfo(fn(&mut dyn HookSocket, &Value) -> Result<HookResult>),
    /// Before `handle_async`.
    HandleAsync(fn(&mut dyn HookSocket, &str, &AsyncOutcome) -> Result<HookResult>),
    /// After each render.
    AfterRender(fn(&mut dyn HookSocket)),
}

impl SharedHook {
    /// The stage it runs at.
    pub fn stage(&self) -> Stage {
        match self {
            SharedHook::HandleParams(_) => Stage::HandleParams,
            SharedHook::HandleEvent(_) => Stage::HandleEvent,
            SharedHook::HandleInfo(_) => Stage::HandleInfo,
            SharedHook::HandleAsync(_) => Stage::HandleAsync,
            SharedHook::AfterRender(_) => Stage::AfterRender,
        }
    }
}

/// An attached hook: typed for the view, or shared from an `on_mount` hook.
enum Attached<V> {
    Typed(Hook<V>),
    Shared(SharedHook),
}

impl<V> Clone for Attached<V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<V> Copy for Attached<V> {}

impl<V> Attached<V> {
    fn stage(&self) -> Stage {
        match self {
            Attached::Typed(hook) => hook.stage(),
            Attached::Shared(hook) => hook.stage(),
        }
    }
}

/// The hooks attached to one view, in attachment order.
pub(crate) struct Hooks<V> {
    list: Vec<(String, Attached<V>)>,
}

impl<V> Default for Hooks<V> {
    fn default() -> Self {
        Hooks { list: Vec::new() }
    }
}

impl<V> Hooks<V> {
    /// True when no hook is attached.
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn attach(&mut self, name: &str, hook: Attached<V>) -> Result {
        let stage = hook.stage();
        if self
            .list
            .iter()
            .any(|(n, h)| n == name && h.stage() == stage)
        {
            return Err(Error::new(format!(
                "a hook named `{name}` is already attached to {stage}"
            )));
        }
        self.list.push((name.to_string(), hook));
        Ok(())
    }

    fn of(&self, stage: Stage) -> Vec<Attached<V>> {
        self.list
            .iter()
            .filter(|(_, h)| h.stage() == stage)
            .map(|(_, h)| *h)
            .collect()
    }
}

impl<V> Socket<V> {
    /// Attaches `hook` under `name` (`attach_hook(socket, name, stage, fun)`); an error when a
    /// hook of that name is already attached to the same stage.
    pub fn attach_hook(&mut self, name: &str, hook: Hook<V>) -> Result {
        self.hooks.attach(name, Attached::Typed(hook))
    }

    /// Attaches a view-independent hook (what `on_mount` hooks attach).
    pub fn attach_shared_hook(&mut self, name: &str, hook: SharedHook) -> Result {
        self.hooks.attach(name, Attached::Shared(hook))
    }

    /// Detaches the hook `name` of `stage`; false when none was attached.
    pub fn detach_hook(&mut self, name: &str, stage: Stage) -> bool {
        let before = self.hooks.list.len();
        self.hooks
            .list
            .retain(|(n, h)| !(n == name && h.stage() == stage));
        self.hooks.list.len() != before
    }

    /// True when a hook `name` is attached to `stage`.
    pub fn has_hook(&self, name: &str, stage: Stage) -> bool {
        self.hooks
            .list
            .iter()
            .any(|(n, h)| n == name && h.stage() == stage)
    }

    /// Runs the `handle_event` hooks; `Halt` when one handled the event.
    pub(crate) fn run_event_hooks(&mut self, event: &str, value: &Value) -> Result<HookResult> {
        for hook in self.hooks.of(Stage::HandleEvent) {
            let result = match hook {
                Attached::Typed(Hook::HandleEvent(f)) => f(self, event, value)?,
                Attached::Shared(SharedHook::HandleEvent(f)) => f(self, event, value)?,
                _ => HookResult::Cont,
            };
            if result == HookResult::Halt {
                return Ok(HookResult::Halt);
            }
        }
        Ok(HookResult::Cont)
    }

    /// Runs the `handle_params` hooks; `Halt` when one handled the params.
    pub(crate) fn run_params_hooks(&mut self, params: &Params, url: &str) -> Result<HookResult> {
        for hook in self.hooks.of(Stage::HandleParams) {
            let result = match hook {
                Attached::Typed(Hook::HandleParams(f)) => f(self, params, url)?,
                Attached::Shared(SharedHook::HandleParams(f)) => f(self, params, url)?,
                _ => HookResult::Cont,
            };
            if result == HookResult::Halt {
                return Ok(HookResult::Halt);
            }
        }
        Ok(HookResult::Cont)
    }

    /// Runs the `handle_info` hooks; `Halt` when one handled the message.
    pub(crate) fn run_info_hooks(&mut self, message: &Value) -> Result<HookResult> {
        for hook in self.hooks.of(Stage::HandleInfo) {
            let result = match hook {
                Attached::Typed(Hook::HandleInfo(f)) => f(self, message)?,
                Attached::Shared(SharedHook::HandleInfo(f)) => f(self, message)?,
                _ => HookResult::Cont,
            };
            if result == HookResult::Halt {
                return Ok(HookResult::Halt);
            }
        }
        Ok(HookResult::Cont)
    }

    /// Runs the `handle_async` hooks; `Halt` when one handled the outcome.
    pub(crate) fn run_async_hooks(
        &mut self,
        name: &str,
        outcome: &AsyncOutcome,
    ) -> Result<HookResult> {
        for hook in self.hooks.of(Stage::HandleAsync) {
            let result = match hook {
                Attached::Typed(Hook::HandleAsync(f)) => f(self, name, outcome)?,
                Attached::Shared(SharedHook::HandleAsync(f)) => f(self, name, outcome)?,
                _ => HookResult::Cont,
            };
            if result == HookResult::Halt {
                return Ok(HookResult::Halt);
            }
        }
        Ok(HookResult::Cont)
    }

    /// Runs the `after_render` hooks.
    pub(crate) fn run_after_render_hooks(&mut self) {
        for hook in self.hooks.of(Stage::AfterRender) {
            match hook {
                Attached::Typed(Hook::AfterRender(f)) => f(self),
                Attached::Shared(SharedHook::AfterRender(f)) => f(self),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Assigns;

    #[derive(Default)]
    struct List {
        items: Vec<&'static str>,
        seen: Vec<String>,
        rendered: u32,
    }

    impl Assigns for List {
        const FIELDS: u32 = 3;
    }

    fn sort(socket: &mut Socket<List>, event: &str, value: &Value) -> Result<HookResult> {
        if event != "sort" {
            return Ok(HookResult::Cont);
        }
        let from = value["from"].as_u64().unwrap_or(0) as usize;
        let item = socket.assigns_mut().items.remove(from);
        socket.assigns_mut().items.push(item);
        socket.reply(serde_json::json!({"ok": true}));
        Ok(HookResult::Halt)
    }

    fn log(socket: &mut Socket<List>, event: &str, _: &Value) -> Result<HookResult> {
        socket.assigns_mut().seen.push(event.to_string());
        Ok(HookResult::Cont)
    }

    fn shared_log(socket: &mut dyn HookSocket, event: &str, _: &Value) -> Result<HookResult> {
        socket.put_flash("info", event);
        Ok(HookResult::Cont)
    }

    fn count(socket: &mut Socket<List>) {
        socket.assigns_mut().rendered += 1;
    }

    #[test]
    fn hooks_run_in_order_and_a_halt_stops_the_chain() {
        let mut socket: Socket<List> = Socket::new(true, None);
        socket.assigns_mut().items = vec!["a", "b", "c"];
        socket
            .attach_hook("logger", Hook::HandleEvent(log))
            .unwrap();
        socket
            .attach_hook("sortable", Hook::HandleEvent(sort))
            .unwrap();
        socket
            .attach_shared_hook("audit", SharedHook::HandleEvent(shared_log))
            .unwrap();
        socket
            .attach_hook("count", Hook::AfterRender(count))
            .unwrap();
        assert!(
            socket
                .attach_hook("logger", Hook::HandleEvent(log))
                .is_err()
        );
        // The same name on another stage is a different hook.
        socket
            .attach_hook("logger", Hook::AfterRender(count))
            .unwrap();

        let value = serde_json::json!({"from": 0});
        assert_eq!(
            socket.run_event_hooks("sort", &value).unwrap(),
            HookResult::Halt
        );
        assert_eq!(socket.assigns().items, ["b", "c", "a"]);
        assert_eq!(socket.assigns().seen, ["sort"]);
        assert_eq!(
            socket.flash().get("info"),
            None,
            "after the halt nothing runs"
        );
        assert_eq!(socket.__take_reply(), Some(serde_json::json!({"ok": true})));

        assert_eq!(
            socket.run_event_hooks("other", &value).unwrap(),
            HookResult::Cont
        );
        assert_eq!(socket.flash().get("info"), Some("other"));

        socket.run_after_render_hooks();
        assert_eq!(socket.assigns().rendered, 2);

        assert!(socket.detach_hook("sortable", Stage::HandleEvent));
        assert!(!socket.detach_hook("sortable", Stage::HandleEvent));
        assert!(!socket.has_hook("sortable", Stage::HandleEvent));
        assert_eq!(
            socket.run_event_hooks("sort", &value).unwrap(),
            HookResult::Cont
        );
        assert_eq!(socket.assigns().items, ["b", "c", "a"], "detached");
    }

    fn on_fetch(
        socket: &mut Socket<List>,
        name: &str,
        outcome: &AsyncOutcome,
    ) -> Result<HookResult> {
        if name != "fetch" {
            return Ok(HookResult::Cont);
        }
        let label = outcome.clone().map_or_else(|e| e, |v| v.to_string());
        socket.assigns_mut().seen.push(label);
        Ok(HookResult::Halt)
    }

    fn shared_params(
        socket: &mut dyn HookSocket,
        params: &Params,
        _url: &str,
    ) -> Result<HookResult> {
        if params.str("legacy").is_some() {
            socket.push_patch("/new");
            return Ok(HookResult::Halt);
        }
        Ok(HookResult::Cont)
    }

    #[test]
    fn async_and_params_hooks_see_their_callbacks() {
        let mut socket: Socket<List> = Socket::new(true, None);
        socket
            .attach_hook("fetch", Hook::HandleAsync(on_fetch))
            .unwrap();
        socket
            .attach_shared_hook("legacy", SharedHook::HandleParams(shared_params))
            .unwrap();
        let ok: AsyncOutcome = Ok(serde_json::json!(3));
        assert_eq!(
            socket.run_async_hooks("fetch", &ok).unwrap(),
            HookResult::Halt
        );
        assert_eq!(
            socket.run_async_hooks("other", &ok).unwrap(),
            HookResult::Cont
        );
        let failed: AsyncOutcome = Err("timeout".into());
        assert_eq!(
            socket.run_async_hooks("fetch", &failed).unwrap(),
            HookResult::Halt
        );
        assert_eq!(socket.assigns().seen, ["3", "timeout"]);

        let plain = Params::from_json(r#"{"page":"1"}"#);
        assert_eq!(
            socket.run_params_hooks(&plain, "/x").unwrap(),
            HookResult::Cont
        );
        assert!(socket.__take_navigation().is_none());
        let legacy = Params::from_json(r#"{"legacy":"1"}"#);
        assert_eq!(
            socket.run_params_hooks(&legacy, "/x").unwrap(),
            HookResult::Halt
        );
        assert!(socket.__take_navigation().is_some());
    }

    fn on_tick(socket: &mut Socket<List>, message: &Value) -> Result<HookResult> {
        if message.as_str() != Some("tick") {
            return Ok(HookResult::Cont);
        }
        socket.assigns_mut().seen.push("tick".to_string());
        Ok(HookResult::Halt)
    }

    fn shared_info(socket: &mut dyn HookSocket, message: &Value) -> Result<HookResult> {
        socket.put_flash("info", &message.to_string());
        Ok(HookResult::Cont)
    }

    #[test]
    fn info_hooks_see_handle_info_and_a_halt_keeps_it_from_the_view() {
        let mut socket: Socket<List> = Socket::new(true, None);
        let tick = serde_json::json!("tick");
        let other = serde_json::json!({"kind": "other"});
        // No hook attached: the message goes on to the view.
        assert_eq!(socket.run_info_hooks(&tick).unwrap(), HookResult::Cont);
        assert!(socket.assigns().seen.is_empty());

        socket
            .attach_hook("ticker", Hook::HandleInfo(on_tick))
            .unwrap();
        socket
            .attach_shared_hook("audit", SharedHook::HandleInfo(shared_info))
            .unwrap();
        // "tick" is handled by the typed hook, which halts: the shared hook after it is skipped.
        assert_eq!(socket.run_info_hooks(&tick).unwrap(), HookResult::Halt);
        assert_eq!(socket.assigns().seen, ["tick"]);
        assert_eq!(
            socket.flash().get("info"),
            None,
            "after the halt nothing runs"
        );
        // Another message passes the typed hook, reaches the shared one and goes on to the view.
        assert_eq!(socket.run_info_hooks(&other).unwrap(), HookResult::Cont);
        assert_eq!(socket.assigns().seen, ["tick"]);
        assert_eq!(socket.flash().get("info"), Some(other.to_string().as_str()));
        // An info hook is not an event hook.
        assert_eq!(
            socket.run_event_hooks("tick", &tick).unwrap(),
            HookResult::Cont
        );
        assert_eq!(socket.assigns().seen, ["tick"]);

        assert!(socket.detach_hook("ticker", Stage::HandleInfo));
        assert_eq!(socket.run_info_hooks(&tick).unwrap(), HookResult::Cont);
        assert_eq!(socket.assigns().seen, ["tick"], "detached");
    }
}
