//! Cluster PubSub: the hosts of a cluster (`--cluster nats://…`) relay their views' broadcasts
//! to each other through NATS, so a broadcast reaches the subscribed views of the same app on
//! every host, and never another app's.
//!
//! Each scope of the broker (a registry app id, or `local/<name>` for an `--app` component)
//! has its own subject, `livewasm.pubsub.<scope in hex>`. A host subscribes to a scope's
//! subject only while views of this host are subscribed in that scope (the broker tells the
//! relay when a scope gains its first subscriber or loses its last, and the relay task brings
//! its NATS subscriptions in line), so it never receives another app's traffic it does not
//! need; a message received on a subject is still checked to be that scope's.
//!
//! A message is an [`Envelope`]: the origin host's id, the topic and the JSON text the view
//! broadcast. The broker's sync path (a guest thread) hands a broadcast to the relay task
//! through a bounded channel; when the channel is full, or NATS is unreachable, the message is
//! dropped for the other hosts (this host's views still get it), counted, and logged at the
//! first drop and then at every power of two. The limits are the runtime's: a broadcast
//! larger than [`MAX_BROADCAST_BYTES`] (or a topic longer than [`MAX_TOPIC_BYTES`]) never
//! leaves, and one received past them, not JSON, or from this very host (an echo), is
//! dropped. A received message reaches every local subscriber of its topic in that scope,
//! exactly like a local broadcast (`broadcast_from` only spares the sender, on its own host).
//!
//! NATS itself reconnects after a failure (logged as the connection's state changes) and
//! subscribes again to what the relay had subscribed.
//!
//! [`start`] also starts, on the same connection and with the same host id, the reports that
//! count each tenant's instances across the cluster ([`cluster_quota`](crate::cluster_quota)).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_nats::connection::State;
use async_nats::{Client, ConnectOptions, Event};
use futures_util::StreamExt;
use livewasm_runtime::{MAX_BROADCAST_BYTES, MAX_TOPIC_BYTES};
use tokio::sync::{Notify, mpsc};
use tokio::task::{AbortHandle, JoinSet};

use crate::cluster_quota;
use crate::host::Host;
pub use crate::pubsub::ClusterPubSubStats;
use crate::pubsub::{Broker, ClusterLink};

/// The subjects of cluster PubSub start with this, followed by the scope in hex.
pub const SUBJECT_PREFIX: &str = "livewasm.pubsub.";

/// Broadcasts waiting for the relay task to publish them; past it they are dropped.
const OUTGOING_CAPACITY: usize = 4096;

/// How long the first connection to NATS may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the relay waits for NATS to confirm its subscriptions.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// How soon the relay tries again when a subscription could not be made.
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);

/// The first byte of an [`Envelope`]: its format.
const ENVELOPE_VERSION: u8 = 1;

/// Bytes of an envelope before its topic: version, origin host id, topic length.
const ENVELOPE_HEAD: usize = 1 + 8 + 2;

/// Why the cluster relay could not start.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// NATS could not be reached (or refused the connection) at start.
    #[error("cannot connect to the cluster's NATS at {url}: {source}")]
    Connect {
        /// The `--cluster` URL.
        url: String,
        /// What the NATS client said.
        #[source]
        source: async_nats::ConnectError,
    },
    /// The host's broadcasts are already relayed.
    #[error("the cluster relay is already running on this host")]
    AlreadyStarted,
}

impl Host {
    /// The cluster relay's counters, when the host is in a cluster (`--cluster`).
    pub fn cluster_pubsub(&self) -> Option<ClusterPubSubStats> {
        self.broker.relay().map(|link| link.stats())
    }
}

