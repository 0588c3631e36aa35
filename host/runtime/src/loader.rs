//! [`Runtime::load_app`]: a component's bytes to an [`App`]: from the artifact cache or
//! compiled, linked once into an `InstancePre`, its manifest read and checked.

use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::app::{App, AppInner, InstanceLimits, Templates};
use crate::assets::{self, Asset, AssetDecl};
use crate::bindings::ViewPre;
use crate::engine::Runtime;
use crate::error::RuntimeError;
use crate::instance::Instance;
use crate::manifest::Manifest;

impl Runtime {
    /// The component from the artifact cache, else compiled (and `true`: store it once it
    /// proves loadable).
    fn component(&self, wasm: &[u8], digest: &str) -> Result<(Component, bool), RuntimeError> {
        let engine = &self.inner.engine;
        if let Some(component) = self.artifact_cache().and_then(|c| c.load(engine, digest)) {
            tracing::info!(digest = %&digest[..12], "component loaded from the artifact cache");
            return Ok((component, false));
        }
        let started = Instant::now();
        let component =
            Component::new(engine, wasm).map_err(|e| RuntimeError::Compile(format!("{e:#}")))?;
        self.inner.compilations.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            digest = %&digest[..12],
            ms = started.elapsed().as_millis() as u64,
            "component compiled"
        );
        Ok((component, true))
    }

    /// Compiles a component (or loads it from the artifact cache), checks it against the
    /// `view` world, and reads its manifest.
    pub fn load_app(&self, wasm: &[u8]) -> Result<App, RuntimeError> {
        let digest = Sha256::digest(wasm)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        let (component, compiled) = self.component(wasm, &digest)?;
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(|e| RuntimeError::Instantiate(format!("{e:#}")))?;
        let pre = ViewPre::new(pre).map_err(|e| RuntimeError::Instantiate(format!("{e:#}")))?;
        let mut app = App {
            inner: Arc::new(AppInner {
                runtime: self.inner.clone(),
                pre,
                manifest: Manifest::default(),
                name: Arc::from("loading"),
                digest,
                templates: RwLock::new(Templates::default()),
            }),
            limits: InstanceLimits {
                memory_bytes: self.inner.config.memory_limit,
                fuel_per_callback: self.inner.config.fuel_per_callback,
            },
            kv: None,
            sql: None,
            fetch: None,
            meter: None,
            operator: None,
            names: None,
            blobs: None,
        };
        let mut instance = app.instantiate()?;
        let (mut manifest, declared) = instance
            .manifest()
            .map_err(|e| RuntimeError::Manifest(e.to_string()))?;
        manifest.assets = read_assets(&mut instance, &declared)?;
        drop(instance);
        manifest.check()?;
        if let Some(inner) = Arc::get_mut(&mut app.inner) {
            inner.name = Arc::from(manifest.name.as_str());
            inner.manifest = manifest;
        }
        // Only components that load as apps are kept: a refused upload leaves nothing behind.
        if compiled && let Some(cache) = self.artifact_cache() {
            cache.store(&self.inner.engine, &app.inner.digest, &component);
        }
        Ok(app)
    }
}

/// The bytes of every asset the app declares, checked against the limits before the first
/// fetch and against the declared sizes after each (one guest call per asset, so the guest
/// never holds more than one copy at a time).
fn read_assets(
    instance: &mut Instance,
    declared: &[AssetDecl],
) -> Result<Vec<Asset>, RuntimeError> {
    assets::check_declared(declared)?;
    let mut read = Vec::with_capacity(declared.len());
    for decl in declared {
        let bytes = instance
            .asset(&decl.name)
            .map_err(|e| assets::AssetError::Read {
                name: decl.name.clone(),
                reason: e.to_string(),
            })?;
        read.push(assets::asset(decl, bytes)?);
    }
    Ok(read)
}
