//! [`Meter`]: where an app's instances report what their guest calls cost — fuel, time,
//! traps by kind, capability calls, linear memory — so the host can export it as metrics.
//!
//! The runtime keeps no metrics of its own: an [`App`](crate::App) given a meter
//! ([`App::with_meter`](crate::App::with_meter)) reports to it once per guest call (and once
//! per memory growth), through a handle the host resolved once for the app, so the hot path
//! costs a few atomic adds.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use wasmtime::{ResourceLimiter, StoreLimits};

use crate::error::TrapKind;

/// A capability whose calls are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// The app's key-value store (`kv`).
    Kv,
    /// The app's SQL database (`sql`).
    Sql,
    /// Outgoing HTTP (`fetch`).
    Fetch,
    /// The app's files (`blobs`).
    Blobs,
}

impl Capability {
    /// Every counted capability, in [`Capability::index`] order.
    pub const ALL: [Capability; 4] = [
        Capability::Kv,
        Capability::Sql,
        Capability::Fetch,
        Capability::Blobs,
    ];

    /// The capability's WIT interface name (`kv`, `sql`, `fetch`, `blobs`).
    pub fn name(self) -> &'static str {
        match self {
            Capability::Kv => "kv",
            Capability::Sql => "sql",
            Capability::Fetch => "fetch",
            Capability::Blobs => "blobs",
        }
    }

    /// Position in [`Capability::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The capability an import named `what` (`kv.get`, `sql.query` …) belongs to.
    pub(crate) fn of_import(what: &str) -> Option<Capability> {
        let interface = what.split_once('.').map_or(what, |(i, _)| i);
        match interface {
            "kv" => Some(Capability::Kv),
            "sql" => Some(Capability::Sql),
            "fetch" => Some(Capability::Fetch),
            "blobs" => Some(Capability::Blobs),
            _ => None,
        }
    }
}

/// Receives what the guest calls of one app's instances cost. Implementations must be cheap:
/// they run on the guest thread after every call.
pub trait Meter: Send + Sync {
    /// A guest call returned (or trapped) after `elapsed`, having used `fuel` (its own work
    /// and the fuel its imports were charged).
    fn guest_call(&self, fuel: u64, elapsed: Duration);
    /// A guest call trapped with `kind`; the instance is dead.
    fn trap(&self, kind: TrapKind);
    /// The guest called imports of `capability` `count` times during one call.
    fn capability_calls(&self, capability: Capability, count: u64);
    /// The linear memory held by the app's instances changed by `delta` bytes (grown, or
    /// freed with an instance).
    fn memory(&self, delta: i64);
    /// `count` guest log lines were dropped (past the instance's log rate).
    fn log_lines_dropped(&self, count: u64);
}

/// Calls of each [`Capability`] during one guest call, counted as the imports charge the
/// budget and taken by the instance when the call returns.
#[derive(Debug, Default)]
pub(crate) struct CapabilityCounts([AtomicU64; 4]);

impl CapabilityCounts {
    /// Counts a call of import `what`, when it belongs to a counted capability.
    pub(crate) fn count(&self, what: &str) {
        if let Some(capability) = Capability::of_import(what) {
            self.0[capability.index()].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Reports the calls counted since the last take to `meter`, and starts again from zero.
    pub(crate) fn report(&self, meter: &dyn Meter) {
        for capability in Capability::ALL {
            let slot = &self.0[capability.index()];
            if slot.load(Ordering::Relaxed) != 0 {
                let count = slot.swap(0, Ordering::Relaxed);
                meter.capability_calls(capability, count);
            }
        }
    }
}

/// An instance's store limits that also report its linear memory to the app's meter: what
/// it grew by, and all of it when the instance is dropped.
pub(crate) struct MeteredLimits {
    limits: StoreLimits,
    meter: Option<Arc<dyn Meter>>,
    /// Bytes of linear memory this instance was allowed to grow to, over all its memories.
    memory: usize,
}

impl MeteredLimits {
    /// `limits`, reporting memory to `meter` when there is one.
    pub(crate) fn new(limits: StoreLimits, meter: Option<Arc<dyn Meter>>) -> MeteredLimits {
        MeteredLimits {
            limits,
            meter,
            memory: 0,
        }
    }
}

impl ResourceLimiter for MeteredLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed && let Some(meter) = &self.meter {
            let grown = desired.saturating_sub(current);
            self.memory = self.memory.saturating_add(grown);
            meter.memory(i64::try_from(grown).unwrap_or(i64::MAX));
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

impl Drop for MeteredLimits {
    fn drop(&mut self) {
        if let Some(meter) = &self.meter
            && self.memory > 0
        {
            meter.memory(-i64::try_from(self.memory).unwrap_or(i64::MAX));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_map_to_their_capability() {
        assert_eq!(Capability::of_import("kv.get"), Some(Capability::Kv));
        assert_eq!(Capability::of_import("sql.batch"), Some(Capability::Sql));
        assert_eq!(Capability::of_import("fetch.send"), Some(Capability::Fetch));
        assert_eq!(
            Capability::of_import("blobs.put-upload"),
            Some(Capability::Blobs)
        );
        assert_eq!(Capability::of_import("log.log"), None);
        assert_eq!(Capability::of_import("kvx.get"), None);
        for capability in Capability::ALL {
            assert_eq!(Capability::ALL[capability.index()], capability);
        }
    }
}