/// Connects `host` to the NATS server of `ServerConfig::cluster` and relays its PubSub from
/// now on, in a task that ends when the host is dropped; its tenants' instances are counted
/// across the cluster from now on too ([`cluster_quota`](crate::cluster_quota)). `Ok(None)`
/// without a cluster. An unreachable NATS is an error here, at start; later failures are
/// NATS's to recover from.
pub async fn start(host: &Arc<Host>) -> Result<Option<tokio::task::JoinHandle<()>>, ClusterError> {
    let Some(url) = host.config().cluster.clone() else {
        return Ok(None);
    };
    if host.broker.relay().is_some() {
        return Err(ClusterError::AlreadyStarted);
    }
    let host_id: u64 = rand::random();
    let shared = Arc::new(Shared {
        host_id,
        ..Shared::default()
    });
    let events = shared.clone();
    let client = ConnectOptions::new()
        .name(format!("livewasm-{host_id:016x}"))
        // Our own publications never come back (an echo is also recognised by its origin).
        .no_echo()
        .connection_timeout(CONNECT_TIMEOUT)
        .event_callback(move |event| {
            let events = events.clone();
            async move { events.on_event(event) }
        })
        .connect(url.as_str())
        .await
        .map_err(|source| ClusterError::Connect {
            url: url.clone(),
            source,
        })?;
    shared.connected.store(true, Ordering::Relaxed);
    tracing::info!(%url, host_id = %format!("{host_id:016x}"), "cluster pubsub: connected to NATS");
    let (tx, rx) = mpsc::channel(OUTGOING_CAPACITY);
    let interest = Arc::new(Notify::new());
    let link = RelayLink {
        outgoing: tx,
        interest: interest.clone(),
        shared: shared.clone(),
    };
    if host.broker.set_relay(Box::new(link)).is_err() {
        return Err(ClusterError::AlreadyStarted);
    }
    // Scopes subscribed before the relay was set.
    interest.notify_one();
    // Tenant instance quotas counted across the cluster, on the same connection.
    cluster_quota::spawn(host, client.clone(), host_id);
    let relay = Relay {
        client,
        broker: Arc::downgrade(&host.broker),
        shared,
        interest,
        subscribed: HashMap::new(),
        receivers: JoinSet::new(),
    };
    Ok(Some(tokio::spawn(relay.run(rx))))
}

/// What the broker holds of the relay: the way to its task, and the counters.
pub(crate) struct RelayLink {
    outgoing: mpsc::Sender<Outgoing>,
    interest: Arc<Notify>,
    shared: Arc<Shared>,
}

impl ClusterLink for RelayLink {
    /// Hands a broadcast of this host to the relay task (sync: a guest thread calls it); a
    /// broadcast the task has no room for, or past the limits, is dropped and counted.
    fn publish(&self, scope: &Arc<str>, topic: &str, json: &Arc<str>) {
        if json.len() > MAX_BROADCAST_BYTES || topic.len() > MAX_TOPIC_BYTES {
            self.shared
                .dropped_outgoing(scope, topic, "past the size limits");
            return;
        }
        let outgoing = Outgoing {
            scope: scope.clone(),
            topic: topic.to_string(),
            json: json.clone(),
        };
        if self.outgoing.try_send(outgoing).is_err() {
            self.shared
                .dropped_outgoing(scope, topic, "the relay's queue is full");
        }
    }

    /// A scope gained its first subscriber or lost its last: the relay task brings its NATS
    /// subscriptions in line (several changes are taken together).
    fn interest_changed(&self) {
        self.interest.notify_one();
    }

    fn stats(&self) -> ClusterPubSubStats {
        let shared = &self.shared;
        ClusterPubSubStats {
            connected: shared.connected.load(Ordering::Relaxed),
            down_for: shared.down_for(),
            subscribed_scopes: shared.subscribed_scopes.load(Ordering::Relaxed) as usize,
            published: shared.published.load(Ordering::Relaxed),
            received: shared.received.load(Ordering::Relaxed),
            dropped_outgoing: shared.dropped_outgoing.load(Ordering::Relaxed),
            dropped_incoming: shared.dropped_incoming.load(Ordering::Relaxed),
        }
    }
}

/// A broadcast on its way to NATS.
struct Outgoing {
    scope: Arc<str>,
    topic: String,
    json: Arc<str>,
}

