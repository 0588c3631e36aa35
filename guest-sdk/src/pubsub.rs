//! Publish/subscribe between the live views of this app (Phoenix.PubSub): a message broadcast
//! on a topic reaches [`crate::LiveView::handle_info`] of every view of this app subscribed to
//! it, on any socket of this host. Never across apps or tenants.
//!
//! ```ignore
//! fn mount(socket: &mut Socket<Self>, _: &Params, _: &Session) -> Result {
//!     if socket.connected() {
//!         pubsub::subscribe("metrics")?;
//!     }
//!     Ok(())
//! }
//! // elsewhere, in any view of the app:
//! pubsub::broadcast("metrics", &json!({"event": "sale", "amount": 12}))?;
//! ```

use serde::Serialize;

use crate::bindings::livewasm::view::pubsub as wit;
use crate::{Error, Result};

fn encode<M: Serialize + ?Sized>(message: &M) -> Result<String> {
    serde_json::to_string(message).map_err(|e| Error::new(format!("message is not JSON: {e}")))
}

/// Subscribes this view to `topic` (until it unsubscribes or its socket closes). An error
/// names the limit hit: at most 32 topics per view, 256 bytes per topic name.
pub fn subscribe(topic: &str) -> Result {
    wit::subscribe(topic).map_err(Error::new)
}

/// Unsubscribes this view from `topic`; false when it was not subscribed.
pub fn unsubscribe(topic: &str) -> bool {
    wit::unsubscribe(topic)
}

/// Sends `message` to every view of this app subscribed to `topic`, this one included. An
/// error names the limit hit: 64 KiB of JSON per message, 64 broadcasts per callback.
pub fn broadcast<M: Serialize + ?Sized>(topic: &str, message: &M) -> Result {
    wit::broadcast(topic, &encode(message)?).map_err(Error::new)
}

/// Like [`broadcast`], but not to this view (Phoenix's `broadcast_from`).
pub fn broadcast_from<M: Serialize + ?Sized>(topic: &str, message: &M) -> Result {
    wit::broadcast_from(topic, &encode(message)?).map_err(Error::new)
}
