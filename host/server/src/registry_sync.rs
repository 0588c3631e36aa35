//! Keeping a host's platform sites in step with its registry, so that hosts sharing one
//! (Postgres) registry serve the same versions: an activation, rollback, deletion, quota or
//! allowlist change made through any host reaches every host.
//!
//! Every registry change takes the next change number; [`keep_in_sync`] polls that number
//! (`ServerConfig::registry_poll`) and, on Postgres, also wakes at once on the notification
//! each change sends as it commits. When the number moved it reconciles the tenants the new
//! changes touched: each app's site is built again from the registry's active version and the
//! tenant's quotas when the one served differs ([`Served`]), removed when the app has no
//! active version or is gone. Every [`FULL_RECONCILE_EVERY`] (and after an error) it
//! reconciles every tenant, which catches anything missed. A site is installed only while the
//! version is still the active one (`platform::serve_version`), so concurrent changes on two
//! hosts end with both serving what the registry says.

use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use livewasm_registry::{ChangeListener, Registry, RegistryError, Tenant};

use crate::host::Host;
use crate::platform::serve_version;
use crate::sites::{Served, SiteId};

/// How often every tenant is reconciled, whatever the change numbers say.
pub const FULL_RECONCILE_EVERY: Duration = Duration::from_secs(60);

/// How long to wait before listening again after the Postgres listener failed.
const LISTEN_RETRY: Duration = Duration::from_secs(10);

/// What one reconciliation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Sites built again (another version, other quotas) or newly served.
    pub served: usize,
    /// Sites no longer served (no active version, app or tenant gone).
    pub removed: usize,
    /// Apps whose active version could not be served (logged).
    pub failed: usize,
}

impl Reconciled {
    fn add(&mut self, other: Reconciled) {
        self.served += other.served;
        self.removed += other.removed;
        self.failed += other.failed;
    }
}

/// Starts keeping `host`'s sites in step with its registry, in a task that ends when the host
/// is dropped. `None` for a host without a registry.
pub fn keep_in_sync(host: &Arc<Host>) -> Option<tokio::task::JoinHandle<()>> {
    let registry = host.registry()?.clone();
    let poll = host.config().registry_poll;
    let host = Arc::downgrade(host);
    Some(tokio::spawn(run(host, registry, poll)))
}

/// The sync loop: wait for a poll tick or a notification, then reconcile what changed.
async fn run(host: Weak<Host>, registry: Registry, poll: Duration) {
    let mut listener: Option<ChangeListener> = None;
    let mut listen_at = Some(Instant::now());
    // `None`: reconcile everything next.
    let mut seen: Option<i64> = None;
    let mut last_full = Instant::now();
    loop {
        if listen_at.is_some_and(|at| at <= Instant::now()) {
            match registry.listen_for_changes().await {
                Ok(Some(found)) => {
                    listener = Some(found);
                    listen_at = None;
                }
                // SQLite: polling only.
                Ok(None) => listen_at = None,
                Err(error) => {
                    tracing::warn!("registry sync: cannot listen for changes: {error}");
                    listen_at = Some(Instant::now() + LISTEN_RETRY);
                }
            }
        }
        let notified = match listener.as_mut() {
            Some(listener) => tokio::select! {
                heard = listener.next() => Some(heard),
                () = tokio::time::sleep(poll) => None,
            },
            None => {
                tokio::time::sleep(poll).await;
                None
            }
        };
        if let Some(Err(error)) = notified {
            tracing::warn!("registry sync: listener failed: {error}");
            listener = None;
            listen_at = Some(Instant::now() + LISTEN_RETRY);
            // Notifications may have been lost meanwhile.
            seen = None;
        }
        let Some(host) = host.upgrade() else {
            return;
        };
        if last_full.elapsed() >= FULL_RECONCILE_EVERY {
            seen = None;
        }
        let full = seen.is_none();
        match step(&host, &registry, seen).await {
            Ok((seq, done)) => {
                seen = Some(seq);
                if full {
                    last_full = Instant::now();
                }
                if done.served + done.removed + done.failed > 0 {
                    tracing::info!(
                        served = done.served,
                        removed = done.removed,
                        failed = done.failed,
                        "registry sync"
                    );
                }
            }
            Err(error) => {
                tracing::warn!("registry sync: {error}");
                seen = None;
            }
        }
    }
}

