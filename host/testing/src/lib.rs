//! An in-process test harness for Livewasm views, in the spirit of `Phoenix.LiveViewTest`.
//!
//! [`TestHost`] loads real guest components (built to `.wasm` by `cargo xtask build`) into a real
//! [`livewasm_server::Host`]. [`TestHost::get`] runs the dead HTTP render through the server's router;
//! [`TestHost::live`] then joins the view over the server's transport-agnostic
//! [`livewasm_server::Connection`] — the same code the WebSocket drives — and keeps a model of the
//! official client's rendered tree ([`livewasm_protocol::client::ClientRendered`]) so `render()` returns
//! exactly the HTML a browser would show.

mod components;
mod conn;
mod element;
mod error;
mod form;
mod host;
mod http_mock;
mod navigation;
mod view;

pub use components::component_path;
pub use conn::Conn;
pub use element::Element;
pub use error::HarnessError;
pub use form::{Form, TriggeredPost};
pub use host::{APP_SQL_ENV, Response, TestHost};
pub use http_mock::HttpMock;
pub use navigation::{Redirect, RedirectKind};
pub use view::{LiveView, Upload, UploadFile};
