//! Platform sites: one app of one tenant served on its own origin, the per-tenant instance
//! accounting that enforces `max_concurrent_instances`, and the compiled-component cache.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use livewasm_runtime::App;
use serde::Serialize;

use crate::ServerError;
use crate::host::{Mounted, mount_routes};

/// Which site a request or socket belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SiteRef {
    /// The apps loaded with `--app`, served on any host that is not an app origin.
    Default,
    /// App `app` of tenant `tenant`, on `<app>.<tenant>.<base-domain>`.
    App {
        /// The tenant's name.
        tenant: String,
        /// The app's name.
        app: String,
    },
}

impl SiteRef {
    /// `tenant/app` for an app site, `None` for the default site.
    pub(crate) fn label(&self) -> Option<String> {
        match self {
            SiteRef::Default => None,
            SiteRef::App { tenant, app } => Some(format!("{tenant}/{app}")),
        }
    }
}

/// Live component instances of one tenant, against its quota.
#[derive(Debug)]
pub(crate) struct TenantUsage {
    instances: AtomicU64,
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
    fn new(limit: u64) -> TenantUsage {
        TenantUsage {
            instances: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            refused_api: AtomicU64::new(0),
            limit: AtomicU64::new(limit),
        }
    }

    /// Sets the tenant's `max_concurrent_instances`.
    pub(crate) fn set_limit(&self, limit: u64) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// Takes one instance slot, or counts a refusal when the tenant is at its quota.
    pub(crate) fn try_acquire(self: &Arc<Self>) -> Option<InstanceSlot> {
        let limit = self.limit.load(Ordering::Relaxed);
        let taken = self
            .instances
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            });
        match taken {
            Ok(_) => Some(InstanceSlot(self.clone())),
            Err(_) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
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

/// One running instance counted against its tenant; released when dropped.
#[derive(Debug)]
pub(crate) struct InstanceSlot(Arc<TenantUsage>);

impl Drop for InstanceSlot {
    fn drop(&mut self) {
        self.0.instances.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One app of one tenant at one version, ready to serve.
pub(crate) struct Site {
    /// The tenant's name.
    pub(crate) tenant: String,
    /// The app's name (in the registry, not the component's manifest).
    pub(crate) app: String,
    /// The version served.
    pub(crate) version: u64,
    /// Its routes.
    pub(crate) routes: Vec<Mounted>,
    /// Its tenant's instance accounting.
    pub(crate) usage: Arc<TenantUsage>,
}

/// Every platform site, the per-tenant usage and the compiled components.
#[derive(Default)]
pub(crate) struct Sites {
    sites: RwLock<HashMap<(String, String), Arc<Site>>>,
    usage: RwLock<HashMap<String, Arc<TenantUsage>>>,
    compiled: Mutex<HashMap<String, App>>,
}

impl Sites {
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
        let usage = map
            .entry(tenant.to_string())
            .or_insert_with(|| Arc::new(TenantUsage::new(limit)))
            .clone();
        usage.set_limit(limit);
        usage
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

    /// Builds a site from a compiled component (checking its routes) without serving it.
    pub(crate) fn build(
        tenant: &str,
        app: &str,
        version: u64,
        component: App,
        usage: Arc<TenantUsage>,
    ) -> Result<Site, ServerError> {
        let routes = mount_routes(&component, &[])?;
        Ok(Site {
            tenant: tenant.to_string(),
            app: app.to_string(),
            version,
            routes,
            usage,
        })
    }

    /// Serves `site` from now on (replacing the version served before).
    pub(crate) fn install(&self, site: Site) {
        let key = (site.tenant.clone(), site.app.clone());
        let mut map = match self.sites.write() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.insert(key, Arc::new(site));
    }

    /// Stops serving `tenant/app`: new page loads and joins on its origin find no site from
    /// now on, while views already running keep their instance until they end. Returns the
    /// site that was served, if any.
    pub(crate) fn remove(&self, tenant: &str, app: &str) -> Option<Arc<Site>> {
        let mut map = match self.sites.write() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.remove(&(tenant.to_string(), app.to_string()))
    }

    /// The site served for `tenant/app`.
    pub(crate) fn get(&self, tenant: &str, app: &str) -> Option<Arc<Site>> {
        self.sites
            .read()
            .ok()?
            .get(&(tenant.to_string(), app.to_string()))
            .cloned()
    }

    /// Every site served, as `(tenant, app, version)`.
    pub(crate) fn list(&self) -> Vec<(String, String, u64)> {
        let mut list: Vec<_> = self
            .sites
            .read()
            .map(|m| {
                m.values()
                    .map(|s| (s.tenant.clone(), s.app.clone(), s.version))
                    .collect()
            })
            .unwrap_or_default();
        list.sort();
        list
    }

    /// A component compiled earlier, by sha256.
    pub(crate) fn compiled(&self, sha256: &str) -> Option<App> {
        self.compiled.lock().ok()?.get(sha256).cloned()
    }

    /// Keeps a compiled component for later activations.
    pub(crate) fn remember(&self, sha256: &str, app: App) {
        if let Ok(mut map) = self.compiled.lock() {
            map.insert(sha256.to_string(), app);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_quota_counts_and_releases() {
        let usage = Arc::new(TenantUsage::new(2));
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
}
