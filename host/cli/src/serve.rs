//! `livewasm serve`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use base64::Engine;
use clap::Args;
use livewasm_registry::{QuotaDefaults, Registry};
use livewasm_runtime::{ArtifactCache, Runtime, RuntimeConfig};
use livewasm_server::dev_reload::{self, AppFile};
use livewasm_server::{AppSql, Host, ServerConfig};
use rand::RngCore;

/// Options of `livewasm serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4000")]
    listen: String,
    /// Also serve `GET /metrics` (Prometheus text, no authentication) and the health probes
    /// on this address, e.g. `127.0.0.1:9464`: bind it where only the scraper reaches. On a
    /// host with a registry, `/metrics` is also served on the base domain to operator tokens.
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<String>,
    /// Development mode: error details in pages; a signing key is generated when none is given;
    /// the `--app` files are watched and a changed one that loads replaces its app in place,
    /// open pages of it reloading by themselves (live reload).
    #[arg(long)]
    dev: bool,
    /// A component to serve (repeatable).
    #[arg(long = "app", value_name = "PATH.wasm")]
    apps: Vec<PathBuf>,
    /// The operator dashboard component (`operator-dashboard.wasm`, built from
    /// `examples/operator-dashboard`): served at `/ops` on the base domain (and any host that
    /// is not an app origin), the one app granted the operator overview. Sign in with an API
    /// token of the registry (`--database`): an operator token sees every tenant, a tenant
    /// token its own apps.
    #[arg(long, env = "LIVEWASM_DASHBOARD", value_name = "PATH.wasm")]
    dashboard: Option<PathBuf>,
    /// File holding the signing key (hex or base64, at least 32 bytes); else $LIVEWASM_SECRET_KEY.
    #[arg(long)]
    secret_key_file: Option<PathBuf>,
    /// Instance slots in the pool: one per live view (a hibernated view holds none). A join
    /// past them is refused `capacity`. 10,000 live idle thermostats fit a 2-core, 24 GB host
    /// (`cargo xtask bench`); about 20,000 is the ceiling where vm.max_map_count is 65,530.
    #[arg(long, default_value_t = 10_000, env = "LIVEWASM_MAX_INSTANCES")]
    max_instances: u32,
    /// Memory cap per instance, MiB.
    #[arg(long, default_value_t = 16)]
    memory_mib: usize,
    /// Skip the WebSocket Origin check.
    #[arg(long)]
    no_check_origin: bool,
    /// The platform registry: a SQLite file path, a `sqlite:` URL or a `postgres://` URL.
    /// With it the host serves every tenant app's active version on its own origin and the
    /// API under /api/v1 on the base domain.
    #[arg(long, env = "DATABASE_URL", value_name = "PATH|URL")]
    database: Option<String>,
    /// App `<app>` of tenant `<tenant>` is served at `<app>.<tenant>.<base-domain>`.
    #[arg(long, default_value = "localhost")]
    base_domain: String,
    /// The URL browsers reach the host at, e.g. `https://apps.example.com` (behind a
    /// TLS-terminating proxy too): its host is the base domain, and with `https` cookies are
    /// `Secure` and `__Host-` prefixed, responses carry HSTS and WebSocket origins must be
    /// `https`. Put the base domain on the Public Suffix List (see deploy/runbook.md).
    #[arg(long, env = "LIVEWASM_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Default quota: apps per tenant.
    #[arg(long, default_value_t = 20)]
    max_apps: u64,
    /// Default quota: size of one uploaded component, MiB.
    #[arg(long, default_value_t = 8)]
    max_component_mib: u64,
    /// Default quota: connected views running at once per tenant.
    #[arg(long, default_value_t = 1000)]
    max_instances_per_tenant: u64,
    /// Directory of compiled-component artifacts reused across restarts (must be private to
    /// the host: its files are loaded as native code). Default: `$LIVEWASM_CACHE/artifacts`,
    /// else `$XDG_CACHE_HOME/livewasm/artifacts`, else `~/.cache/livewasm/artifacts`.
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    cache_dir: Option<PathBuf>,
    /// Compile every component at start, keeping no artifacts on disk.
    #[arg(long)]
    no_cache: bool,
    /// Size cap of the artifact cache, MiB (least recently used artifacts go first).
    #[arg(long, default_value_t = 512)]
    cache_max_mib: u64,
    /// Bytes of pub/sub messages one socket's inbox may hold; past it a message is dropped
    /// for that socket only.
    #[arg(long, default_value_t = ServerConfig::default().inbox_bytes_per_socket)]
    inbox_bytes_per_socket: usize,
    /// Frames one socket may have waiting to be written; past it the client is closed as
    /// too slow (1008).
    #[arg(long, default_value_t = ServerConfig::default().outbound_queue_frames)]
    outbound_queue_frames: usize,
    /// Bytes one socket may have waiting to be written; past it the client is closed as too
    /// slow (1008).
    #[arg(long, default_value_t = ServerConfig::default().outbound_queue_bytes)]
    outbound_queue_bytes: usize,
    /// Seconds one frame may take to be written before the client is closed as too slow.
    #[arg(long, default_value_t = ServerConfig::default().write_timeout.as_secs())]
    write_timeout_secs: u64,
    /// Seconds between server pings on each socket (0: never).
    #[arg(long, default_value_t = ServerConfig::default().ping_interval.as_secs())]
    ping_interval_secs: u64,
    /// WebSockets one client address may hold open (0: no limit); the next upgrade gets 429.
    #[arg(long, default_value_t = ServerConfig::default().max_sockets_per_ip)]
    max_sockets_per_ip: usize,
    /// Threads running guest code (0: one per core, at least 2); guest code never runs on
    /// the async I/O workers.
    #[arg(long, default_value_t = ServerConfig::default().guest_threads)]
    guest_threads: usize,
    /// Guest threads one tenant (on the default site: one app) may hold at once (0: half).
    #[arg(long, default_value_t = ServerConfig::default().guest_threads_per_tenant)]
    guest_threads_per_tenant: usize,
    /// View joins one client address may make per second (0: no limit).
    #[arg(long, default_value_t = ServerConfig::default().max_joins_per_ip_per_sec)]
    max_joins_per_ip_per_sec: u32,
    /// Seconds a client may take to send a request's headers (also ends idle keep-alive
    /// connections).
    #[arg(long, default_value_t = ServerConfig::default().http_header_timeout.as_secs())]
    http_header_timeout_secs: u64,
    /// Seconds a client may take to send a request body (408 past it).
    #[arg(long, default_value_t = ServerConfig::default().http_body_timeout.as_secs())]
    http_body_timeout_secs: u64,
    /// HTTP connections served at once, WebSockets included; further ones wait in the listen
    /// backlog. Default: 100,000, or the open-file limit less 1,024 when that is lower (the
    /// host raises its soft limit to the hard one at start).
    #[arg(long)]
    max_connections: Option<usize>,
    /// Milliseconds between checks of the registry for changes made through other hosts
    /// sharing it (a Postgres registry also wakes the host at once).
    #[arg(long, default_value_t = ServerConfig::default().registry_poll.as_millis() as u64)]
    registry_poll_ms: u64,
    /// On SIGTERM or Ctrl-C, seconds the sockets get to finish their callbacks and tasks
    /// before they are closed anyway (each is told to reconnect, to another host).
    #[arg(long, default_value_t = ServerConfig::default().drain_timeout.as_secs())]
    drain_timeout_secs: u64,
    /// With `--cluster`: seconds the NATS connection may be lost before `/health/ready`
    /// answers 503 (a load balancer then stops sending new clients here).
    #[arg(long, default_value_t = ServerConfig::default().cluster_ready_grace.as_secs())]
    cluster_ready_grace_secs: u64,
    /// Seconds a view stays idle before it hibernates (its state snapshotted, its instance
    /// freed until its next event, message or timer); 0: never.
    #[arg(long, default_value_t = ServerConfig::default().hibernate_after.as_secs())]
    hibernate_after_secs: u64,
    /// Seconds a socket whose views are live stays quiet before it parks (its WebSocket
    /// buffers and writer freed, its views' instances kept); 0: only sockets whose views all
    /// hibernated park.
    #[arg(long, default_value_t = ServerConfig::default().park_after.as_secs())]
    park_after_secs: u64,
    /// Milliseconds a hibernated view about to wake waits for a slot of its tenant's instance
    /// quota when none is free; past it the view crashes and its page rejoins.
    #[arg(long, default_value_t = ServerConfig::default().wake_wait.as_millis() as u64)]
    wake_wait_ms: u64,
    /// Leave open views on their version when an app's version is activated (they move to it
    /// when their client reconnects), instead of carrying them over in place.
    #[arg(long)]
    no_live_upgrade: bool,
    /// Keys one app's key-value store may hold.
    #[arg(long, default_value_t = ServerConfig::default().kv_max_keys)]
    kv_max_keys: u64,
    /// MiB of keys and values one app's key-value store may hold.
    #[arg(long, default_value_t = ServerConfig::default().kv_max_bytes >> 20)]
    kv_max_mib: u64,
    /// Files one app's blob storage may hold.
    #[arg(long, default_value_t = ServerConfig::default().blob_max_count)]
    blob_max_count: u64,
    /// MiB of files one app's blob storage may hold.
    #[arg(long, default_value_t = ServerConfig::default().blob_max_bytes >> 20)]
    blob_max_mib: u64,
    /// Directory of the apps' SQL databases (one SQLite file per app). Default: beside a
    /// SQLite registry (`<registry>.sql/`), `./livewasm-sql` with a Postgres registry, and in
    /// memory (lost on exit) without a registry.
    #[arg(long, env = "LIVEWASM_SQL_DIR", value_name = "DIR")]
    sql_dir: Option<PathBuf>,
    /// Where the apps' SQL databases live: `postgres` (a schema and a role per app in the
    /// registry's Postgres, shared by every host on it) or `sqlite` (a file per app under
    /// --sql-dir). Default: `postgres` with a Postgres registry, else `sqlite`.
    #[arg(long, env = "LIVEWASM_APP_SQL", value_name = "sqlite|postgres")]
    app_sql: Option<AppSqlArg>,
    /// MiB one app's SQL database may grow to.
    #[arg(long, default_value_t = ServerConfig::default().sql_max_bytes >> 20)]
    sql_max_mib: u64,
    /// Milliseconds one SQL call (a statement, or a batch) may run before it is interrupted.
    #[arg(long, default_value_t = ServerConfig::default().sql_statement_timeout.as_millis() as u64)]
    sql_timeout_ms: u64,
    /// Hosts the `--app` components may send HTTP requests to: `host`, `host:port` or
    /// `*.domain`, repeated or comma-separated (platform apps use their tenant's allowlist,
    /// `livewasm tenant http-allow`).
    #[arg(
        long,
        env = "LIVEWASM_HTTP_ALLOW",
        value_delimiter = ',',
        value_name = "HOST[:PORT]"
    )]
    http_allow: Vec<String>,
    /// Lets apps send plain-HTTP requests to loopback hosts on their allowlist (tests and local
    /// fixtures only; by default apps reach public addresses over HTTPS only).
    #[arg(long)]
    http_allow_loopback: bool,
    /// Milliseconds one outgoing request may take (never more than what is left of the
    /// calling callback's deadline).
    #[arg(long, default_value_t = ServerConfig::default().http_timeout.as_millis() as u64)]
    http_timeout_ms: u64,
    /// KiB of response body a view may receive.
    #[arg(long, default_value_t = ServerConfig::default().http_max_response_bytes >> 10)]
    http_max_response_kib: usize,
    /// Outgoing requests one app may start per second (bursts of twice that).
    #[arg(long, default_value_t = ServerConfig::default().http_requests_per_sec)]
    http_requests_per_sec: u32,
    /// The NATS server of a cluster (`nats://127.0.0.1:4222`): each view's broadcast also
    /// reaches the views of the same app on every other host connected to it. The host
    /// refuses to start when NATS is unreachable; NATS reconnects by itself afterwards.
    #[arg(long, env = "LIVEWASM_CLUSTER", value_name = "NATS-URL")]
    cluster: Option<String>,
}

