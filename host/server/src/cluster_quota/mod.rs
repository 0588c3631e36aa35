//! Tenant instance quotas across the hosts of a cluster (`--cluster nats://…`).
//!
//! Each host of the cluster publishes, on [`SUBJECT`], an
//! [`InstanceReport`](report::InstanceReport): its id (random per start) and its live
//! instances per tenant (views, dead renders, HTTP handlers, tasks; tenants running none left
//! out). It does so every [`REPORT_PERIOD`], and also at once (but at most every
//! [`MIN_REPORT_GAP`]) when a tenant's count moved by a tenth of its limit or more (one
//! instance at least) since the last report. Every host keeps the last report heard from
//! each other host ([`peers::PeerCounts`]; of the tenants it serves itself) and forgets a
//! host not heard from for
//! [`PEER_EXPIRY`]: a host that died, or lost NATS, stops counting. A join (or a dead render,
//! an HTTP handler, a task) takes a slot of its tenant only while this host's instances plus
//! the sum of the other hosts' last reports are below the tenant's `max_concurrent_instances`;
//! a refusal is the local one (the join's `capacity` reason, a 503 page).
//!
//! # Tolerance
//!
//! The count a host checks is the others' as of their last reports, so it lags behind by at
//! most one report period (plus NATS's delivery):
//!
//! - **Over the limit**: the cluster may briefly run more than `max_concurrent_instances` of
//!   a tenant, by at most what the other hosts admitted within one report period before the
//!   host that admitted last had heard of it (hosts racing for the last slots may each take
//!   them). A host never runs more than the limit by itself (its own count is checked
//!   exactly), so the cluster never runs more than N × the limit on N hosts, whatever NATS
//!   does.
//! - **Under the limit**: an instance that ended on another host still counts until that
//!   host's next report (at most one period); a host that died or lost NATS counts until it
//!   has been silent for [`PEER_EXPIRY`] (forgotten at the next period after that). A
//!   restarted host has a new id; its old one counts until it expires the same way.
//! - **NATS unreachable**: no reports come; once the others expire, each host counts only its
//!   own instances (at most N × the limit on N hosts).
//!
//! Without `--cluster` none of this runs and the quota counts this host's instances only.

pub mod peers;
pub mod report;

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_nats::Client;
use async_nats::connection::State;
use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio::time::{Instant, MissedTickBehavior};

use crate::host::Host;
use peers::PeerCounts;
use report::InstanceReport;

/// The subject of instance reports (every tenant's, from every host). Not under
/// [`SUBJECT_PREFIX`](crate::pubsub_relay::SUBJECT_PREFIX), whose subjects are the apps'.
pub const SUBJECT: &str = "livewasm.quota.instances";

/// How often a host reports its instances.
pub const REPORT_PERIOD: Duration = Duration::from_millis(500);

/// The least time between two reports of a host (reports sent at once when a count moved).
pub const MIN_REPORT_GAP: Duration = Duration::from_millis(50);

/// A host not heard from for this long (four report periods) stops counting.
pub const PEER_EXPIRY: Duration = Duration::from_secs(2);

impl Host {
    /// The instances of `tenant` on the other hosts of the cluster, as they last reported
    /// them; 0 outside a cluster.
    pub fn remote_instances(&self, tenant: &str) -> u64 {
        self.sites.remote_of(tenant)
    }

    /// The other hosts of the cluster whose instance reports this host counts now.
    pub fn cluster_peers(&self) -> usize {
        self.sites.peers()
    }
}

/// Reports `host`'s instances on `client`'s NATS as `host_id` and counts the other hosts',
/// in a task that ends when the host is dropped.
pub(crate) fn spawn(host: &Arc<Host>, client: Client, host_id: u64) -> tokio::task::JoinHandle<()> {
    let reporter = Reporter {
        host: Arc::downgrade(host),
        nudge: host.sites.nudge(),
        client,
        host_id,
        peers: PeerCounts::new(host_id),
        dropped: 0,
    };
    tokio::spawn(reporter.run())
}

