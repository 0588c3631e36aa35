//! Sites: the apps served on one origin. The default site holds the apps loaded with `--app`
//! and is served on any host that is not an app origin; a platform site is one app of one
//! tenant, served on `<app>.<tenant>.<base-domain>`, whose views count against the tenant's
//! instance quota (`max_concurrent_instances`). [`Sites`] holds them all, the per-tenant
//! accounting and the compiled-component cache.
//!
//! In a cluster (`--cluster`) the quota counts the tenant's instances on the other hosts too,
//! as they last reported them ([`cluster_quota`](crate::cluster_quota), which also states the
//! tolerance): a slot is taken only while this host's instances plus the others' are below
//! the limit. Outside a cluster the others' count is always 0.
//!
//! The compiled cache keeps a version compiled while anything uses it (a served site, a
//! running view or task: each holds a handle on the compiled component) and, beyond that, only
//! the [`MAX_IDLE_COMPILED`] most recently used idle versions, each for at most
//! [`IDLE_COMPILED_TTL`]: a rollback or re-activation soon after a deploy needs no
//! recompilation, while a long-lived host that sees many deploys does not keep every version
//! it ever compiled (the on-disk artifact cache still makes a later recompilation cheap).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use livewasm_runtime::App;
use serde::Serialize;
use tokio::sync::Notify;

use crate::error::ServerError;
use crate::routes::{HttpRouteMatch, RouteMatch, RouteTable};

/// Which site a request or socket belongs to: the key of the site table. A socket keeps it
/// and looks its site up at each join, so it always routes on the version served now.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum SiteId {
    /// The apps loaded with `--app`, served on any host that is not an app origin.
    Default,
    /// App `app` of tenant `tenant`, on `<app>.<tenant>.<base-domain>`.
    App {
        /// The tenant's name.
        tenant: String,
        /// The app's name (in the registry, not the component's manifest).
        app: String,
    },
}

impl SiteId {
    /// The id of app `app` of tenant `tenant`.
    pub(crate) fn app(tenant: &str, app: &str) -> SiteId {
        SiteId::App {
            tenant: tenant.to_string(),
            app: app.to_string(),
        }
    }

    /// `tenant/app` of a platform site (named in its tokens, keys and pub/sub scope); `None`
    /// for the default site.
    pub(crate) fn label(&self) -> Option<String> {
        self.tenant_app()
            .map(|(tenant, app)| format!("{tenant}/{app}"))
    }

    /// Who guest work of app `app` on this site is charged to in the
    /// [guest pool](crate::guest_pool): the tenant on a platform site, the app itself on the
    /// default site (whose apps have no tenant).
    pub(crate) fn charged_to(&self, app: &str) -> crate::guest_pool::Tenant {
        match self {
            SiteId::Default => std::sync::Arc::from(format!("app:{app}")),
            SiteId::App { tenant, .. } => std::sync::Arc::from(format!("tenant:{tenant}")),
        }
    }

    /// `(tenant, app)` of a platform site; `None` for the default site.
    pub(crate) fn tenant_app(&self) -> Option<(&str, &str)> {
        match self {
            SiteId::Default => None,
            SiteId::App { tenant, app } => Some((tenant, app)),
        }
    }
}

/// One version of the apps served on one origin.
pub(crate) struct Site {
    id: SiteId,
    /// `tenant/app` of a platform site (named in its tokens and keys); `None` by default.
    label: Option<String>,
    /// The registry version served (platform sites), or how many times the default site's
    /// apps changed.
    version: u64,
    routes: RouteTable,
    /// The tenant's instance accounting; `None` on the default site, which has no quota.
    usage: Option<Arc<TenantUsage>>,
    /// What of the registry a platform site was built from; `None` by default.
    served: Option<Served>,
}

/// What of the registry a platform site was built from: the registry sync compares it with
/// what the registry says now, and builds the site again when they differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Served {
    /// The registry id of the app.
    pub(crate) app_id: String,
    /// The component's sha256 (hex).
    pub(crate) sha256: String,
    /// The tenant's quotas it got its instance limits from.
    pub(crate) quotas: livewasm_registry::Quotas,
}

impl Site {
    /// A site serving `routes`.
    fn new(id: SiteId, version: u64, routes: RouteTable, usage: Option<Arc<TenantUsage>>) -> Site {
        let label = id.label();
        Site {
            id,
            label,
            version,
            routes,
            usage,
            served: None,
        }
    }

