//! The `log` capability: a view's log lines go to the host's logs, tagged with its tenant and
//! app (the names the host gave it, never its manifest's), cut to a bounded length, with
//! control characters escaped (a guest cannot forge a line or send terminal escapes), and
//! rate-limited per instance: past the limit lines are dropped, counted (the app's meter) and
//! summed up in one host line when logging resumes or the instance goes.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use crate::bindings::livewasm::view::{log, types};
use crate::capabilities::budget::Budget;
use crate::meter::Meter;

/// Longest log line kept from a guest, in bytes (longer ones are cut and end with `…`).
pub const MAX_LOG_LINE: usize = 4096;
/// Log lines one callback may write to the host's logs; later ones are dropped (and still
/// count against the callback's command budget).
pub const MAX_LOG_LINES_PER_CALLBACK: usize = 100;
/// Log lines one instance may write per second, sustained; past that (and its burst) lines
/// are dropped and counted.
pub const MAX_LOG_LINES_PER_SEC: f64 = 20.0;
/// Log lines one instance may write at once before [`MAX_LOG_LINES_PER_SEC`] applies.
pub const LOG_LINES_BURST: f64 = 100.0;

/// What `log` needs: the app's names for the log lines, and the instance's rate.
pub(crate) struct LogState {
    tenant: Arc<str>,
    app: Arc<str>,
    budget: Budget,
    meter: Option<Arc<dyn Meter>>,
    /// Lines written in this callback.
    lines: usize,
    /// Lines the instance may still write now (refilled at [`MAX_LOG_LINES_PER_SEC`]).
    tokens: f64,
    /// When `tokens` was last refilled.
    refilled: Instant,
    /// Lines dropped since the last summary line.
    dropped: u64,
    /// The last panic message the guest logged in this callback (the SDK's panic hook logs
    /// `panicked at …` at error level just before the trap).
    panic: Option<String>,
}

impl LogState {
    /// Log lines tagged with tenant `local` and `app`; calls charge `budget`.
    pub(crate) fn new(app: Arc<str>, budget: Budget) -> LogState {
        LogState {
            tenant: Arc::from("local"),
            app,
            budget,
            meter: None,
            lines: 0,
            tokens: LOG_LINES_BURST,
            refilled: Instant::now(),
            dropped: 0,
            panic: None,
        }
    }

    /// Tags lines with `tenant` and `app` (the host's names for the app) and counts dropped
    /// lines in `meter`.
    pub(crate) fn set_identity(
        &mut self,
        tenant: Arc<str>,
        app: Arc<str>,
        meter: Option<Arc<dyn Meter>>,
    ) {
        self.tenant = tenant;
        self.app = app;
        self.meter = meter;
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

    /// Whether the instance's rate lets one more line through now.
    fn take_token(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.refilled).as_secs_f64() * MAX_LOG_LINES_PER_SEC;
        self.tokens = (self.tokens + refill).min(LOG_LINES_BURST);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Counts a dropped line.
    fn drop_line(&mut self) {
        self.dropped += 1;
        if let Some(meter) = &self.meter {
            meter.log_lines_dropped(1);
        }
    }

    /// Writes the summary of the lines dropped since the last one, if any.
    fn summarize_dropped(&mut self) {
        if self.dropped > 0 {
            let dropped = std::mem::take(&mut self.dropped);
            tracing::warn!(
                target: "livewasm::guest",
                tenant = %self.tenant,
                app = %self.app,
                dropped,
                "guest log lines dropped: more than {MAX_LOG_LINES_PER_SEC} a second \
                 (bursts of {LOG_LINES_BURST}) or {MAX_LOG_LINES_PER_CALLBACK} in one callback"
            );
        }
    }
}

impl Drop for LogState {
    fn drop(&mut self) {
        self.summarize_dropped();
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

/// `message` with every control character (newlines, carriage returns, terminal escapes …)
/// written as its Rust escape (`\n`, `\u{1b}`), so one guest line stays one inert log line.
fn escape_controls(message: &str) -> Cow<'_, str> {
    if !message.chars().any(char::is_control) {
        return Cow::Borrowed(message);
    }
    let mut escaped = String::with_capacity(message.len() + 8);
    for c in message.chars() {
        if c.is_control() {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

impl log::Host for LogState {
    fn log(&mut self, level: types::Level, message: String) -> wasmtime::Result<()> {
        self.budget.command("log.log", message.len())?;
        self.lines += 1;
        let is_panic = matches!(level, types::Level::Error) && message.starts_with("panicked at ");
        // A panic's message is always kept: it says why the instance is about to trap.
        if !is_panic && (self.lines > MAX_LOG_LINES_PER_CALLBACK || !self.take_token()) {
            self.drop_line();
            return Ok(());
        }
        self.summarize_dropped();
        let message = clip(message);
        if is_panic {
            self.panic = Some(message.clone());
        }
        let message = escape_controls(&message);
        let (tenant, app) = (&*self.tenant, &*self.app);
        match level {
            types::Level::Trace => {
                tracing::trace!(target: "livewasm::guest", tenant, app, "{message}")
            }
            types::Level::Debug => {
                tracing::debug!(target: "livewasm::guest", tenant, app, "{message}")
            }
            types::Level::Info => {
                tracing::info!(target: "livewasm::guest", tenant, app, "{message}")
            }
            types::Level::Warn => {
                tracing::warn!(target: "livewasm::guest", tenant, app, "{message}")
            }
            types::Level::Error => {
                tracing::error!(target: "livewasm::guest", tenant, app, "{message}")
            }
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

    #[derive(Default)]
    struct Dropped(std::sync::atomic::AtomicU64);

    impl Meter for Dropped {
        fn guest_call(&self, _: u64, _: std::time::Duration) {}
        fn trap(&self, _: crate::TrapKind) {}
        fn capability_calls(&self, _: crate::Capability, _: u64) {}
        fn memory(&self, _: i64) {}
        fn log_lines_dropped(&self, count: u64) {
            self.0
                .fetch_add(count, std::sync::atomic::Ordering::Relaxed);
        }
    }

    #[test]
    fn lines_past_the_instance_rate_are_dropped_and_counted() {
        let meter = Arc::new(Dropped::default());
        let mut state = LogState::new(Arc::from("manifest-name"), Budget::default());
        state.set_identity(Arc::from("acme"), Arc::from("shop"), Some(meter.clone()));
        // One callback after another, so only the rate applies: the burst passes, then the
        // rest (bar the few the clock refills meanwhile) is dropped.
        let sent = 3 * LOG_LINES_BURST as u64;
        for _ in 0..sent {
            state.new_callback();
            state
                .log(types::Level::Info, "x".into())
                .expect("never fails");
        }
        let dropped = meter.0.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            dropped >= sent - LOG_LINES_BURST as u64 - 10 && dropped < sent,
            "{dropped} of {sent} dropped"
        );
        assert_eq!(state.dropped, dropped);
        // A panic's message always gets through.
        state
            .log(types::Level::Error, "panicked at src/lib.rs:1:1".into())
            .expect("never fails");
        assert!(state.panic().is_some());
        assert_eq!(state.dropped, 0, "the summary line was written");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert!(matches!(escape_controls("plain é"), Cow::Borrowed(_)));
        assert_eq!(
            escape_controls("a\nFAKE line\r\u{1b}[31mred\t"),
            "a\\nFAKE line\\r\\u{1b}[31mred\\t"
        );
    }
}