/// The reporting task's state.
struct Reporter {
    host: Weak<Host>,
    nudge: Arc<Notify>,
    client: Client,
    host_id: u64,
    peers: PeerCounts,
    /// Reports received and not counted (logged at the first and every power of two).
    dropped: u64,
}

impl Reporter {
    /// Reports and counts until the host is dropped.
    async fn run(mut self) {
        let mut reports = self.subscribe().await;
        let mut tick = tokio::time::interval(REPORT_PERIOD);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_sent: Option<Instant> = None;
        loop {
            let received = async {
                match reports.as_mut() {
                    Some(subscriber) => subscriber.next().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tick.tick() => {
                    let Some(host) = self.host.upgrade() else { return };
                    if reports.is_none() {
                        reports = self.subscribe().await;
                    }
                    self.send(&host).await;
                    last_sent = Some(Instant::now());
                    self.count(&host);
                }
                () = self.nudge.notified() => {
                    if let Some(at) = last_sent {
                        tokio::time::sleep_until(at + MIN_REPORT_GAP).await;
                    }
                    let Some(host) = self.host.upgrade() else { return };
                    self.send(&host).await;
                    last_sent = Some(Instant::now());
                }
                message = received => {
                    let Some(host) = self.host.upgrade() else { return };
                    match message {
                        Some(message) => {
                            self.receive(&host, &message.payload);
                            self.count(&host);
                        }
                        // Subscribed again at the next period.
                        None => reports = None,
                    }
                }
            }
        }
    }

    /// Follows [`SUBJECT`]; `None` (tried again at the next period) when that fails.
    async fn subscribe(&self) -> Option<async_nats::Subscriber> {
        match self.client.subscribe(SUBJECT).await {
            Ok(subscriber) => Some(subscriber),
            Err(error) => {
                tracing::warn!("cluster quota: cannot subscribe to {SUBJECT}: {error}");
                None
            }
        }
    }

    /// Publishes this host's instances now (not while NATS is disconnected: the report
    /// would be stale when it leaves).
    async fn send(&self, host: &Host) {
        if self.client.connection_state() != State::Connected {
            return;
        }
        let report = InstanceReport::new(self.host_id, host.sites.local_counts());
        let payload = match report.encode() {
            Ok(payload) => payload,
            Err(error) => {
                tracing::warn!("cluster quota: instance report not sent: {error}");
                return;
            }
        };
        if let Err(error) = self.client.publish(SUBJECT, payload.into()).await {
            tracing::debug!("cluster quota: publishing the instance report: {error}");
        }
    }

    /// Records a report received from another host, keeping the tenants `host` serves (a
    /// tenant's usage record is made when one of its apps is installed here): what a report
    /// can make this host hold is bounded by the tenants it serves.
    fn receive(&mut self, host: &Host, payload: &[u8]) {
        let recorded = InstanceReport::decode(payload)
            .map_err(|error| error.to_string())
            .and_then(|mut report| {
                report
                    .tenants
                    .retain(|tenant, _| host.sites.usage_of(tenant).is_some());
                self.peers
                    .record(report, std::time::Instant::now())
                    .map_err(|why| why.to_string())
            });
        if let Err(why) = recorded {
            self.dropped += 1;
            if self.dropped.is_power_of_two() {
                tracing::warn!(
                    dropped = self.dropped,
                    "cluster quota: instance report not counted: {why}"
                );
            }
        }
    }

    /// Forgets the hosts gone silent and counts the others' instances from now on.
    fn count(&mut self, host: &Host) {
        let forgotten = self.peers.expire(std::time::Instant::now(), PEER_EXPIRY);
        if forgotten > 0 {
            tracing::info!(
                forgotten,
                "cluster quota: hosts silent for {PEER_EXPIRY:?} no longer count"
            );
        }
        host.sites.set_remote(self.peers.sums(), self.peers.len());
    }
}
