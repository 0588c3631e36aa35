//! [`App`]: one compiled component shared by all its instances (its `InstancePre`, manifest
//! and template statics cache), and the [`InstanceLimits`] each instance gets.
//!
//! The statics cache lives as long as the compiled component, so it is bounded: at most
//! [`MAX_TEMPLATES`] templates and [`MAX_APP_TEMPLATE_BYTES`] bytes per app, each template at
//! most [`MAX_TEMPLATE_PARTS`] parts and [`MAX_TEMPLATE_BYTES`] bytes, and only statics whose
//! part count fits the dynamics of the render that asked for them are ever cached.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use livewasm_protocol::rendered::Statics;

use crate::bindings::ViewPre;
use crate::capabilities::blobs::BlobStore;
use crate::capabilities::fetch::HttpClient;
use crate::capabilities::kv::KvStore;
use crate::capabilities::operator::OperatorSource;
use crate::capabilities::sql::SqlStore;
use crate::engine::RuntimeInner;
use crate::error::CallError;
use crate::manifest::Manifest;
use crate::meter::Meter;
use crate::store::HostState;

/// Most templates one app may register.
pub const MAX_TEMPLATES: usize = 4096;
/// Most parts (dynamics + 1) one template may have.
pub const MAX_TEMPLATE_PARTS: usize = 1025;
/// Most bytes of statics one template may have (its parts' text, summed).
pub const MAX_TEMPLATE_BYTES: usize = 256 << 10;
/// Most bytes of statics one app's cache may hold (all its templates' text, summed).
pub const MAX_APP_TEMPLATE_BYTES: usize = 8 << 20;

pub(crate) struct AppInner {
    pub(crate) runtime: Arc<RuntimeInner>,
    pub(crate) pre: ViewPre<HostState>,
    pub(crate) manifest: Manifest,
    pub(crate) name: Arc<str>,
    pub(crate) digest: String,
    pub(crate) templates: RwLock<Templates>,
}

/// The statics an app's guests have sent, and their size.
#[derive(Default)]
pub(crate) struct Templates {
    by_id: HashMap<u64, Arc<Statics>>,
    bytes: usize,
}

/// Limits of each instance of an app: within the runtime's own (the pool's slots are sized
/// for the runtime's memory limit), lower for a tenant whose quota says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceLimits {
    /// Linear memory cap per instance, in bytes.
    pub memory_bytes: usize,
    /// Fuel given to each callback.
    pub fuel_per_callback: u64,
}

/// A compiled component, shared by all its instances, with what each instance gets: its
/// limits, its app's key-value store and its app's blobs.
#[derive(Clone)]
pub struct App {
    pub(crate) inner: Arc<AppInner>,
    pub(crate) limits: InstanceLimits,
    pub(crate) kv: Option<Arc<dyn KvStore>>,
    pub(crate) blobs: Option<Arc<dyn BlobStore>>,
    pub(crate) sql: Option<Arc<dyn SqlStore>>,
    pub(crate) fetch: Option<Arc<dyn HttpClient>>,
    pub(crate) meter: Option<Arc<dyn Meter>>,
    /// The operator overview, granted to the host's own dashboard only.
    pub(crate) operator: Option<Arc<dyn OperatorSource>>,
    /// `(tenant, app)` as the host names the app, for its guest log lines.
    pub(crate) names: Option<(Arc<str>, Arc<str>)>,
}

impl App {
    /// The same compiled component whose instances get `limits`, each capped at the runtime's
    /// own (a quota above the runtime's memory limit or fuel gets the runtime's).
    pub fn with_limits(&self, limits: InstanceLimits) -> App {
        let config = &self.inner.runtime.config;
        App {
            inner: self.inner.clone(),
            limits: InstanceLimits {
                memory_bytes: limits.memory_bytes.min(config.memory_limit),
                fuel_per_callback: limits.fuel_per_callback.min(config.fuel_per_callback),
            },
            kv: self.kv.clone(),
            blobs: self.blobs.clone(),
            sql: self.sql.clone(),
            fetch: self.fetch.clone(),
            meter: self.meter.clone(),
            operator: self.operator.clone(),
            names: self.names.clone(),
        }
    }

