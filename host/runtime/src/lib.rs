//! Livewasm's runtime: one wasmtime [`Runtime`] per host process, an [`App`] per loaded
//! component, an [`Instance`] per connected view.
//!
//! Every guest call is fenced: fuel per callback, an epoch deadline for wall time, a memory cap
//! per instance, a pooling allocator sized for many small instances. A trap kills only its own
//! instance. Rendering goes through [`livewasm_protocol::diff`], with template statics fetched
//! from the guest once per app and shared by all its instances.

mod artifact_cache;
mod bindings;
mod config;
mod error;
mod host_state;
mod instance;
mod messaging;
mod runtime;
mod uploads;

pub use artifact_cache::{ArtifactCache, ArtifactCacheError, ArtifactStats};
pub use config::RuntimeConfig;
pub use error::{CallError, RuntimeError, TrapKind};
pub use host_state::{Effects, Navigation, NavigationKind, TimerCommand};
pub use instance::{HttpRequest, HttpResponse, Instance, MountRequest};
pub use messaging::{
    MAX_BROADCAST_BYTES, MAX_BROADCASTS, MAX_TASK_ARGS_BYTES, MAX_TASKS, MAX_TOPIC_BYTES,
    MAX_TOPICS, PubSubCommand, TaskCommand,
};
pub use runtime::{
    App, ClientHook, Container, HttpRoute, InstanceLimits, LiveSession, Manifest, Route, Runtime,
};
pub use uploads::{MAX_UPLOAD_READ, UploadSource};