    /// This site, recorded as built from `served`.
    pub(crate) fn with_served(self, served: Served) -> Site {
        Site {
            served: Some(served),
            ..self
        }
    }

    /// What of the registry a platform site was built from.
    pub(crate) fn served(&self) -> Option<&Served> {
        self.served.as_ref()
    }

    /// The registry version served (platform sites).
    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    /// Which site this is.
    pub(crate) fn id(&self) -> &SiteId {
        &self.id
    }

    /// True for the default (`--app`) site.
    pub(crate) fn is_default(&self) -> bool {
        self.id == SiteId::Default
    }

    /// `tenant/app` of a platform site; `None` for the default site.
    pub(crate) fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// The tenant's instance accounting; `None` on the default site.
    pub(crate) fn usage(&self) -> Option<&Arc<TenantUsage>> {
        self.usage.as_ref()
    }

    /// The site's routes.
    pub(crate) fn routes(&self) -> &RouteTable {
        &self.routes
    }

    /// The view route of `path`.
    pub(crate) fn route(&self, path: &str) -> Option<RouteMatch> {
        self.routes.route(path)
    }

    /// The plain HTTP route for `method` and `path`.
    pub(crate) fn http_route(&self, method: &str, path: &str) -> Option<HttpRouteMatch> {
        self.routes.http_route(method, path)
    }
}

/// Live component instances of one tenant, against its quota.
#[derive(Debug)]
pub(crate) struct TenantUsage {
    /// Instances running on this host (views, dead renders, HTTP handlers, tasks).
    instances: AtomicU64,
    /// The tenant's instances on the other hosts of the cluster, as they last reported them;
    /// always 0 outside a cluster.
    remote: AtomicU64,
    /// `instances` as this host last reported them to the cluster.
    reported: AtomicU64,
    /// Woken when `instances` moved far from `reported`: the cluster reporter then reports
    /// at once instead of at its next period.
    nudge: Arc<Notify>,
    /// Woken whenever one of this host's slots is given back, for views waiting to wake.
    freed: Notify,
    refused: AtomicU64,
    refused_api: AtomicU64,
    limit: AtomicU64,
}

/// Usage figures as the API shows them.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct InstanceUsage {
    /// Connected views running now.
    pub(crate) instances: u64,
    /// Joins refused because the tenant was at its instance quota (since the host started).
    pub(crate) refused_instances: u64,
    /// API requests refused by a quota (apps, component size) since the host started.
    pub(crate) refused_over_quota: u64,
}

impl TenantUsage {
    /// A tenant running nothing, with limit `limit`, waking `nudge` when its count moves far
    /// from what was last reported.
    fn new(limit: u64, remote: u64, nudge: Arc<Notify>) -> TenantUsage {
        TenantUsage {
            instances: AtomicU64::new(0),
            remote: AtomicU64::new(remote),
            reported: AtomicU64::new(0),
            nudge,
            freed: Notify::new(),
            refused: AtomicU64::new(0),
            refused_api: AtomicU64::new(0),
            limit: AtomicU64::new(limit),
        }
    }

    /// Sets the tenant's `max_concurrent_instances`.
    pub(crate) fn set_limit(&self, limit: u64) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// Takes one instance slot, or counts a refusal when the tenant is at its quota: when
    /// this host's instances plus those the other hosts of the cluster last reported
    /// ([`TenantUsage::set_remote`]) reach the limit.
    pub(crate) fn try_acquire(self: &Arc<Self>) -> Option<InstanceSlot> {
        let slot = self.try_take();
        if slot.is_none() {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        slot
    }

    /// True when the tenant has no slot free now (this host's instances plus the other
    /// hosts' reach its limit).
    pub(crate) fn at_quota(&self) -> bool {
        let limit = self.limit.load(Ordering::Relaxed);
        let remote = self.remote.load(Ordering::Acquire);
        self.instances
            .load(Ordering::Acquire)
            .saturating_add(remote)
            >= limit
    }

    /// Takes one instance slot, waiting up to `wait` for one to be given back when the tenant
    /// is at its quota (a hibernated view about to wake); a refusal is counted when none came.
    /// Slots given back on this host wake the wait at once; those of other hosts, or a raised
    /// limit, are seen within [`SLOT_POLL`].
    pub(crate) async fn acquire_within(self: &Arc<Self>, wait: Duration) -> Option<InstanceSlot> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before the attempt, so a slot given back right after it is not missed.
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if let Some(slot) = self.try_take() {
                return Some(slot);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                self.refused.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            let _ = tokio::time::timeout_at(deadline.min(now + SLOT_POLL), freed).await;
        }
    }

