//! A connection's place under `--max-connections`: held by the HTTP connection and by a
//! WebSocket upgraded from it, so an open socket keeps counting after its connection ended.

use std::sync::Arc;

use tokio::sync::OwnedSemaphorePermit;

/// One of the `max_connections` slots, held by the connection and by a WebSocket upgraded
/// from it; the slot is free again when the last holder ends.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionSlot {
    _permit: Arc<OwnedSemaphorePermit>,
}

impl ConnectionSlot {
    /// A slot holding `permit` until its last clone is dropped.
    pub(crate) fn new(permit: OwnedSemaphorePermit) -> Self {
        Self {
            _permit: Arc::new(permit),
        }
    }
}