/// The public scheme and base domain of `--public-url` (checked against `--base-domain`
/// when that was given too).
fn public_origin(url: &str, base_domain: &str) -> Result<(String, String)> {
    let (scheme, rest) = url
        .split_once("://")
        .with_context(|| format!("--public-url {url}: expected `https://host` or `http://host`"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        bail!("--public-url {url}: the scheme must be https or http");
    }
    let host = rest.trim_end_matches('/');
    if host.is_empty() || host.contains(['/', '?', '#', '@']) {
        bail!("--public-url {url}: give the origin only, e.g. https://apps.example.com");
    }
    let domain = host
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host, |(domain, _)| domain)
        .to_ascii_lowercase();
    if base_domain != "localhost" && !base_domain.eq_ignore_ascii_case(&domain) {
        bail!("--public-url {url} names {domain}, but --base-domain is {base_domain}");
    }
    Ok((scheme, domain))
}

/// `--app-sql`: where the apps' SQL databases live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum AppSqlArg {
    /// A SQLite file per app.
    Sqlite,
    /// A schema and a role per app in the registry's Postgres.
    Postgres,
}

/// Whether `database` (a `--database` value) names a Postgres registry.
fn is_postgres(database: &str) -> bool {
    database.starts_with("postgres:") || database.starts_with("postgresql:")
}