/// What the relay task, the receivers, the broker's link and the NATS event callback share.
#[derive(Default)]
struct Shared {
    /// This host's id in the cluster, random per start: what its envelopes carry as origin.
    host_id: u64,
    connected: AtomicBool,
    /// Since when the NATS connection has been lost, while it is.
    down_since: std::sync::Mutex<Option<std::time::Instant>>,
    /// Times the NATS connection was lost.
    disconnects: AtomicU64,
    subscribed_scopes: AtomicU64,
    published: AtomicU64,
    received: AtomicU64,
    dropped_outgoing: AtomicU64,
    dropped_incoming: AtomicU64,
}

impl Shared {
    fn dropped_outgoing(&self, scope: &str, topic: &str, why: &str) {
        let dropped = self.dropped_outgoing.fetch_add(1, Ordering::Relaxed) + 1;
        if dropped.is_power_of_two() {
            tracing::warn!(
                scope,
                topic,
                dropped,
                "cluster pubsub: broadcast not relayed to the other hosts: {why}"
            );
        }
    }

    fn dropped_incoming(&self, scope: &str, why: &Rejected) {
        let dropped = self.dropped_incoming.fetch_add(1, Ordering::Relaxed) + 1;
        if dropped.is_power_of_two() {
            tracing::warn!(
                scope,
                dropped,
                "cluster pubsub: message from another host dropped: {why}"
            );
        }
    }

    /// Notes the connection lost (`true`) or back (`false`).
    fn mark_down(&self, down: bool) {
        let mut since = self.down_since.lock().unwrap_or_else(|e| e.into_inner());
        match (down, *since) {
            (true, None) => *since = Some(std::time::Instant::now()),
            (false, _) => *since = None,
            (true, Some(_)) => {}
        }
    }

    /// How long the connection has been lost, while it is.
    fn down_for(&self) -> Option<std::time::Duration> {
        self.down_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map(|since| since.elapsed())
    }

    /// Logs the NATS connection's changes of state.
    fn on_event(&self, event: Event) {
        match event {
            Event::Connected => {
                self.connected.store(true, Ordering::Relaxed);
                self.mark_down(false);
                // The first connection is logged by `start`.
                if self.disconnects.load(Ordering::Relaxed) > 0 {
                    tracing::info!("cluster pubsub: connected to NATS again");
                }
            }
            Event::Disconnected => {
                self.connected.store(false, Ordering::Relaxed);
                self.mark_down(true);
                self.disconnects.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    "cluster pubsub: disconnected from NATS; broadcasts reach this host's views \
                     only until it reconnects"
                );
            }
            Event::Closed => {
                self.connected.store(false, Ordering::Relaxed);
                self.mark_down(true);
                tracing::warn!("cluster pubsub: the NATS connection is closed");
            }
            other => tracing::warn!("cluster pubsub: NATS: {other}"),
        }
    }

    /// Delivers a message received on the subject of `scope` to this host's subscribers.
    fn receive(&self, broker: &Broker, scope: &Arc<str>, subject: &str, payload: &[u8]) {
        match accept(self.host_id, scope, subject, payload) {
            Ok(envelope) => {
                self.received.fetch_add(1, Ordering::Relaxed);
                let json: Arc<str> = Arc::from(envelope.json);
                broker.broadcast(scope, envelope.topic, &json, None);
            }
            // `no_echo` should keep these away; not a fault of the sender.
            Err(Rejected::Echo) => {}
            Err(why) => self.dropped_incoming(scope, &why),
        }
    }
}

/// The relay task's state: the NATS client and the scopes it is subscribed to.
struct Relay {
    client: Client,
    broker: Weak<Broker>,
    shared: Arc<Shared>,
    interest: Arc<Notify>,
    /// Scope → the task receiving its subject (aborting it unsubscribes).
    subscribed: HashMap<Arc<str>, AbortHandle>,
    receivers: JoinSet<()>,
}

