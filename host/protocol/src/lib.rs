//! Livewasm's protocol crate: pure data and algorithms, no I/O, no tokio, no wasmtime.
//!
//! - [`rendered`]: the tree the host keeps for each view (statics shared by `Arc`).
//! - [`update`]: what a guest's `render` returns (only changed dynamics), free of wasmtime types.
//! - [`limits`]: how big and how deep a render may be, checked before anything else reads it.
//! - [`check`]: whether the diff engine accepts an update against the kept tree, decided
//!   without changing anything (the host's one judge of a guest render).
//! - [`diff`]: merges an update into the kept tree and emits the Phoenix LiveView 1.2 diff.
//! - [`frame`]: Phoenix channels V2 JSON frames.
//! - [`keys`]: every name of the wire (diff keys, topics, events) and the client's payloads.
//! - [`client`]: a model of the official client's merge of those diffs, for tests and harnesses.
//! - [`stream_dom`]: what the client's DOM patch does with a stream's children.

pub mod check;
pub mod client;
pub mod diff;
pub mod frame;
pub mod html;
pub mod keys;
pub mod limits;
pub mod rendered;
pub mod stream_dom;
pub mod update;