/// The apps' SQL backend for `--app-sql` (`choice`) and `--database`: the registry's kind
/// unless chosen; Postgres without a Postgres registry is an error.
fn app_sql(choice: Option<AppSqlArg>, database: Option<&str>) -> Result<AppSql> {
    match choice {
        None => Ok(AppSql::FollowRegistry),
        Some(AppSqlArg::Sqlite) => Ok(AppSql::Sqlite),
        Some(AppSqlArg::Postgres) if database.is_some_and(is_postgres) => Ok(AppSql::Postgres),
        Some(AppSqlArg::Postgres) => {
            bail!(
                "--app-sql postgres keeps the apps' SQL in the registry's Postgres: give --database postgres://…"
            )
        }
    }
}

/// Where the apps' SQL databases go when `--sql-dir` is not given (see its help).
fn default_sql_dir(database: Option<&str>) -> Option<PathBuf> {
    let location = database?;
    if is_postgres(location) {
        return Some(PathBuf::from("livewasm-sql"));
    }
    let path = location
        .strip_prefix("sqlite://")
        .or_else(|| location.strip_prefix("sqlite:"))
        .unwrap_or(location);
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    let mut dir = PathBuf::from(path).into_os_string();
    dir.push(".sql");
    Some(PathBuf::from(dir))
}

