//! [`Runtime`] (engine, linker, epoch ticker) and [`App`] (a compiled component).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;

use livewasm_protocol::rendered::Statics;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimitsBuilder,
};

use crate::artifact_cache::ArtifactCache;
use crate::bindings::livewasm::view::types;
use crate::bindings::{View, ViewPre};
use crate::host_state::HostState;
use crate::instance::Instance;
use crate::{CallError, RuntimeConfig, RuntimeError};

/// Most templates one app may register.
const MAX_TEMPLATES: usize = 4096;

/// One route an app serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Path pattern, e.g. `/articles/:id`.
    pub path: String,
    /// The view mounted there.
    pub view: String,
    /// Its live action.
    pub action: Option<String>,
    /// Its live session.
    pub live_session: Option<String>,
    /// The tag and attributes of its container element (`None`: a plain `div`).
    pub container: Option<Container>,
}

/// A view's container element on the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// Tag name (ASCII letters, digits, `-`).
    pub tag: String,
    /// Attributes (names of ASCII letters, digits, `-`, `_`, `:`).
    pub attrs: Vec<(String, String)>,
}

/// Tags a container may not be: they do not hold a view's HTML.
const BAD_CONTAINER_TAGS: &[&str] = &["script", "style", "template", "textarea", "title", "iframe"];

fn container_ok(container: &types::RouteContainer) -> bool {
    let name_ok = |name: &str, extra: &[char]| {
        !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || extra.contains(&c))
    };
    name_ok(&container.tag, &[])
        && container.tag.starts_with(|c: char| c.is_ascii_alphabetic())
        && !BAD_CONTAINER_TAGS.contains(&container.tag.to_ascii_lowercase().as_str())
        && container.attrs.len() <= 32
        && container
            .attrs
            .iter()
            .all(|(name, _)| name_ok(name, &['_', ':']) && !name.starts_with('-'))
}

/// A live session: `on_mount` hooks and a layout shared by its routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSession {
    /// Its name.
    pub name: String,
    /// Names of its `on_mount` hooks, in order.
    pub on_mount: Vec<String>,
    /// Its layout, if any.
    pub layout: Option<String>,
}

/// A plain HTTP route of an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRoute {
    /// Method, upper case.
    pub method: String,
    /// Path pattern.
    pub path: String,
}

/// What an app declares about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// App name.
    pub name: String,
    /// Routes.
    pub routes: Vec<Route>,
    /// Live sessions.
    pub live_sessions: Vec<LiveSession>,
    /// Plain HTTP routes.
    pub http_routes: Vec<HttpRoute>,
    /// Client hooks the app ships (`phx-hook`).
    pub client_hooks: Vec<ClientHook>,
}

/// A client hook an app ships: its `phx-hook` name and a JavaScript expression evaluating to
/// the hook object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHook {
    /// The name elements use in `phx-hook`.
    pub name: String,
    /// The hook object, as a JavaScript expression.
    pub source: String,
}

/// Most client hooks one app may ship.
const MAX_CLIENT_HOOKS: usize = 64;
/// Most bytes of client hook source one app may ship.
const MAX_CLIENT_HOOK_BYTES: usize = 256 * 1024;

