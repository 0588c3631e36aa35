//! The harness's error type.

use std::path::PathBuf;

/// What can go wrong while driving a view under test.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The guest component was not built.
    #[error(
        "component `{name}` not found at {path:?}: run `cargo xtask build {name}` (or `cargo xtask test`)"
    )]
    MissingComponent {
        /// Guest crate name.
        name: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// Reading a component file failed.
    #[error("reading {path:?}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The runtime refused the component or could not start.
    #[error("runtime: {0}")]
    Runtime(String),
    /// The server refused the app (e.g. conflicting routes).
    #[error("server: {0}")]
    Server(String),
    /// The dead render did not answer 200.
    #[error("GET {path} answered {status}: {body}")]
    Http {
        /// Requested path.
        path: String,
        /// Status code.
        status: u16,
        /// Response body.
        body: String,
    },
    /// The dead-rendered page lacks something the client needs.
    #[error("page is missing {0}")]
    Page(&'static str),
    /// The server answered a join with an error.
    #[error("join refused: {0}")]
    JoinRefused(serde_json::Value),
    /// The server answered a push with an error reply.
    #[error("push refused: {0}")]
    PushRefused(serde_json::Value),
    /// The view crashed (`phx_error`).
    #[error("view crashed: {0}")]
    Crashed(serde_json::Value),
    /// The server sent no reply to a push.
    #[error("no reply to push {0}")]
    NoReply(String),
    /// A diff could not be merged the way the official client would.
    #[error("client merge: {0}")]
    Merge(String),
    /// An element query did not match exactly one element.
    #[error("selector `{selector}`{text}: {found} elements matched, expected exactly one")]
    Element {
        /// CSS selector.
        selector: String,
        /// Text filter, described.
        text: String,
        /// How many matched.
        found: usize,
    },
    /// A CSS selector did not parse.
    #[error("bad selector `{0}`")]
    Selector(String),
    /// `form(view, selector, …)` matched an element that is not a `<form>`.
    #[error("`{0}` is not a <form>")]
    NotAForm(String),
    /// Test data names a field the form does not have (a typo, or a disabled input).
    #[error("form `{form}` has no enabled input, select or textarea named `{name}`")]
    NoFormField {
        /// The form's selector.
        form: String,
        /// The field name (`user[email]`).
        name: String,
    },
    /// The server sent the client elsewhere (`redirect` or `live_redirect`), like Phoenix's
    /// `{:error, {:redirect | :live_redirect, %{to, flash}}}`: follow it with
    /// `Conn::follow_redirect` or `LiveView::follow_live_redirect`.
    #[error("redirected ({:?}) to {}", .0.kind, .0.to)]
    Redirect(crate::Redirect),
    /// The element has no binding for the event asked for.
    #[error("element has no `{0}` binding")]
    NoBinding(&'static str),
}
