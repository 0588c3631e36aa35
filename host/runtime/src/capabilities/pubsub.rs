//! The `pubsub` capability: subscriptions and broadcasts within one app, checked against the
//! limits here and recorded as [`PubSubCommand`]s for the server's broker.

use std::collections::HashSet;

use crate::bindings::livewasm::view::pubsub;
use crate::capabilities::budget::Budget;
use crate::json_text::JsonText;

/// Topics one view may be subscribed to at once.
pub const MAX_TOPICS: usize = 32;
/// Longest topic name, in bytes.
pub const MAX_TOPIC_BYTES: usize = 256;
/// Largest broadcast message, in bytes of JSON.
pub const MAX_BROADCAST_BYTES: usize = 64 * 1024;
/// Broadcasts one callback may send.
pub const MAX_BROADCASTS: usize = 64;

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
        /// The message for their `handle-info`, as the text the view sent (shared by every
        /// subscriber).
        message: JsonText,
        /// False for `broadcast-from`: every subscriber but the sender.
        include_self: bool,
    },
}

/// One view's subscriptions, this callback's broadcast count, and the commands not yet taken.
#[derive(Debug)]
pub(crate) struct PubSubState {
    budget: Budget,
    topics: HashSet<String>,
    broadcasts: usize,
    commands: Vec<PubSubCommand>,
}

impl PubSubState {
    /// The subscribed topics, kept while the view hibernates.
    pub(crate) fn kept(self) -> HashSet<String> {
        self.topics
    }

    /// Takes over the topics a hibernated view kept ([`Self::kept`]).
    pub(crate) fn carry(&mut self, topics: HashSet<String>) {
        self.topics = topics;
    }

    /// A new callback starts: its broadcast budget is whole again.
    pub(crate) fn new_callback(&mut self) {
        self.broadcasts = 0;
    }

    /// The commands recorded since the last call, in order.
    pub(crate) fn take_commands(&mut self) -> Vec<PubSubCommand> {
        std::mem::take(&mut self.commands)
    }

    /// Calls charge `budget`.
    pub(crate) fn new(budget: Budget) -> PubSubState {
        PubSubState {
            budget,
            topics: HashSet::new(),
            broadcasts: 0,
            commands: Vec::new(),
        }
    }

    fn subscribe_checked(&mut self, topic: String) -> Result<(), String> {
        check_topic(&topic)?;
        if self.topics.contains(&topic) {
            return Ok(());
        }
        if self.topics.len() >= MAX_TOPICS {
            return Err(format!(
                "too many topics: a view may subscribe to at most {MAX_TOPICS}"
            ));
        }
        self.topics.insert(topic.clone());
        self.commands.push(PubSubCommand::Subscribe(topic));
        Ok(())
    }

    fn broadcast_checked(
        &mut self,
        topic: String,
        message: String,
        include_self: bool,
    ) -> Result<(), String> {
        check_topic(&topic)?;
        if self.broadcasts >= MAX_BROADCASTS {
            return Err(format!(
                "too many broadcasts: at most {MAX_BROADCASTS} per callback"
            ));
        }
        if message.len() > MAX_BROADCAST_BYTES {
            return Err(format!(
                "broadcast message of {} bytes exceeds the limit of {MAX_BROADCAST_BYTES} bytes",
                message.len()
            ));
        }
        let message =
            JsonText::parse(message).map_err(|e| format!("broadcast message is not JSON: {e}"))?;
        self.broadcasts += 1;
        self.commands.push(PubSubCommand::Broadcast {
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

impl pubsub::Host for PubSubState {
    fn subscribe(&mut self, topic: String) -> wasmtime::Result<Result<(), String>> {
        self.budget.command("pubsub.subscribe", topic.len())?;
        Ok(self.subscribe_checked(topic))
    }

    fn unsubscribe(&mut self, topic: String) -> wasmtime::Result<bool> {
        self.budget.command("pubsub.unsubscribe", topic.len())?;
        let known = self.topics.remove(&topic);
        if known {
            self.commands.push(PubSubCommand::Unsubscribe(topic));
        }
        Ok(known)
    }

    fn broadcast(
        &mut self,
        topic: String,
        message: String,
    ) -> wasmtime::Result<Result<(), String>> {
        self.budget
            .command("pubsub.broadcast", topic.len() + message.len())?;
        Ok(self.broadcast_checked(topic, message, true))
    }

    fn broadcast_from(
        &mut self,
        topic: String,
        message: String,
    ) -> wasmtime::Result<Result<(), String>> {
        self.budget
            .command("pubsub.broadcast-from", topic.len() + message.len())?;
        Ok(self.broadcast_checked(topic, message, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pubsub::Host as _;

    #[test]
    fn topics_per_view_are_capped_with_a_clear_error() {
        let mut state = PubSubState::new(Budget::default());
        for n in 0..MAX_TOPICS {
            state
                .subscribe(format!("t{n}"))
                .expect("budget")
                .expect("within the cap");
        }
        // Subscribing again to a known topic is not a new one.
        state
            .subscribe("t0".into())
            .expect("budget")
            .expect("already subscribed");
        let error = state
            .subscribe("one-more".into())
            .expect("budget")
            .expect_err("over the cap");
        assert!(error.contains("at most 32"), "{error}");
        assert!(state.unsubscribe("t0".into()).expect("budget"));
        assert!(!state.unsubscribe("t0".into()).expect("budget"));
        state
            .subscribe("one-more".into())
            .expect("budget")
            .expect("room again");
        let long = "x".repeat(MAX_TOPIC_BYTES + 1);
        assert!(state.subscribe(long).expect("budget").is_err());
        assert!(state.subscribe(String::new()).expect("budget").is_err());
        assert_eq!(state.take_commands().len(), MAX_TOPICS + 2);
    }

    #[test]
    fn broadcasts_are_checked_for_size_json_and_count() {
        let mut state = PubSubState::new(Budget::default());
        let big = format!("\"{}\"", "a".repeat(MAX_BROADCAST_BYTES));
        let error = state
            .broadcast("t".into(), big)
            .expect("budget")
            .expect_err("too large");
        assert!(error.contains("exceeds the limit"), "{error}");
        assert!(
            state
                .broadcast("t".into(), "{not json".into())
                .expect("budget")
                .is_err()
        );
        state
            .broadcast_from("t".into(), r#"{"n":1}"#.into())
            .expect("budget")
            .expect("fits");
        assert_eq!(
            state.take_commands(),
            vec![PubSubCommand::Broadcast {
                topic: "t".into(),
                message: JsonText::from_value(&serde_json::json!({"n": 1})),
                include_self: false,
            }]
        );
        for _ in 1..MAX_BROADCASTS {
            state
                .broadcast("t".into(), "1".into())
                .expect("budget")
                .expect("within budget");
        }
        assert!(
            state
                .broadcast("t".into(), "1".into())
                .expect("budget")
                .is_err()
        );
        state.new_callback();
        state
            .broadcast("t".into(), "1".into())
            .expect("budget")
            .expect("a new callback, a new budget");
    }
}
