//! The host's pub/sub broker: views of the same app (one scope per tenant app, or per app on
//! the default site) subscribe to topics and broadcast messages to each other's `handle-info`.
//!
//! A broadcast is serialized once, to JSON text shared by every subscriber (no copy or parse per
//! subscriber until a view's `handle-info` runs). Deliveries go into each socket's inbox, bounded
//! by count and by bytes (see [`inbox`](crate::inbox)); a message past either bound is dropped
//! for that socket only, counted, and logged (at the first drop of a socket, then at every
//! power of two). A view's subscriptions end when its channel does ([`Subscriptions`]
//! unsubscribes on drop), so a closed socket holds none.
//!
//! In a cluster (`--cluster`) a view's broadcast also goes to the other hosts through the
//! [`pubsub_relay`](crate::pubsub_relay), which delivers theirs here with [`Broker::broadcast`];
//! the broker tells the relay when a scope gains its first subscriber or loses its last.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::inbox::{InboxBudget, InboxSender, Offered};

/// Messages waiting in one socket's inbox before further ones are dropped.
pub(crate) const INBOX_CAPACITY: usize = 1024;

/// Who receives a topic's messages: a view (by its channel id) and its socket's inbox.
type Subscribers = HashMap<u64, InboxSender>;

/// The topics of one scope that have subscribers, and those subscribers.
type Topics = HashMap<String, Subscribers>;

/// The broker's way to the other hosts of a cluster: the
/// [`pubsub_relay`](crate::pubsub_relay)'s link, set once when the host joins one.
pub(crate) trait ClusterLink: Send + Sync {
    /// Hands a broadcast of this host on to the other hosts (never blocks: a guest thread
    /// calls it; what cannot be relayed is dropped and counted).
    fn publish(&self, scope: &Arc<str>, topic: &str, json: &Arc<str>);
    /// A scope gained its first subscriber or lost its last.
    fn interest_changed(&self);
    /// The relay's counters.
    fn stats(&self) -> ClusterPubSubStats;
}

/// The counters of the cluster relay (`Host::cluster_pubsub` reads them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClusterPubSubStats {
    /// Connected to NATS now.
    pub connected: bool,
    /// How long the connection has been lost, while it is.
    pub down_for: Option<std::time::Duration>,
    /// Scopes whose subject this host is subscribed to (confirmed by NATS): those with views
    /// subscribed on this host.
    pub subscribed_scopes: usize,
    /// Broadcasts of this host published to NATS.
    pub published: u64,
    /// Broadcasts of other hosts received and delivered to this host's subscribers.
    pub received: u64,
    /// Broadcasts of this host that never reached NATS (relay channel full, NATS down, past
    /// the size limits); this host's own views still got them.
    pub dropped_outgoing: u64,
    /// Messages received and dropped: past the size limits, not an envelope, not JSON, or
    /// on another scope's subject.
    pub dropped_incoming: u64,
}

/// The broker: scope → topic → subscribers (a scope or topic without subscribers is absent).
#[derive(Default)]
pub(crate) struct Broker {
    topics: Mutex<HashMap<Arc<str>, Topics>>,
    next_id: AtomicU64,
    /// Where broadcasts also go, to the other hosts of a cluster (set once, at start).
    relay: OnceLock<Box<dyn ClusterLink>>,
}

impl Broker {
    /// A fresh id for a view channel, unique in this host.
    pub(crate) fn channel_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Relays this host's broadcasts to the other hosts of a cluster from now on; refused
    /// (`Err`, the link given back) when a relay is already set.
    pub(crate) fn set_relay(&self, link: Box<dyn ClusterLink>) -> Result<(), Box<dyn ClusterLink>> {
        self.relay.set(link)
    }

    /// The relay to the other hosts, when the host is in a cluster.
    pub(crate) fn relay(&self) -> Option<&dyn ClusterLink> {
        self.relay.get().map(|link| &**link)
    }

