//! [`Host`]: the shared state of a running server. It owns what every request and socket
//! reaches for: the runtime, the configuration, the registry (multi-tenant hosts), the sites
//! with their routes, the pub/sub broker, the upload space and dev reload's generations. What
//! is done with them lives elsewhere: routing in [`routes`](crate::routes), sites in
//! [`sites`](crate::sites), keys in [`keys`](crate::keys), dispatch by origin in
//! [`router`](crate::router).

use std::sync::Arc;
use std::time::Duration;

use livewasm_registry::Registry;
use livewasm_runtime::{App, HttpClient, Runtime};
use serde_json::Value;

use crate::blobs::BlobStores;
use crate::config::{AppSql, ServerConfig};
use crate::error::ServerError;
use crate::fetch::{AllowedBy, FetchClients};
use crate::generations::Reloads;
use crate::guest_pool::GuestPool;
use crate::inbox::InboxTotals;
use crate::keys::SiteKeys;
use crate::kv::KvStores;
use crate::metrics::Metrics;
use crate::operator_overview::OperatorOverview;
use crate::peers::Peers;
use crate::pubsub::Broker;
use crate::session;
use crate::sites::{Site, SiteId, Sites};
use crate::sql::{SqlLimits, SqlStores};
use crate::uploads::UploadSpace;

/// Upgrade notices a socket may fall behind by before it hears `Lagged` (and checks all of
/// its views anyway).
pub(crate) const UPGRADE_NOTICES: usize = 64;

/// Shared server state.
pub struct Host {
    runtime: Runtime,
    config: ServerConfig,
    registry: Option<Registry>,
    /// Every site served: the default (`--app`) one and, with a registry, the platform's.
    pub(crate) sites: Sites,
    /// Pub/sub between the views of one app.
    pub(crate) broker: Arc<Broker>,
    /// The temp area and byte budgets of file uploads.
    uploads: Arc<UploadSpace>,
    /// Live reload in dev: the generations of the default site's apps and their swaps.
    dev_reload: Reloads,
    /// Rung with every host notice (drain, live upgrade, dev reload) for the parked sockets.
    parked_bell: Arc<tokio::sync::Notify>,
    /// The threads guest code runs on, fair between tenants.
    guests: GuestPool,
    /// Pub/sub bytes waiting in the sockets' inboxes, and messages dropped.
    inbox_totals: Arc<InboxTotals>,
    /// Frames waiting to be written to the sockets, and the sockets open.
    outbound: Arc<crate::socket_totals::OutboundTotals>,
    /// Whether sockets freed memory since the heap was last trimmed.
    heap_trim: Arc<crate::heap_trim::HeapTrim>,
    /// Sockets and joins per client address.
    peers: Arc<Peers>,
    /// The apps' key-value stores.
    kv: KvStores,
    /// The apps' files.
    blobs: BlobStores,
    /// The apps' SQL databases.
    sql: SqlStores,
    /// The apps' outgoing HTTP.
    fetch: FetchClients,
    /// Where every app's outgoing HTTP goes instead, when set (the test harness's mock).
    http_client: Option<Arc<dyn HttpClient>>,
    /// The counters `GET /metrics` exports.
    metrics: Arc<Metrics>,
    /// Held while a platform site is checked against the registry and installed or removed,
    /// so the last install reflects the registry's newest state (`platform::serve_version`).
    pub(crate) install_lock: tokio::sync::Mutex<()>,
    /// When draining, the deadline by which the sockets should have closed (`start_drain`).
    drain: tokio::sync::watch::Sender<Option<tokio::time::Instant>>,
    /// Platform sites that just started serving another version: their sockets carry their
    /// open views over (live upgrade, [`ServerConfig::live_upgrade`]).
    upgrades: tokio::sync::broadcast::Sender<SiteId>,
    /// Sockets carrying their views over at once, at most: a deploy wakes every socket of the
    /// app together, and their guest work must not overflow the guest pool's queue.
    upgrade_permits: Arc<tokio::sync::Semaphore>,
}