    /// [`TenantUsage::try_acquire`] without counting a refusal.
    fn try_take(self: &Arc<Self>) -> Option<InstanceSlot> {
        let limit = self.limit.load(Ordering::Relaxed);
        let remote = self.remote.load(Ordering::Acquire);
        let taken = self
            .instances
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n.saturating_add(remote) < limit).then_some(n + 1)
            });
        match taken {
            Ok(n) => {
                self.moved_to(n + 1, limit);
                Some(InstanceSlot(self.clone()))
            }
            Err(_) => None,
        }
    }

    /// The count is now `now`: wakes the cluster reporter when that is at least a tenth of
    /// the limit (one instance at least) away from what it last reported.
    fn moved_to(&self, now: u64, limit: u64) {
        let reported = self.reported.load(Ordering::Relaxed);
        if now.abs_diff(reported) >= (limit / 10).max(1) {
            self.nudge.notify_one();
        }
    }

    /// Sets the tenant's instances on the other hosts of the cluster.
    pub(crate) fn set_remote(&self, remote: u64) {
        self.remote.store(remote, Ordering::Release);
    }

    /// The tenant's instances on the other hosts of the cluster, as last reported.
    pub(crate) fn remote(&self) -> u64 {
        self.remote.load(Ordering::Acquire)
    }

    /// This host's instances now, recorded as reported to the cluster.
    fn report(&self) -> u64 {
        let now = self.instances.load(Ordering::Acquire);
        self.reported.store(now, Ordering::Relaxed);
        now
    }

    /// Counts one API request refused by a quota.
    pub(crate) fn count_api_refusal(&self) {
        self.refused_api.fetch_add(1, Ordering::Relaxed);
    }

    /// Current figures.
    pub(crate) fn snapshot(&self) -> InstanceUsage {
        InstanceUsage {
            instances: self.instances.load(Ordering::Relaxed),
            refused_instances: self.refused.load(Ordering::Relaxed),
            refused_over_quota: self.refused_api.load(Ordering::Relaxed),
        }
    }
}

/// How often a view waiting to wake looks again for a slot that no local release announced
/// (another host's instance ended, the limit was raised).
const SLOT_POLL: Duration = Duration::from_millis(250);

/// One running instance counted against its tenant; released when dropped.
#[derive(Debug)]
pub(crate) struct InstanceSlot(Arc<TenantUsage>);

impl Drop for InstanceSlot {
    fn drop(&mut self) {
        let before = self.0.instances.fetch_sub(1, Ordering::AcqRel);
        let limit = self.0.limit.load(Ordering::Relaxed);
        self.0.moved_to(before.saturating_sub(1), limit);
        self.0.freed.notify_waiters();
    }
}

/// Most compiled versions kept while nothing uses them.
pub(crate) const MAX_IDLE_COMPILED: usize = 8;
/// How long a compiled version nothing uses is kept.
pub(crate) const IDLE_COMPILED_TTL: Duration = Duration::from_secs(15 * 60);

/// A compiled component in the cache.
struct Compiled {
    app: App,
    /// When it was last compiled, looked up or used by a site or instance.
    last_used: Instant,
}

/// One cache entry as the trimming policy sees it.
#[derive(Debug, Clone, Copy)]
struct EntryUse {
    /// Something besides the cache holds the component (a site, a view, a task).
    in_use: bool,
    last_used: Instant,
}

/// Which entries to drop: every entry in use stays; of the idle ones, those last used more
/// than `ttl` ago go, and of the rest only the `max_idle` most recently used stay.
fn to_evict<K: Clone>(
    entries: &[(K, EntryUse)],
    now: Instant,
    max_idle: usize,
    ttl: Duration,
) -> Vec<K> {
    let mut idle: Vec<&(K, EntryUse)> = entries.iter().filter(|(_, e)| !e.in_use).collect();
    idle.sort_by_key(|(_, e)| std::cmp::Reverse(e.last_used));
    idle.iter()
        .enumerate()
        .filter(|(rank, (_, e))| {
            *rank >= max_idle || now.saturating_duration_since(e.last_used) > ttl
        })
        .map(|(_, (key, _))| key.clone())
        .collect()
}