/// Decodes a key given as hex or base64.
fn decode_key(text: &str) -> Result<Vec<u8>> {
    let text = text.trim();
    let bytes = if text.len().is_multiple_of(2) && text.chars().all(|c| c.is_ascii_hexdigit()) {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
            .context("the signing key is neither hex nor base64")?
    };
    if bytes.len() < 32 {
        bail!(
            "the signing key must be at least 32 bytes (got {})",
            bytes.len()
        );
    }
    Ok(bytes)
}

fn secret_key(args: &ServeArgs) -> Result<Vec<u8>> {
    if let Some(path) = &args.secret_key_file {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        return decode_key(&text);
    }
    if let Ok(text) = std::env::var("LIVEWASM_SECRET_KEY") {
        return decode_key(&text);
    }
    if args.dev {
        tracing::warn!(
            "no signing key given: generated one for this run (sessions end on restart)"
        );
        let mut key = vec![0u8; 32];
        rand::rng().fill_bytes(&mut key);
        return Ok(key);
    }
    bail!("no signing key: pass --secret-key-file or set LIVEWASM_SECRET_KEY (or use --dev)")
}

/// The default artifact cache directory, if the environment names a cache or home directory.
fn default_cache_dir() -> Option<PathBuf> {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("LIVEWASM_CACHE") {
        return Some(dir.join("artifacts"));
    }
    let base = var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|home| home.join(".cache")))?;
    Some(base.join("livewasm").join("artifacts"))
}

