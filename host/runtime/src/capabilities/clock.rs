//! The `clock` capability: wall time, and monotonic time from the runtime's start.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::bindings::livewasm::view::clock;
use crate::capabilities::budget::Budget;

/// What `clock` needs: the fixed point monotonic time counts from.
pub(crate) struct ClockState {
    started: Instant,
    budget: Budget,
}

impl ClockState {
    /// Monotonic time counted from `started` (the runtime's start, shared by all instances).
    /// Calls charge `budget` (fuel only: a clock reading queues nothing).
    pub(crate) fn new(started: Instant, budget: Budget) -> ClockState {
        ClockState { started, budget }
    }
}

impl clock::Host for ClockState {
    fn now_ms(&mut self) -> wasmtime::Result<u64> {
        self.budget.call("clock.now-ms", 0)?;
        Ok(SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0))
    }

    fn monotonic_ns(&mut self) -> wasmtime::Result<u64> {
        self.budget.call("clock.monotonic-ns", 0)?;
        Ok(self.started.elapsed().as_nanos() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clock::Host as _;

    #[test]
    fn monotonic_time_never_goes_backwards() {
        let mut state = ClockState::new(Instant::now(), Budget::default());
        let first = state.monotonic_ns().expect("read");
        let second = state.monotonic_ns().expect("read");
        assert!(second >= first);
        // After 2020-01-01.
        assert!(state.now_ms().expect("read") > 1_577_836_800_000);
    }
}
