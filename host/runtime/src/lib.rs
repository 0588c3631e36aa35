//! Livewasm's runtime: one wasmtime [`Runtime`] per host process, an [`App`] per loaded
//! component, an [`Instance`] per connected view.
//!
//! Every guest call is fenced: fuel per callback, an epoch deadline for wall time, a memory cap
//! per instance, a pooling allocator sized for many small instances. A trap kills only its own
//! instance, and every import charges a per-callback budget (commands, bytes, fuel). Rendering
//! goes through [`livewasm_protocol::limits`] (depth, sizes, a tree, before anything else reads
//! the render), [`livewasm_protocol::check`] and [`livewasm_protocol::diff`], with template
//! statics fetched from the guest once per app, checked against their dynamics, capped, and
//! shared by all its instances.
//!
//! By concern: `engine` (the engine, linker, epoch ticker, fencing), `loader` (component bytes
//! to an [`App`]), `app`, `manifest`, `instance` (guest calls), `json_text` (JSON kept as checked text), `render` (render → check → full
//! render → diff), `store` (an instance's store data), `capabilities/` (one file per WIT
//! import, and `budget`), `wit` (every WIT conversion), `requests`, `artifact_cache`, `meter`
//! (what guest calls cost, reported to the host), `config`, `error`.

mod app;
mod artifact_cache;
mod assets;
mod bindings;
mod capabilities;
mod config;
mod engine;
mod error;
mod hibernation;
mod instance;
mod json_text;
mod loader;
mod manifest;
mod meter;
mod render;
mod requests;
mod store;
mod wit;

pub use app::{
    App, InstanceLimits, MAX_APP_TEMPLATE_BYTES, MAX_TEMPLATE_BYTES, MAX_TEMPLATE_PARTS,
    MAX_TEMPLATES,
};
pub use artifact_cache::{ArtifactCache, ArtifactCacheError, ArtifactStats};
pub use assets::{
    ASSET_HASH_HEX, ASSET_PATH_PREFIX, Asset, AssetError, MAX_ASSET_BYTES, MAX_ASSET_NAME_BYTES,
    MAX_ASSETS, MAX_ASSETS_TOTAL_BYTES, content_type as asset_content_type, valid_asset_name,
};
pub use capabilities::blobs::{
    Blob, BlobError, BlobStore, MAX_BLOB_BYTES, MAX_BLOB_NAME_BYTES, MAX_BLOB_PUT_BYTES,
    MemoryBlobs, blob_path, valid_blob_name,
};
pub use capabilities::budget::{
    FUEL_PER_IMPORT_BYTE, FUEL_PER_IMPORT_CALL, MAX_COMMANDS_PER_CALLBACK,
    MAX_IMPORT_BYTES_PER_CALLBACK,
};
pub use capabilities::effects::{MAX_EVENTS, Navigation, NavigationKind};
pub use capabilities::fetch::{
    FetchError, HttpClient, IncomingResponse, MAX_FETCH_BODY_BYTES, MAX_FETCH_HEADER_BYTES,
    MAX_FETCH_HEADERS, MAX_FETCH_URL_BYTES, OutgoingRequest,
};
pub use capabilities::kv::{
    KvError, KvStore, MAX_KV_KEY_BYTES, MAX_KV_LIST, MAX_KV_VALUE_BYTES, MemoryKv,
    conformance as kv_conformance,
};
pub use capabilities::operator::{
    MAX_OPERATOR_TOKEN_BYTES, NOT_PERMITTED, OperatorError, OperatorSource,
};
pub use capabilities::pubsub::{
    MAX_BROADCAST_BYTES, MAX_BROADCASTS, MAX_TOPIC_BYTES, MAX_TOPICS, PubSubCommand,
};
pub use capabilities::sql::{
    MAX_SQL_BATCH, MAX_SQL_PARAM_BYTES, MAX_SQL_PARAMS, MAX_SQL_STATEMENT_BYTES, SqlError, SqlRows,
    SqlStatement, SqlStore, SqlValue,
};
pub use capabilities::tasks::{MAX_TASK_ARGS_BYTES, MAX_TASK_RESULT_BYTES, MAX_TASKS, TaskCommand};
pub use capabilities::timers::TimerCommand;
pub use capabilities::uploads::{MAX_UPLOAD_READ, UploadSource};
pub use config::RuntimeConfig;
pub use engine::{
    MAX_CORE_INSTANCES_PER_COMPONENT, MAX_MEMORIES_PER_COMPONENT, MAX_TABLES_PER_COMPONENT, Runtime,
};
pub use error::{CallError, RuntimeError, TrapKind};
pub use hibernation::{HibernateRefusal, Hibernated, StillLive, WakeError};
pub use instance::Instance;
pub use json_text::JsonText;
pub use livewasm_protocol::limits::RenderLimits;
pub use manifest::{
    ClientHook, Container, HttpRoute, LiveSession, MAX_ROOT_LAYOUT_TEXT, MAX_SQL_MIGRATION_BYTES,
    MAX_SQL_MIGRATIONS, Manifest, RootLayout, Route,
};
pub use meter::{Capability, Meter};
pub use requests::{HttpRequest, HttpResponse, MountRequest};
pub use store::Effects;
