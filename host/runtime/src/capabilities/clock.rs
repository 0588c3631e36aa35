//! The `clock` capability: wall time, and monotonic time from the runtime's start.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::bindings::livewasm::view::clock;

/// What `clock` needs: the fixed point monotonic time counts from.
pub(crate) struct ClockState {
    started: Instant,
}

impl ClockState {
    /// Monotonic time counted from `started` (the runtime's start, shared by all instances).
    pub(crate) fn new(started: Instant) -> ClockState {
        ClockState { started }
    }
}

impl clock::Host for ClockState {
    fn now_ms(&mut self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    fn monotonic_ns(&mut self) -> u64 {
        self.started.elapsed().as_nanos() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clock::Host as _;

    #[test]
    fn monotonic_time_never_goes_backwards() {
        let mut state = ClockState::new(Instant::now());
        let first = state.monotonic_ns();
        let second = state.monotonic_ns();
        assert!(second >= first);
        // After 2020-01-01.
        assert!(state.now_ms() > 1_577_836_800_000);
    }
}
