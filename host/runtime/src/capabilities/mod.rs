//! The capabilities a view may call: one file per WIT import interface, each with the same
//! inner shape (as wasmtime-wasi's `p2/host/*.rs` and Spin's factors): its limits (`pub const`),
//! its own state struct, the commands it records for the server to carry out, the
//! `impl <interface>::Host for <State>`, and its unit tests.
//!
//! A capability knows nothing of the store: the store's state (`crate::store`) holds one state
//! struct per capability and the linker projects the store to each of them, interface by
//! interface. A new capability (`kv`, HTTP, `operator`) is one more file here and one more field there.

pub(crate) mod blobs;
pub(crate) mod budget;
pub(crate) mod clock;
pub(crate) mod effects;
pub(crate) mod fetch;
pub(crate) mod kv;
pub(crate) mod log;
pub(crate) mod operator;
pub(crate) mod pubsub;
pub(crate) mod sql;
pub(crate) mod tasks;
pub(crate) mod timers;
pub(crate) mod uploads;
