//! [`App`]: one compiled component shared by all its instances (its `InstancePre`, manifest
//! and template statics cache), and the [`InstanceLimits`] each instance gets.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use livewasm_protocol::rendered::Statics;

use crate::bindings::ViewPre;
use crate::engine::RuntimeInner;
use crate::error::CallError;
use crate::manifest::Manifest;
use crate::store::HostState;

/// Most templates one app may register.
pub const MAX_TEMPLATES: usize = 4096;

pub(crate) struct AppInner {
    pub(crate) runtime: Arc<RuntimeInner>,
    pub(crate) pre: ViewPre<HostState>,
    pub(crate) manifest: Manifest,
    pub(crate) name: Arc<str>,
    pub(crate) digest: String,
    pub(crate) templates: RwLock<HashMap<u64, Arc<Statics>>>,
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

/// A compiled component, shared by all its instances.
#[derive(Clone)]
pub struct App {
    pub(crate) inner: Arc<AppInner>,
    pub(crate) limits: InstanceLimits,
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
        }
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

    /// Statics of a template, when this app has seen it.
    pub(crate) fn template(&self, id: u64) -> Option<Arc<Statics>> {
        self.inner.templates.read().ok()?.get(&id).cloned()
    }

    /// Records statics fetched from a guest; an error when the app has too many templates.
    pub(crate) fn remember(&self, statics: Arc<Statics>) -> Result<(), CallError> {
        let mut table = self
            .inner
            .templates
            .write()
            .map_err(|_| CallError::Render("template cache poisoned".into()))?;
        if table.len() >= MAX_TEMPLATES && !table.contains_key(&statics.id) {
            return Err(CallError::Render(format!(
                "more than {MAX_TEMPLATES} templates"
            )));
        }
        table.entry(statics.id).or_insert(statics);
        Ok(())
    }
}