/// Every site (the default one included), the per-tenant usage and the compiled components.
pub(crate) struct Sites {
    sites: RwLock<HashMap<SiteId, Arc<Site>>>,
    usage: RwLock<HashMap<String, Arc<TenantUsage>>>,
    compiled: Mutex<HashMap<String, Compiled>>,
    /// One gate per component being compiled now, by sha256: callers wanting the same
    /// component queue on it and find it compiled ([`crate::platform::compiled_once`]).
    compiling: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    max_idle_compiled: usize,
    idle_compiled_ttl: Duration,
    /// Each tenant's instances on the other hosts of the cluster (tenants with none left
    /// out), so a usage record made later starts from it; empty outside a cluster.
    remote: RwLock<HashMap<String, u64>>,
    /// Other hosts of the cluster whose reports are counted.
    peers: AtomicUsize,
    /// Woken when a tenant's count moved far from what was last reported.
    nudge: Arc<Notify>,
}

impl Default for Sites {
    fn default() -> Self {
        Sites::with_compiled_bounds(MAX_IDLE_COMPILED, IDLE_COMPILED_TTL)
    }
}

impl Sites {
    /// Only the default site, with no apps yet; the compiled cache keeps at most `max_idle`
    /// unused versions, each for at most `ttl`.
    pub(crate) fn with_compiled_bounds(max_idle: usize, ttl: Duration) -> Sites {
        Sites {
            sites: RwLock::new(HashMap::from([(
                SiteId::Default,
                Arc::new(Sites::default_site()),
            )])),
            usage: RwLock::default(),
            compiled: Mutex::default(),
            compiling: Mutex::default(),
            max_idle_compiled: max_idle,
            idle_compiled_ttl: ttl,
            remote: RwLock::default(),
            peers: AtomicUsize::new(0),
            nudge: Arc::new(Notify::new()),
        }
    }

    /// The default site with no apps.
    pub(crate) fn default_site() -> Site {
        Site::new(SiteId::Default, 0, RouteTable::default(), None)
    }

    /// The usage record of `tenant` (created on first use), with its limit updated.
    pub(crate) fn usage(&self, tenant: &str, limit: u64) -> Arc<TenantUsage> {
        if let Some(usage) = self.usage.read().ok().and_then(|m| m.get(tenant).cloned()) {
            usage.set_limit(limit);
            return usage;
        }
        let mut map = match self.usage.write() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Read under the usage lock: `set_remote` updates this map before the records.
        let remote = self.remote_of(tenant);
        let usage = map
            .entry(tenant.to_string())
            .or_insert_with(|| Arc::new(TenantUsage::new(limit, remote, self.nudge.clone())))
            .clone();
        usage.set_limit(limit);
        usage
    }

    /// The instances of `tenant` on the other hosts of the cluster, as last reported (0
    /// outside a cluster).
    pub(crate) fn remote_of(&self, tenant: &str) -> u64 {
        self.remote
            .read()
            .ok()
            .and_then(|m| m.get(tenant).copied())
            .unwrap_or(0)
    }

    /// This host's instances per tenant (tenants running none left out), each recorded as
    /// reported to the cluster.
    pub(crate) fn local_counts(&self) -> BTreeMap<String, u64> {
        let Ok(map) = self.usage.read() else {
            return BTreeMap::new();
        };
        map.iter()
            .map(|(tenant, usage)| (tenant, usage.report()))
            .filter(|(_, count)| *count > 0)
            .map(|(tenant, count)| (tenant.clone(), count))
            .collect()
    }

    /// Counts `remote` (per tenant, the sum of what the `peers` other hosts of the cluster
    /// last reported) from now on; a tenant left out has none elsewhere.
    pub(crate) fn set_remote(&self, remote: HashMap<String, u64>, peers: usize) {
        match self.remote.write() {
            Ok(mut map) => *map = remote,
            Err(poisoned) => *poisoned.into_inner() = remote,
        }
        self.peers.store(peers, Ordering::Relaxed);
        let Ok(usage) = self.usage.read() else {
            return;
        };
        for (tenant, record) in usage.iter() {
            record.set_remote(self.remote_of(tenant));
        }
    }

    /// Other hosts of the cluster whose reports are counted now.
    pub(crate) fn peers(&self) -> usize {
        self.peers.load(Ordering::Relaxed)
    }