impl Host {
    /// A host with no apps yet.
    pub fn new(runtime: Runtime, config: ServerConfig) -> Host {
        let guests = GuestPool::sized(
            config.guest_threads,
            config.guest_threads_per_tenant,
            config.guest_backlog_per_tenant,
        );
        let upgrade_permits = Arc::new(tokio::sync::Semaphore::new(guests.occupancy().1 * 2));
        let parked_bell = Arc::new(tokio::sync::Notify::new());
        Host {
            runtime,
            registry: None,
            sites: Sites::default(),
            broker: Arc::default(),
            uploads: UploadSpace::new(config.uploads.clone()),
            dev_reload: Reloads::new(parked_bell.clone()),
            parked_bell,
            guests,
            inbox_totals: Arc::default(),
            outbound: Arc::default(),
            heap_trim: Arc::default(),
            peers: Peers::new(config.max_sockets_per_ip, config.max_joins_per_ip_per_sec),
            kv: KvStores::memory(kv_limits(&config)),
            blobs: BlobStores::memory(blob_limits(&config)),
            sql: SqlStores::new(config.sql_dir.clone(), SqlLimits::of(&config)),
            fetch: FetchClients::new(&config),
            http_client: None,
            metrics: Arc::default(),
            install_lock: tokio::sync::Mutex::new(()),
            drain: tokio::sync::watch::Sender::new(None),
            upgrades: tokio::sync::broadcast::Sender::new(UPGRADE_NOTICES),
            upgrade_permits,
            config,
        }
    }

    /// A multi-tenant host: serves each tenant app of `registry` on its own origin
    /// (`<app>.<tenant>.<base-domain>`) and the platform API under `/api/v1` on the base
    /// domain. Load the apps' active versions with
    /// [`platform::load_active_apps`](crate::platform::load_active_apps).
    ///
    /// The apps' `kv` stores live in the registry's database; build the host inside the tokio
    /// runtime the registry was opened on (the guest threads reach the database through it).
    /// Their `sql` databases are schemas in the registry's Postgres when it is one (unless
    /// [`ServerConfig::app_sql`] says [`AppSql::Sqlite`]), else SQLite files.
    pub fn with_registry(runtime: Runtime, config: ServerConfig, registry: Registry) -> Host {
        let kv = KvStores::registry(registry.clone(), kv_limits(&config));
        let blobs = BlobStores::registry(registry.clone(), blob_limits(&config));
        let postgres_sql = match (config.app_sql, registry.postgres_url()) {
            (AppSql::Sqlite, _) => None,
            (AppSql::FollowRegistry | AppSql::Postgres, Some(url)) => {
                match SqlStores::postgres(url, &config.secret_key, SqlLimits::of(&config)) {
                    Ok(stores) => Some(stores),
                    Err(error) => {
                        tracing::error!(%error, "apps' sql stays in files");
                        None
                    }
                }
            }
            (AppSql::Postgres, None) => {
                tracing::error!("app sql in postgres needs a postgres registry: it stays in files");
                None
            }
            (AppSql::FollowRegistry, None) => None,
        };
        let mut host = Host {
            registry: Some(registry),
            kv,
            blobs,
            ..Host::new(runtime, config)
        };
        if let Some(sql) = postgres_sql {
            host.sql = sql;
        }
        host
    }

    /// Keeps the `sql` databases of the apps added from now on in the Postgres at `url`, a
    /// schema and a role per app as with a Postgres registry, their scopes under `namespace`
    /// (`<namespace>/local/<app>`), so hosts sharing that Postgres but no registry (the test
    /// harness's, one namespace each) keep apart; their schemas and roles are dropped when
    /// the host is. The user of `url` needs `CREATEROLE`.
    pub fn with_sql_in_postgres(mut self, url: &str, namespace: &str) -> Result<Host, ServerError> {
        self.sql = SqlStores::postgres(url, &self.config.secret_key, SqlLimits::of(&self.config))?
            .namespaced(namespace);
        Ok(self)
    }

    /// Sends the outgoing HTTP of every app added from now on to `client` instead of the
    /// network (the test harness's mock); allowlists and rates are then `client`'s business.
    pub fn with_http_client(mut self, client: Arc<dyn HttpClient>) -> Host {
        self.http_client = Some(client);
        self
    }

