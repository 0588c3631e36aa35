//! Gives the heap memory freed by sleeping views and closed sockets back to the operating
//! system. The allocator (glibc's) keeps freed chunks for reuse, and after thousands of views
//! hibernate that is most of what they held while live: still counted in the host's resident
//! memory although nothing uses it. [`run`] trims the heap (`malloc_trim`, which hands back
//! every whole free page) at most once per [`TRIM_EVERY`], and only after sockets parked or
//! closed since the last trim. Elsewhere than glibc it does nothing.
//!
//! The `livewasm` binary allocates with jemalloc, set to hand freed pages back at once, so there
//! the trim covers only what C code allocates through glibc's `malloc`; a host built with the
//! system allocator (the tests' in-process hosts, `livewasm` without its `jemalloc` feature)
//! relies on it for all its memory.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Longest a freed page waits to go back to the system (and the shortest gap between trims:
/// a trim walks the whole heap).
pub(crate) const TRIM_EVERY: Duration = Duration::from_secs(5);

/// Whether memory was freed since the last trim.
#[derive(Debug, Default)]
pub(crate) struct HeapTrim {
    freed: AtomicBool,
}

impl HeapTrim {
    /// Notes that memory was freed (a socket parked or closed): the next round trims.
    pub(crate) fn freed(&self) {
        self.freed.store(true, Ordering::Relaxed);
    }

    /// Takes the note.
    fn take(&self) -> bool {
        self.freed.swap(false, Ordering::Relaxed)
    }
}

/// Trims the heap every [`TRIM_EVERY`] when memory was freed meanwhile, until the task is
/// dropped.
pub(crate) async fn run(trim: std::sync::Arc<HeapTrim>) {
    let mut rounds = tokio::time::interval(TRIM_EVERY);
    rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        rounds.tick().await;
        if trim.take() {
            // The walk takes milliseconds on a large heap: off the async workers.
            let _ = tokio::task::spawn_blocking(trim_now).await;
        }
    }
}

/// Hands every whole free page of the heap back to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_now() {
    // SAFETY: `malloc_trim` only walks glibc's own heap under its locks; it takes no pointer
    // from us and leaves every allocation in place.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Nothing to do outside glibc.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_now() {}
