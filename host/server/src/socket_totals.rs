//! Counters of the host's open sockets and of the frames waiting in their outbound queues
//! (what a slow client costs), read by tests and operators.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Bytes waiting in every socket's outbound queue, the sockets open, and those parked.
#[derive(Debug, Default)]
pub(crate) struct OutboundTotals {
    bytes: AtomicU64,
    sockets: AtomicUsize,
    parked: AtomicUsize,
}

impl OutboundTotals {
    /// Bytes of frames waiting to be written, all sockets together.
    pub(crate) fn pending_bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Sockets whose task is running.
    pub(crate) fn sockets(&self) -> usize {
        self.sockets.load(Ordering::Relaxed)
    }

    /// Sockets parked now (every view hibernated: only the byte stream kept).
    pub(crate) fn parked(&self) -> usize {
        self.parked.load(Ordering::Relaxed)
    }

    /// A frame of `len` bytes joined a queue.
    pub(crate) fn queued(&self, len: usize) {
        self.bytes.fetch_add(len as u64, Ordering::Relaxed);
    }

    /// A frame of `len` bytes left a queue (written or dropped).
    pub(crate) fn written(&self, len: usize) {
        self.bytes.fetch_sub(len as u64, Ordering::Relaxed);
    }
}

/// One socket counted in [`OutboundTotals::sockets`] while it lives.
pub(crate) struct OpenSocket(Arc<OutboundTotals>);

impl OpenSocket {
    /// Counts a socket until the value is dropped.
    pub(crate) fn new(totals: Arc<OutboundTotals>) -> OpenSocket {
        totals.sockets.fetch_add(1, Ordering::Relaxed);
        OpenSocket(totals)
    }
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.sockets.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One socket counted in [`OutboundTotals::parked`] while the value lives.
pub(crate) struct ParkedSocket(Arc<OutboundTotals>);

impl OpenSocket {
    /// Counts this socket as parked until the value is dropped.
    pub(crate) fn parked(&self) -> ParkedSocket {
        self.0.parked.fetch_add(1, Ordering::Relaxed);
        ParkedSocket(self.0.clone())
    }
}

impl Drop for ParkedSocket {
    fn drop(&mut self) {
        self.0.parked.fetch_sub(1, Ordering::Relaxed);
    }
}
