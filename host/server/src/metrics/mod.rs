//! The host's metrics, exported at `GET /metrics` in the Prometheus text format
//! (`prometheus-client` encodes them; nothing is formatted by hand).
//!
//! Every family is `livewasm_*`. Per-app families carry `tenant` and `app`: the registry's
//! names on a platform site (never the name a component's manifest chose), `local` and the
//! component's name for an `--app` site. Their handles are resolved once per app
//! ([`Metrics::app`]) and kept where counting happens — the runtime's [`Meter`] for guest
//! calls (fuel, time, traps, capability calls, memory), a socket's channels for joins,
//! events, crashes, pub/sub and uploads, the socket task for bytes sent — so the hot path
//! only adds to atomics. Host-wide gauges (sockets, guest threads, compile caches) are read
//! when scraped, and so are the cluster relay's counters and the other hosts' instances as
//! counted against the tenants' quotas (`livewasm_cluster_*`).
//!
//! [`Meter`]: livewasm_runtime::Meter

mod app;
pub mod http;

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use livewasm_runtime::Capability;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

pub(crate) use app::{AppMetrics, HibernatedView, LiveInstance, UpgradeOutcome};

use crate::pubsub::ClusterPubSubStats;

/// The tenant label of apps served with `--app` (they have no tenant).
pub(crate) const LOCAL_TENANT: &str = "local";