    /// Each tenant with a usage record here and its instances on the other hosts.
    pub(crate) fn remote_counts(&self) -> Vec<(String, u64)> {
        let Ok(usage) = self.usage.read() else {
            return Vec::new();
        };
        let mut counts: Vec<(String, u64)> = usage
            .iter()
            .map(|(tenant, record)| (tenant.clone(), record.remote()))
            .collect();
        counts.sort();
        counts
    }

    /// Woken when a tenant's instance count moved far from what was last reported to the
    /// cluster.
    pub(crate) fn nudge(&self) -> Arc<Notify> {
        self.nudge.clone()
    }

    /// The usage counters of `tenant`, if it has any yet.
    pub(crate) fn usage_of(&self, tenant: &str) -> Option<Arc<TenantUsage>> {
        self.usage.read().ok().and_then(|m| m.get(tenant).cloned())
    }

    /// Current instance figures of `tenant` (zero when it never ran anything).
    pub(crate) fn instance_usage(&self, tenant: &str) -> InstanceUsage {
        self.usage
            .read()
            .ok()
            .and_then(|m| m.get(tenant).map(|u| u.snapshot()))
            .unwrap_or(InstanceUsage {
                instances: 0,
                refused_instances: 0,
                refused_over_quota: 0,
            })
    }

    /// Builds the platform site of version `version` of `tenant/app` from a compiled
    /// component (checking its routes) without serving it.
    pub(crate) fn build(
        tenant: &str,
        app: &str,
        version: u64,
        component: App,
        usage: Arc<TenantUsage>,
    ) -> Result<Site, ServerError> {
        let routes = RouteTable::of_app(&component)?;
        Ok(Site::new(
            SiteId::app(tenant, app),
            version,
            routes,
            Some(usage),
        ))
    }

    /// Serves `site` from now on (replacing the version served before).
    pub(crate) fn install(&self, site: Site) {
        let mut map = self.write();
        map.insert(site.id.clone(), Arc::new(site));
        drop(map);
        self.trim_compiled();
    }

