//! The host's pub/sub broker: views of the same app (one scope per tenant app, or per app on
//! the default site) subscribe to topics and broadcast messages to each other's `handle-info`.
//!
//! Deliveries go into each socket's inbox (a bounded channel); a full inbox drops the message
//! for that socket only, with a warning. A view's subscriptions end when its channel does
//! ([`Subscriptions`] unsubscribes on drop), so a closed socket holds none.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::mpsc;

use crate::inbox::Inbound;

/// Messages waiting in one socket's inbox before further ones are dropped.
pub(crate) const INBOX_CAPACITY: usize = 1024;

/// Who receives a topic's messages: a view (by its channel id) and its socket's inbox.
type Subscribers = HashMap<u64, mpsc::Sender<Inbound>>;

/// The broker: `(scope, topic)` → subscribers.
#[derive(Default)]
pub(crate) struct Broker {
    topics: Mutex<HashMap<(Arc<str>, String), Subscribers>>,
    next_id: AtomicU64,
}

impl Broker {
    /// A fresh id for a view channel, unique in this host.
    pub(crate) fn channel_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn subscribe(&self, scope: &Arc<str>, topic: &str, id: u64, inbox: &mpsc::Sender<Inbound>) {
        if let Ok(mut topics) = self.topics.lock() {
            topics
                .entry((scope.clone(), topic.to_string()))
                .or_default()
                .insert(id, inbox.clone());
        }
    }

    fn unsubscribe(&self, scope: &Arc<str>, topic: &str, id: u64) {
        if let Ok(mut topics) = self.topics.lock() {
            let key = (scope.clone(), topic.to_string());
            if let Some(subscribers) = topics.get_mut(&key) {
                subscribers.remove(&id);
                if subscribers.is_empty() {
                    topics.remove(&key);
                }
            }
        }
    }

