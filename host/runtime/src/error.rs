//! Errors of loading apps and of calling guests.

/// Loading or instantiating a component failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    /// The engine could not be configured.
    #[error("engine: {0}")]
    Engine(String),
    /// The bytes are not a component wasmtime accepts.
    #[error("not a valid component: {0}")]
    Compile(String),
    /// The component needs imports the host does not grant, or exports the wrong world.
    #[error("component does not fit the livewasm:view world: {0}")]
    Instantiate(String),
    /// Every pool slot is in use.
    #[error("no free instance slot (pool of {0} exhausted)")]
    PoolExhausted(u32),
    /// The app's manifest is unusable.
    #[error("bad manifest: {0}")]
    Manifest(String),
    /// The app's static files are refused (too many, too large, an unsafe type …).
    #[error("bad assets: {0}")]
    Asset(#[from] crate::assets::AssetError),
}

/// Why a trap happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapKind {
    /// The callback used up its fuel (a long or endless computation).
    OutOfFuel,
    /// The callback passed its wall-clock deadline.
    Deadline,
    /// The instance hit its memory cap.
    Memory,
    /// The guest panicked (`unreachable`).
    Panic,
    /// Any other trap.
    Other,
}

/// A guest call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The guest trapped; the instance is dead.
    #[error("guest trapped ({kind:?}): {message}")]
    Trap {
        /// What kind of trap.
        kind: TrapKind,
        /// wasmtime's description.
        message: String,
    },
    /// The view returned an error.
    #[error("view error: {0}")]
    Guest(String),
    /// The render result was malformed.
    #[error("bad render: {0}")]
    Render(String),
    /// JSON from the guest did not parse.
    #[error("bad JSON from guest: {0}")]
    Json(String),
    /// The instance already trapped earlier.
    #[error("instance is dead after an earlier trap")]
    Dead,
}
