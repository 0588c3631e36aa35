//! [`Channel`]: one joined view of a socket — its guest instance and everything the host keeps
//! for it (timers, subscriptions, tasks, upload entries) — and how the effects a callback
//! recorded (timers, pub/sub, tasks, released uploads) are carried out.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use livewasm_runtime::{App, Effects, JsonText, TaskCommand, TimerCommand};
use serde_json::Value;
use tokio::time::Instant;

use crate::inbox::{Inbound, InboxBudget, TaskDone};
use crate::metrics::AppMetrics;
use crate::pubsub::Subscriptions;
use crate::sites::{InstanceSlot, TenantUsage};
use crate::uploads::SharedUploads;

/// A scheduled message for a view.
pub(super) struct Timer {
    pub(super) id: u64,
    pub(super) due: Instant,
    pub(super) every: Option<Duration>,
    pub(super) message: JsonText,
}

/// One joined view.
pub(super) struct Channel {
    pub(super) join_ref: Option<String>,
    /// The view's instance, or its snapshot while it hibernates.
    pub(super) instance: super::sleep::ViewInstance,
    /// When it last ran a callback, and whether it may ever hibernate.
    pub(super) idle: super::sleep::Idle,
    pub(super) app: String,
    pub(super) view: String,
    pub(super) url: String,
    /// The live session of the route mounted; patches and live navigation stay inside it.
    pub(super) live_session: Option<String>,
    pub(super) timers: Vec<Timer>,
    /// The view's pub/sub subscriptions (dropped with the channel); its id names the channel.
    pub(super) bus: Subscriptions,
    /// Background tasks running, by name: the tag of the current run (older results are stale).
    pub(super) tasks: HashMap<String, u64>,
    /// Tasks started by the last callback, not yet handed to a runner.
    pub(super) pending: Vec<PendingTask>,
    /// The tenant's instance counter (platform sites): a task's instance counts too.
    pub(super) usage: Option<Arc<TenantUsage>>,
    /// The view's upload entries and their received bytes (deleted with the channel).
    pub(super) uploads: SharedUploads,
    /// The app's metrics, resolved at the join.
    pub(super) metrics: Arc<AppMetrics>,
    /// A slot of its tenant's quota the transport waited for, for this hibernated view to wake
    /// with ([`Connection::reserve`](super::Connection::reserve)); given back unused after the
    /// work it was for.
    pub(super) reserved: Option<InstanceSlot>,
}

/// A background task a view started: run it off the socket's task ([`PendingTask::run`]) and
/// give the result to [`Connection::handle_inbound`](super::Connection::handle_inbound).
pub struct PendingTask {
    channel: u64,
    name: String,
    tag: u64,
    app: App,
    task: String,
    args: JsonText,
    usage: Option<Arc<TenantUsage>>,
    /// The socket's inbox budget, which the task's value is charged to.
    inbox: Arc<InboxBudget>,
}

impl PendingTask {
    /// Runs the task in a fresh instance of its app (blocking: fuel and a deadline bound it).
    /// On a platform site the instance counts against the tenant's instance quota while it
    /// runs; a tenant at its quota gets a failed result. The value is charged to the socket's
    /// inbox budget until it is delivered; one that does not fit becomes a failed result.
    pub fn run(self) -> Inbound {
        let slot = self.usage.as_ref().map(|usage| usage.try_acquire());
        let result = match slot {
            Some(None) => Err("the tenant is at its instance quota".to_string()),
            _ => self.app.run_task(&self.task, &self.args),
        };
        drop(slot);
        let result = result.and_then(|value| {
            self.inbox.charge(value.shared()).ok_or_else(|| {
                format!(
                    "the task's value of {} bytes does not fit the socket's inbox",
                    value.len()
                )
            })
        });
        Inbound::Task(TaskDone {
            channel: self.channel,
            name: self.name,
            tag: self.tag,
            result,
        })
    }
}

impl Channel {
    /// Carries out what the last callbacks recorded besides navigation — timers, pub/sub,
    /// tasks and released uploads — and returns the push events, for the diff.
    pub(super) fn apply(&mut self, effects: Effects) -> Vec<(String, Value)> {
        for command in effects.timers {
            match command {
                TimerCommand::Schedule {
                    id,
                    after,
                    every,
                    message,
                } => self.timers.push(Timer {
                    id,
                    due: Instant::now() + after,
                    every,
                    message,
                }),
                TimerCommand::Cancel { id } => self.timers.retain(|t| t.id != id),
            }
        }
        for command in effects.pubsub {
            self.bus.apply(command);
        }
        for command in effects.tasks {
            self.apply_task(command);
        }
        if !effects.released_uploads.is_empty() {
            let mut uploads = self.uploads.lock();
            for (upload_ref, entry_ref) in &effects.released_uploads {
                uploads.release(upload_ref, entry_ref);
            }
        }
        effects.events
    }

    /// Records a task the view started (to run after this callback) or cancelled.
    fn apply_task(&mut self, command: TaskCommand) {
        static NEXT_TAG: AtomicU64 = AtomicU64::new(1);
        match command {
            TaskCommand::Start { name, task, args } => {
                let tag = NEXT_TAG.fetch_add(1, Ordering::Relaxed);
                self.tasks.insert(name.clone(), tag);
                self.pending.retain(|p| p.name != name);
                self.pending.push(PendingTask {
                    channel: self.bus.id(),
                    name,
                    tag,
                    app: match self.instance.app() {
                        Some(app) => app.clone(),
                        None => return,
                    },
                    task,
                    args,
                    usage: self.usage.clone(),
                    inbox: self.bus.inbox_budget().clone(),
                });
            }
            TaskCommand::Cancel { name } => {
                self.pending.retain(|p| p.name != name);
                if let Some(tag) = self.tasks.get(&name).copied() {
                    // The cancellation reaches `handle-async` like a result, after this callback.
                    let done = TaskDone {
                        channel: self.bus.id(),
                        name,
                        tag,
                        result: Err("cancelled".into()),
                    };
                    if self.bus.inbox().push(Inbound::Task(done)).is_err() {
                        tracing::debug!(component = %self.app, "task cancellation dropped: the socket is gone");
                    }
                }
            }
        }
    }

    /// The view's live instance, woken first when it hibernates (see `sleep.rs`).
    pub(super) fn live(
        &mut self,
    ) -> Result<&mut livewasm_runtime::Instance, livewasm_runtime::CallError> {
        self.instance
            .live(&self.metrics, self.usage.as_ref(), &mut self.reserved)
    }

    /// The message of the first timer due at `now`, rescheduling or removing that timer.
    pub(super) fn take_due(&mut self, now: Instant) -> Option<JsonText> {
        let index = self.timers.iter().position(|t| t.due <= now)?;
        let timer = &mut self.timers[index];
        let message = timer.message.clone();
        match timer.every {
            Some(every) => {
                timer.due += every;
                if timer.due <= now {
                    timer.due = now + every;
                }
            }
            None => {
                let id = timer.id;
                self.timers.swap_remove(index);
                self.instance.timer_fired(id);
            }
        }
        Some(message)
    }

    /// Whether a task result is the current run's (not cancelled or restarted since); the run
    /// is forgotten when it is.
    pub(super) fn finish_task(&mut self, done: &TaskDone) -> bool {
        if self.tasks.get(&done.name) != Some(&done.tag) {
            return false;
        }
        self.tasks.remove(&done.name);
        true
    }
}
