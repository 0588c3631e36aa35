//! Publish/subscribe between the live views of this app (Phoenix.PubSub): a message broadcast
//! on a topic reaches [`crate::LiveView::handle_info`] of every view of this app subscribed to
//! it, on any socket of this host. Never across apps or tenants.
//!
//! Every call is a host call, so the example is compiled but not run:
//!
//! ```no_run
//! use livewasm_sdk::prelude::*;
//!
//! #[derive(Assigns, Default)]
//! pub struct Metrics {
//!     total: i64,
//! }
//!
//! impl LiveView for Metrics {
//!     fn mount(socket: &mut Socket<Self>, _: &Params, _: &Session) -> Result {
//!         // Subscribe once connected: the dead render has no socket to deliver to.
//!         if socket.connected() {
//!             pubsub::subscribe("metrics")?;
//!         }
//!         Ok(())
//!     }
//!
//!     fn handle_event(_socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
//!         if event == "sell" {
//!             let amount = value["amount"].as_i64().unwrap_or(1);
//!             // Every subscribed view of this app gets it, this one included.
//!             pubsub::broadcast("metrics", &json!({"event": "sale", "amount": amount}))?;
//!         }
//!         Ok(())
//!     }
//!
//!     fn handle_info(socket: &mut Socket<Self>, message: &Value) -> Result {
//!         if message["event"] == "sale" {
//!             let amount = message["amount"].as_i64().unwrap_or(0);
//!             update!(socket, total, |t| *t += amount);
//!         }
//!         Ok(())
//!     }
//!
//!     fn render(assigns: &Tracked<'_, Self>) -> Rendered {
//!         html!(r#"<p>Total sales: {@total}</p><button phx-click="sell" phx-value-amount="5">Sell</button>"#)
//!     }
//! }
//! # let mut socket = Socket::<Metrics>::new(true, None);
//! # Metrics::mount(&mut socket, &Params::default(), &Session::default())?;
//! # Ok::<(), livewasm_sdk::Error>(())
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