impl Relay {
    /// Publishes this host's broadcasts and follows the broker's scopes, until the broker is
    /// dropped (its link, and so the channel's sender, with it).
    async fn run(mut self, mut outgoing: mpsc::Receiver<Outgoing>) {
        let interest = self.interest.clone();
        let mut retry_at: Option<tokio::time::Instant> = None;
        loop {
            let retry = async {
                match retry_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                message = outgoing.recv() => match message {
                    Some(message) => self.publish(message).await,
                    None => break,
                },
                () = interest.notified() => {
                    retry_at = self.follow_scopes().await;
                }
                () = retry => {
                    retry_at = self.follow_scopes().await;
                }
            }
            // Reap the receivers that ended (aborted, or their subscription closed).
            while self.receivers.try_join_next().is_some() {}
        }
        self.receivers.shutdown().await;
    }

    async fn publish(&self, message: Outgoing) {
        if self.client.connection_state() != State::Connected {
            self.shared
                .dropped_outgoing(&message.scope, &message.topic, "NATS is not connected");
            return;
        }
        let payload = Envelope {
            origin: self.shared.host_id,
            topic: &message.topic,
            json: &message.json,
        }
        .encode();
        match self
            .client
            .publish(subject(&message.scope), payload.into())
            .await
        {
            Ok(()) => {
                self.shared.published.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => self.shared.dropped_outgoing(
                &message.scope,
                &message.topic,
                &format!("publishing failed: {error}"),
            ),
        }
    }

    /// Subscribes to the subjects of the scopes that gained subscribers and unsubscribes
    /// from those that lost them; returns when to try again if a subscription failed.
    async fn follow_scopes(&mut self) -> Option<tokio::time::Instant> {
        let wanted = self.broker.upgrade()?.scopes();
        let gone: Vec<Arc<str>> = self
            .subscribed
            .keys()
            .filter(|scope| !wanted.contains(*scope))
            .cloned()
            .collect();
        for scope in gone {
            if let Some(receiver) = self.subscribed.remove(&scope) {
                // Dropping the subscriber (with its task) unsubscribes.
                receiver.abort();
            }
        }
        let mut failed = false;
        for scope in wanted {
            if self.subscribed.contains_key(&scope) {
                continue;
            }
            match self.client.subscribe(subject(&scope)).await {
                Ok(subscriber) => {
                    let receiver = self.receivers.spawn(receive(
                        subscriber,
                        scope.clone(),
                        self.broker.clone(),
                        self.shared.clone(),
                    ));
                    self.subscribed.insert(scope, receiver);
                }
                Err(error) => {
                    tracing::warn!(%scope, "cluster pubsub: cannot subscribe: {error}");
                    failed = true;
                }
            }
        }
        // Confirmed by the server: publications of other hosts from now on reach us.
        match tokio::time::timeout(FLUSH_TIMEOUT, self.client.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::debug!("cluster pubsub: flush: {error}"),
            Err(_) => tracing::debug!("cluster pubsub: flush timed out"),
        }
        self.shared
            .subscribed_scopes
            .store(self.subscribed.len() as u64, Ordering::Relaxed);
        failed.then(|| tokio::time::Instant::now() + RESUBSCRIBE_AFTER)
    }
}

/// Receives the subject of `scope` until unsubscribed (aborted) or the broker is gone.
async fn receive(
    mut subscriber: async_nats::Subscriber,
    scope: Arc<str>,
    broker: Weak<Broker>,
    shared: Arc<Shared>,
) {
    while let Some(message) = subscriber.next().await {
        let Some(broker) = broker.upgrade() else {
            return;
        };
        shared.receive(&broker, &scope, message.subject.as_str(), &message.payload);
    }
}

/// The NATS subject of `scope`: [`SUBJECT_PREFIX`] and the scope's bytes in hex (a scope may
/// hold `/`, `.` or anything else a subject cannot).
pub fn subject(scope: &str) -> String {
    let mut subject = String::with_capacity(SUBJECT_PREFIX.len() + 2 * scope.len());
    subject.push_str(SUBJECT_PREFIX);
    for byte in scope.bytes() {
        let _ = write!(subject, "{byte:02x}");
    }
    subject
}

/// One broadcast as it travels between hosts: `[version][origin: u64 BE][topic length: u16
/// BE][topic][JSON text]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The id of the host whose view broadcast it.
    pub origin: u64,
    /// The topic.
    pub topic: &'a str,
    /// The message, as the JSON text the view sent.
    pub json: &'a str,
}

