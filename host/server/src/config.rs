//! Server settings.

use std::time::Duration;

/// How the server behaves; every limit has a safe default.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Key that signs cookies and tokens (at least 32 bytes; the same on every host of a cluster).
    pub secret_key: Vec<u8>,
    /// Development mode: more detail in error pages.
    pub dev: bool,
    /// Largest WebSocket message accepted; a larger one closes the socket (1009).
    pub max_frame_bytes: usize,
    /// Read buffer per WebSocket. Small keeps idle sockets cheap (the library default, 128 KiB,
    /// is resident for every connected socket); larger messages still arrive, in more reads.
    pub ws_read_buffer_bytes: usize,
    /// Views one socket may join at once.
    pub max_channels_per_socket: usize,
    /// A socket silent for this long is closed.
    pub heartbeat_timeout: Duration,
    /// Refuse WebSocket upgrades whose `Origin` host differs from the `Host` header.
    pub check_origin: bool,
    /// How long session and static tokens stay valid.
    pub token_max_age: Duration,
    /// The platform's domain: app `<app>` of tenant `<tenant>` is served at
    /// `<app>.<tenant>.<base_domain>`, the API at `<base_domain>` itself (and `api.<base_domain>`).
    pub base_domain: String,
    /// File uploads: largest file, byte budgets per tenant and per host, temp area.
    pub uploads: crate::uploads::UploadLimits,
    /// Threads running guest code (0: one per core, at least 2). Guest code never runs on the
    /// async I/O workers.
    pub guest_threads: usize,
    /// Guest threads one tenant may hold at once (0: half of them, at least 1), so a tenant
    /// burning its fuel on every callback never holds them all.
    pub guest_threads_per_tenant: usize,
    /// Guest calls one tenant may have waiting for a thread; past it, the socket that asked
    /// is closed as overloaded (1013) and the dead render answers 503.
    pub guest_backlog_per_tenant: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            secret_key: Vec::new(),
            dev: false,
            max_frame_bytes: 1 << 20,
            ws_read_buffer_bytes: 4 << 10,
            max_channels_per_socket: 64,
            heartbeat_timeout: Duration::from_secs(60),
            check_origin: true,
            token_max_age: Duration::from_secs(14 * 24 * 3600),
            base_domain: "localhost".to_string(),
            uploads: crate::uploads::UploadLimits::default(),
            guest_threads: 0,
            guest_threads_per_tenant: 0,
            guest_backlog_per_tenant: 4096,
        }
    }
}
