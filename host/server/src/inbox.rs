//! What reaches a socket from outside its own frames: pub/sub messages for its views and the
//! results of their background tasks, delivered through the socket's inbox.
//!
//! An inbox is bounded twice: by count (the capacity given to [`inbox`]) and by bytes. A pub/sub message
//! is kept as the JSON text the view broadcast ([`SharedMessage`]), shared by every subscriber
//! it went to and never parsed by the host; each inbox it waits in charges its length to that
//! socket's [`InboxBudget`] until it is delivered or dropped, and a message that would take a
//! socket past its budget is dropped for that socket only (and counted). A task's value is
//! charged the same way; one that does not fit reaches `handle-async` as a failed result, so a
//! view always hears how its task ended. The host-wide sum of
//! the charges ([`InboxTotals::pending_bytes`]) is what [`Host::pending_inbox_bytes`] reports.
//!
//! [`Host::pending_inbox_bytes`]: crate::Host::pending_inbox_bytes

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use futures_channel::mpsc::{self, TryRecvError};
use futures_util::StreamExt;

/// Something delivered to a socket from outside its own frames.
#[derive(Debug)]
pub enum Inbound {
    /// A pub/sub message for the view channel `channel`'s `handle-info`.
    Message {
        /// The receiving view channel.
        channel: u64,
        /// The message, as the JSON the broker serialized once for every subscriber.
        message: SharedMessage,
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
    /// What the task returned (its JSON text, charged to the inbox), or why it failed.
    pub(crate) result: Result<SharedMessage, String>,
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

/// A pub/sub message waiting in one inbox: the shared JSON text and the charge it holds
/// against that socket's byte budget (released when the message is delivered or dropped).
#[derive(Debug)]
pub struct SharedMessage {
    json: Arc<str>,
    _charge: Charge,
}

impl SharedMessage {
    /// The message's JSON text (shared with every other subscriber it went to).
    pub fn json(&self) -> &str {
        &self.json
    }
}

/// Pending inbox bytes and dropped messages of the whole host.
#[derive(Debug, Default)]
pub(crate) struct InboxTotals {
    pending: AtomicU64,
    dropped: AtomicU64,
}

impl InboxTotals {
    /// Bytes of pub/sub messages waiting in inboxes now, each inbox counting its own copy.
    pub(crate) fn pending_bytes(&self) -> u64 {
        self.pending.load(Ordering::Relaxed)
    }

    /// Pub/sub messages and task values dropped for a full inbox since the host started.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// One socket's inbox byte budget.
#[derive(Debug)]
pub(crate) struct InboxBudget {
    used: AtomicUsize,
    limit: usize,
    dropped: AtomicU64,
    totals: Arc<InboxTotals>,
}

impl InboxBudget {
    /// A budget of `limit` bytes, counted into `totals` too.
    pub(crate) fn new(limit: usize, totals: Arc<InboxTotals>) -> Arc<InboxBudget> {
        Arc::new(InboxBudget {
            used: AtomicUsize::new(0),
            limit,
            dropped: AtomicU64::new(0),
            totals,
        })
    }

    /// `json` as a message for this inbox, charged to its budget; `None` (and counted as
    /// dropped) when it does not fit.
    pub(crate) fn charge(self: &Arc<Self>, json: &Arc<str>) -> Option<SharedMessage> {
        let len = json.len();
        let taken = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(len).filter(|total| *total <= self.limit)
            });
        if taken.is_err() {
            self.count_drop();
            return None;
        }
        self.totals.pending.fetch_add(len as u64, Ordering::Relaxed);
        Some(SharedMessage {
            json: json.clone(),
            _charge: Charge {
                budget: self.clone(),
                len,
            },
        })
    }

    /// Counts a message dropped for this inbox (over its budget, or its channel was full);
    /// returns how many this inbox has dropped so far.
    pub(crate) fn count_drop(&self) -> u64 {
        self.totals.dropped.fetch_add(1, Ordering::Relaxed);
        self.dropped.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Bytes charged now.
    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }
}

/// A socket's inbox: pub/sub messages are refused past `capacity` messages waiting (and past
/// its byte `budget`). The channel allocates per message, so an idle socket's inbox costs a few
/// dozen bytes (a tokio channel keeps a block of 32 slots for each).
pub(crate) fn inbox(capacity: usize, budget: Arc<InboxBudget>) -> (InboxSender, InboxReceiver) {
    let (tx, rx) = mpsc::unbounded();
    let queued = Arc::new(Queued {
        count: AtomicUsize::new(0),
        capacity,
    });
    (
        InboxSender {
            tx,
            budget,
            queued: queued.clone(),
        },
        InboxReceiver { rx, queued },
    )
}

/// Messages waiting in one inbox, and how many may.
#[derive(Debug)]
struct Queued {
    count: AtomicUsize,
    capacity: usize,
}

/// Where a socket's inbox is fed from: its channel and its byte budget.
#[derive(Debug, Clone)]
pub(crate) struct InboxSender {
    /// The inbox channel.
    tx: mpsc::UnboundedSender<Inbound>,
    /// The inbox's byte budget for pub/sub messages.
    pub(crate) budget: Arc<InboxBudget>,
    /// Messages waiting (pub/sub messages are refused at the capacity).
    queued: Arc<Queued>,
}

/// Where a socket reads its inbox.
#[derive(Debug)]
pub struct InboxReceiver {
    rx: mpsc::UnboundedReceiver<Inbound>,
    queued: Arc<Queued>,
}

impl InboxReceiver {
    /// The next message; `None` once every sender is gone.
    pub async fn recv(&mut self) -> Option<Inbound> {
        let next = self.rx.next().await;
        if next.is_some() {
            self.queued.count.fetch_sub(1, Ordering::AcqRel);
        }
        next
    }

