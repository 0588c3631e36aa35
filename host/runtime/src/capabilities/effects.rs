//! The `effects` capability: push events and navigation, recorded for the server to send with
//! the callback's reply or diff.

use std::sync::Arc;

use serde_json::Value;

use crate::bindings::livewasm::view::{effects, types};
use crate::capabilities::budget::Budget;

/// Push events one callback may queue.
pub const MAX_EVENTS: usize = 256;
/// Longest push-event name, in bytes.
pub const MAX_EVENT_NAME: usize = 256;
/// Largest push-event payload, in bytes of JSON.
pub const MAX_EVENT_PAYLOAD: usize = 256 * 1024;
/// Longest navigation target, in bytes.
pub const MAX_NAVIGATION_TARGET: usize = 8 * 1024;
/// Largest flash payload, in bytes of JSON.
pub const MAX_FLASH: usize = 16 * 1024;

/// How a view asked to navigate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NavigationKind {
    /// `push_patch`: same view, new URL.
    Patch,
    /// `push_navigate`: live navigation to another view.
    Navigate,
    /// `redirect`: a full page load.
    Redirect,
}

/// A navigation the view asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Navigation {
    /// Patch, navigate or redirect.
    pub kind: NavigationKind,
    /// Target path (or external URL for a redirect).
    pub to: String,
    /// Replace the history entry instead of pushing one.
    pub replace: bool,
    /// Flash carried along (a JSON object kind → message; empty when none).
    pub flash: Value,
}

/// Push events and the navigation asked for, not yet taken.
pub(crate) struct EffectsState {
    app: Arc<str>,
    budget: Budget,
    events: Vec<(String, Value)>,
    navigation: Option<Navigation>,
}

impl EffectsState {
    /// Nothing asked for yet; drops are logged under `app`; calls charge `budget`.
    pub(crate) fn new(app: Arc<str>, budget: Budget) -> EffectsState {
        EffectsState {
            app,
            budget,
            events: Vec::new(),
            navigation: None,
        }
    }

    /// The push events recorded since the last call, in order.
    pub(crate) fn take_events(&mut self) -> Vec<(String, Value)> {
        std::mem::take(&mut self.events)
    }

    /// The navigation asked for since the last call (the last one wins).
    pub(crate) fn take_navigation(&mut self) -> Option<Navigation> {
        self.navigation.take()
    }
}

impl effects::Host for EffectsState {
    fn push_event(&mut self, event: String, payload: String) -> wasmtime::Result<()> {
        self.budget
            .command("effects.push-event", event.len() + payload.len())?;
        if self.events.len() >= MAX_EVENTS
            || payload.len() > MAX_EVENT_PAYLOAD
            || event.len() > MAX_EVENT_NAME
        {
            tracing::warn!(target: "livewasm::guest", app = %self.app, "push_event dropped: too many or too large");
            return Ok(());
        }
        match serde_json::from_str(&payload) {
            Ok(payload) => self.events.push((event, payload)),
            Err(e) => {
                tracing::warn!(target: "livewasm::guest", app = %self.app, event, "push_event dropped: payload is not JSON: {e}")
            }
        }
        Ok(())
    }

    fn navigate(
        &mut self,
        kind: types::NavigationKind,
        to: String,
        replace: bool,
        flash: String,
    ) -> wasmtime::Result<()> {
        self.budget
            .command("effects.navigate", to.len() + flash.len())?;
        if to.len() > MAX_NAVIGATION_TARGET || flash.len() > MAX_FLASH {
            tracing::warn!(target: "livewasm::guest", app = %self.app, "navigation dropped: target or flash too large");
            return Ok(());
        }
        let flash = match serde_json::from_str::<Value>(&flash) {
            Ok(Value::Object(map)) => Value::Object(map),
            Ok(_) => Value::Object(serde_json::Map::new()),
            Err(e) => {
                tracing::warn!(target: "livewasm::guest", app = %self.app, "navigation flash is not JSON: {e}");
                Value::Object(serde_json::Map::new())
            }
        };
        self.navigation = Some(Navigation {
            kind: kind.into(),
            to,
            replace,
            flash,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use effects::Host as _;
    use serde_json::json;

    #[test]
    fn events_are_bounded_and_navigation_keeps_the_last() {
        let mut state = EffectsState::new(Arc::from("test"), Budget::default());
        state
            .push_event("saved".into(), r#"{"id":1}"#.into())
            .expect("within budget");
        state
            .push_event("bad".into(), "{".into())
            .expect("within budget");
        state
            .push_event("big".into(), "1".repeat(MAX_EVENT_PAYLOAD + 1))
            .expect("within budget");
        assert_eq!(
            state.take_events(),
            vec![("saved".into(), json!({"id": 1}))]
        );
        for _ in 0..MAX_EVENTS + 1 {
            state
                .push_event("e".into(), "null".into())
                .expect("within budget");
        }
        assert_eq!(state.take_events().len(), MAX_EVENTS);

        state
            .navigate(
                types::NavigationKind::Patch,
                "/a".into(),
                false,
                "{}".into(),
            )
            .expect("within budget");
        state
            .navigate(
                types::NavigationKind::Redirect,
                "/b".into(),
                true,
                r#"{"info":"hi"}"#.into(),
            )
            .expect("within budget");
        state
            .navigate(
                types::NavigationKind::Navigate,
                "x".repeat(MAX_NAVIGATION_TARGET + 1),
                false,
                "{}".into(),
            )
            .expect("within budget");
        assert_eq!(
            state.take_navigation(),
            Some(Navigation {
                kind: NavigationKind::Redirect,
                to: "/b".into(),
                replace: true,
                flash: json!({"info": "hi"}),
            })
        );
        assert_eq!(state.take_navigation(), None);
        // A flash that is not an object travels as an empty one.
        state
            .navigate(
                types::NavigationKind::Patch,
                "/c".into(),
                false,
                "[1]".into(),
            )
            .expect("within budget");
        assert_eq!(state.take_navigation().map(|n| n.flash), Some(json!({})));
    }
}