/// Reconciles what changed after change `seen` (everything when `None`); returns the change
/// number now reached.
async fn step(
    host: &Arc<Host>,
    registry: &Registry,
    seen: Option<i64>,
) -> Result<(i64, Reconciled), RegistryError> {
    let Some(seen) = seen else {
        // The number first: a change committed while everything is read is seen next time.
        let seq = registry.change_seq().await?;
        return Ok((seq, reconcile_all(host, registry).await?));
    };
    let changes = registry.changes_since(seen).await?;
    if changes.everything {
        return Ok((changes.seq, reconcile_all(host, registry).await?));
    }
    let mut done = Reconciled::default();
    for id in &changes.tenants {
        match registry.tenant_by_id(id).await {
            Ok(tenant) => done.add(reconcile_tenant(host, registry, &tenant).await?),
            Err(RegistryError::NotFound { .. }) => {
                return Ok((changes.seq, reconcile_all(host, registry).await?));
            }
            Err(error) => return Err(error),
        }
    }
    Ok((changes.seq, done))
}

/// Makes every platform site match the registry: [`reconcile_tenant`] for each tenant, and
/// the sites of tenants that no longer exist removed.
pub async fn reconcile_all(
    host: &Arc<Host>,
    registry: &Registry,
) -> Result<Reconciled, RegistryError> {
    let tenants = registry.tenants().await?;
    let mut done = Reconciled::default();
    for tenant in &tenants {
        done.add(reconcile_tenant(host, registry, tenant).await?);
    }
    let names: HashSet<&str> = tenants.iter().map(|t| t.name.as_str()).collect();
    for (tenant, app, _) in host.sites.list() {
        if !names.contains(tenant.as_str()) {
            done.removed += usize::from(unserve(host, &tenant, &app, true).await);
        }
    }
    Ok(done)
}

/// Makes `tenant`'s sites match the registry: its allowlist and instance quota applied, each
/// app served at its active version with the tenant's quotas, sites of apps without an active
/// version or deleted removed (a deleted app's SQL database too).
pub async fn reconcile_tenant(
    host: &Arc<Host>,
    registry: &Registry,
    tenant: &Tenant,
) -> Result<Reconciled, RegistryError> {
    let quotas = registry.quotas(&tenant.id).await?;
    host.set_http_allowlist(&tenant.id, registry.http_allowlist(&tenant.id).await?);
    if let Some(usage) = host.sites.usage_of(&tenant.name) {
        usage.set_limit(quotas.max_concurrent_instances);
    }
    let apps = registry.apps(&tenant.id).await?;
    let mut done = Reconciled::default();
    for app in &apps {
        let served = host.sites.get(&SiteId::app(&tenant.name, &app.name));
        let Some(active) = registry.active_version(app).await? else {
            if served.is_some() {
                done.removed += usize::from(unserve(host, &tenant.name, &app.name, false).await);
            }
            continue;
        };
        let wanted = Served {
            app_id: app.id.as_str().to_string(),
            sha256: active.sha256.clone(),
            quotas,
        };
        let current = served
            .as_ref()
            .is_some_and(|site| site.version() == active.number && site.served() == Some(&wanted));
        if current {
            continue;
        }
        match serve_version(host, registry, app, active.number, &active.sha256).await {
            Ok(()) => done.served += 1,
            Err(reason) => {
                done.failed += 1;
                tracing::error!(
                    tenant = %tenant.name,
                    app = %app.name,
                    version = active.number,
                    "cannot serve the active version: {reason}"
                );
            }
        }
    }
    let names: HashSet<&str> = apps.iter().map(|a| a.name.as_str()).collect();
    for (site_tenant, app, _) in host.sites.list() {
        if site_tenant == tenant.name && !names.contains(app.as_str()) {
            done.removed += usize::from(unserve(host, &tenant.name, &app, true).await);
        }
    }
    Ok(done)
}

/// Stops serving `tenant/app` (views already running finish on their instance); with
/// `deleted`, also deletes the app's SQL database on this host. Returns whether it was served.
pub(crate) async fn unserve(host: &Host, tenant: &str, app: &str, deleted: bool) -> bool {
    let _installing = host.install_lock.lock().await;
    let Some(site) = host.sites.remove(tenant, app) else {
        return false;
    };
    if deleted && let Some(served) = site.served() {
        host.remove_app_data(&served.app_id);
    }
    tracing::info!(tenant, app, "no longer served");
    true
}