/// The artifact cache's key, derived from the host's signing key: artifacts written by anyone
/// without it are never loaded. `None` when no signing key is given (`--dev` generates one per
/// run, and artifacts keyed by it could not be used after a restart).
fn artifact_cache_key(args: &ServeArgs) -> Result<Option<[u8; 32]>> {
    if args.secret_key_file.is_none() && std::env::var("LIVEWASM_SECRET_KEY").is_err() {
        return Ok(None);
    }
    Ok(Some(ArtifactCache::key_from_secret(&secret_key(args)?)))
}

/// Opens the artifact cache the flags ask for and gives it to `runtime`. A directory named with
/// `--cache-dir` must open; a default one that does not is skipped with a warning.
fn use_artifact_cache(args: &ServeArgs, runtime: &Runtime) -> Result<()> {
    if args.no_cache {
        return Ok(());
    }
    let max_bytes = args.cache_max_mib.saturating_mul(1 << 20);
    let Some(key) = artifact_cache_key(args)? else {
        tracing::warn!(
            "artifact cache off: artifacts are authenticated with a key derived from the signing \
             key (--secret-key-file or LIVEWASM_SECRET_KEY), and none is given"
        );
        return Ok(());
    };
    let cache = match &args.cache_dir {
        Some(dir) => ArtifactCache::open(dir, max_bytes, key).context("--cache-dir")?,
        None => {
            let Some(dir) = default_cache_dir() else {
                tracing::warn!(
                    "no cache directory known (set --cache-dir): compiling at every start"
                );
                return Ok(());
            };
            match ArtifactCache::open(&dir, max_bytes, key) {
                Ok(cache) => cache,
                Err(e) => {
                    tracing::warn!("artifact cache off: {e}");
                    return Ok(());
                }
            }
        }
    };
    tracing::info!(dir = %cache.dir().display(), max_mib = args.cache_max_mib, "artifact cache");
    if runtime.set_artifact_cache(cache).is_err() {
        bail!("the runtime already has an artifact cache");
    }
    Ok(())
}

