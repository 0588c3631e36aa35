//! Server settings.

use std::time::Duration;

/// Where the apps' `sql` databases live ([`ServerConfig::app_sql`], `livewasm serve --app-sql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppSql {
    /// Where the registry is: a schema per app in a Postgres registry, SQLite files with a
    /// SQLite registry or none (the default).
    #[default]
    FollowRegistry,
    /// SQLite files under [`ServerConfig::sql_dir`] (in memory without one), whatever the
    /// registry.
    Sqlite,
    /// A schema per app in the registry's Postgres. A host whose registry is not Postgres
    /// keeps them in SQLite files and logs an error (`livewasm serve` refuses to start).
    Postgres,
}

/// How the server behaves; every limit has a safe default.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Key that signs cookies and tokens (at least 32 bytes; the same on every host of a cluster).
    pub secret_key: Vec<u8>,
    /// Development mode: more detail in error pages, the live reload channel, and a welcome
    /// page listing the apps at `/` of the default site when no app serves `/`.
    pub dev: bool,
    /// Largest WebSocket message accepted; a larger one closes the socket (1009).
    pub max_frame_bytes: usize,
    /// Read buffer per WebSocket. Small keeps idle sockets cheap (the library default, 128 KiB,
    /// is resident for every connected socket); larger messages still arrive, in more reads,
    /// and the buffer keeps the size of the largest message read (a join, about 1 KiB).
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
    /// The scheme browsers reach the host with: `http` (the default) or `https` (set from
    /// `--public-url https://…`, also behind a TLS-terminating proxy). With `https` cookies are
    /// `Secure`, the session cookie is `__Host-` prefixed, responses carry HSTS, absolute URLs
    /// say `https`, and a WebSocket's `Origin` must be `https`.
    pub public_scheme: String,
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
    /// Bytes of pub/sub messages one socket's inbox may hold (1 MiB by default); a message
    /// that would pass it is dropped for that socket only, counted and logged. The inbox also
    /// holds at most 1024 messages.
    pub inbox_bytes_per_socket: usize,
    /// Frames one socket may have waiting to be written (256 by default); past it, or past
    /// [`Self::outbound_queue_bytes`], the client is too slow and the socket is closed (1008).
    pub outbound_queue_frames: usize,
    /// Bytes of frames one socket may have waiting to be written (1 MiB by default; a single
    /// larger frame is let into an empty queue).
    pub outbound_queue_bytes: usize,
    /// Longest time one frame may take to be written (10 s by default); a client that stops
    /// reading is closed (1008) when it passes.
    pub write_timeout: Duration,
    /// The server pings each socket this often (25 s by default; zero: never). A peer that
    /// answers nothing (no frame, no pong) for [`Self::heartbeat_timeout`] is closed.
    pub ping_interval: Duration,
    /// WebSockets one client address may hold open (256 by default; 0: no limit); the next
    /// upgrade is refused with 429.
    pub max_sockets_per_ip: usize,
    /// View joins one client address may make per second, in bursts of as many (50 by
    /// default; 0: no limit); a join past it is refused with the reason
    /// "too many joins from this address …".
    pub max_joins_per_ip_per_sec: u32,
    /// Longest time a client may take to send a request's headers (10 s by default; this also
    /// ends idle keep-alive connections); past it the connection is closed.
    pub http_header_timeout: Duration,
    /// Longest time a client may take to send a request body (30 s by default); past it the
    /// request is answered 408.
    pub http_body_timeout: Duration,
    /// HTTP connections served at once (10,000 by default), WebSockets included (a socket
    /// keeps its connection's place until it closes); further connections wait in the listen
    /// backlog.
    pub max_connections: usize,
    /// How often a host with a registry checks it for changes made through other hosts (1 s
    /// by default); on Postgres a change also wakes it at once (`registry_sync`).
    pub registry_poll: Duration,
    /// On shutdown (SIGTERM), how long the sockets get to finish their callbacks and tasks
    /// before they are closed anyway (20 s by default; see `Host::start_drain`).
    pub drain_timeout: Duration,
    /// Keys one app's `kv` store may hold (100,000 by default); a write past it is refused
    /// with an error naming the quota.
    pub kv_max_keys: u64,
    /// Bytes of keys and values one app's `kv` store may hold (64 MiB by default).
    pub kv_max_bytes: u64,
    /// Files one app's `blobs` may hold (10,000 by default).
    pub blob_max_count: u64,
    /// Bytes of files one app's `blobs` may hold (256 MiB by default).
    pub blob_max_bytes: u64,
    /// The directory of the apps' `sql` databases (one SQLite file per app). `None`: each
    /// app's database lives in memory for as long as the host runs.
    pub sql_dir: Option<std::path::PathBuf>,
    /// Bytes one app's `sql` database may grow to (64 MiB by default); a write past it fails
    /// with an error naming the quota.
    pub sql_max_bytes: u64,
    /// Longest one `sql` call may run (1 s by default; a batch counts as one call); past it the
    /// statement is interrupted and a batch rolled back.
    pub sql_statement_timeout: Duration,
    /// Most rows one `sql.query` may return (1,000 by default).
    pub sql_max_rows: usize,
    /// Where the apps' `sql` databases live: by default a schema per app in the registry's
    /// Postgres when the registry is Postgres, else SQLite files under [`Self::sql_dir`].
    pub app_sql: AppSql,
    /// Hosts the `--app` components may send HTTP requests to (`host`, `host:port`,
    /// `*.domain`); platform apps use their tenant's allowlist in the registry. Empty (the
    /// default): none.
    pub http_allow: Vec<String>,
    /// Lets apps send plain-HTTP requests to loopback addresses on their allowlist (tests and
    /// local fixtures; off by default: HTTPS to public addresses only).
    pub http_allow_loopback: bool,
    /// Longest one outgoing request may take (10 s by default; never more than what is left
    /// of the calling callback's deadline).
    pub http_timeout: Duration,
    /// Largest response body a view may receive (4 MiB by default).
    pub http_max_response_bytes: usize,
    /// Outgoing requests one app may start per second (20 by default; bursts of twice that).
    pub http_requests_per_sec: u32,
    /// The NATS server the hosts of a cluster relay PubSub through (`nats://host:port`;
    /// `--cluster`). `None` (the default): PubSub reaches the views of this host only.
    pub cluster: Option<String>,
    /// How long a view stays idle (no event, message, timer or task) before it hibernates: its
    /// state is snapshotted and its instance freed until something needs it (30 s by default;
    /// zero: never). Only views that can be snapshotted hibernate.
    pub hibernate_after: Duration,
    /// How long a socket whose views are live waits, quiet (no event, message, timer or task),
    /// before it parks: the WebSocket library's state, its buffers, the writer and the live
    /// loop are dropped while the views' instances stay (5 s by default; zero: only sockets
    /// whose views all hibernated park). The next byte or message makes it live again.
    pub park_after: Duration,
    /// How long a hibernated view about to wake waits for a slot of its tenant's
    /// `max_concurrent_instances` when none is free (5 s by default): the event, message or
    /// timer that woke it is handled once another instance of the tenant ends; past this the
    /// view crashes and its page rejoins (refused `capacity` while the tenant stays full).
    pub wake_wait: Duration,
    /// Live upgrade (true by default; `--no-live-upgrade` turns it off): when a platform app's
    /// version is activated (a deploy, an activation, a rollback), its open views move onto
    /// it in place — snapshotted on the old version, handed to the new one's `migrate`,
    /// re-rendered and sent as a diff — and a view the new version refuses is remounted.
    /// Off, open views keep their version until their client reconnects. A dev host
    /// (`--dev`) reloads the pages instead.
    pub live_upgrade: bool,
    /// How long the NATS connection of a cluster may be lost before `/health/ready` says the
    /// host is not ready (10 s by default: reconnects within it go unnoticed).
    pub cluster_ready_grace: Duration,
}

