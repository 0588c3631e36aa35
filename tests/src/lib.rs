//! Support for Livewasm's end-to-end tests: start a real host on a loopback port with real guest
//! components, fetch dead-rendered pages over HTTP, and talk Phoenix channels V2 over a real
//! WebSocket exactly as the official JavaScript client does.

mod http;
mod log;
pub mod platform;
mod server;
mod socket;

pub use http::{Page, get, get_from};
pub use server::{TestServer, app_gauge, serve_metrics};
pub use socket::{PhxSocket, SocketError, WAIT, masked_text_frame};
