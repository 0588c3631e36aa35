//! The `pubsub` and `tasks` capabilities: what a view asks for is checked against the limits
//! here and recorded as [`PubSubCommand`]s and [`TaskCommand`]s for the server to carry out.

use std::collections::HashSet;

use serde_json::Value;

use crate::bindings::livewasm::view::{pubsub, tasks};
use crate::host_state::HostState;

/// Topics one view may be subscribed to at once.
pub const MAX_TOPICS: usize = 32;
/// Longest topic name, in bytes.
pub const MAX_TOPIC_BYTES: usize = 256;
/// Largest broadcast message, in bytes of JSON.
pub const MAX_BROADCAST_BYTES: usize = 64 * 1024;
/// Broadcasts one callback may send.
pub const MAX_BROADCASTS: usize = 64;
/// Tasks one view may have running at once.
pub const MAX_TASKS: usize = 16;
/// Largest task argument, in bytes of JSON.
pub const MAX_TASK_ARGS_BYTES: usize = 64 * 1024;
/// Longest task or task-name string, in bytes.
const MAX_TASK_NAME_BYTES: usize = 256;

/// A pub/sub change requested by a view.
#[derive(Debug, Clone, PartialEq)]
pub enum PubSubCommand {
    /// Start receiving messages broadcast on the topic.
    Subscribe(String),
    /// Stop receiving them.
    Unsubscribe(String),
    /// Deliver `message` to the topic's subscribers of the same app.
    Broadcast {
        /// The topic.
        topic: String,
        /// The message for their `handle-info`.
        message: Value,
        /// False for `broadcast-from`: every subscriber but the sender.
        include_self: bool,
    },
}

/// A background task change requested by a view.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskCommand {
    /// Run task `task` with `args`; its result goes to `handle-async(name, …)`.
    Start {
        /// The name the result is delivered under (replaces a running task of that name).
        name: String,
        /// Which task of the app (`run-task`'s `task`).
        task: String,
        /// Its argument.
        args: Value,
    },
    /// Cancel the task running under `name`: its result becomes the error `cancelled`.
    Cancel {
        /// The name it runs under.
        name: String,
    },
}

/// Per-instance bookkeeping of subscriptions and running tasks (to enforce the limits).
#[derive(Debug, Default)]
pub(crate) struct Messaging {
    topics: HashSet<String>,
    tasks: HashSet<String>,
    broadcasts: usize,
}

impl Messaging {
    /// A new callback starts: its broadcast budget is whole again.
    pub(crate) fn new_callback(&mut self) {
        self.broadcasts = 0;
    }

    /// The task under `name` finished (its result is being delivered).
    pub(crate) fn task_done(&mut self, name: &str) {
        self.tasks.remove(name);
    }
}

fn json_within(text: &str, limit: usize, what: &str) -> Result<Value, String> {
    if text.len() > limit {
        return Err(format!(
            "{what} of {} bytes exceeds the limit of {limit} bytes",
            text.len()
        ));
    }
    serde_json::from_str(text).map_err(|e| format!("{what} is not JSON: {e}"))
}

impl HostState {
    fn broadcast_checked(
        &mut self,
        topic: String,
        message: String,
        include_self: bool,
    ) -> Result<(), String> {
        check_topic(&topic)?;
        if self.messaging.broadcasts >= MAX_BROADCASTS {
            return Err(format!(
                "too many broadcasts: at most {MAX_BROADCASTS} per callback"
            ));
        }
        let message = json_within(&message, MAX_BROADCAST_BYTES, "broadcast message")?;
        self.messaging.broadcasts += 1;
        self.effects.pubsub.push(PubSubCommand::Broadcast {
            topic,
            message,
            include_self,
        });
        Ok(())
    }
}

fn check_topic(topic: &str) -> Result<(), String> {
    if topic.is_empty() {
        return Err("the topic is empty".into());
    }
    if topic.len() > MAX_TOPIC_BYTES {
        return Err(format!(
            "topic of {} bytes exceeds the limit of {MAX_TOPIC_BYTES} bytes",
            topic.len()
        ));
    }
    Ok(())
}

impl pubsub::Host for HostState {
    fn subscribe(&mut self, topic: String) -> Result<(), String> {
        check_topic(&topic)?;
        if self.messaging.topics.contains(&topic) {
            return Ok(());
        }
        if self.messaging.topics.len() >= MAX_TOPICS {
            return Err(format!(
                "too many topics: a view may subscribe to at most {MAX_TOPICS}"
            ));
        }
        self.messaging.topics.insert(topic.clone());
        self.effects.pubsub.push(PubSubCommand::Subscribe(topic));
        Ok(())
    }

    fn unsubscribe(&mut self, topic: String) -> bool {
        let known = self.messaging.topics.remove(&topic);
        if known {
            self.effects.pubsub.push(PubSubCommand::Unsubscribe(topic));
        }
        known
    }

    fn broadcast(&mut self, topic: String, message: String) -> Result<(), String> {
        self.broadcast_checked(topic, message, true)
    }