impl ServerConfig {
    /// True when browsers reach the host over HTTPS.
    pub fn https(&self) -> bool {
        self.public_scheme.eq_ignore_ascii_case("https")
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            secret_key: Vec::new(),
            dev: false,
            max_frame_bytes: 1 << 20,
            ws_read_buffer_bytes: 1 << 10,
            max_channels_per_socket: 64,
            heartbeat_timeout: Duration::from_secs(60),
            check_origin: true,
            token_max_age: Duration::from_secs(14 * 24 * 3600),
            base_domain: "localhost".to_string(),
            public_scheme: "http".to_string(),
            uploads: crate::uploads::UploadLimits::default(),
            guest_threads: 0,
            guest_threads_per_tenant: 0,
            guest_backlog_per_tenant: 4096,
            inbox_bytes_per_socket: 1 << 20,
            outbound_queue_frames: 256,
            outbound_queue_bytes: 1 << 20,
            write_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(25),
            max_sockets_per_ip: 256,
            max_joins_per_ip_per_sec: 50,
            http_header_timeout: Duration::from_secs(10),
            http_body_timeout: Duration::from_secs(30),
            max_connections: 10_000,
            registry_poll: Duration::from_secs(1),
            drain_timeout: Duration::from_secs(20),
            kv_max_keys: 100_000,
            kv_max_bytes: 64 << 20,
            blob_max_count: 10_000,
            blob_max_bytes: 256 << 20,
            sql_dir: None,
            sql_max_bytes: 64 << 20,
            sql_statement_timeout: Duration::from_secs(1),
            sql_max_rows: 1000,
            app_sql: AppSql::FollowRegistry,
            http_allow: Vec::new(),
            http_allow_loopback: false,
            http_timeout: Duration::from_secs(10),
            http_max_response_bytes: 4 << 20,
            http_requests_per_sec: 20,
            cluster: None,
            cluster_ready_grace: Duration::from_secs(10),
            hibernate_after: Duration::from_secs(30),
            park_after: Duration::from_secs(5),
            wake_wait: Duration::from_secs(5),
            live_upgrade: true,
        }
    }
}
