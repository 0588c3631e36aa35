//! The per-instance store data, and the capabilities (WIT imports) a view may call.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use wasmtime::StoreLimits;

use crate::bindings::livewasm::view::{clock, effects, log, timers, types};

/// Longest log line kept from a guest.
const MAX_LOG_LINE: usize = 4096;
/// Largest push-event payload, in bytes of JSON.
const MAX_EVENT_PAYLOAD: usize = 256 * 1024;
/// Largest timer message, in bytes of JSON.
const MAX_TIMER_MESSAGE: usize = 64 * 1024;
/// Live timers per instance.
const MAX_TIMERS: usize = 64;
/// Push events one callback may queue.
const MAX_EVENTS: usize = 256;
/// Shortest timer delay or interval.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// A timer change requested by the view.
#[derive(Debug, Clone, PartialEq)]
pub enum TimerCommand {
    /// Deliver `message` after `after`, then every `every` if set.
    Schedule {
        /// Timer id (per instance).
        id: u64,
        /// First delay.
        after: Duration,
        /// Repeat period.
        every: Option<Duration>,
        /// The message for `handle-info`.
        message: Value,
    },
    /// Stop timer `id`.
    Cancel {
        /// Timer id.
        id: u64,
    },
}

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

/// Longest navigation target.
const MAX_NAVIGATION_TARGET: usize = 8 * 1024;
/// Largest flash payload, in bytes of JSON.
const MAX_FLASH: usize = 16 * 1024;

/// What the view asked for during callbacks, for the caller to carry out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effects {
    /// Timer changes, in order.
    pub timers: Vec<TimerCommand>,
    /// Push events (`phx:<name>` on the client), in order.
    pub events: Vec<(String, Value)>,
    /// The navigation asked for (the last one wins).
    pub navigation: Option<Navigation>,
    /// Pub/sub subscriptions and broadcasts, in order.
    pub pubsub: Vec<crate::PubSubCommand>,
    /// Background tasks started or cancelled, in order.
    pub tasks: Vec<crate::TaskCommand>,
    /// Upload entries the view consumed or cancelled: `(upload ref, entry ref)`; their bytes
    /// and upload channels are to be dropped.
    pub released_uploads: Vec<(String, String)>,
}

/// Store data of one instance.
pub(crate) struct HostState {
    pub(crate) limits: StoreLimits,
    pub(crate) app_name: Arc<str>,
    pub(crate) started: Instant,
    pub(crate) effects: Effects,
    live_timers: HashSet<u64>,
    next_timer: u64,
    /// Subscriptions and running tasks (`messaging`).
    pub(crate) messaging: crate::messaging::Messaging,
    /// Where `uploads.read` finds the bytes (set by the server for connected views).
    pub(crate) upload_source: Option<Arc<dyn crate::uploads::UploadSource>>,
}

impl HostState {
    pub(crate) fn new(limits: StoreLimits, app_name: Arc<str>, started: Instant) -> HostState {
        HostState {
            limits,
            app_name,
            started,
            effects: Effects::default(),
            live_timers: HashSet::new(),
            next_timer: 0,
            messaging: Default::default(),
            upload_source: None,
        }
    }

    /// A one-shot timer fired: it is no longer known.
    pub(crate) fn timer_fired(&mut self, id: u64) {
        self.live_timers.remove(&id);
    }

    fn schedule(&mut self, ms: u32, message: String, repeat: bool) -> u64 {
        self.next_timer += 1;
        let id = self.next_timer;
        if self.live_timers.len() >= MAX_TIMERS {
            tracing::warn!(target: "livewasm::guest", app = %self.app_name, "timer refused: {MAX_TIMERS} timers already live");
            return id;
        }
        if message.len() > MAX_TIMER_MESSAGE {
            tracing::warn!(target: "livewasm::guest", app = %self.app_name, "timer refused: message of {} bytes", message.len());
            return id;
        }
        let message = match serde_json::from_str(&message) {
            Ok(message) => message,
            Err(e) => {
                tracing::warn!(target: "livewasm::guest", app = %self.app_name, "timer refused: message is not JSON: {e}");
                return id;
            }
        };
        let period = Duration::from_millis(u64::from(ms)).max(MIN_INTERVAL);
        self.live_timers.insert(id);
        self.effects.timers.push(TimerCommand::Schedule {
            id,
            after: period,
            every: repeat.then_some(period),
            message,
        });
        id
    }
}

impl types::Host for HostState {}

impl log::Host for HostState {
    fn log(&mut self, level: types::Level, message: String) {
        let mut message = message;
        if message.len() > MAX_LOG_LINE {
            let mut cut = MAX_LOG_LINE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        let app = &*self.app_name;
        match level {
            types::Level::Trace => tracing::trace!(target: "livewasm::guest", app, "{message}"),
            types::Level::Debug => tracing::debug!(target: "livewasm::guest", app, "{message}"),
            types::Level::Info => tracing::info!(target: "livewasm::guest", app, "{message}"),
            types::Level::Warn => tracing::warn!(target: "livewasm::guest", app, "{message}"),
            types::Level::Error => tracing::error!(target: "livewasm::guest", app, "{message}"),
        }
    }
}

impl clock::Host for HostState {
    fn now_ms(&mut self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    fn monotonic_ns(&mut self) -> u64 {
        self.started.elapsed().as_nanos() as u64
    }
}

impl timers::Host for HostState {
    fn send_after(&mut self, ms: u32, message: String) -> u64 {
        self.schedule(ms, message, false)
    }

    fn send_interval(&mut self, ms: u32, message: String) -> u64 {
        self.schedule(ms, message, true)
    }

    fn cancel(&mut self, id: u64) -> bool {
        let known = self.live_timers.remove(&id);
        if known {
            self.effects.timers.push(TimerCommand::Cancel { id });
        }
        known
    }
}

impl effects::Host for HostState {
    fn push_event(&mut self, event: String, payload: String) {
        if self.effects.events.len() >= MAX_EVENTS || payload.len() > MAX_EVENT_PAYLOAD {
            tracing::warn!(target: "livewasm::guest", app = %self.app_name, event, "push_event dropped: too many or too large");
            return;
        }
        match serde_json::from_str(&payload) {
            Ok(payload) => self.effects.events.push((event, payload)),
            Err(e) => {
                tracing::warn!(target: "livewasm::guest", app = %self.app_name, event, "push_event dropped: payload is not JSON: {e}")
            }
        }
    }

    fn navigate(&mut self, kind: types::NavigationKind, to: String, replace: bool, flash: String) {
        if to.len() > MAX_NAVIGATION_TARGET || flash.len() > MAX_FLASH {
            tracing::warn!(target: "livewasm::guest", app = %self.app_name, "navigation dropped: target or flash too large");
            return;
        }
        let flash = match serde_json::from_str::<Value>(&flash) {
            Ok(Value::Object(map)) => Value::Object(map),
            Ok(_) => Value::Object(serde_json::Map::new()),
            Err(e) => {
                tracing::warn!(target: "livewasm::guest", app = %self.app_name, "navigation flash is not JSON: {e}");
                Value::Object(serde_json::Map::new())
            }
        };
        let kind = match kind {
            types::NavigationKind::Patch => NavigationKind::Patch,
            types::NavigationKind::Navigate => NavigationKind::Navigate,
            types::NavigationKind::Redirect => NavigationKind::Redirect,
        };
        self.effects.navigation = Some(Navigation {
            kind,
            to,
            replace,
            flash,
        });
    }
}
