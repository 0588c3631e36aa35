//! Livewasm's server: the dead HTTP render of a view, and `/live/websocket` speaking Phoenix
//! channels V2 so the official LiveView client drives our views unchanged.
//!
//! [`Host`] holds the shared state: the runtime and the sites with their routes. [`router`]
//! dispatches each request by origin, once, to the platform API or to a site's pages, HTTP
//! handlers and socket; each socket runs a [`Connection`], the transport-free state machine of
//! the channels protocol (also driven directly by the in-process test harness).
//!
//! With a [`livewasm_registry::Registry`] ([`Host::with_registry`]) the host is multi-tenant:
//! app `<app>` of tenant `<tenant>` is served on its own origin, `<app>.<tenant>.<base-domain>`,
//! with view tokens and the session cookie signed per app, and the platform API lives under
//! `/api/v1` on the base domain ([`platform`] has the glue).

mod api;
mod app_assets;
mod blobs;
mod claims;
mod client_hooks;
pub mod cluster_quota;
mod config;
mod connection;
mod connection_slot;
mod controller;
pub mod dev_reload;
mod error;
mod fetch;
mod form;
pub mod fuzzing;
mod generations;
mod guest_calls;
mod guest_pool;
mod health;
mod heap_trim;
mod host;
mod http;
mod http_cache;
mod inbox;
mod keys;
mod kv;
mod listener;
pub mod logging;
mod metrics;
mod navigate;
pub mod open_files;
mod operator_overview;
mod origin;
mod page;
mod peers;
pub mod platform;
mod pubsub;
pub mod pubsub_relay;
pub mod registry_sync;
mod request_id;
mod router;
mod routes;
mod runner;
mod security_headers;
mod session;
mod sites;
mod socket_totals;
mod sql;
pub mod telemetry;
mod tokens;
mod uploads;
mod welcome;
mod ws;

pub use config::{AppSql, ServerConfig};
pub use connection::{Connection, PendingTask};
pub use error::ServerError;
pub use form::{FormError, MAX_FORM_DEPTH, MAX_FORM_FIELDS, decode_form, target_path};
pub use host::{Host, socket_session};
pub use inbox::{Inbound, InboxReceiver};
pub use listener::serve;
pub use metrics::http::{metrics_router, serve_metrics};
pub use router::router;
pub use tokens::TokenError;
pub use uploads::binary::{
    BinaryFrameError, BinaryPush, decode as decode_binary, encode as encode_binary,
};
pub use uploads::{SpaceError, UploadLimits};