impl<'a> Envelope<'a> {
    /// The envelope's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(ENVELOPE_HEAD + self.topic.len() + self.json.len());
        bytes.push(ENVELOPE_VERSION);
        bytes.extend_from_slice(&self.origin.to_be_bytes());
        // Topics are at most MAX_TOPIC_BYTES (checked before a broadcast is relayed).
        let topic_len = u16::try_from(self.topic.len()).unwrap_or(u16::MAX);
        bytes.extend_from_slice(&topic_len.to_be_bytes());
        bytes.extend_from_slice(&self.topic.as_bytes()[..usize::from(topic_len)]);
        bytes.extend_from_slice(self.json.as_bytes());
        bytes
    }

    /// Reads an envelope, within the runtime's limits (the JSON is not checked here).
    pub fn decode(bytes: &'a [u8]) -> Result<Envelope<'a>, Rejected> {
        if bytes.len() > ENVELOPE_HEAD + MAX_TOPIC_BYTES + MAX_BROADCAST_BYTES {
            return Err(Rejected::TooLarge(bytes.len()));
        }
        let (&version, rest) = bytes.split_first().ok_or(Rejected::Malformed)?;
        if version != ENVELOPE_VERSION {
            return Err(Rejected::Version(version));
        }
        let (origin, rest) = rest.split_first_chunk::<8>().ok_or(Rejected::Malformed)?;
        let (topic_len, rest) = rest.split_first_chunk::<2>().ok_or(Rejected::Malformed)?;
        let topic_len = usize::from(u16::from_be_bytes(*topic_len));
        if topic_len == 0 || topic_len > MAX_TOPIC_BYTES {
            return Err(Rejected::Malformed);
        }
        let (topic, json) = rest
            .split_at_checked(topic_len)
            .ok_or(Rejected::Malformed)?;
        if json.len() > MAX_BROADCAST_BYTES {
            return Err(Rejected::TooLarge(json.len()));
        }
        Ok(Envelope {
            origin: u64::from_be_bytes(*origin),
            topic: std::str::from_utf8(topic).map_err(|_| Rejected::Malformed)?,
            json: std::str::from_utf8(json).map_err(|_| Rejected::NotJson)?,
        })
    }
}

/// Why a message received from NATS is not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// It came from this host.
    #[error("sent by this host")]
    Echo,
    /// It arrived on another scope's subject.
    #[error("received on a subject that is not its scope's")]
    WrongSubject,
    /// Larger than the runtime lets a view broadcast.
    #[error("{0} bytes: past the size limit")]
    TooLarge(usize),
    /// Another envelope format.
    #[error("unknown envelope version {0}")]
    Version(u8),
    /// Cut short, or with a bad topic.
    #[error("malformed envelope")]
    Malformed,
    /// The message is not one JSON value.
    #[error("the message is not JSON")]
    NotJson,
}

