//! The hosts' own log in a test's output. Events at `error` (or what `LIVEWASM_TEST_LOG` asks
//! for, as a `tracing` filter directive) go through libtest's output capture, which the
//! threads of a test's runtime inherit: a failing test prints why its host answered
//! "internal", a passing one stays quiet.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber once per test binary (later calls do nothing).
pub(crate) fn capture() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let filter = EnvFilter::try_from_env("LIVEWASM_TEST_LOG")
            .unwrap_or_else(|_| EnvFilter::new("error"));
        // Another subscriber set by the test itself wins.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}
