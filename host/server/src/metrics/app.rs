//! [`AppMetrics`]: the handles of one tenant app's series, resolved once (at a join, when a
//! version is served) and kept by whoever counts, so counting is an atomic add.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use livewasm_runtime::{Capability, Meter, TrapKind};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;

/// Trap kinds as the `kind` label spells them, in [`trap_index`] order.
pub(crate) const TRAP_KINDS: [&str; 5] = ["fuel", "deadline", "memory", "panic", "other"];

/// Position of `kind` in [`TRAP_KINDS`].
pub(crate) fn trap_index(kind: TrapKind) -> usize {
    match kind {
        TrapKind::OutOfFuel => 0,
        TrapKind::Deadline => 1,
        TrapKind::Memory => 2,
        TrapKind::Panic => 3,
        TrapKind::Other => 4,
    }
}

/// How a live upgrade of one open view went, as the `outcome` label spells it, in
/// [`UpgradeOutcome`] order.
pub(crate) const UPGRADE_OUTCOMES: [&str; 3] = ["migrated", "remounted", "kept"];

/// How a live upgrade of one open view went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpgradeOutcome {
    /// Its state carried into the new version, the page updated by a diff.
    Migrated = 0,
    /// Sent to mount afresh on the new version (its snapshot refused, its route gone, or a
    /// component without the hibernation export).
    Remounted = 1,
    /// Left on its version for now (it could not be snapshotted at that moment).
    Kept = 2,
}

/// One tenant app's series (labels `tenant`, `app`: registry names, or `local` and the
/// component's name for an `--app` site).
#[derive(Debug, Clone)]
pub(crate) struct AppMetrics {
    /// The `app` label (the socket span records it).
    pub(crate) app: Arc<str>,
    /// Views of the app running now (each holds an instance).
    pub(crate) instances: Gauge,
    /// Views of the app hibernated now (a snapshot each, no instance).
    pub(crate) hibernated: Gauge,
    /// Views joined (mounted).
    pub(crate) joins: Counter,
    /// User events handled (`event` frames).
    pub(crate) events: Counter,
    /// Views crashed (a trap, a view error, a refused render).
    pub(crate) errors: Counter,
    /// Traps, by [`TRAP_KINDS`].
    pub(crate) traps: [Counter; 5],
    /// Fuel used by guest calls.
    pub(crate) fuel: Counter,
    /// Seconds spent in guest calls.
    pub(crate) guest_seconds: Counter<f64, AtomicU64>,
    /// Bytes of linear memory the app's instances hold now.
    pub(crate) memory: Gauge,
    /// Bytes of frames (renders, diffs, replies) queued to the app's sockets.
    pub(crate) bytes_sent: Counter,
    /// PubSub messages delivered to the app's views.
    pub(crate) pubsub_messages: Counter,
    /// Upload bytes received.
    pub(crate) upload_bytes: Counter,
    /// Upload entries received in full.
    pub(crate) upload_entries: Counter,
    /// Guest log lines dropped past the instance's rate.
    pub(crate) log_dropped: Counter,
    /// Capability calls, by [`Capability::index`].
    pub(crate) capability_calls: [Counter; 4],
    /// Open views carried to a newly activated version, by [`UPGRADE_OUTCOMES`].
    pub(crate) upgrades: [Counter; 3],
}

impl AppMetrics {
    /// Counts one open view's live upgrade.
    pub(crate) fn upgraded(&self, outcome: UpgradeOutcome) {
        self.upgrades[outcome as usize].inc();
    }
}

impl Meter for AppMetrics {
    fn guest_call(&self, fuel: u64, elapsed: Duration) {
        self.fuel.inc_by(fuel);
        self.guest_seconds.inc_by(elapsed.as_secs_f64());
    }

    fn trap(&self, kind: TrapKind) {
        self.traps[trap_index(kind)].inc();
    }

    fn capability_calls(&self, capability: Capability, count: u64) {
        self.capability_calls[capability.index()].inc_by(count);
    }

    fn memory(&self, delta: i64) {
        self.memory.inc_by(delta);
    }

    fn log_lines_dropped(&self, count: u64) {
        self.log_dropped.inc_by(count);
    }
}

/// Counts one running view of an app in [`AppMetrics::instances`] while it lives.
#[derive(Debug)]
pub(crate) struct LiveInstance(Gauge);

impl LiveInstance {
    /// Counts a view until the value is dropped.
    pub(crate) fn new(metrics: &AppMetrics) -> LiveInstance {
        metrics.instances.inc();
        LiveInstance(metrics.instances.clone())
    }
}

impl Drop for LiveInstance {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Counts one hibernated view of an app in [`AppMetrics::hibernated`] while it sleeps.
pub(crate) struct HibernatedView(Gauge);

impl HibernatedView {
    /// Counts a view until the value is dropped (it wakes, or goes).
    pub(crate) fn new(metrics: &AppMetrics) -> HibernatedView {
        metrics.hibernated.inc();
        HibernatedView(metrics.hibernated.clone())
    }
}

impl Drop for HibernatedView {
    fn drop(&mut self) {
        self.0.dec();
    }
}
