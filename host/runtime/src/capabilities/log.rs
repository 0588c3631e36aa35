//! The `log` capability: a view's log lines go to the host's logs, tagged with its app and
//! cut to a bounded length.

use std::sync::Arc;

use crate::bindings::livewasm::view::{log, types};

/// Longest log line kept from a guest, in bytes (longer ones are cut and end with `…`).
pub const MAX_LOG_LINE: usize = 4096;

/// What `log` needs: the app's name for the log lines.
pub(crate) struct LogState {
    app: Arc<str>,
}

impl LogState {
    /// Log lines tagged with `app`.
    pub(crate) fn new(app: Arc<str>) -> LogState {
        LogState { app }
    }
}

/// `message`, cut at a character boundary to at most [`MAX_LOG_LINE`] bytes plus `…`.
fn clip(mut message: String) -> String {
    if message.len() > MAX_LOG_LINE {
        let mut cut = MAX_LOG_LINE;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push('…');
    }
    message
}

impl log::Host for LogState {
    fn log(&mut self, level: types::Level, message: String) {
        let message = clip(message);
        let app = &*self.app;
        match level {
            types::Level::Trace => tracing::trace!(target: "livewasm::guest", app, "{message}"),
            types::Level::Debug => tracing::debug!(target: "livewasm::guest", app, "{message}"),
            types::Level::Info => tracing::info!(target: "livewasm::guest", app, "{message}"),
            types::Level::Warn => tracing::warn!(target: "livewasm::guest", app, "{message}"),
            types::Level::Error => tracing::error!(target: "livewasm::guest", app, "{message}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use log::Host as _;

    #[test]
    fn long_lines_are_cut_at_a_character_boundary() {
        assert_eq!(clip("short".into()), "short");
        let long = "é".repeat(MAX_LOG_LINE);
        let cut = clip(long);
        assert!(cut.len() <= MAX_LOG_LINE + '…'.len_utf8());
        assert!(cut.ends_with('…'));
        // Logging never fails, whatever the level.
        let mut state = LogState::new(Arc::from("test"));
        state.log(types::Level::Error, "x".repeat(MAX_LOG_LINE * 2));
    }
}