/// The envelope of a message received on `subject` for `scope` by host `host_id`, when it is
/// to be delivered.
pub fn accept<'a>(
    host_id: u64,
    scope: &str,
    subject_received: &str,
    payload: &'a [u8],
) -> Result<Envelope<'a>, Rejected> {
    if subject_received != subject(scope) {
        return Err(Rejected::WrongSubject);
    }
    let envelope = Envelope::decode(payload)?;
    if envelope.origin == host_id {
        return Err(Rejected::Echo);
    }
    serde_json::from_str::<serde::de::IgnoredAny>(envelope.json).map_err(|_| Rejected::NotJson)?;
    Ok(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn subjects_are_per_scope_and_safe() {
        assert_eq!(subject("ab"), "livewasm.pubsub.6162");
        assert_eq!(subject("local/x.y"), "livewasm.pubsub.6c6f63616c2f782e79");
        assert_ne!(subject("acme/a"), subject("acme/b"));
        // Only characters a NATS subject token may hold, whatever the scope holds.
        let odd = subject("a b.c*>/\u{e9}");
        let token = odd.strip_prefix(SUBJECT_PREFIX).expect("prefix");
        assert!(token.chars().all(|c| c.is_ascii_hexdigit()), "{odd}");
    }

    #[test]
    fn envelopes_round_trip() {
        let sent = Envelope {
            origin: 0x0102_0304_0506_0708,
            topic: "org:acme",
            json: r#"{"event":"sale","amount":250}"#,
        };
        let bytes = sent.encode();
        assert_eq!(bytes[0], ENVELOPE_VERSION);
        assert_eq!(Envelope::decode(&bytes), Ok(sent));
    }

    #[test]
    fn malformed_or_oversized_envelopes_are_refused() {
        let good = Envelope {
            origin: 7,
            topic: "t",
            json: "1",
        }
        .encode();
        assert_eq!(Envelope::decode(&[]), Err(Rejected::Malformed));
        assert_eq!(Envelope::decode(&good[..5]), Err(Rejected::Malformed));
        let mut other_version = good.clone();
        other_version[0] = 9;
        assert_eq!(Envelope::decode(&other_version), Err(Rejected::Version(9)));
        // A topic length past the bytes there are.
        let mut cut = good.clone();
        cut[9..11].copy_from_slice(&200u16.to_be_bytes());
        assert_eq!(Envelope::decode(&cut), Err(Rejected::Malformed));
        // A topic past the runtime's limit.
        let long_topic = "t".repeat(MAX_TOPIC_BYTES + 1);
        let long = Envelope {
            origin: 7,
            topic: &long_topic,
            json: "1",
        }
        .encode();
        assert_eq!(Envelope::decode(&long), Err(Rejected::Malformed));
        // A message past the broadcast limit, and one exactly at it.
        let at_limit = format!("\"{}\"", "a".repeat(MAX_BROADCAST_BYTES - 2));
        let fits = Envelope {
            origin: 7,
            topic: "t",
            json: &at_limit,
        }
        .encode();
        assert!(Envelope::decode(&fits).is_ok());
        let past = format!("\"{}\"", "a".repeat(MAX_BROADCAST_BYTES - 1));
        let big = Envelope {
            origin: 7,
            topic: "t",
            json: &past,
        }
        .encode();
        assert_eq!(
            Envelope::decode(&big),
            Err(Rejected::TooLarge(MAX_BROADCAST_BYTES + 1))
        );
    }

    #[test]
    fn own_messages_wrong_subjects_and_non_json_are_not_delivered() {
        let from_other = Envelope {
            origin: 2,
            topic: "t",
            json: r#"{"n":1}"#,
        }
        .encode();
        let scope = "app-1";
        assert_eq!(
            accept(1, scope, &subject(scope), &from_other).map(|e| e.json),
            Ok(r#"{"n":1}"#)
        );
        // The same bytes at their origin: an echo.
        assert_eq!(
            accept(2, scope, &subject(scope), &from_other),
            Err(Rejected::Echo)
        );
        // Delivered on another app's subject: refused.
        assert_eq!(
            accept(1, scope, &subject("app-2"), &from_other),
            Err(Rejected::WrongSubject)
        );
        let not_json = Envelope {
            origin: 2,
            topic: "t",
            json: "{nope",
        }
        .encode();
        assert_eq!(
            accept(1, scope, &subject(scope), &not_json),
            Err(Rejected::NotJson)
        );
    }

    #[test]
    fn the_broker_tells_the_relay_when_scopes_come_and_go_and_hands_it_broadcasts() {
        use crate::inbox::InboxBudget;
        use crate::pubsub::Subscriptions;
        use livewasm_runtime::{JsonText, PubSubCommand};

        let broker = Arc::new(Broker::default());
        let (tx, mut rx) = mpsc::channel(2);
        let interest = Arc::new(Notify::new());
        let shared = Arc::new(Shared::default());
        let link = RelayLink {
            outgoing: tx,
            interest: interest.clone(),
            shared: shared.clone(),
        };
        assert!(broker.set_relay(Box::new(link)).is_ok());
        let view = |scope: &str| {
            let (inbox, rx) = crate::inbox::inbox(8, InboxBudget::new(1 << 20, Arc::default()));
            let id = broker.channel_id();
            (
                Subscriptions::new(broker.clone(), Arc::from(scope), id, inbox),
                rx,
            )
        };
        let notified = || {
            let interest = interest.clone();
            // A pending permit completes `notified` at once.
            futures_util::FutureExt::now_or_never(async move { interest.notified().await })
                .is_some()
        };
        let (mut a, mut inbox_a) = view("acme/dash");
        let (mut b, _inbox_b) = view("acme/dash");
        a.apply(PubSubCommand::Subscribe("t".into()));
        assert!(notified(), "the first subscriber of a scope");
        b.apply(PubSubCommand::Subscribe("t".into()));
        b.apply(PubSubCommand::Subscribe("u".into()));
        assert!(!notified(), "the scope was already followed");
        assert_eq!(
            broker.scopes(),
            HashSet::from([Arc::<str>::from("acme/dash")])
        );

        // broadcast_from: spared locally; relayed whole.
        a.apply(PubSubCommand::Broadcast {
            topic: "t".into(),
            message: JsonText::from_value(&serde_json::json!({"n": 1})),
            include_self: false,
        });
        assert!(inbox_a.try_recv().is_err(), "the sender is spared");
        let relayed = rx.try_recv().expect("relayed");
        assert_eq!(
            (&*relayed.scope, relayed.topic.as_str(), &*relayed.json),
            ("acme/dash", "t", r#"{"n":1}"#)
        );

        // A full relay queue drops and counts; local delivery goes on.
        for n in 0..3 {
            b.apply(PubSubCommand::Broadcast {
                topic: "t".into(),
                message: JsonText::from_value(&serde_json::json!(n)),
                include_self: true,
            });
        }
        assert_eq!(shared.dropped_outgoing.load(Ordering::Relaxed), 1);
        assert_eq!(
            std::iter::from_fn(|| inbox_a.try_recv().ok()).count(),
            3,
            "local subscribers got every broadcast"
        );

        drop(a);
        assert!(!notified(), "b still holds the scope");
        drop(b);
        assert!(notified(), "the last subscriber left");
        assert!(broker.scopes().is_empty());
    }

    #[test]
    fn received_messages_reach_every_local_subscriber_of_their_scope_only() {
        use crate::inbox::{InboxBudget, InboxReceiver};
        use crate::pubsub::Subscriptions;
        use livewasm_runtime::PubSubCommand;

        let broker = Arc::new(Broker::default());
        let shared = Shared {
            host_id: 1,
            ..Shared::default()
        };
        let view = |scope: &str| {
            let (inbox, rx) = crate::inbox::inbox(8, InboxBudget::new(1 << 20, Arc::default()));
            let id = broker.channel_id();
            let mut subs = Subscriptions::new(broker.clone(), Arc::from(scope), id, inbox);
            subs.apply(PubSubCommand::Subscribe("t".into()));
            (subs, rx)
        };
        let count = |rx: &mut InboxReceiver| std::iter::from_fn(|| rx.try_recv().ok()).count();
        let (_a, mut rx_a) = view("app-1");
        let (_b, mut rx_b) = view("app-1");
        let (_c, mut rx_c) = view("app-2");
        let scope: Arc<str> = Arc::from("app-1");
        let message = |origin| {
            Envelope {
                origin,
                topic: "t",
                json: "{}",
            }
            .encode()
        };
        shared.receive(&broker, &scope, &subject(&scope), &message(2));
        assert_eq!(
            (count(&mut rx_a), count(&mut rx_b), count(&mut rx_c)),
            (1, 1, 0)
        );
        // An echo, and a message on another scope's subject: nothing delivered.
        shared.receive(&broker, &scope, &subject(&scope), &message(1));
        shared.receive(&broker, &scope, &subject("app-2"), &message(2));
        assert_eq!(
            (count(&mut rx_a), count(&mut rx_b), count(&mut rx_c)),
            (0, 0, 0)
        );
        assert_eq!(shared.received.load(Ordering::Relaxed), 1);
        assert_eq!(shared.dropped_incoming.load(Ordering::Relaxed), 1);
    }
}
