//! [`Runtime`]: the process-wide wasmtime engine (pooling allocator, fuel, epochs), the linker
//! granting the capabilities, the epoch ticker thread, and [`fence`], which gives each guest
//! call its fuel and deadline.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::component::Linker;
use wasmtime::{
    CallHook, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store,
    StoreContextMut, Trap,
};

use crate::artifact_cache::ArtifactCache;
use crate::config::RuntimeConfig;
use crate::error::RuntimeError;
use crate::store::{self, HostState};

/// Linear memories one component instance may have: one, so an instance takes one memory slot
/// of the pool and its memory cap is the whole of what it may use.
pub const MAX_MEMORIES_PER_COMPONENT: u32 = 1;
/// Core instances one component instance may create: its module, and the shim and fixup
/// modules `wit-component` adds for imports that pass lists or strings.
pub const MAX_CORE_INSTANCES_PER_COMPONENT: u32 = 3;
/// Tables one component instance may have: its module's and the shim's.
pub const MAX_TABLES_PER_COMPONENT: u32 = 2;

pub(crate) struct RuntimeInner {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<HostState>,
    pub(crate) config: RuntimeConfig,
    pub(crate) started: Instant,
    stop: Arc<AtomicBool>,
    /// Where compiled components are kept across restarts, when set.
    pub(crate) artifacts: OnceLock<ArtifactCache>,
    /// Components compiled (not loaded from an artifact) since the runtime started.
    pub(crate) compilations: AtomicU64,
}

impl Drop for RuntimeInner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The process-wide wasmtime engine with Livewasm's limits.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<RuntimeInner>,
}

impl Runtime {
    /// Builds the engine (pooling allocator, fuel, epochs) and starts the epoch ticker.
    pub fn new(config: RuntimeConfig) -> Result<Runtime, RuntimeError> {
        let n = config.max_instances.max(1);
        let mut pool = PoolingAllocationConfig::default();
        // Each component instance takes at most one slot's worth of everything: a component
        // declaring more memories, core instances or tables than these is refused at load
        // (wasmtime checks them when the component is created), so no instance can hold the
        // pool's slots of another.
        pool.total_component_instances(n)
            .total_core_instances(MAX_CORE_INSTANCES_PER_COMPONENT * n)
            .total_memories(MAX_MEMORIES_PER_COMPONENT * n)
            .total_tables(MAX_TABLES_PER_COMPONENT * n)
            .max_core_instances_per_component(MAX_CORE_INSTANCES_PER_COMPONENT)
            .max_memories_per_component(MAX_MEMORIES_PER_COMPONENT)
            .max_tables_per_component(MAX_TABLES_PER_COMPONENT)
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
        store::add_to_linker(&mut linker).map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
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
}

fn spawn_ticker(engine: Engine, tick: Duration, stop: Arc<AtomicBool>) -> Result<(), RuntimeError> {
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

/// The call hook of every store: when an import returns to the guest, the fuel its work cost
/// (`capabilities/budget.rs`) is taken from the callback's fuel; a callback that owes more than
/// it has left traps as out of fuel.
pub(crate) fn settle_import_fuel(
    mut store: StoreContextMut<'_, HostState>,
    hook: CallHook,
) -> wasmtime::Result<()> {
    if !matches!(hook, CallHook::ReturningFromHost) {
        return Ok(());
    }
    let owed = store.data().budget.take_fuel_owed();
    if owed == 0 {
        return Ok(());
    }
    let fuel = store.get_fuel()?;
    store.set_fuel(fuel.saturating_sub(owed))?;
    if owed > fuel {
        return Err(Trap::OutOfFuel.into());
    }
    Ok(())
}

/// Gives the next call its fuel and wall-clock deadline.
pub(crate) fn fence(store: &mut Store<HostState>, fuel: u64, config: &RuntimeConfig) {
    let _ = store.set_fuel(fuel);
    let tick = config.epoch_tick.as_nanos().max(1);
    let ticks = (config.callback_deadline.as_nanos() / tick).max(1) as u64;
    store.set_epoch_deadline(ticks);
}