/// A hook name: ASCII letters, digits, `_`, `-`, `.`, starting with a letter, at most 64 bytes.
fn hook_name_ok(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn check_client_hooks(hooks: &[types::ClientHook]) -> Result<(), RuntimeError> {
    if hooks.len() > MAX_CLIENT_HOOKS {
        return Err(RuntimeError::Manifest(format!(
            "the app ships {} client hooks (at most {MAX_CLIENT_HOOKS})",
            hooks.len()
        )));
    }
    let bytes: usize = hooks.iter().map(|h| h.source.len()).sum();
    if bytes > MAX_CLIENT_HOOK_BYTES {
        return Err(RuntimeError::Manifest(format!(
            "the app's client hooks are {bytes} bytes (at most {MAX_CLIENT_HOOK_BYTES})"
        )));
    }
    for (i, hook) in hooks.iter().enumerate() {
        if !hook_name_ok(&hook.name) {
            return Err(RuntimeError::Manifest(format!(
                "client hook name `{}` is invalid (letters, digits, `_`, `-`, `.`)",
                hook.name
            )));
        }
        if hooks[..i].iter().any(|h| h.name == hook.name) {
            return Err(RuntimeError::Manifest(format!(
                "client hook `{}` is declared twice",
                hook.name
            )));
        }
        if hook.source.trim().is_empty() {
            return Err(RuntimeError::Manifest(format!(
                "client hook `{}` has no source",
                hook.name
            )));
        }
    }
    Ok(())
}

pub(crate) struct RuntimeInner {
    pub(crate) engine: Engine,
    linker: Linker<HostState>,
    pub(crate) config: RuntimeConfig,
    pub(crate) started: Instant,
    stop: Arc<AtomicBool>,
    /// Where compiled components are kept across restarts, when set.
    artifacts: OnceLock<ArtifactCache>,
    /// Components compiled (not loaded from an artifact) since the runtime started.
    compilations: AtomicU64,
}

impl Drop for RuntimeInner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The process-wide wasmtime engine with Livewasm's limits.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

impl Runtime {
    /// Builds the engine (pooling allocator, fuel, epochs) and starts the epoch ticker.
    pub fn new(config: RuntimeConfig) -> Result<Runtime, RuntimeError> {
        let n = config.max_instances.max(1);
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(n)
            .total_core_instances(3 * n)
            .total_memories(n)
            .total_tables(2 * n)
            .max_memory_size(config.memory_limit)
            // A freed slot is wiped with memset up to these sizes instead of being handed back to
            // the kernel: the next mount reuses warm pages, no page faults, no TLB shootdowns.
            .linear_memory_keep_resident(config.keep_resident_bytes)
            .table_keep_resident(config.keep_resident_bytes / 8);
        let mut wasm = Config::new();
        wasm.wasm_component_model(true)
            .consume_fuel(true)
            .epoch_interruption(true)
            .memory_reservation(64 << 20)
            .memory_guard_size(64 << 10)
            .memory_reservation_for_growth(0)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&wasm).map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        View::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)
            .map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        spawn_ticker(engine.clone(), config.epoch_tick, stop.clone())?;
        Ok(Runtime {
            inner: Arc::new(RuntimeInner {
                engine,
                linker,
                config,
                started: Instant::now(),
                stop,
                artifacts: OnceLock::new(),
                compilations: AtomicU64::new(0),
            }),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// Keeps compiled components in `cache` from now on and loads them from it instead of
    /// compiling (see [`ArtifactCache`] for its trust model). Gives the cache back when one is
    /// set already.
    pub fn set_artifact_cache(&self, cache: ArtifactCache) -> Result<(), ArtifactCache> {
        self.inner.artifacts.set(cache)
    }

    /// The artifact cache in use, if any.
    pub fn artifact_cache(&self) -> Option<&ArtifactCache> {
        self.inner.artifacts.get()
    }

    /// Components compiled by this runtime so far (those loaded from an artifact not counted).
    pub fn compilations(&self) -> u64 {
        self.inner.compilations.load(Ordering::Relaxed)
    }

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
                manifest: Manifest {
                    name: String::new(),
                    routes: Vec::new(),
                    live_sessions: Vec::new(),
                    http_routes: Vec::new(),
                    client_hooks: Vec::new(),
                },
                name: Arc::from("loading"),
                digest,
                templates: RwLock::new(HashMap::new()),
            }),
            limits: InstanceLimits {
                memory_bytes: self.inner.config.memory_limit,
                fuel_per_callback: self.inner.config.fuel_per_callback,
            },
        };
        let manifest = read_manifest(&app)?;
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

fn spawn_ticker(
    engine: Engine,
    tick: std::time::Duration,
    stop: Arc<AtomicBool>,
) -> Result<(), RuntimeError> {
    std::thread::Builder::new()
        .name("livewasm-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                engine.increment_epoch();
            }
        })
        .map(|_| ())
        .map_err(|e| RuntimeError::Engine(format!("epoch ticker: {e}")))
}

fn read_manifest(app: &App) -> Result<Manifest, RuntimeError> {
    let mut instance = app.instantiate()?;
    let raw = instance
        .manifest()
        .map_err(|e| RuntimeError::Manifest(e.to_string()))?;
    if raw.name.trim().is_empty() {
        return Err(RuntimeError::Manifest("the app has no name".into()));
    }
    if raw.routes.is_empty() {
        return Err(RuntimeError::Manifest("the app declares no routes".into()));
    }
    for route in &raw.routes {
        if !route.path.starts_with('/') {
            return Err(RuntimeError::Manifest(format!(
                "route `{}` must start with `/`",
                route.path
            )));
        }
        if route.view.is_empty() {
            return Err(RuntimeError::Manifest(format!(
                "route `{}` names no view",
                route.path
            )));
        }
    }
    for route in &raw.routes {
        if let Some(container) = &route.container
            && !container_ok(container)
        {
            return Err(RuntimeError::Manifest(format!(
                "route `{}` has an invalid container tag or attribute name",
                route.path
            )));
        }
    }
    for route in &raw.http_routes {
        if !route.path.starts_with('/') {
            return Err(RuntimeError::Manifest(format!(
                "HTTP route `{}` must start with `/`",
                route.path
            )));
        }
    }
    check_client_hooks(&raw.client_hooks)?;
    Ok(Manifest {
        name: raw.name,
        client_hooks: raw
            .client_hooks
            .into_iter()
            .map(|h| ClientHook {
                name: h.name,
                source: h.source,
            })
            .collect(),
        live_sessions: raw
            .live_sessions
            .into_iter()
            .map(|s| LiveSession {
                name: s.name,
                on_mount: s.on_mount,
                layout: s.layout,
            })
            .collect(),
        http_routes: raw
            .http_routes
            .into_iter()
            .map(|r| HttpRoute {
                method: r.method.to_ascii_uppercase(),
                path: r.path,
            })
            .collect(),
        routes: raw
            .routes
            .into_iter()
            .map(|r| Route {
                path: r.path,
                view: r.view,
                action: r.action,
                live_session: r.live_session,
                container: r.container.map(|c| Container {
                    tag: c.tag.to_ascii_lowercase(),
                    attrs: c.attrs,
                }),
            })
            .collect(),
    })
}

