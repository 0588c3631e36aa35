//! Capabilities granted by the host (WIT imports), wrapped for Rust.

/// Logging into the host's logs.
pub mod log {
    use crate::bindings::livewasm::view::log::log;
    use crate::bindings::livewasm::view::types::Level;

    /// Debug detail.
    pub fn debug(message: &str) {
        log(Level::Debug, message);
    }

    /// Normal operation.
    pub fn info(message: &str) {
        log(Level::Info, message);
    }

    /// Something unexpected.
    pub fn warn(message: &str) {
        log(Level::Warn, message);
    }

    /// A failure.
    pub fn error(message: &str) {
        log(Level::Error, message);
    }
}

/// Messages delivered later to `handle_info`.
pub mod timers {
    use serde::Serialize;

    use crate::bindings::livewasm::view::timers as wit;

    /// Identifies a timer.
    pub type TimerId = u64;

    fn encode<M: Serialize + ?Sized>(message: &M) -> String {
        serde_json::to_string(message).unwrap_or_else(|_| "null".into())
    }

    /// Delivers `message` to `handle_info` once, after `ms` milliseconds.
    pub fn send_after<M: Serialize + ?Sized>(ms: u32, message: &M) -> TimerId {
        wit::send_after(ms, &encode(message))
    }

    /// Sends `message` to this view's own `handle_info`, as Phoenix's `send(self(), message)`:
    /// it arrives right after the current callback, once its render has gone to the client,
    /// so a view can show a loading state first and do the slow part in `handle_info`.
    ///
    /// ```no_run
    /// use livewasm_sdk::prelude::*;
    ///
    /// #[derive(Assigns, Default)]
    /// pub struct Report {
    ///     status: String,
    /// }
    ///
    /// fn handle_event(socket: &mut Socket<Report>, event: &str) -> Result {
    ///     if event == "refresh" {
    ///         assign!(socket, status = "Refreshing…".to_string());
    ///         timers::send_self(&"refresh");
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub fn send_self<M: Serialize + ?Sized>(message: &M) -> TimerId {
        send_after(0, message)
    }

    /// Delivers `message` to `handle_info` every `ms` milliseconds (at least 10).
    pub fn send_interval<M: Serialize + ?Sized>(ms: u32, message: &M) -> TimerId {
        wit::send_interval(ms, &encode(message))
    }

    /// Cancels a timer; false when it was unknown or already done.
    pub fn cancel(id: TimerId) -> bool {
        wit::cancel(id)
    }
}