    /// The scopes with at least one subscriber now.
    pub(crate) fn scopes(&self) -> HashSet<Arc<str>> {
        self.topics
            .lock()
            .map(|topics| topics.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn subscribe(&self, scope: &Arc<str>, topic: &str, id: u64, inbox: &InboxSender) {
        let mut new_scope = false;
        if let Ok(mut topics) = self.topics.lock() {
            let scoped = topics.entry(scope.clone()).or_insert_with(|| {
                new_scope = true;
                Topics::new()
            });
            match scoped.get_mut(topic) {
                Some(subscribers) => {
                    subscribers.insert(id, inbox.clone());
                }
                None => {
                    scoped.insert(topic.to_string(), HashMap::from([(id, inbox.clone())]));
                }
            }
        }
        if new_scope && let Some(relay) = self.relay() {
            relay.interest_changed();
        }
    }

    fn unsubscribe(&self, scope: &Arc<str>, topic: &str, id: u64) {
        let mut scope_gone = false;
        if let Ok(mut topics) = self.topics.lock()
            && let Some(scoped) = topics.get_mut(scope)
        {
            if let Some(subscribers) = scoped.get_mut(topic) {
                subscribers.remove(&id);
                if subscribers.is_empty() {
                    scoped.remove(topic);
                }
            }
            if scoped.is_empty() {
                topics.remove(scope);
                scope_gone = true;
            }
        }
        if scope_gone && let Some(relay) = self.relay() {
            relay.interest_changed();
        }
    }

    /// A view's broadcast: delivered here as [`Broker::broadcast`] does, and relayed to the
    /// other hosts of the cluster (where every subscriber receives it: `except` is a channel
    /// of this host). Returns how many inboxes of this host took it.
    pub(crate) fn publish(
        &self,
        scope: &Arc<str>,
        topic: &str,
        json: &Arc<str>,
        except: Option<u64>,
    ) -> usize {
        let delivered = self.broadcast(scope, topic, json, except);
        if let Some(relay) = self.relay() {
            relay.publish(scope, topic, json);
        }
        delivered
    }

    /// Delivers `message` to the subscribers of `topic` in `scope` (but `except`); returns how
    /// many inboxes took it. The message is the JSON text the view sent, shared between them.
    pub(crate) fn broadcast(
        &self,
        scope: &Arc<str>,
        topic: &str,
        json: &Arc<str>,
        except: Option<u64>,
    ) -> usize {
        let targets: Vec<(u64, InboxSender)> = match self.topics.lock() {
            Ok(topics) => topics
                .get(scope)
                .and_then(|scoped| scoped.get(topic))
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
        if targets.is_empty() {
            return 0;
        }
        let mut delivered = 0;
        for (channel, inbox) in targets {
            match inbox.offer(channel, json) {
                Offered::Queued => delivered += 1,
                Offered::Dropped(dropped) if dropped.is_power_of_two() => {
                    tracing::warn!(
                        %scope,
                        topic,
                        bytes = json.len(),
                        dropped,
                        "pubsub message dropped: the socket's inbox is full (count or bytes)"
                    );
                }
                Offered::Dropped(_) | Offered::Closed => {}
            }
        }
        delivered
    }

    /// Subscriptions currently held in scopes matching `scope` (all with `None`).
    pub(crate) fn subscriber_count(&self, scope: Option<&str>) -> usize {
        self.topics.lock().map_or(0, |topics| {
            topics
                .iter()
                .filter(|(s, _)| scope.is_none_or(|scope| &***s == scope))
                .flat_map(|(_, scoped)| scoped.values())
                .map(HashMap::len)
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
    inbox: InboxSender,
    topics: HashSet<String>,
}

impl Subscriptions {
    /// No subscriptions yet for the view channel `id` of app scope `scope`.
    pub(crate) fn new(
        broker: Arc<Broker>,
        scope: Arc<str>,
        id: u64,
        inbox: InboxSender,
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
    pub(crate) fn inbox(&self) -> &InboxSender {
        &self.inbox
    }

    /// The byte budget of the view's socket's inbox (task values are charged to it too).
    pub(crate) fn inbox_budget(&self) -> &Arc<InboxBudget> {
        &self.inbox.budget
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
                self.broker
                    .publish(&self.scope, &topic, message.shared(), except);
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
    use crate::inbox::{Inbound, InboxBudget, InboxReceiver, InboxTotals};
    use livewasm_runtime::{JsonText, PubSubCommand};
    use serde_json::{Value, json};

    fn view_with(
        broker: &Arc<Broker>,
        scope: &str,
        budget: Arc<InboxBudget>,
    ) -> (Subscriptions, InboxReceiver) {
        let (inbox, rx) = crate::inbox::inbox(4, budget);
        let id = broker.channel_id();
        (
            Subscriptions::new(broker.clone(), Arc::from(scope), id, inbox),
            rx,
        )
    }

    fn view(broker: &Arc<Broker>, scope: &str) -> (Subscriptions, InboxReceiver) {
        view_with(broker, scope, InboxBudget::new(1 << 20, Arc::default()))
    }

    fn text(value: Value) -> Arc<str> {
        Arc::from(value.to_string())
    }

    fn received(rx: &mut InboxReceiver) -> Vec<Value> {
        let mut out = Vec::new();
        while let Ok(Inbound::Message { message, .. }) = rx.try_recv() {
            out.push(serde_json::from_str(message.json()).expect("JSON"));
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
            message: JsonText::from_value(&json!({"n": 1})),
            include_self: true,
        });
        a.apply(PubSubCommand::Broadcast {
            topic: "metrics".into(),
            message: JsonText::from_value(&json!({"n": 2})),
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
            assert_eq!(broker.broadcast(&scope, "t", &text(json!(n)), None), 2);
        }
        // Both inboxes (capacity 4) are full now; `a` drains and receives again, `b` does not.
        assert_eq!(received(&mut rx_a).len(), 4);
        assert_eq!(broker.broadcast(&scope, "t", &text(json!(4)), None), 1);
    }

    #[test]
    fn a_message_is_shared_as_text_and_inboxes_are_capped_in_bytes() {
        let broker = Arc::new(Broker::default());
        let totals = Arc::new(InboxTotals::default());
        let message = text(json!({"pad": "x".repeat(100)}));
        let len = message.len();
        // Room for two messages per socket (the channels hold four).
        let (mut a, mut rx_a) =
            view_with(&broker, "app", InboxBudget::new(2 * len, totals.clone()));
        let (mut b, mut rx_b) =
            view_with(&broker, "app", InboxBudget::new(2 * len, totals.clone()));
        a.apply(PubSubCommand::Subscribe("t".into()));
        b.apply(PubSubCommand::Subscribe("t".into()));
        let scope: Arc<str> = Arc::from("app");
        assert_eq!(broker.broadcast(&scope, "t", &message, None), 2);
        assert_eq!(broker.broadcast(&scope, "t", &message, None), 2);
        assert_eq!(broker.broadcast(&scope, "t", &message, None), 0);
        assert_eq!(totals.pending_bytes(), 4 * len as u64);
        assert_eq!(totals.dropped(), 2);
        // Both inboxes hold the very same text.
        let (Ok(Inbound::Message { message: ma, .. }), Ok(Inbound::Message { message: mb, .. })) =
            (rx_a.try_recv(), rx_b.try_recv())
        else {
            panic!("messages expected");
        };
        assert!(std::ptr::eq(ma.json(), mb.json()));
        drop((ma, mb));
        assert_eq!(totals.pending_bytes(), 2 * len as u64);
        // Delivered (or dropped with the socket), the bytes are released.
        drop((rx_a, rx_b));
        assert_eq!(totals.pending_bytes(), 0);
    }
}