pub(crate) struct AppInner {
    pub(crate) runtime: Arc<RuntimeInner>,
    pre: ViewPre<HostState>,
    manifest: Manifest,
    pub(crate) name: Arc<str>,
    digest: String,
    templates: RwLock<HashMap<u64, Arc<Statics>>>,
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

    /// A fresh instance with its own store, fuel and memory cap.
    pub fn instantiate(&self) -> Result<Instance, RuntimeError> {
        let runtime = &self.inner.runtime;
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.memory_bytes)
            .instances(8)
            .tables(8)
            .memories(4)
            .trap_on_grow_failure(true)
            .build();
        let state = HostState::new(limits, self.inner.name.clone(), runtime.started);
        let mut store = Store::new(&runtime.engine, state);
        store.limiter(|s| &mut s.limits);
        store.epoch_deadline_trap();
        fence(&mut store, self.limits.fuel_per_callback, &runtime.config);
        let view = self.inner.pre.instantiate(&mut store).map_err(|e| {
            let text = format!("{e:#}");
            if text.contains("concurrent") || text.contains("pooling") || text.contains("maximum") {
                RuntimeError::PoolExhausted(runtime.config.max_instances)
            } else {
                RuntimeError::Instantiate(text)
            }
        })?;
        Ok(Instance::new(self.clone(), store, view))
    }

    /// Statics of a template, when this app has seen it.
    pub(crate) fn template(&self, id: u64) -> Option<Arc<Statics>> {
        self.inner.templates.read().ok()?.get(&id).cloned()
    }

    /// Records statics fetched from a guest; false when the app has too many templates.
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

/// Gives the next call its fuel and wall-clock deadline.
pub(crate) fn fence(store: &mut Store<HostState>, fuel: u64, config: &RuntimeConfig) {
    let _ = store.set_fuel(fuel);
    let tick = config.epoch_tick.as_nanos().max(1);
    let ticks = (config.callback_deadline.as_nanos() / tick).max(1) as u64;
    store.set_epoch_deadline(ticks);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(tag: &str, attrs: &[(&str, &str)]) -> types::RouteContainer {
        types::RouteContainer {
            tag: tag.into(),
            attrs: attrs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        }
    }

    #[test]
    fn container_tags_and_attribute_names_are_checked() {
        assert!(container_ok(&container("main", &[("class", "a \" b")])));
        assert!(container_ok(&container(
            "my-el",
            &[("aria-label", "x"), ("xml:lang", "en")]
        )));
        assert!(!container_ok(&container("script", &[])));
        assert!(!container_ok(&container("div onload=x", &[])));
        assert!(!container_ok(&container("1div", &[])));
        assert!(!container_ok(&container("div", &[("on click", "x")])));
        assert!(!container_ok(&container("div", &[("\"x", "y")])));
    }

    fn hook(name: &str, source: &str) -> types::ClientHook {
        types::ClientHook {
            name: name.into(),
            source: source.into(),
        }
    }

    #[test]
    fn client_hooks_are_checked() {
        assert!(check_client_hooks(&[hook("Sortable", "{}"), hook("Game.Board-2", "{}")]).is_ok());
        for bad in ["", "2d", "a b", "x\"];", "<script>"] {
            assert!(check_client_hooks(&[hook(bad, "{}")]).is_err(), "{bad:?}");
        }
        assert!(check_client_hooks(&[hook("A", "{}"), hook("A", "{}")]).is_err());
        assert!(check_client_hooks(&[hook("A", "  ")]).is_err());
        let many: Vec<_> = (0..=MAX_CLIENT_HOOKS)
            .map(|i| hook(&format!("H{i}"), "{}"))
            .collect();
        assert!(check_client_hooks(&many).is_err());
        let big = "x".repeat(MAX_CLIENT_HOOK_BYTES + 1);
        assert!(check_client_hooks(&[hook("Big", &big)]).is_err());
    }
}
