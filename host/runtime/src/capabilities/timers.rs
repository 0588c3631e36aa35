//! The `timers` capability: `send-after` and `send-interval` record [`TimerCommand`]s for the
//! server to schedule; the messages come back through `handle-info`.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::bindings::livewasm::view::timers;
use crate::capabilities::budget::Budget;
use crate::json_text::JsonText;

/// Live timers per instance.
pub const MAX_TIMERS: usize = 64;
/// Largest timer message, in bytes of JSON.
pub const MAX_TIMER_MESSAGE: usize = 64 * 1024;
/// Shortest interval of a repeating timer. A one-shot timer may be due at once (`0` ms is
/// Phoenix's `send(self(), msg)`: delivered right after the current callback's render).
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
        /// The message for `handle-info` (every tick of an interval shares its text).
        message: JsonText,
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
    budget: Budget,
    live: HashSet<u64>,
    next: u64,
    commands: Vec<TimerCommand>,
}

impl TimersState {
    /// No timers yet; refusals are logged under `app`; calls charge `budget`.
    pub(crate) fn new(app: Arc<str>, budget: Budget) -> TimersState {
        TimersState {
            app,
            budget,
            live: HashSet::new(),
            next: 0,
            commands: Vec::new(),
        }
    }

    /// A one-shot timer fired: it is no longer live.
    pub(crate) fn fired(&mut self, id: u64) {
        self.live.remove(&id);
    }

    /// The live timers and the id counter, kept while the view hibernates.
    pub(crate) fn kept(self) -> (HashSet<u64>, u64) {
        (self.live, self.next)
    }

    /// Takes over the live timers and the id counter a hibernated view kept ([`Self::kept`]),
    /// so its timers keep their ids.
    pub(crate) fn carry(&mut self, live: HashSet<u64>, next: u64) {
        self.live = live;
        self.next = next;
    }

    /// The commands recorded since the last call, in order.
    pub(crate) fn take_commands(&mut self) -> Vec<TimerCommand> {
        std::mem::take(&mut self.commands)
    }

    /// Schedules a timer; a refused one still gets an id (the guest's API cannot fail), and a
    /// log line says why.
    fn schedule(&mut self, ms: u32, message: String, repeat: bool) -> wasmtime::Result<u64> {
        let what = if repeat {
            "timers.send-interval"
        } else {
            "timers.send-after"
        };
        self.budget.command(what, message.len())?;
        self.next += 1;
        let id = self.next;
        if self.live.len() >= MAX_TIMERS {
            tracing::warn!(target: "livewasm::guest", app = %self.app, "timer refused: {MAX_TIMERS} timers already live");
            return Ok(id);
        }
        if message.len() > MAX_TIMER_MESSAGE {
            tracing::warn!(target: "livewasm::guest", app = %self.app, "timer refused: message of {} bytes", message.len());
            return Ok(id);
        }
        let message = match JsonText::parse(message) {
            Ok(message) => message,
            Err(e) => {
                tracing::warn!(target: "livewasm::guest", app = %self.app, "timer refused: message is not JSON: {e}");
                return Ok(id);
            }
        };
        let delay = Duration::from_millis(u64::from(ms));
        let every = repeat.then(|| delay.max(MIN_INTERVAL));
        self.live.insert(id);
        self.commands.push(TimerCommand::Schedule {
            id,
            after: every.unwrap_or(delay),
            every,
            message,
        });
        Ok(id)
    }
}

impl timers::Host for TimersState {
    fn send_after(&mut self, ms: u32, message: String) -> wasmtime::Result<u64> {
        self.schedule(ms, message, false)
    }

    fn send_interval(&mut self, ms: u32, message: String) -> wasmtime::Result<u64> {
        self.schedule(ms, message, true)
    }

    fn cancel(&mut self, id: u64) -> wasmtime::Result<bool> {
        self.budget.command("timers.cancel", 0)?;
        let known = self.live.remove(&id);
        if known {
            self.commands.push(TimerCommand::Cancel { id });
        }
        Ok(known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use timers::Host as _;

    #[test]
    fn timers_are_scheduled_bounded_and_cancelled() {
        let mut state = TimersState::new(Arc::from("test"), Budget::default());
        let once = state
            .send_after(0, r#"{"tick":1}"#.into())
            .expect("within budget");
        let every = state.send_interval(50, "2".into()).expect("within budget");
        let clamped = state.send_interval(0, "3".into()).expect("within budget");
        assert_eq!(
            state.take_commands(),
            vec![
                TimerCommand::Schedule {
                    id: once,
                    after: Duration::ZERO,
                    every: None,
                    message: JsonText::from_value(&serde_json::json!({"tick": 1})),
                },
                TimerCommand::Schedule {
                    id: every,
                    after: Duration::from_millis(50),
                    every: Some(Duration::from_millis(50)),
                    message: JsonText::from_value(&serde_json::json!(2)),
                },
                TimerCommand::Schedule {
                    id: clamped,
                    after: MIN_INTERVAL,
                    every: Some(MIN_INTERVAL),
                    message: JsonText::from_value(&serde_json::json!(3)),
                },
            ]
        );
        // Not JSON, too large: refused, nothing recorded.
        state.send_after(10, "{".into()).expect("within budget");
        state
            .send_after(10, format!("\"{}\"", "a".repeat(MAX_TIMER_MESSAGE)))
            .expect("within budget");
        assert!(state.take_commands().is_empty());
        state.fired(once);
        assert!(!state.cancel(once).expect("within budget"));
        assert!(state.cancel(every).expect("within budget"));
        assert!(state.cancel(clamped).expect("within budget"));
        assert_eq!(
            state.take_commands(),
            vec![
                TimerCommand::Cancel { id: every },
                TimerCommand::Cancel { id: clamped }
            ]
        );
        for _ in 0..MAX_TIMERS + 3 {
            state.send_interval(10, "0".into()).expect("within budget");
        }
        assert_eq!(state.take_commands().len(), MAX_TIMERS);
    }

    #[test]
    fn schedule_and_cancel_churn_stops_at_the_callback_budget() {
        use crate::capabilities::budget::MAX_COMMANDS_PER_CALLBACK;
        let mut state = TimersState::new(Arc::from("test"), Budget::default());
        let mut refused = None;
        for _ in 0..MAX_COMMANDS_PER_CALLBACK {
            let churn = state
                .send_interval(10, "0".into())
                .and_then(|id| state.cancel(id));
            if let Err(error) = churn {
                refused = Some(error.to_string());
                break;
            }
        }
        let refused = refused.expect("the budget stops the churn");
        assert!(refused.contains("import budget exceeded"), "{refused}");
        assert_eq!(state.take_commands().len(), MAX_COMMANDS_PER_CALLBACK);
    }
}