    /// Delivers `message` to the subscribers of `topic` in `scope` (but `except`); returns how
    /// many inboxes took it.
    pub(crate) fn broadcast(
        &self,
        scope: &Arc<str>,
        topic: &str,
        message: &Value,
        except: Option<u64>,
    ) -> usize {
        let targets: Vec<(u64, mpsc::Sender<Inbound>)> = match self.topics.lock() {
            Ok(topics) => topics
                .get(&(scope.clone(), topic.to_string()))
                .map(|subscribers| {
                    subscribers
                        .iter()
                        .filter(|(id, _)| Some(**id) != except)
                        .map(|(id, inbox)| (*id, inbox.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        let mut delivered = 0;
        for (channel, inbox) in targets {
            let inbound = Inbound::Message {
                channel,
                message: message.clone(),
            };
            match inbox.try_send(inbound) {
                Ok(()) => delivered += 1,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(%scope, topic, "pubsub message dropped: the socket's inbox is full");
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        delivered
    }

    /// Subscriptions currently held in scopes matching `scope` (all with `None`).
    pub(crate) fn subscriber_count(&self, scope: Option<&str>) -> usize {
        self.topics.lock().map_or(0, |topics| {
            topics
                .iter()
                .filter(|((s, _), _)| scope.is_none_or(|scope| &**s == scope))
                .map(|(_, subscribers)| subscribers.len())
                .sum()
        })
    }
}

/// One view's subscriptions; unsubscribes everything when dropped (the view left, crashed, or
/// its socket closed).
pub(crate) struct Subscriptions {
    broker: Arc<Broker>,
    scope: Arc<str>,
    id: u64,
    inbox: mpsc::Sender<Inbound>,
    topics: HashSet<String>,
}

impl Subscriptions {
    /// No subscriptions yet for the view channel `id` of app scope `scope`.
    pub(crate) fn new(
        broker: Arc<Broker>,
        scope: Arc<str>,
        id: u64,
        inbox: mpsc::Sender<Inbound>,
    ) -> Subscriptions {
        Subscriptions {
            broker,
            scope,
            id,
            inbox,
            topics: HashSet::new(),
        }
    }

    /// The view channel's id.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The inbox of the view's socket.
    pub(crate) fn inbox(&self) -> &mpsc::Sender<Inbound> {
        &self.inbox
    }

    /// Carries out one command of the view.
    pub(crate) fn apply(&mut self, command: livewasm_runtime::PubSubCommand) {
        use livewasm_runtime::PubSubCommand;
        match command {
            PubSubCommand::Subscribe(topic) => {
                self.broker
                    .subscribe(&self.scope, &topic, self.id, &self.inbox);
                self.topics.insert(topic);
            }
            PubSubCommand::Unsubscribe(topic) => {
                self.broker.unsubscribe(&self.scope, &topic, self.id);
                self.topics.remove(&topic);
            }
            PubSubCommand::Broadcast {
                topic,
                message,
                include_self,
            } => {
                let except = (!include_self).then_some(self.id);
                self.broker.broadcast(&self.scope, &topic, &message, except);
            }
        }
    }
}

impl Drop for Subscriptions {
    fn drop(&mut self) {
        for topic in &self.topics {
            self.broker.unsubscribe(&self.scope, topic, self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use livewasm_runtime::PubSubCommand;
    use serde_json::json;

    fn view(broker: &Arc<Broker>, scope: &str) -> (Subscriptions, mpsc::Receiver<Inbound>) {
        let (tx, rx) = mpsc::channel(4);
        let id = broker.channel_id();
        (
            Subscriptions::new(broker.clone(), Arc::from(scope), id, tx),
            rx,
        )
    }

    fn received(rx: &mut mpsc::Receiver<Inbound>) -> Vec<Value> {
        let mut out = Vec::new();
        while let Ok(Inbound::Message { message, .. }) = rx.try_recv() {
            out.push(message);
        }
        out
    }

    #[test]
    fn broadcasts_stay_in_their_scope_and_respect_broadcast_from() {
        let broker = Arc::new(Broker::default());
        let (mut a, mut rx_a) = view(&broker, "acme/dash");
        let (mut b, mut rx_b) = view(&broker, "acme/dash");
        let (mut other, mut rx_other) = view(&broker, "acme/other");
        for s in [&mut a, &mut b, &mut other] {
            s.apply(PubSubCommand::Subscribe("metrics".into()));
        }
        a.apply(PubSubCommand::Broadcast {
            topic: "metrics".into(),
            message: json!({"n": 1}),
            include_self: true,
        });
        a.apply(PubSubCommand::Broadcast {
            topic: "metrics".into(),
            message: json!({"n": 2}),
            include_self: false,
        });
        assert_eq!(received(&mut rx_a), vec![json!({"n": 1})]);
        assert_eq!(received(&mut rx_b), vec![json!({"n": 1}), json!({"n": 2})]);
        assert!(received(&mut rx_other).is_empty());
    }

    #[test]
    fn dropping_a_view_unsubscribes_it() {
        let broker = Arc::new(Broker::default());
        let (mut a, _rx) = view(&broker, "app");
        a.apply(PubSubCommand::Subscribe("t1".into()));
        a.apply(PubSubCommand::Subscribe("t2".into()));
        assert_eq!(broker.subscriber_count(Some("app")), 2);
        a.apply(PubSubCommand::Unsubscribe("t1".into()));
        assert_eq!(broker.subscriber_count(Some("app")), 1);
        drop(a);
        assert_eq!(broker.subscriber_count(Some("app")), 0);
    }

    #[test]
    fn a_full_inbox_drops_only_its_own_messages() {
        let broker = Arc::new(Broker::default());
        let (mut a, mut rx_a) = view(&broker, "app");
        let (mut b, _rx_b) = view(&broker, "app");
        a.apply(PubSubCommand::Subscribe("t".into()));
        b.apply(PubSubCommand::Subscribe("t".into()));
        let scope: Arc<str> = Arc::from("app");
        for n in 0..4 {
            assert_eq!(broker.broadcast(&scope, "t", &json!(n), None), 2);
        }
        // Both inboxes (capacity 4) are full now; `a` drains and receives again, `b` does not.
        assert_eq!(received(&mut rx_a).len(), 4);
        assert_eq!(broker.broadcast(&scope, "t", &json!(4), None), 1);
    }
}
