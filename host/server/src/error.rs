//! Server errors.

/// Setting up the server failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerError {
    /// Two apps claim the same path.
    #[error("route {path} of app {app} is already served by app {other}")]
    RouteConflict {
        /// The path pattern.
        path: String,
        /// The app being added.
        app: String,
        /// The app that has it.
        other: String,
    },
    /// An app with this name is already loaded.
    #[error("an app named {0} is already loaded")]
    DuplicateApp(String),
    /// A route pattern is malformed.
    #[error("bad route pattern {0}")]
    BadRoute(String),
    /// The app's SQL database refused its migrations (or could not be opened).
    #[error("the app's sql database: {0}")]
    Sql(#[from] livewasm_runtime::SqlError),
}