    /// `app` with the key-value store, the blobs and the SQL database of `scope` (a registry
    /// app id, or `local/<name>`), the migrations `app` declares applied, outgoing HTTP to
    /// what `allowed` allows, and its guest calls metered as `(tenant, app)` (registry names,
    /// or `local` and the component's name). Refused when a migration fails: that app is not
    /// to serve.
    pub(crate) fn with_app_data(
        &self,
        app: &App,
        scope: &str,
        allowed: AllowedBy,
        (tenant, name): (&str, &str),
    ) -> Result<App, ServerError> {
        let migrations = &app.manifest().sql_migrations;
        if !migrations.is_empty() {
            let ran = self.sql.migrate(scope, migrations)?;
            if ran > 0 {
                tracing::info!(app = %app.manifest().name, scope, ran, "sql migrations applied");
            }
        }
        Ok(app
            .with_kv(self.kv.store(scope))
            .with_blobs(self.blobs.store(scope))
            .with_sql(self.sql.store(scope))
            .with_meter(self.metrics.app(tenant, name))
            .with_names(tenant, name)
            .with_fetch(match &self.http_client {
                Some(client) => client.clone(),
                None => self.fetch.client(scope, allowed),
            }))
    }

    /// Tenant `tenant`'s apps may now send HTTP requests to `hosts` only (`host` or
    /// `host:port` entries, as the registry keeps them): the platform API calls this after
    /// changing a tenant's allowlist, and apps already served see it on their next request.
    pub fn set_http_allowlist(&self, tenant: &livewasm_registry::TenantId, hosts: Vec<String>) {
        self.fetch.set_allowlist(tenant.as_str(), hosts);
    }

    /// Starts draining (the host is stopping): readiness turns off, every socket finishes the
    /// callback it is running and the tasks its views started, then is closed with code 1012
    /// ("service restart") so its client reconnects, to another host behind a load balancer.
    /// Sockets still open after `timeout` are closed then. Returns the deadline; a second call
    /// keeps the first deadline.
    pub fn start_drain(&self, timeout: Duration) -> tokio::time::Instant {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut set = deadline;
        self.drain.send_if_modified(|current| match current {
            Some(first) => {
                set = *first;
                false
            }
            None => {
                *current = Some(deadline);
                true
            }
        });
        self.parked_bell.notify_waiters();
        set
    }

    /// True once [`Host::start_drain`] was called.
    pub fn is_draining(&self) -> bool {
        self.drain.borrow().is_some()
    }

    /// Tells the sockets of platform site `site` that it serves another version now, so they
    /// carry their open views over (when [`ServerConfig::live_upgrade`] is on; a dev host
    /// reloads its pages instead).
    pub(crate) fn announce_upgrade(&self, site: SiteId) {
        if self.config.live_upgrade && !self.config.dev {
            // No socket listening is fine: there is nothing to carry over.
            let _ = self.upgrades.send(site);
            self.parked_bell.notify_waiters();
        }
    }

    /// Rung with every host notice (drain, live upgrade, dev reload): a parked socket waits
    /// on it instead of on each receiver, and reads them when it rings.
    pub(crate) fn parked_bell(&self) -> &tokio::sync::Notify {
        &self.parked_bell
    }

    /// Hears [`Self::announce_upgrade`]; a socket that falls more than [`UPGRADE_NOTICES`]
    /// behind hears `Lagged` and checks all of its views.
    pub(crate) fn upgrade_notices(&self) -> tokio::sync::broadcast::Receiver<SiteId> {
        self.upgrades.subscribe()
    }

    /// The permits a socket takes to carry its views over (one socket at a time per permit).
    pub(crate) fn upgrade_permits(&self) -> &Arc<tokio::sync::Semaphore> {
        &self.upgrade_permits
    }

    /// Watches for the drain (its deadline once it started).
    pub(crate) fn drain_watch(&self) -> tokio::sync::watch::Receiver<Option<tokio::time::Instant>> {
        self.drain.subscribe()
    }

    /// True when tenant `tenant`'s HTTP allowlist is loaded on this host.
    pub(crate) fn http_allowlist_known(&self, tenant: &livewasm_registry::TenantId) -> bool {
        self.fetch.knows(tenant.as_str())
    }

