//! Livewasm's server: the dead HTTP render of a view, and `/live/websocket` speaking Phoenix
//! channels V2 so the official LiveView client drives our views unchanged.
//!
//! [`Host`] holds the runtime and the loaded apps with their routes. [`router`] serves pages,
//! the client bundle and the socket; each socket runs a [`Connection`], the transport-free state
//! machine of the channels protocol (also driven directly by the in-process test harness).

mod config;
mod connection;
mod error;
mod form;
mod host;
mod http;
mod page;
mod routes;
mod session;
mod tokens;
mod ws;

pub use config::ServerConfig;
pub use connection::Connection;
pub use error::ServerError;
pub use form::decode_form;
pub use host::Host;
pub use http::{router, serve};
pub use session::socket_session;
pub use tokens::TokenError;