    /// The same compiled component whose instances (views, dead renders, HTTP handlers and
    /// tasks) use `store` for `kv`: one tenant app's keys. Without one, `kv` calls fail with
    /// "kv is not available".
    pub fn with_kv(&self, store: Arc<dyn KvStore>) -> App {
        App {
            kv: Some(store),
            ..self.clone()
        }
    }

    /// The same compiled component whose instances use `store` for `blobs`, the files
    /// served at `/_blobs/<app>/…`. Without one, `blobs` calls fail.
    pub fn with_blobs(&self, store: Arc<dyn BlobStore>) -> App {
        App {
            blobs: Some(store),
            ..self.clone()
        }
    }

    /// The same compiled component whose instances use `store` for `sql`: one tenant app's
    /// database, its migrations already applied. Without one, `sql` calls fail.
    pub fn with_sql(&self, store: Arc<dyn SqlStore>) -> App {
        App {
            sql: Some(store),
            ..self.clone()
        }
    }

    /// The same compiled component whose instances send `fetch` requests through `client`
    /// (which holds the app's allowlist and rate). Without one, `fetch` calls fail.
    pub fn with_fetch(&self, client: Arc<dyn HttpClient>) -> App {
        App {
            fetch: Some(client),
            ..self.clone()
        }
    }

    /// The same compiled component whose instances may read the operator overview through
    /// `source` (the `operator` import). Only the host's own dashboard gets one; without it the
    /// import answers "not permitted".
    pub fn with_operator(&self, source: Arc<dyn OperatorSource>) -> App {
        App {
            operator: Some(source),
            ..self.clone()
        }
    }

    /// The same compiled component whose instances report what each guest call cost (fuel,
    /// time, traps, capability calls) and the memory they hold to `meter`.
    pub fn with_meter(&self, meter: Arc<dyn Meter>) -> App {
        App {
            meter: Some(meter),
            ..self.clone()
        }
    }

    /// The same compiled component whose instances tag their guest log lines with `tenant`
    /// and `app` (the host's names for it; by default `local` and the manifest's name).
    pub fn with_names(&self, tenant: &str, app: &str) -> App {
        App {
            names: Some((Arc::from(tenant), Arc::from(app))),
            ..self.clone()
        }
    }

    /// `(tenant, app)` for log lines: the names [`App::with_names`] gave, else `local` and
    /// the manifest's name.
    pub(crate) fn log_names(&self) -> (&str, &str) {
        match &self.names {
            Some((tenant, app)) => (tenant, app),
            None => ("local", &self.inner.name),
        }
    }

    /// The app's blob store, for the route that serves its blobs.
    pub fn blobs(&self) -> Option<&Arc<dyn BlobStore>> {
        self.blobs.as_ref()
    }

    /// The limits each new instance gets.
    pub fn limits(&self) -> InstanceLimits {
        self.limits
    }

    /// The app's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.inner.manifest
    }

    /// sha256 of the component bytes, hex.
    pub fn digest(&self) -> &str {
        &self.inner.digest
    }

    /// How many handles share this compiled component (this one included): every running
    /// instance, served site and cache entry holds one.
    pub fn handles(&self) -> usize {
        Arc::strong_count(&self.inner)
    }

    /// Templates cached for this app, and the bytes of their statics.
    pub fn cached_templates(&self) -> (usize, usize) {
        self.inner
            .templates
            .read()
            .map_or((0, 0), |t| (t.by_id.len(), t.bytes))
    }

    /// Statics of a template, when this app has seen it.
    pub(crate) fn template(&self, id: u64) -> Option<Arc<Statics>> {
        self.inner.templates.read().ok()?.by_id.get(&id).cloned()
    }

    /// Records statics fetched from a guest (already checked by [`check_statics`]); an error
    /// when the app's cache is full.
    pub(crate) fn remember(&self, statics: Arc<Statics>) -> Result<(), CallError> {
        self.inner
            .templates
            .write()
            .map_err(|_| CallError::Render("template cache poisoned".into()))?
            .insert(statics)
    }
}