    /// Changes the routes of site `id` (the default site's, in practice) in one step: `change`
    /// gets the routes served now and returns the new ones, or `None` to keep them. Returns
    /// whether the site changed; an unknown site is left alone.
    pub(crate) fn update_routes(
        &self,
        id: &SiteId,
        change: impl FnOnce(&RouteTable) -> Result<Option<RouteTable>, ServerError>,
    ) -> Result<bool, ServerError> {
        let mut map = self.write();
        let Some(current) = map.get(id) else {
            return Ok(false);
        };
        let Some(routes) = change(&current.routes)? else {
            return Ok(false);
        };
        let site = Site::new(
            id.clone(),
            current.version + 1,
            routes,
            current.usage.clone(),
        );
        map.insert(id.clone(), Arc::new(site));
        drop(map);
        self.trim_compiled();
        Ok(true)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<SiteId, Arc<Site>>> {
        match self.sites.write() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Stops serving `tenant/app`: new page loads and joins on its origin find no site from
    /// now on, while views already running keep their instance until they end. Returns the
    /// site that was served, if any.
    pub(crate) fn remove(&self, tenant: &str, app: &str) -> Option<Arc<Site>> {
        // Its compiled version is trimmed at the next deploy, once nothing uses it.
        self.write().remove(&SiteId::app(tenant, app))
    }

    /// The site served as `id` now.
    pub(crate) fn get(&self, id: &SiteId) -> Option<Arc<Site>> {
        self.sites.read().ok()?.get(id).cloned()
    }

    /// Every platform site served, as `(tenant, app, version)`.
    pub(crate) fn list(&self) -> Vec<(String, String, u64)> {
        let mut list: Vec<_> = self
            .sites
            .read()
            .map(|m| {
                m.values()
                    .filter_map(|s| {
                        let (tenant, app) = s.id.tenant_app()?;
                        Some((tenant.to_string(), app.to_string(), s.version))
                    })
                    .collect()
            })
            .unwrap_or_default();
        list.sort();
        list
    }

    /// A component compiled earlier, by sha256.
    pub(crate) fn compiled(&self, sha256: &str) -> Option<App> {
        let mut map = self.compiled.lock().ok()?;
        let entry = map.get_mut(sha256)?;
        entry.last_used = Instant::now();
        Some(entry.app.clone())
    }

    /// Keeps a compiled component for later activations (and trims the cache).
    pub(crate) fn remember(&self, sha256: &str, app: App) {
        if let Ok(mut map) = self.compiled.lock() {
            map.insert(
                sha256.to_string(),
                Compiled {
                    app,
                    last_used: Instant::now(),
                },
            );
        }
        self.trim_compiled();
    }

    /// The gate of component `sha256`'s compile: whoever holds it compiles, the others wait.
    pub(crate) fn compile_gate(&self, sha256: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut gates = self
            .compiling
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        gates.entry(sha256.to_string()).or_default().clone()
    }

    /// Forgets `gate` (component `sha256`'s) once nobody else waits on it.
    pub(crate) fn compile_gate_done(&self, sha256: &str, gate: Arc<tokio::sync::Mutex<()>>) {
        let mut gates = self
            .compiling
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The table's and `gate`: no one else holds it (a new caller takes its clone under
        // this lock, so it cannot appear meanwhile).
        if gates.get(sha256).is_some_and(|g| Arc::ptr_eq(g, &gate)) && Arc::strong_count(&gate) == 2
        {
            gates.remove(sha256);
        }
    }

    /// How many compiled versions the cache holds.
    pub(crate) fn compiled_count(&self) -> usize {
        self.compiled.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Drops the compiled versions nothing uses beyond the idle bounds (see the module doc).
    pub(crate) fn trim_compiled(&self) {
        let Ok(mut map) = self.compiled.lock() else {
            return;
        };
        let now = Instant::now();
        let entries: Vec<(String, EntryUse)> = map
            .iter_mut()
            .map(|(sha, entry)| {
                // The cache's own handle is one; any other is a site, a view or a task.
                let in_use = entry.app.handles() > 1;
                if in_use {
                    entry.last_used = now;
                }
                let last_used = entry.last_used;
                (sha.clone(), EntryUse { in_use, last_used })
            })
            .collect();
        for sha in to_evict(
            &entries,
            now,
            self.max_idle_compiled,
            self.idle_compiled_ttl,
        ) {
            map.remove(&sha);
            tracing::debug!(sha256 = %sha, "compiled version dropped from memory");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(in_use: bool, age_secs: u64, now: Instant) -> EntryUse {
        EntryUse {
            in_use,
            last_used: now - Duration::from_secs(age_secs),
        }
    }

    #[test]
    fn trimming_keeps_what_is_used_and_the_most_recent_idle_versions() {
        let now = Instant::now() + Duration::from_secs(10_000);
        let ttl = Duration::from_secs(600);
        let entries = vec![
            ("served-old", entry(true, 5_000, now)),
            ("idle-1", entry(false, 10, now)),
            ("idle-2", entry(false, 20, now)),
            ("idle-3", entry(false, 30, now)),
            ("idle-expired", entry(false, 601, now)),
            ("served", entry(true, 0, now)),
        ];
        let mut evicted = to_evict(&entries, now, 2, ttl);
        evicted.sort();
        assert_eq!(evicted, vec!["idle-3", "idle-expired"]);
        assert!(to_evict(&entries, now, 10, Duration::from_secs(100_000)).is_empty());
        let mut all_idle = to_evict(&entries, now, 0, ttl);
        all_idle.sort();
        assert_eq!(all_idle, vec!["idle-1", "idle-2", "idle-3", "idle-expired"]);
    }

    /// `n` separately loaded copies of the thermostat component (compiled once, then loaded
    /// from an artifact cache in a temp dir: each copy is its own compiled component).
    fn thermostats(n: usize) -> Vec<App> {
        let dir = std::env::var_os("LIVEWASM_COMPONENTS").map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/components"),
            std::path::PathBuf::from,
        );
        let wasm = std::fs::read(dir.join("thermostat.wasm"))
            .expect("thermostat.wasm (run `cargo xtask build thermostat`)");
        let runtime = livewasm_runtime::Runtime::new(livewasm_runtime::RuntimeConfig {
            max_instances: 8,
            ..livewasm_runtime::RuntimeConfig::default()
        })
        .expect("runtime");
        let cache_dir = tempfile::tempdir().expect("tempdir");
        let cache = livewasm_runtime::ArtifactCache::open(cache_dir.path(), 1 << 30, [7; 32])
            .expect("cache");
        assert!(runtime.set_artifact_cache(cache).is_ok());
        let apps: Vec<App> = (0..n)
            .map(|_| runtime.load_app(&wasm).expect("load"))
            .collect();
        assert_eq!(runtime.compilations(), 1);
        apps
    }

    #[test]
    fn compiled_cache_keeps_used_versions_and_a_few_recent_idle_ones() {
        let sites = Sites::with_compiled_bounds(2, Duration::from_secs(3600));
        let mut apps = thermostats(5);
        let running = apps[1].instantiate().expect("a running view");
        let served = Sites::build(
            "acme",
            "thermostat",
            1,
            apps[0].clone(),
            sites.usage("acme", 10),
        )
        .expect("site");
        sites.install(served);
        for (n, app) in apps.drain(..).enumerate() {
            sites.remember(&format!("v{n}"), app);
            std::thread::sleep(Duration::from_millis(2));
        }
        // v0 is served, v1 has a running view; of the idle v2, v3, v4 the two most recent stay.
        assert_eq!(sites.compiled_count(), 4);
        for kept in ["v0", "v1", "v3", "v4"] {
            assert!(sites.compiled(kept).is_some(), "{kept}");
        }
        assert!(sites.compiled("v2").is_none());

        // The view ends and the app is deleted: v0 and v1 are idle now, and only two stay.
        drop(running);
        assert!(sites.remove("acme", "thermostat").is_some());
        sites.trim_compiled();
        assert_eq!(sites.compiled_count(), 2);

        // Idle versions past their time are dropped at the next trim.
        let short = Sites::with_compiled_bounds(8, Duration::ZERO);
        for (n, app) in thermostats(2).into_iter().enumerate() {
            short.remember(&format!("v{n}"), app);
        }
        std::thread::sleep(Duration::from_millis(2));
        short.trim_compiled();
        assert_eq!(short.compiled_count(), 0);
    }

    #[test]
    fn instance_quota_counts_and_releases() {
        let usage = Arc::new(TenantUsage::new(2, 0, Arc::new(Notify::new())));
        let a = usage.try_acquire();
        let b = usage.try_acquire();
        assert!(a.is_some() && b.is_some());
        assert!(usage.try_acquire().is_none());
        assert_eq!(usage.snapshot().instances, 2);
        assert_eq!(usage.snapshot().refused_instances, 1);
        drop(a);
        assert!(usage.try_acquire().is_some());
        assert_eq!(usage.snapshot().instances, 1);
    }

    #[test]
    fn the_quota_counts_the_other_hosts_instances() {
        let sites = Sites::default();
        // Reported before this host had a record of acme: the record starts from it.
        sites.set_remote(HashMap::from([("acme".to_string(), 2)]), 1);
        let usage = sites.usage("acme", 3);
        assert_eq!(usage.remote(), 2);
        let one = usage.try_acquire().expect("2 elsewhere + 0 here < 3");
        assert!(usage.try_acquire().is_none(), "2 elsewhere + 1 here");
        assert_eq!(usage.snapshot().refused_instances, 1);
        assert_eq!(
            sites.local_counts(),
            BTreeMap::from([("acme".to_string(), 1)])
        );

        // A host's view closed: one more fits here.
        sites.set_remote(HashMap::from([("acme".to_string(), 1)]), 1);
        let two = usage.try_acquire().expect("1 elsewhere + 1 here < 3");
        assert!(usage.try_acquire().is_none());

        // The other hosts are gone (or reported none): the tenant has this host alone.
        sites.set_remote(HashMap::new(), 0);
        assert_eq!(sites.remote_counts(), vec![("acme".to_string(), 0)]);
        let three = usage.try_acquire().expect("0 elsewhere + 2 here < 3");
        assert!(
            usage.try_acquire().is_none(),
            "never more than the limit here"
        );
        drop((one, two, three));
        assert!(sites.local_counts().is_empty(), "tenants running nothing");
    }

    #[test]
    fn a_large_move_of_the_count_nudges_the_reporter() {
        let nudge = Arc::new(Notify::new());
        let nudged = || {
            let nudge = nudge.clone();
            futures_util::FutureExt::now_or_never(async move { nudge.notified().await }).is_some()
        };
        let usage = Arc::new(TenantUsage::new(100, 0, nudge.clone()));
        let slots: Vec<_> = (0..9).filter_map(|_| usage.try_acquire()).collect();
        assert!(!nudged(), "9 is under a tenth of 100");
        let tenth = usage.try_acquire();
        assert!(nudged(), "10 away from the 0 reported");
        assert_eq!(usage.report(), 10);
        drop(tenth);
        drop(slots);
        assert!(nudged(), "10 fewer than reported");
    }
}