    /// The next message waiting, if any.
    pub fn try_recv(&mut self) -> Result<Inbound, TryRecvError> {
        let next = self.rx.try_recv()?;
        self.queued.count.fetch_sub(1, Ordering::AcqRel);
        Ok(next)
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.queued.count.load(Ordering::Acquire) == 0
    }
}

/// What became of a message offered to an inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Offered {
    /// It waits in the inbox.
    Queued,
    /// It was dropped: the inbox is over its byte budget or full. Holds how many messages the
    /// inbox has dropped so far.
    Dropped(u64),
    /// The socket is gone.
    Closed,
}

impl InboxSender {
    /// Offers the shared message `json` to view channel `channel` of this inbox.
    pub(crate) fn offer(&self, channel: u64, json: &Arc<str>) -> Offered {
        let Some(message) = self.budget.charge(json) else {
            return Offered::Dropped(self.budget.dropped.load(Ordering::Relaxed));
        };
        let capacity = self.queued.capacity;
        let room = self
            .queued
            .count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < capacity).then_some(n + 1)
            });
        if room.is_err() {
            // The message (and its charge) is dropped here.
            return Offered::Dropped(self.budget.count_drop());
        }
        match self
            .tx
            .unbounded_send(Inbound::Message { channel, message })
        {
            Ok(()) => Offered::Queued,
            Err(_) => {
                self.queued.count.fetch_sub(1, Ordering::AcqRel);
                Offered::Closed
            }
        }
    }

    /// Puts a task's result (or cancellation) in the inbox, whatever its count (a view runs a
    /// bounded number of tasks); the result back when the socket is gone.
    pub(crate) fn push(&self, inbound: Inbound) -> Result<(), Inbound> {
        self.queued.count.fetch_add(1, Ordering::AcqRel);
        self.tx.unbounded_send(inbound).map_err(|error| {
            self.queued.count.fetch_sub(1, Ordering::AcqRel);
            error.into_inner()
        })
    }
}

/// Bytes one waiting message holds against its inbox's budget.
#[derive(Debug)]
struct Charge {
    budget: Arc<InboxBudget>,
    len: usize,
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.len, Ordering::AcqRel);
        self.budget
            .totals
            .pending
            .fetch_sub(self.len as u64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_charges_until_full_and_releases_on_drop() {
        let totals = Arc::new(InboxTotals::default());
        let budget = InboxBudget::new(10, totals.clone());
        let json: Arc<str> = Arc::from("12345");
        let a = budget.charge(&json).expect("fits");
        let b = budget.charge(&json).expect("fits exactly");
        assert!(budget.charge(&json).is_none(), "over the budget");
        assert_eq!((budget.used(), totals.pending_bytes()), (10, 10));
        assert_eq!(totals.dropped(), 1);
        assert_eq!(a.json(), "12345");
        drop(a);
        assert_eq!((budget.used(), totals.pending_bytes()), (5, 5));
        drop(b);
        assert_eq!((budget.used(), totals.pending_bytes()), (0, 0));
    }
}
