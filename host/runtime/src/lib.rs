//! Livewasm's runtime: one wasmtime [`Runtime`] per host process, an [`App`] per loaded
//! component, an [`Instance`] per connected view.
//!
//! Every guest call is fenced: fuel per callback, an epoch deadline for wall time, a memory cap
//! per instance, a pooling allocator sized for many small instances. A trap kills only its own
//! instance. Rendering goes through [`livewasm_protocol::diff`], with template statics fetched
//! from the guest once per app and shared by all its instances.

mod bindings;
mod config;
mod error;
mod host_state;
mod instance;
mod runtime;

pub use config::RuntimeConfig;
pub use error::{CallError, RuntimeError, TrapKind};
pub use host_state::{Effects, TimerCommand};
pub use instance::{Instance, MountRequest};
pub use runtime::{App, InstanceLimits, Manifest, Route, Runtime};
