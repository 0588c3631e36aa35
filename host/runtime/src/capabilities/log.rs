//! The `log` capability: a view's log lines go to the host's logs, tagged with its app and
//! cut to a bounded length.

use std::sync::Arc;

use crate::bindings::livewasm::view::{log, types};
use crate::capabilities::budget::Budget;

/// Longest log line kept from a guest, in bytes (longer ones are cut and end with `…`).
pub const MAX_LOG_LINE: usize = 4096;
/// Log lines one callback may write to the host's logs; later ones are dropped (and still
/// count against the callback's command budget).
pub const MAX_LOG_LINES_PER_CALLBACK: usize = 100;

/// What `log` needs: the app's name for the log lines.
pub(crate) struct LogState {
    app: Arc<str>,
    budget: Budget,
    /// Lines written in this callback.
    lines: usize,
    /// The last panic message the guest logged in this callback (the SDK's panic hook logs
    /// `panicked at …` at error level just before the trap).
    panic: Option<String>,
}

impl LogState {
    /// Log lines tagged with `app`; calls charge `budget`.
    pub(crate) fn new(app: Arc<str>, budget: Budget) -> LogState {
        LogState {
            app,
            budget,
            lines: 0,
            panic: None,
        }
    }

    /// A new callback starts: its lines are counted from zero.
    pub(crate) fn new_callback(&mut self) {
        self.lines = 0;
        self.panic = None;
    }

    /// The panic message the guest logged in this callback, if any.
    pub(crate) fn panic(&self) -> Option<&str> {
        self.panic.as_deref()
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
    fn log(&mut self, level: types::Level, message: String) -> wasmtime::Result<()> {
        self.budget.command("log.log", message.len())?;
        self.lines += 1;
        if self.lines > MAX_LOG_LINES_PER_CALLBACK {
            if self.lines == MAX_LOG_LINES_PER_CALLBACK + 1 {
                tracing::warn!(target: "livewasm::guest", app = %self.app, "more than {MAX_LOG_LINES_PER_CALLBACK} log lines in one callback: the rest are dropped");
            }
            return Ok(());
        }
        let message = clip(message);
        if matches!(level, types::Level::Error) && message.starts_with("panicked at ") {
            self.panic = Some(message.clone());
        }
        let app = &*self.app;
        match level {
            types::Level::Trace => tracing::trace!(target: "livewasm::guest", app, "{message}"),
            types::Level::Debug => tracing::debug!(target: "livewasm::guest", app, "{message}"),
            types::Level::Info => tracing::info!(target: "livewasm::guest", app, "{message}"),
            types::Level::Warn => tracing::warn!(target: "livewasm::guest", app, "{message}"),
            types::Level::Error => tracing::error!(target: "livewasm::guest", app, "{message}"),
        }
        Ok(())
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
        let mut state = LogState::new(Arc::from("test"), Budget::default());
        state
            .log(types::Level::Error, "x".repeat(MAX_LOG_LINE * 2))
            .expect("within budget");
        // Past the lines of a callback: dropped, not an error.
        for _ in 0..MAX_LOG_LINES_PER_CALLBACK {
            state.log(types::Level::Info, "x".into()).expect("dropped");
        }
        state.new_callback();
        assert_eq!(state.lines, 0);
    }
}