/// Runs the server until Ctrl-C or SIGTERM.
pub fn run(args: ServeArgs) -> Result<()> {
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: args.max_instances,
        memory_limit: args.memory_mib << 20,
        ..RuntimeConfig::default()
    })?;
    use_artifact_cache(&args, &runtime)?;
    let (public_scheme, base_domain) = match &args.public_url {
        Some(url) => public_origin(url, &args.base_domain)?,
        None => ("http".to_string(), args.base_domain.clone()),
    };
    // One descriptor per socket: the soft open-file limit goes up to the hard one, and the
    // default connection cap stays under it.
    let open_files = livewasm_server::open_files::raise_limit();
    let max_connections = args
        .max_connections
        .unwrap_or_else(|| livewasm_server::open_files::default_max_connections(open_files));
    tracing::info!(
        max_connections,
        open_files = open_files.map_or_else(|| "unknown".to_string(), |l| l.to_string()),
        "connection cap"
    );
    let config = ServerConfig {
        secret_key: secret_key(&args)?,
        dev: args.dev,
        check_origin: !args.no_check_origin,
        base_domain,
        public_scheme,
        inbox_bytes_per_socket: args.inbox_bytes_per_socket,
        outbound_queue_frames: args.outbound_queue_frames,
        outbound_queue_bytes: args.outbound_queue_bytes,
        write_timeout: Duration::from_secs(args.write_timeout_secs),
        ping_interval: Duration::from_secs(args.ping_interval_secs),
        max_sockets_per_ip: args.max_sockets_per_ip,
        guest_threads: args.guest_threads,
        guest_threads_per_tenant: args.guest_threads_per_tenant,
        max_joins_per_ip_per_sec: args.max_joins_per_ip_per_sec,
        http_header_timeout: Duration::from_secs(args.http_header_timeout_secs),
        http_body_timeout: Duration::from_secs(args.http_body_timeout_secs),
        max_connections,
        registry_poll: Duration::from_millis(args.registry_poll_ms.max(1)),
        drain_timeout: Duration::from_secs(args.drain_timeout_secs),
        cluster_ready_grace: Duration::from_secs(args.cluster_ready_grace_secs),
        hibernate_after: Duration::from_secs(args.hibernate_after_secs),
        park_after: Duration::from_secs(args.park_after_secs),
        wake_wait: Duration::from_millis(args.wake_wait_ms),
        live_upgrade: !args.no_live_upgrade,
        kv_max_keys: args.kv_max_keys,
        kv_max_bytes: args.kv_max_mib.saturating_mul(1 << 20),
        blob_max_count: args.blob_max_count,
        blob_max_bytes: args.blob_max_mib.saturating_mul(1 << 20),
        sql_dir: args
            .sql_dir
            .clone()
            .or_else(|| default_sql_dir(args.database.as_deref())),
        sql_max_bytes: args.sql_max_mib.saturating_mul(1 << 20),
        sql_statement_timeout: Duration::from_millis(args.sql_timeout_ms),
        app_sql: app_sql(args.app_sql, args.database.as_deref())?,
        http_allow: args.http_allow.clone(),
        http_allow_loopback: args.http_allow_loopback,
        http_timeout: Duration::from_millis(args.http_timeout_ms),
        http_max_response_bytes: args.http_max_response_kib.saturating_mul(1 << 10),
        http_requests_per_sec: args.http_requests_per_sec,
        cluster: args.cluster.clone(),
        ..ServerConfig::default()
    };
    let in_postgres =
        config.app_sql != AppSql::Sqlite && args.database.as_deref().is_some_and(is_postgres);
    match &config.sql_dir {
        _ if in_postgres => {
            tracing::info!("apps' sql databases: a schema per app in the registry's postgres")
        }
        Some(dir) => tracing::info!(dir = %dir.display(), "apps' sql databases"),
        None => tracing::info!("apps' sql databases in memory (lost on exit; see --sql-dir)"),
    }
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let host = match &args.database {
        Some(location) => {
            let defaults = QuotaDefaults {
                max_apps: args.max_apps,
                max_component_bytes: args.max_component_mib << 20,
                max_concurrent_instances: args.max_instances_per_tenant,
                memory_mib_per_instance: args.memory_mib as u64,
                fuel_per_callback: runtime.config().fuel_per_callback,
            };
            let registry = tokio
                .block_on(Registry::open(location, defaults))
                .context("opening the registry")?;
            tracing::info!(backend = ?registry.backend(), "registry open");
            // Built inside the runtime: the apps' kv stores reach the registry through it.
            let _entered = tokio.enter();
            Host::with_registry(runtime.clone(), config, registry)
        }
        None => Host::new(runtime.clone(), config),
    };
    let mut watched = Vec::new();
    for path in &args.apps {
        // Stamped before reading: a change made while the host starts is still picked up.
        let mut file = AppFile::new(path, "");
        let wasm = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let app = runtime
            .load_app(&wasm)
            .with_context(|| format!("loading {}", path.display()))?;
        tracing::info!(app = %app.manifest().name, digest = %&app.digest()[..12], "loaded {}", path.display());
        file.set_app(app.manifest().name.clone());
        watched.push(file);
        host.add_app(app)?;
    }
    if let Some(path) = &args.dashboard {
        let wasm = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let app = runtime
            .load_app(&wasm)
            .with_context(|| format!("loading the dashboard {}", path.display()))?;
        if host.registry().is_none() {
            tracing::warn!("--dashboard without --database: the dashboard has no tenants to show");
        }
        tracing::info!(app = %app.manifest().name, "operator dashboard {}", path.display());
        host.add_dashboard(app, tokio.handle().clone())?;
    }
    let host = Arc::new(host);
    tokio.block_on(async move {
        if args.dev && !watched.is_empty() {
            // Dropped with the runtime when the server stops.
            tokio::spawn(dev_reload::watch(host.clone(), watched));
        }
        if host.registry().is_some() {
            let served = livewasm_server::platform::load_active_apps(&host)
                .await
                .context("loading the platform's apps")?;
            tracing::info!("serving {served} tenant app(s)");
            // Changes made through other hosts sharing the registry; ends with the runtime.
            livewasm_server::registry_sync::keep_in_sync(&host);
        }
        // Broadcasts to and from the other hosts of the cluster; ends with the runtime.
        livewasm_server::pubsub_relay::start(&host).await?;
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr()?;
        println!("livewasm listening on http://{addr}");
        if let Some(metrics_listen) = &args.metrics_listen {
            let metrics = tokio::net::TcpListener::bind(metrics_listen)
                .await
                .with_context(|| format!("listening on {metrics_listen}"))?;
            println!("  metrics: http://{}/metrics", metrics.local_addr()?);
            // Ends with the runtime, when the server stops.
            let host = host.clone();
            tokio::spawn(async move {
                if let Err(error) = livewasm_server::serve_metrics(metrics, host).await {
                    tracing::error!("the metrics listener stopped: {error}");
                }
            });
        }
        for (app, path, view) in host.routes() {
            println!("  http://{addr}{path}  ({app}: {view})");
        }
        if host.registry().is_some() {
            let base = &host.config().base_domain;
            let scheme = &host.config().public_scheme;
            println!("  API: {scheme}://{base}:{}/api/v1", addr.port());
            for (tenant, app, version) in host.sites() {
                println!(
                    "  {scheme}://{app}.{tenant}.{base}:{}/  (version {version})",
                    addr.port()
                );
            }
        }
        if args.dev && !args.apps.is_empty() {
            println!("  live reload: watching the --app files; open pages reload after a swap");
        }
        livewasm_server::serve(listener, host, shutdown_signal()).await?;
        println!("livewasm stopped");
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_gives_scheme_and_base_domain() {
        assert_eq!(
            public_origin("https://Apps.Example.com/", "localhost").expect("ok"),
            ("https".to_string(), "apps.example.com".to_string())
        );
        assert_eq!(
            public_origin("http://apps.localhost:4000", "localhost").expect("ok"),
            ("http".to_string(), "apps.localhost".to_string())
        );
        for bad in [
            "apps.example.com",
            "ftp://apps.example.com",
            "https://apps.example.com/path",
            "https://user@apps.example.com",
        ] {
            assert!(public_origin(bad, "localhost").is_err(), "{bad}");
        }
        assert!(public_origin("https://apps.example.com", "other.example.com").is_err());
    }

    #[test]
    fn app_sql_follows_the_registry_unless_chosen() {
        let pg = Some("postgres://u@127.0.0.1/db");
        let file = Some("/var/lib/livewasm/registry.db");
        assert_eq!(app_sql(None, pg).expect("a choice"), AppSql::FollowRegistry);
        assert_eq!(
            app_sql(None, None).expect("a choice"),
            AppSql::FollowRegistry
        );
        assert_eq!(
            app_sql(Some(AppSqlArg::Sqlite), pg).expect("a choice"),
            AppSql::Sqlite
        );
        assert_eq!(
            app_sql(Some(AppSqlArg::Postgres), Some("postgresql://h/db")).expect("a choice"),
            AppSql::Postgres
        );
        for database in [file, None] {
            let error = app_sql(Some(AppSqlArg::Postgres), database)
                .expect_err("needs a postgres registry");
            assert!(
                error.to_string().contains("--database postgres://"),
                "{error}"
            );
        }
    }

    #[test]
    fn sql_databases_default_beside_the_registry() {
        assert_eq!(default_sql_dir(None), None);
        assert_eq!(
            default_sql_dir(Some("/var/lib/livewasm/registry.db")),
            Some(PathBuf::from("/var/lib/livewasm/registry.db.sql"))
        );
        assert_eq!(
            default_sql_dir(Some("sqlite:///data/r.db?mode=rwc")),
            Some(PathBuf::from("/data/r.db.sql"))
        );
        assert_eq!(default_sql_dir(Some("sqlite::memory:")), None);
        assert_eq!(
            default_sql_dir(Some("postgres://u@127.0.0.1/db")),
            Some(PathBuf::from("livewasm-sql"))
        );
    }
}