    /// Deletes the SQL database of `scope` (its app was deleted).
    pub(crate) fn remove_app_data(&self, scope: &str) {
        self.sql.remove(scope);
    }

    /// The counters `GET /metrics` exports.
    pub(crate) fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The threads guest code runs on (sockets, dead renders, HTTP handlers, tasks).
    pub(crate) fn guests(&self) -> &GuestPool {
        &self.guests
    }

    /// The runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The temp area and byte budgets of file uploads.
    pub(crate) fn upload_space(&self) -> &Arc<UploadSpace> {
        &self.uploads
    }

    /// Bytes the uploads in progress hold on this host (received or reserved).
    pub fn upload_bytes_reserved(&self) -> u64 {
        self.uploads.used()
    }

    /// The private directory holding upload chunks, once the first upload created it.
    pub fn upload_dir(&self) -> Option<std::path::PathBuf> {
        self.uploads.dir()
    }

    /// Pub/sub subscriptions held by the views connected to this host, all apps together (a
    /// view subscribed to two topics counts twice).
    pub fn pubsub_subscriptions(&self) -> usize {
        self.broker.subscriber_count(None)
    }

    /// Bytes of pub/sub messages waiting in the sockets' inboxes now, each inbox counting the
    /// message it holds (the text itself is shared, so the memory used is at most this). Each
    /// socket's share is capped by [`ServerConfig::inbox_bytes_per_socket`].
    pub fn pending_inbox_bytes(&self) -> u64 {
        self.inbox_totals.pending_bytes()
    }

    /// Pub/sub messages dropped for a socket whose inbox was full (by bytes or count) since
    /// the host started.
    pub fn pubsub_dropped_messages(&self) -> u64 {
        self.inbox_totals.dropped()
    }

    /// Bytes of frames waiting to be written to the sockets now, all sockets together. Each
    /// socket's share is capped by [`ServerConfig::outbound_queue_bytes`] (and one frame).
    pub fn pending_outbound_bytes(&self) -> u64 {
        self.outbound.pending_bytes()
    }

    /// WebSockets open now (a socket counts until its views' instances are freed).
    pub fn open_sockets(&self) -> usize {
        self.outbound.sockets()
    }

    /// WebSockets parked now: every view on them hibernated, so the socket keeps only its
    /// byte stream and connection until the client or a view's message wakes it.
    pub fn parked_sockets(&self) -> usize {
        self.outbound.parked()
    }

    /// The note that sockets freed memory, for the heap trimmer ([`crate::heap_trim`]).
    pub(crate) fn heap_trim(&self) -> &Arc<crate::heap_trim::HeapTrim> {
        &self.heap_trim
    }

    /// The outbound counters of the sockets.
    pub(crate) fn outbound_totals(&self) -> &Arc<crate::socket_totals::OutboundTotals> {
        &self.outbound
    }

    /// Sockets and joins per client address.
    pub(crate) fn peers(&self) -> &Arc<Peers> {
        &self.peers
    }

