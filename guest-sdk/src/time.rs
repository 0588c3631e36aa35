//! Wall-clock helpers (there is no WASI clock: time comes from the host's `clock` capability).
//!
//! ```no_run
//! use livewasm_sdk::prelude::*;
//! use livewasm_sdk::time;
//!
//! #[derive(Assigns, Default)]
//! pub struct Clock {
//!     now: String,
//! }
//!
//! fn tick(socket: &mut Socket<Clock>) {
//!     assign!(socket, now = time::format_hms(time::now_ms())); // e.g. "14:03:59" (UTC)
//! }
//! # tick(&mut Socket::new(true, None));
//! ```

/// Milliseconds since the Unix epoch, from the host.
pub fn now_ms() -> u64 {
    crate::bindings::livewasm::view::clock::now_ms()
}

/// Formats epoch milliseconds as `HH:MM:SS` (UTC).
///
/// ```
/// use livewasm_sdk::time::format_hms;
///
/// assert_eq!(format_hms(0), "00:00:00");
/// assert_eq!(format_hms(1_700_000_000_123), "22:13:20");
/// ```
pub fn format_hms(epoch_ms: u64) -> String {
    let seconds = epoch_ms / 1000;
    let (h, m, s) = ((seconds / 3600) % 24, (seconds / 60) % 60, seconds % 60);
    format!("{h:02}:{m:02}:{s:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_time_of_day() {
        assert_eq!(super::format_hms(0), "00:00:00");
        assert_eq!(super::format_hms(1_700_000_000_123), "22:13:20");
    }
}
