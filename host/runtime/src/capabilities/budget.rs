//! What one callback may ask of the imports, whatever the capability: a shared count of
//! commands, a count of the bytes passed in, and the fuel owed for the host's work.
//!
//! Every capability charges the same [`Budget`] (one per instance, whole again at each
//! callback) before doing anything: a call over a cap traps the callback with a message
//! naming the cap, so a guest looping on an import stops at the first call past it and the
//! host never queues more than [`MAX_COMMANDS_PER_CALLBACK`] commands per callback. The fuel
//! owed ([`FUEL_PER_IMPORT_CALL`] per call, [`FUEL_PER_IMPORT_BYTE`] per byte in or out) is
//! taken from the store's fuel when the import returns (`engine.rs`, a call hook), so work
//! done in imports counts against the callback's fuel as the guest's own work does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::meter::CapabilityCounts;

/// Commands one callback may issue over all imports together: timers scheduled or
/// cancelled, push events, navigations, pubsub subscribes, unsubscribes and broadcasts, task
/// starts and cancels, log lines and upload releases.
pub const MAX_COMMANDS_PER_CALLBACK: usize = 1024;
/// Bytes one callback may pass into imports (strings and lists, summed over all calls).
pub const MAX_IMPORT_BYTES_PER_CALLBACK: usize = 4 << 20;
/// Fuel charged for each import call (about the host's fixed cost of one call).
pub const FUEL_PER_IMPORT_CALL: u64 = 2_000;
/// Fuel charged for each byte passed into an import or returned by one (copying, parsing).
pub const FUEL_PER_IMPORT_BYTE: u64 = 8;

/// The per-callback budget of one instance, shared by its capabilities.
#[derive(Debug, Clone, Default)]
pub(crate) struct Budget(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    commands: AtomicUsize,
    bytes: AtomicUsize,
    fuel_owed: AtomicU64,
    /// Calls of the metered capabilities, until the instance reports them.
    capabilities: CapabilityCounts,
}

impl Budget {
    /// A new callback starts: everything is whole again (fuel owed included).
    pub(crate) fn reset(&self) {
        self.0.commands.store(0, Ordering::Relaxed);
        self.0.bytes.store(0, Ordering::Relaxed);
        self.0.fuel_owed.store(0, Ordering::Relaxed);
    }

    /// Charges one command `what` carrying `bytes` bytes of arguments; an error (the callback
    /// traps) past either cap.
    pub(crate) fn command(&self, what: &str, bytes: usize) -> wasmtime::Result<()> {
        let commands = self.0.commands.fetch_add(1, Ordering::Relaxed) + 1;
        if commands > MAX_COMMANDS_PER_CALLBACK {
            wasmtime::bail!(
                "import budget exceeded: more than {MAX_COMMANDS_PER_CALLBACK} commands in one \
                 callback (at `{what}`)"
            );
        }
        self.call(what, bytes)
    }

    /// Charges a call that queues nothing (a read, a query) with `bytes` bytes of arguments.
    pub(crate) fn call(&self, what: &str, bytes: usize) -> wasmtime::Result<()> {
        self.0.capabilities.count(what);
        let total = self
            .0
            .bytes
            .fetch_add(bytes, Ordering::Relaxed)
            .saturating_add(bytes);
        self.owe(FUEL_PER_IMPORT_CALL, bytes);
        if total > MAX_IMPORT_BYTES_PER_CALLBACK {
            wasmtime::bail!(
                "import budget exceeded: more than {MAX_IMPORT_BYTES_PER_CALLBACK} bytes passed \
                 to imports in one callback (at `{what}`)"
            );
        }
        Ok(())
    }

    /// Owes fuel for `bytes` bytes the host produced (returned to the guest).
    pub(crate) fn produced(&self, bytes: usize) {
        self.owe(0, bytes);
    }

    fn owe(&self, fixed: u64, bytes: usize) {
        let fuel = fixed.saturating_add((bytes as u64).saturating_mul(FUEL_PER_IMPORT_BYTE));
        self.0.fuel_owed.fetch_add(fuel, Ordering::Relaxed);
    }

    /// The capability calls counted since they were last reported.
    pub(crate) fn capability_calls(&self) -> &CapabilityCounts {
        &self.0.capabilities
    }

    /// The fuel owed since the last call, now settled.
    pub(crate) fn take_fuel_owed(&self) -> u64 {
        self.0.fuel_owed.swap(0, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_bytes_are_capped_per_callback() {
        let budget = Budget::default();
        for _ in 0..MAX_COMMANDS_PER_CALLBACK {
            budget.command("log", 1).expect("within the cap");
        }
        let error = budget.command("log", 1).expect_err("over the cap");
        assert!(
            error.to_string().contains("more than 1024 commands"),
            "{error}"
        );
        assert_eq!(
            budget.take_fuel_owed(),
            MAX_COMMANDS_PER_CALLBACK as u64 * (FUEL_PER_IMPORT_CALL + FUEL_PER_IMPORT_BYTE)
        );
        budget.reset();
        budget
            .call("read", MAX_IMPORT_BYTES_PER_CALLBACK)
            .expect("exactly the cap");
        let error = budget.call("read", 1).expect_err("one byte more");
        assert!(error.to_string().contains("bytes passed"), "{error}");
        budget.reset();
        assert_eq!(budget.take_fuel_owed(), 0);
        budget.command("push-event", 0).expect("a new callback");
    }
}
