//! What reaches a socket from outside its own frames: pub/sub messages for its views and the
//! results of their background tasks, delivered through the socket's inbox.

use serde_json::Value;

/// Something delivered to a socket from outside its own frames.
#[derive(Debug)]
pub enum Inbound {
    /// A pub/sub message for the view channel `channel`'s `handle-info`.
    Message {
        /// The receiving view channel.
        channel: u64,
        /// The message.
        message: Value,
    },
    /// A background task finished (or was cancelled).
    Task(TaskDone),
}

/// The result of a background task, for the view that started it.
#[derive(Debug)]
pub struct TaskDone {
    /// The view channel that started the task.
    pub(crate) channel: u64,
    /// The task's name in that view.
    pub(crate) name: String,
    /// Which run of the task it is (an older run's result is stale).
    pub(crate) tag: u64,
    /// What the task returned, or why it failed.
    pub(crate) result: Result<Value, String>,
}

impl Inbound {
    /// The view channel it is for.
    pub(crate) fn channel(&self) -> u64 {
        match self {
            Inbound::Message { channel, .. } => *channel,
            Inbound::Task(done) => done.channel,
        }
    }
}