    fn broadcast_from(&mut self, topic: String, message: String) -> Result<(), String> {
        self.broadcast_checked(topic, message, false)
    }
}

impl tasks::Host for HostState {
    fn start(&mut self, name: String, task: String, args: String) -> Result<(), String> {
        if name.is_empty() || name.len() > MAX_TASK_NAME_BYTES {
            return Err(format!(
                "a task name must have 1 to {MAX_TASK_NAME_BYTES} bytes"
            ));
        }
        if task.is_empty() || task.len() > MAX_TASK_NAME_BYTES {
            return Err(format!("a task must have 1 to {MAX_TASK_NAME_BYTES} bytes"));
        }
        if !self.messaging.tasks.contains(&name) && self.messaging.tasks.len() >= MAX_TASKS {
            return Err(format!(
                "too many tasks: a view may run at most {MAX_TASKS} at once"
            ));
        }
        let args = json_within(&args, MAX_TASK_ARGS_BYTES, "task argument")?;
        self.messaging.tasks.insert(name.clone());
        self.effects
            .tasks
            .push(TaskCommand::Start { name, task, args });
        Ok(())
    }

    fn cancel(&mut self, name: String) -> bool {
        let known = self.messaging.tasks.remove(&name);
        if known {
            self.effects.tasks.push(TaskCommand::Cancel { name });
        }
        known
    }
}

impl crate::App {
    /// Runs task `task` with `args` in a fresh instance of this app (its own fuel, deadline and
    /// memory), then drops the instance. A trap, an exhausted pool or the task's own error all
    /// become an `Err` naming the reason; the caller's view is never affected.
    pub fn run_task(&self, task: &str, args: &Value) -> Result<Value, String> {
        let mut instance = self
            .instantiate()
            .map_err(|e| format!("the task could not start: {e}"))?;
        match instance.run_task(task, args) {
            Ok(result) => result,
            Err(crate::CallError::Trap { kind, .. }) => Err(format!("the task crashed ({kind:?})")),
            Err(other) => Err(format!("the task failed: {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use super::*;
    use pubsub::Host as _;
    use tasks::Host as _;

    fn state() -> HostState {
        HostState::new(
            wasmtime::StoreLimitsBuilder::new().build(),
            Arc::from("test"),
            Instant::now(),
        )
    }

    #[test]
    fn topics_per_view_are_capped_with_a_clear_error() {
        let mut state = state();
        for n in 0..MAX_TOPICS {
            state.subscribe(format!("t{n}")).expect("within the cap");
        }
        // Subscribing again to a known topic is not a new one.
        state.subscribe("t0".into()).expect("already subscribed");
        let error = state
            .subscribe("one-more".into())
            .expect_err("over the cap");
        assert!(error.contains("at most 32"), "{error}");
        assert!(state.unsubscribe("t0".into()));
        assert!(!state.unsubscribe("t0".into()));
        state.subscribe("one-more".into()).expect("room again");
        let long = "x".repeat(MAX_TOPIC_BYTES + 1);
        assert!(state.subscribe(long).is_err());
        assert!(state.subscribe(String::new()).is_err());
        assert_eq!(state.effects.pubsub.len(), MAX_TOPICS + 2);
    }

    #[test]
    fn broadcasts_are_checked_for_size_json_and_count() {
        let mut state = state();
        let big = format!("\"{}\"", "a".repeat(MAX_BROADCAST_BYTES));
        let error = state.broadcast("t".into(), big).expect_err("too large");
        assert!(error.contains("exceeds the limit"), "{error}");
        assert!(state.broadcast("t".into(), "{not json".into()).is_err());
        state
            .broadcast_from("t".into(), r#"{"n":1}"#.into())
            .expect("fits");
        assert_eq!(
            state.effects.pubsub,
            vec![PubSubCommand::Broadcast {
                topic: "t".into(),
                message: serde_json::json!({"n": 1}),
                include_self: false,
            }]
        );
        for _ in 1..MAX_BROADCASTS {
            state
                .broadcast("t".into(), "1".into())
                .expect("within budget");
        }
        assert!(state.broadcast("t".into(), "1".into()).is_err());
        state.messaging.new_callback();
        state
            .broadcast("t".into(), "1".into())
            .expect("a new callback, a new budget");
    }

    #[test]
    fn tasks_are_capped_and_cancel_knows_only_running_ones() {
        let mut state = state();
        for n in 0..MAX_TASKS {
            state
                .start(format!("job{n}"), "task".into(), "null".into())
                .expect("within the cap");
        }
        // Restarting a running name does not count twice.
        state
            .start("job0".into(), "task".into(), "1".into())
            .expect("restart");
        let error = state
            .start("extra".into(), "task".into(), "null".into())
            .expect_err("over the cap");
        assert!(error.contains("at most 16"), "{error}");
        assert!(state.cancel("job1".into()));
        assert!(!state.cancel("job1".into()));
        state.messaging.task_done("job2");
        assert!(!state.cancel("job2".into()));
        let args = format!("\"{}\"", "a".repeat(MAX_TASK_ARGS_BYTES));
        assert!(state.start("big".into(), "task".into(), args).is_err());
    }
}