/// `tenant`, `app`.
type AppLabels = [(&'static str, String); 2];
/// `tenant`, `app` and one more (a trap's kind, a capability).
type AppLabels3 = [(&'static str, String); 3];
/// One label.
type OneLabel = [(&'static str, &'static str); 1];
/// `tenant`.
type TenantLabel = [(&'static str, String); 1];
/// Two labels.
type TwoLabels = [(&'static str, &'static str); 2];

/// The histogram constructor of registry latencies: 0.5 ms to ~16 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Every family, and the apps' resolved handles.
pub(crate) struct Metrics {
    registry: Registry,
    instances: Family<AppLabels, Gauge>,
    hibernated: Family<AppLabels, Gauge>,
    joins: Family<AppLabels, Counter>,
    events: Family<AppLabels, Counter>,
    errors: Family<AppLabels, Counter>,
    traps: Family<AppLabels3, Counter>,
    fuel: Family<AppLabels, Counter>,
    guest_seconds: Family<AppLabels, Counter<f64, AtomicU64>>,
    memory: Family<AppLabels, Gauge>,
    bytes_sent: Family<AppLabels, Counter>,
    pubsub_messages: Family<AppLabels, Counter>,
    upload_bytes: Family<AppLabels, Counter>,
    upload_entries: Family<AppLabels, Counter>,
    capability_calls: Family<AppLabels3, Counter>,
    upgrades: Family<AppLabels3, Counter>,
    open_sockets: Gauge,
    parked_sockets: Gauge,
    guest_threads: Gauge,
    guest_threads_busy: Gauge,
    guest_calls_waiting: Gauge,
    pubsub_dropped: Counter,
    compile_cache: Family<TwoLabels, Counter>,
    compilations: Counter,
    registry_seconds: Family<OneLabel, Histogram, fn() -> Histogram>,
    guest_log_dropped: Family<AppLabels, Counter>,
    cluster_connected: Gauge,
    cluster_subscribed_scopes: Gauge,
    cluster_messages: Family<OneLabel, Counter>,
    cluster_dropped: Family<OneLabel, Counter>,
    cluster_peers: Gauge,
    cluster_remote_instances: Family<TenantLabel, Gauge>,
    apps: Mutex<HashMap<(String, String), Arc<AppMetrics>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Every family registered, no app yet.
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("livewasm");
        macro_rules! family {
            ($name:literal, $help:literal) => {{
                let family = Family::default();
                registry.register($name, $help, family.clone());
                family
            }};
        }
        macro_rules! metric {
            ($name:literal, $help:literal) => {{
                let metric = Default::default();
                registry.register($name, $help, Clone::clone(&metric));
                metric
            }};
        }
        let instances = family!("instances", "Views running now, each holding an instance");
        let hibernated = family!(
            "hibernated_instances",
            "Idle views hibernated: a snapshot kept, no instance held"
        );
        let joins = family!("joins", "Views joined (mounted)");
        let events = family!("events", "User events handled");
        let errors = family!("errors", "Views crashed (trap, view error, refused render)");
        let traps = family!(
            "traps",
            "Guest traps by kind (fuel, deadline, memory, panic, other)"
        );
        let fuel = family!("fuel_used", "Fuel used by guest calls");
        let guest_seconds = family!("guest_seconds", "Seconds spent in guest calls");
        let memory = family!(
            "instance_memory_bytes",
            "Linear memory held by the app's instances"
        );
        let bytes_sent = family!(
            "sent_bytes",
            "Bytes of frames (renders, diffs, replies) sent"
        );
        let pubsub_messages = family!("pubsub_messages", "PubSub messages delivered to views");
        let upload_bytes = family!("upload_bytes", "Upload bytes received");
        let upload_entries = family!("upload_entries", "Upload entries received in full");
        let capability_calls = family!("capability_calls", "Capability calls by capability");
        let upgrades = family!(
            "live_upgrades",
            "Open views carried to a newly activated version, by outcome (migrated, remounted, kept)"
        );
        let open_sockets = metric!("open_sockets", "WebSockets open now");
        let parked_sockets = metric!(
            "parked_sockets",
            "WebSockets parked now (every view hibernated: only the byte stream kept)"
        );
        let guest_threads = metric!("guest_threads", "Threads of the guest pool");
        let guest_threads_busy = metric!("guest_threads_busy", "Guest threads running a call now");
        let guest_calls_waiting = metric!("guest_calls_waiting", "Guest calls queued for a thread");
        let pubsub_dropped = metric!("pubsub_dropped", "PubSub messages dropped (inbox full)");
        let compile_cache = family!(
            "compile_cache_lookups",
            "Compiled-component lookups by cache (memory, disk) and result (hit, miss)"
        );
        let compilations = metric!("compilations", "Components compiled to native code");
        let registry_seconds = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "registry_seconds",
            "Latency of registry calls by operation",
            registry_seconds.clone(),
        );
        let guest_log_dropped = family!(
            "guest_log_dropped",
            "Guest log lines dropped past the per-instance rate limit"
        );
        let cluster_connected = metric!(
            "cluster_connected",
            "1 while the cluster relay is connected to NATS (--cluster), else 0"
        );
        let cluster_subscribed_scopes = metric!(
            "cluster_subscribed_scopes",
            "App scopes whose cluster subject this host is subscribed to"
        );
        let cluster_messages = family!(
            "cluster_pubsub_messages",
            "PubSub broadcasts relayed through NATS, by direction (published, received)"
        );
        let cluster_dropped = family!(
            "cluster_pubsub_dropped",
            "PubSub broadcasts the relay dropped, by direction (outgoing, incoming)"
        );
        let cluster_peers = metric!(
            "cluster_peers",
            "Other hosts of the cluster whose instance reports this host counts"
        );
        let cluster_remote_instances = family!(
            "cluster_remote_instances",
            "A tenant's instances on the other hosts of the cluster, as last reported \
             (counted against its max_concurrent_instances)"
        );
        Metrics {
            registry,
            instances,
            hibernated,
            joins,
            events,
            errors,
            traps,
            fuel,
            guest_seconds,
            memory,
            bytes_sent,
            pubsub_messages,
            upload_bytes,
            upload_entries,
            capability_calls,
            upgrades,
            open_sockets,
            parked_sockets,
            guest_threads,
            guest_threads_busy,
            guest_calls_waiting,
            pubsub_dropped,
            compile_cache,
            compilations,
            registry_seconds,
            guest_log_dropped,
            cluster_connected,
            cluster_subscribed_scopes,
            cluster_messages,
            cluster_dropped,
            cluster_peers,
            cluster_remote_instances,
            apps: Mutex::default(),
        }
    }

    /// The series of app `app` of tenant `tenant` if anything counted for it yet (the
    /// operator dashboard reads them without creating empty ones).
    pub(crate) fn find_app(&self, tenant: &str, app: &str) -> Option<Arc<AppMetrics>> {
        let apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
        apps.get(&(tenant.to_string(), app.to_string())).cloned()
    }

    /// The handles of app `app` of tenant `tenant` (registry names; [`LOCAL_TENANT`] for an
    /// `--app` component), created on first use and shared after.
    pub(crate) fn app(&self, tenant: &str, app: &str) -> Arc<AppMetrics> {
        let mut apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = apps.get(&(tenant.to_string(), app.to_string())) {
            return found.clone();
        }
        let labels: AppLabels = [("tenant", tenant.to_string()), ("app", app.to_string())];
        let with = |key: &'static str, value: &str| -> AppLabels3 {
            [
                ("tenant", tenant.to_string()),
                ("app", app.to_string()),
                (key, value.to_string()),
            ]
        };
        let made = Arc::new(AppMetrics {
            app: Arc::from(app),
            instances: self.instances.get_or_create_owned(&labels),
            hibernated: self.hibernated.get_or_create_owned(&labels),
            joins: self.joins.get_or_create_owned(&labels),
            events: self.events.get_or_create_owned(&labels),
            errors: self.errors.get_or_create_owned(&labels),
            traps: app::TRAP_KINDS.map(|kind| self.traps.get_or_create_owned(&with("kind", kind))),
            fuel: self.fuel.get_or_create_owned(&labels),
            guest_seconds: self.guest_seconds.get_or_create_owned(&labels),
            memory: self.memory.get_or_create_owned(&labels),
            bytes_sent: self.bytes_sent.get_or_create_owned(&labels),
            pubsub_messages: self.pubsub_messages.get_or_create_owned(&labels),
            upload_bytes: self.upload_bytes.get_or_create_owned(&labels),
            upload_entries: self.upload_entries.get_or_create_owned(&labels),
            log_dropped: self.guest_log_dropped.get_or_create_owned(&labels),
            capability_calls: Capability::ALL.map(|capability| {
                self.capability_calls
                    .get_or_create_owned(&with("capability", capability.name()))
            }),
            upgrades: app::UPGRADE_OUTCOMES
                .map(|outcome| self.upgrades.get_or_create_owned(&with("outcome", outcome))),
        });
        apps.insert((tenant.to_string(), app.to_string()), made.clone());
        made
    }

    /// Records that a registry call `op` took `elapsed`.
    pub(crate) fn registry_call(&self, op: &'static str, elapsed: Duration) {
        self.registry_seconds
            .get_or_create(&[("op", op)])
            .observe(elapsed.as_secs_f64());
    }

    /// Records a lookup of a compiled component in the host's memory cache.
    pub(crate) fn compiled_lookup(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.compile_cache
            .get_or_create(&[("cache", "memory"), ("result", result)])
            .inc();
    }

    /// The text exposition of every family, with the host-wide gauges read just now.
    pub(crate) fn render(&self, gauges: &HostGauges) -> String {
        self.open_sockets.set(saturating_i64(gauges.open_sockets));
        self.parked_sockets
            .set(saturating_i64(gauges.parked_sockets));
        self.guest_threads.set(saturating_i64(gauges.guest_threads));
        self.guest_threads_busy
            .set(saturating_i64(gauges.guest_threads_busy));
        self.guest_calls_waiting
            .set(saturating_i64(gauges.guest_calls_waiting));
        catch_up(&self.pubsub_dropped, gauges.pubsub_dropped);
        catch_up(&self.compilations, gauges.compilations);
        for (result, total) in [
            ("hit", gauges.disk_cache_hits),
            ("miss", gauges.disk_cache_misses),
        ] {
            let counter = self
                .compile_cache
                .get_or_create_owned(&[("cache", "disk"), ("result", result)]);
            catch_up(&counter, total);
        }
        let cluster = gauges.cluster.unwrap_or_default();
        self.cluster_connected.set(i64::from(cluster.connected));
        self.cluster_subscribed_scopes
            .set(saturating_i64(cluster.subscribed_scopes));
        for (family, direction, total) in [
            (&self.cluster_messages, "published", cluster.published),
            (&self.cluster_messages, "received", cluster.received),
            (&self.cluster_dropped, "outgoing", cluster.dropped_outgoing),
            (&self.cluster_dropped, "incoming", cluster.dropped_incoming),
        ] {
            catch_up(&family.get_or_create(&[("direction", direction)]), total);
        }
        self.cluster_peers.set(saturating_i64(gauges.cluster_peers));
        if gauges.cluster.is_some() {
            for (tenant, remote) in &gauges.remote_instances {
                self.cluster_remote_instances
                    .get_or_create(&[("tenant", tenant.clone())])
                    .set(i64::try_from(*remote).unwrap_or(i64::MAX));
            }
        }
        let mut text = String::new();
        if let Err(error) = prometheus_text::encode(&mut text, &self.registry) {
            tracing::error!("metrics could not be encoded: {error}");
        }
        text
    }
}

/// The host-wide figures a scrape reads from the host (see [`http`]), kept elsewhere as they
/// change: open sockets, guest threads, pub/sub drops, compile caches and the cluster's.
#[derive(Debug, Clone, Default)]
pub(crate) struct HostGauges {
    /// WebSockets open now.
    pub open_sockets: usize,
    /// WebSockets parked now (every view hibernated).
    pub parked_sockets: usize,
    /// Guest threads (a call each at most).
    pub guest_threads: usize,
    /// Guest threads running a call now.
    pub guest_threads_busy: usize,
    /// Guest calls waiting for a thread.
    pub guest_calls_waiting: usize,
    /// Pub/sub messages dropped since the host started.
    pub pubsub_dropped: u64,
    /// Components compiled since the host started.
    pub compilations: u64,
    /// Compiled components found in the disk cache.
    pub disk_cache_hits: u64,
    /// Compiled components not found in the disk cache.
    pub disk_cache_misses: u64,
    /// The cluster relay's counters, when the host is in a cluster.
    pub cluster: Option<ClusterPubSubStats>,
    /// Other hosts of the cluster whose instance reports are counted.
    pub cluster_peers: usize,
    /// Each tenant with a usage record here and its instances on the other hosts of the
    /// cluster (exported only in a cluster).
    pub remote_instances: Vec<(String, u64)>,
}

/// Raises `counter` to `total`, a total kept elsewhere (never lowers it).
fn catch_up(counter: &Counter, total: u64) {
    let behind = total.saturating_sub(counter.get());
    if behind > 0 {
        counter.inc_by(behind);
    }
}

fn saturating_i64(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use livewasm_runtime::{Meter, TrapKind};

    #[test]
    fn app_handles_are_shared_and_labelled_with_the_names_given() {
        let metrics = Metrics::new();
        let one = metrics.app("acme", "shop");
        let again = metrics.app("acme", "shop");
        assert!(Arc::ptr_eq(&one, &again));
        one.joins.inc();
        one.trap(TrapKind::OutOfFuel);
        one.capability_calls(Capability::Sql, 3);
        one.memory(4096);
        let _live = LiveInstance::new(&again);
        let mut text = String::new();
        prometheus_text::encode(&mut text, &metrics.registry).expect("encode");
        for line in [
            r#"livewasm_joins_total{tenant="acme",app="shop"} 1"#,
            r#"livewasm_traps_total{tenant="acme",app="shop",kind="fuel"} 1"#,
            r#"livewasm_traps_total{tenant="acme",app="shop",kind="deadline"} 0"#,
            r#"livewasm_capability_calls_total{tenant="acme",app="shop",capability="sql"} 3"#,
            r#"livewasm_instance_memory_bytes{tenant="acme",app="shop"} 4096"#,
            r#"livewasm_instances{tenant="acme",app="shop"} 1"#,
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }
}
