//! The `timers` capability: `send-after` and `send-interval` record [`TimerCommand`]s for the
//! server to schedule; the messages come back through `handle-info`.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::bindings::livewasm::view::timers;

/// Live timers per instance.
pub const MAX_TIMERS: usize = 64;
/// Largest timer message, in bytes of JSON.
pub const MAX_TIMER_MESSAGE: usize = 64 * 1024;
/// Shortest timer delay or interval.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

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

/// The timers of one instance: which are live, and the commands not yet taken.
pub(crate) struct TimersState {
    app: Arc<str>,
    live: HashSet<u64>,
    next: u64,
    commands: Vec<TimerCommand>,
}

impl TimersState {
    /// No timers yet; refusals are logged under `app`.
    pub(crate) fn new(app: Arc<str>) -> TimersState {
        TimersState {
            app,
            live: HashSet::new(),
            next: 0,
            commands: Vec::new(),
        }
    }

    /// A one-shot timer fired: it is no longer live.
    pub(crate) fn fired(&mut self, id: u64) {
        self.live.remove(&id);
    }

    /// The commands recorded since the last call, in order.
    pub(crate) fn take_commands(&mut self) -> Vec<TimerCommand> {
        std::mem::take(&mut self.commands)
    }

    /// Schedules a timer; a refused one still gets an id (the guest's API cannot fail), and a
    /// log line says why.
    fn schedule(&mut self, ms: u32, message: String, repeat: bool) -> u64 {
        self.next += 1;
        let id = self.next;
        if self.live.len() >= MAX_TIMERS {
            tracing::warn!(target: "livewasm::guest", app = %self.app, "timer refused: {MAX_TIMERS} timers already live");
            return id;
        }
        if message.len() > MAX_TIMER_MESSAGE {
            tracing::warn!(target: "livewasm::guest", app = %self.app, "timer refused: message of {} bytes", message.len());
            return id;
        }
        let message = match serde_json::from_str(&message) {
            Ok(message) => message,
            Err(e) => {
                tracing::warn!(target: "livewasm::guest", app = %self.app, "timer refused: message is not JSON: {e}");
                return id;
            }
        };
        let period = Duration::from_millis(u64::from(ms)).max(MIN_INTERVAL);
        self.live.insert(id);
        self.commands.push(TimerCommand::Schedule {
            id,
            after: period,
            every: repeat.then_some(period),
            message,
        });
        id
    }
}

impl timers::Host for TimersState {
    fn send_after(&mut self, ms: u32, message: String) -> u64 {
        self.schedule(ms, message, false)
    }

    fn send_interval(&mut self, ms: u32, message: String) -> u64 {
        self.schedule(ms, message, true)
    }

    fn cancel(&mut self, id: u64) -> bool {
        let known = self.live.remove(&id);
        if known {
            self.commands.push(TimerCommand::Cancel { id });
        }
        known
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use timers::Host as _;

    #[test]
    fn timers_are_scheduled_bounded_and_cancelled() {
        let mut state = TimersState::new(Arc::from("test"));
        let once = state.send_after(0, r#"{"tick":1}"#.into());
        let every = state.send_interval(50, "2".into());
        assert_eq!(
            state.take_commands(),
            vec![
                TimerCommand::Schedule {
                    id: once,
                    after: MIN_INTERVAL,
                    every: None,
                    message: serde_json::json!({"tick": 1}),
                },
                TimerCommand::Schedule {
                    id: every,
                    after: Duration::from_millis(50),
                    every: Some(Duration::from_millis(50)),
                    message: serde_json::json!(2),
                },
            ]
        );
        // Not JSON, too large: refused, nothing recorded.
        state.send_after(10, "{".into());
        state.send_after(10, format!("\"{}\"", "a".repeat(MAX_TIMER_MESSAGE)));
        assert!(state.take_commands().is_empty());
        state.fired(once);
        assert!(!state.cancel(once));
        assert!(state.cancel(every));
        assert_eq!(
            state.take_commands(),
            vec![TimerCommand::Cancel { id: every }]
        );
        for _ in 0..MAX_TIMERS + 3 {
            state.send_interval(10, "0".into());
        }
        assert_eq!(state.take_commands().len(), MAX_TIMERS);
    }
}