    /// The host-wide inbox counters, for new sockets' budgets.
    pub(crate) fn inbox_totals(&self) -> &Arc<InboxTotals> {
        &self.inbox_totals
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The registry, for a multi-tenant host.
    pub fn registry(&self) -> Option<&Registry> {
        self.registry.as_ref()
    }

    /// Adds an app and its routes to the default site; refuses a second app of the same
    /// name or a path another app already serves.
    pub fn add_app(&self, app: App) -> Result<(), ServerError> {
        let name = app.manifest().name.clone();
        let metered_as = (crate::metrics::LOCAL_TENANT, name.as_str());
        let app = self.with_app_data(&app, &local_scope(&app), AllowedBy::Local, metered_as)?;
        self.sites
            .update_routes(&SiteId::Default, |routes| routes.with_app(&app).map(Some))?;
        Ok(())
    }

    /// Adds the operator dashboard `app` to the default site (served on the base domain of a
    /// host with a registry, and on any host that is not an app origin), like [`add_app`],
    /// and grants it, alone of all apps, the `operator` capability: the overview of the
    /// tenants a token may see, read from the registry through `runtime` (the runtime the
    /// registry was opened on) and from this host's metrics.
    ///
    /// [`add_app`]: Host::add_app
    pub fn add_dashboard(
        &self,
        app: App,
        runtime: tokio::runtime::Handle,
    ) -> Result<(), ServerError> {
        let name = app.manifest().name.clone();
        let metered_as = (crate::metrics::LOCAL_TENANT, name.as_str());
        let app = self.with_app_data(&app, &local_scope(&app), AllowedBy::Local, metered_as)?;
        let app = app.with_operator(Arc::new(OperatorOverview {
            registry: self.registry.clone(),
            metrics: self.metrics.clone(),
            runtime,
        }));
        self.sites
            .update_routes(&SiteId::Default, |routes| routes.with_app(&app).map(Some))?;
        Ok(())
    }

    /// Replaces app `old` of the default site with `app` (live reload in dev): new page loads
    /// and joins use it from now on, views already running keep their instance, and dev pages
    /// of either app are told to reload. Refused, `old` still served, when `app`'s routes clash
    /// with another app's or its name is another app's. `Ok(false)` when `app` is the very
    /// component `old` already is (nothing changes).
    pub fn replace_app(&self, old: &str, app: App) -> Result<bool, ServerError> {
        let name = app.manifest().name.clone();
        let metered_as = (crate::metrics::LOCAL_TENANT, name.as_str());
        let app = self.with_app_data(&app, &local_scope(&app), AllowedBy::Local, metered_as)?;
        let replaced = self
            .sites
            .update_routes(&SiteId::Default, |routes| routes.replacing(old, &app))?;
        if replaced {
            // After the routes: a page never carries a generation newer than its app.
            self.dev_reload.swapped(old, &app.manifest().name);
        }
        Ok(replaced)
    }

    /// Live reload in dev: generations and swap notices of the default site's apps.
    pub(crate) fn dev_reloads(&self) -> &Reloads {
        &self.dev_reload
    }

    /// Every route of the default site, as `(app, path, view)`.
    pub fn routes(&self) -> Vec<(String, String, String)> {
        self.default_site().routes().list()
    }

    /// Every tenant app served, as `(tenant, app, version)`.
    pub fn sites(&self) -> Vec<(String, String, u64)> {
        self.sites.list()
    }

    /// The site served as `id` now (a socket looks its site up at each join).
    pub(crate) fn site(&self, id: &SiteId) -> Option<Arc<Site>> {
        self.sites.get(id)
    }

    /// The default (`--app`) site as served now.
    pub(crate) fn default_site(&self) -> Arc<Site> {
        self.sites.get(&SiteId::Default).unwrap_or_else(|| {
            // The site table always holds the default site; an empty one stands in.
            Arc::new(Sites::default_site())
        })
    }

    /// The signing keys of site `site`.
    pub(crate) fn keys(&self, site: &SiteId) -> SiteKeys<'_> {
        SiteKeys::new(&self.config.secret_key, site).with_secure(self.config.https())
    }
}

/// The session a socket's views see on the default site: present only when the cookie verifies
/// and the socket's `_csrf_token` matches it (otherwise every join is answered `stale`, as
/// Phoenix does). The CSRF token stays in it, as in Phoenix, so views can render forms that
/// post over HTTP.
pub fn socket_session(
    host: &Host,
    cookie_header: Option<&str>,
    csrf: Option<&str>,
) -> Option<Value> {
    session::socket_session(
        &host.keys(&SiteId::Default),
        host.config().token_max_age,
        cookie_header,
        csrf,
    )
}

/// The data scope of an `--app` component: its name (a rebuilt component keeps its data).
fn local_scope(app: &App) -> String {
    format!("local/{}", app.manifest().name)
}

/// Each app's `kv` quotas from the configuration.
fn kv_limits(config: &ServerConfig) -> livewasm_registry::KvLimits {
    livewasm_registry::KvLimits {
        max_keys: config.kv_max_keys,
        max_bytes: config.kv_max_bytes,
    }
}

/// Each app's `blobs` quotas from the configuration.
fn blob_limits(config: &ServerConfig) -> livewasm_registry::BlobLimits {
    livewasm_registry::BlobLimits {
        max_blobs: config.blob_max_count,
        max_bytes: config.blob_max_bytes,
    }
}