impl Templates {
    /// Caches `statics` unless the cache would pass [`MAX_TEMPLATES`] or
    /// [`MAX_APP_TEMPLATE_BYTES`] (a template already cached is kept as it is).
    fn insert(&mut self, statics: Arc<Statics>) -> Result<(), CallError> {
        if self.by_id.contains_key(&statics.id) {
            return Ok(());
        }
        if self.by_id.len() >= MAX_TEMPLATES {
            return Err(CallError::Render(format!(
                "more than {MAX_TEMPLATES} templates in one app"
            )));
        }
        let bytes = statics_bytes(&statics);
        if self.bytes + bytes > MAX_APP_TEMPLATE_BYTES {
            return Err(CallError::Render(format!(
                "the app's templates would hold more than {MAX_APP_TEMPLATE_BYTES} bytes of statics"
            )));
        }
        self.bytes += bytes;
        self.by_id.insert(statics.id, statics);
        Ok(())
    }
}

fn statics_bytes(statics: &Statics) -> usize {
    statics.parts.iter().map(|p| p.len()).sum()
}

/// Whether statics the guest sent for template `id` may be used and cached: at least one part,
/// at most [`MAX_TEMPLATE_PARTS`] parts and [`MAX_TEMPLATE_BYTES`] bytes, and exactly one part
/// more than the dynamics the render uses the template with (`arity`, when it shows).
pub(crate) fn check_statics(
    id: u64,
    parts: &[String],
    arity: Option<usize>,
) -> Result<(), CallError> {
    if parts.is_empty() {
        return Err(CallError::Render(format!(
            "template {id:#x} has no statics"
        )));
    }
    if parts.len() > MAX_TEMPLATE_PARTS {
        return Err(CallError::Render(format!(
            "template {id:#x} has {} parts, more than {MAX_TEMPLATE_PARTS}",
            parts.len()
        )));
    }
    let bytes: usize = parts.iter().map(String::len).sum();
    if bytes > MAX_TEMPLATE_BYTES {
        return Err(CallError::Render(format!(
            "template {id:#x} has {bytes} bytes of statics, more than {MAX_TEMPLATE_BYTES}"
        )));
    }
    if let Some(dynamics) = arity
        && parts.len() != dynamics + 1
    {
        return Err(CallError::Render(format!(
            "template {id:#x} has {} statics but is rendered with {dynamics} dynamics",
            parts.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statics_must_fit_their_dynamics_and_the_caps() {
        let parts = |n: usize| vec![String::from("<p>"); n];
        assert!(check_statics(1, &parts(3), Some(2)).is_ok());
        assert!(check_statics(1, &parts(3), None).is_ok());
        for (statics, arity) in [
            (parts(0), None),
            (parts(5), Some(1)),
            (parts(1), Some(1)),
            (parts(MAX_TEMPLATE_PARTS + 1), None),
            (vec!["x".repeat(MAX_TEMPLATE_BYTES + 1)], Some(0)),
        ] {
            let error = check_statics(1, &statics, arity).expect_err("refused");
            assert!(matches!(error, CallError::Render(_)), "{error}");
        }
    }

    #[test]
    fn an_apps_cache_is_capped_in_templates_and_bytes() {
        let big = |id: u64| {
            Arc::new(Statics {
                id,
                parts: vec!["x".repeat(MAX_TEMPLATE_BYTES).into_boxed_str()].into(),
                root: true,
            })
        };
        let mut cache = Templates::default();
        let fit = (MAX_APP_TEMPLATE_BYTES / MAX_TEMPLATE_BYTES) as u64;
        for id in 0..fit {
            cache.insert(big(id)).expect("within the app's bytes");
        }
        assert_eq!(cache.bytes, MAX_APP_TEMPLATE_BYTES);
        // Known again: kept, nothing added.
        cache.insert(big(0)).expect("already cached");
        let error = cache.insert(big(fit)).expect_err("over the app's bytes");
        assert!(error.to_string().contains("bytes of statics"), "{error}");

        let small = |id: u64| {
            Arc::new(Statics {
                id,
                parts: vec!["".into()].into(),
                root: true,
            })
        };
        let mut cache = Templates::default();
        for id in 0..MAX_TEMPLATES as u64 {
            cache.insert(small(id)).expect("within the count");
        }
        assert!(cache.insert(small(u64::MAX)).is_err());
    }
}
