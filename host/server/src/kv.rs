//! The key-value stores the host grants its apps (the `kv` capability): one per tenant app,
//! each held to [`ServerConfig::kv_max_keys`] keys and [`ServerConfig::kv_max_bytes`] bytes.
//!
//! With a registry the keys live in its database (SQLite or Postgres, `kv_entries`), so they
//! survive restarts and deploys; a platform app's keys are scoped by its registry id, an
//! `--app` component's by `local/<name>`. Without a registry each app gets a [`MemoryKv`],
//! kept for as long as the host runs (a dev reload keeps it). Guest code calls the store from
//! the guest threads, which block on the registry's async calls through the server's runtime.
//!
//! [`ServerConfig::kv_max_keys`]: crate::ServerConfig::kv_max_keys
//! [`ServerConfig::kv_max_bytes`]: crate::ServerConfig::kv_max_bytes

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use livewasm_registry::{KvLimits, Quota, Registry, RegistryError};
use livewasm_runtime::{KvError, KvStore, MemoryKv};
use tokio::runtime::{Handle, RuntimeFlavor};

/// Longest a store call (`kv` or `blobs`) may take before the guest gets an error.
const KV_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the host's apps keep their keys.
pub(crate) enum KvStores {
    /// In the registry's database.
    Registry {
        /// The registry.
        registry: Registry,
        /// The runtime its pool runs on (captured when the host was built).
        runtime: Option<Handle>,
        /// Each app's quotas.
        limits: KvLimits,
    },
    /// In memory, one store per scope, for as long as the host runs.
    Memory {
        /// The stores made so far, by scope.
        stores: Mutex<HashMap<String, Arc<MemoryKv>>>,
        /// Each app's quotas.
        limits: KvLimits,
    },
}

impl KvStores {
    /// Stores in `registry`'s database, reached through the current tokio runtime.
    pub(crate) fn registry(registry: Registry, limits: KvLimits) -> KvStores {
        KvStores::Registry {
            registry,
            runtime: Handle::try_current().ok(),
            limits,
        }
    }

    /// Stores in memory.
    pub(crate) fn memory(limits: KvLimits) -> KvStores {
        KvStores::Memory {
            stores: Mutex::default(),
            limits,
        }
    }

    /// The store of `scope` (a registry app id, or `local/<app>`).
    pub(crate) fn store(&self, scope: &str) -> Arc<dyn KvStore> {
        match self {
            KvStores::Registry {
                registry,
                runtime,
                limits,
            } => Arc::new(SqlKv {
                registry: registry.clone(),
                runtime: runtime.clone(),
                scope: scope.to_string(),
                limits: *limits,
            }),
            KvStores::Memory { stores, limits } => {
                let mut stores = stores
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                stores
                    .entry(scope.to_string())
                    .or_insert_with(|| Arc::new(MemoryKv::new(limits.max_keys, limits.max_bytes)))
                    .clone()
            }
        }
    }
}

/// Runs `call` to completion on `runtime` (the registry's) within [`KV_TIMEOUT`], from a
/// guest thread (no runtime: it blocks on the host's) or a worker of a multi-thread runtime
/// (`block_in_place`). `Err` says why it could not run or did not finish in time.
pub(crate) fn block_on_registry<T>(
    runtime: Option<&Handle>,
    call: impl Future<Output = T>,
) -> Result<T, String> {
    let Some(runtime) = runtime else {
        return Err("the host was built outside an async runtime".into());
    };
    let timed = async {
        tokio::time::timeout(KV_TIMEOUT, call)
            .await
            .map_err(|_| format!("no answer from the database in {} s", KV_TIMEOUT.as_secs()))
    };
    match Handle::try_current() {
        // A guest thread: no runtime here, block on the host's.
        Err(_) => runtime.block_on(timed),
        Ok(here) if here.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| runtime.block_on(timed))
        }
        Ok(_) => Err("called on a single-threaded async runtime".into()),
    }
}

/// One app's keys in the registry's database.
struct SqlKv {
    registry: Registry,
    runtime: Option<Handle>,
    scope: String,
    limits: KvLimits,
}

impl SqlKv {
    /// Runs `call` on the registry's runtime (see [`block_on_registry`]).
    fn block<T>(&self, call: impl Future<Output = Result<T, RegistryError>>) -> Result<T, KvError> {
        block_on_registry(self.runtime.as_ref(), call)
            .map_err(KvError::Unavailable)?
            .map_err(|e| self.error(e))
    }

    fn error(&self, error: RegistryError) -> KvError {
        match error {
            RegistryError::QuotaExceeded {
                quota: Quota::KvKeys,
                limit,
            } => KvError::TooManyKeys { limit },
            RegistryError::QuotaExceeded {
                quota: Quota::KvBytes,
                limit,
            } => KvError::TooManyBytes { limit },
            RegistryError::InvalidValue {
                what: "kv value", ..
            } => KvError::NotAnInteger { key: String::new() },
            other => {
                tracing::warn!(scope = %self.scope, "kv store failed: {other}");
                KvError::Unavailable(other.to_string())
            }
        }
    }
}

impl KvStore for SqlKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.block(self.registry.kv_get(&self.scope, key))
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.block(self.registry.kv_set(&self.scope, key, value, self.limits))
    }

    fn delete(&self, key: &str) -> Result<bool, KvError> {
        self.block(self.registry.kv_delete(&self.scope, key))
    }

    fn list(&self, prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<String>, KvError> {
        self.block(self.registry.kv_list(&self.scope, prefix, after, limit))
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, KvError> {
        self.block(
            self.registry
                .kv_increment(&self.scope, key, delta, self.limits),
        )
        .map_err(|e| match e {
            KvError::NotAnInteger { .. } => KvError::NotAnInteger {
                key: key.to_string(),
            },
            other => other,
        })
    }

    fn compare_and_set(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool, KvError> {
        self.block(
            self.registry
                .kv_compare_and_set(&self.scope, key, expected, new, self.limits),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use livewasm_registry::QuotaDefaults;

    fn limits() -> KvLimits {
        KvLimits {
            max_keys: 10,
            max_bytes: 1000,
        }
    }

    #[test]
    fn the_memory_stores_conform_and_keep_one_store_per_scope() {
        let stores = KvStores::memory(limits());
        livewasm_runtime::kv_conformance(&*stores.store("local/a"));
        stores.store("local/a").set("k", b"v").expect("set");
        assert_eq!(
            stores.store("local/a").get("k").expect("get"),
            Some(b"v".to_vec())
        );
        assert_eq!(stores.store("local/b").get("k").expect("get"), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_registry_stores_conform_from_a_guest_thread_and_an_async_one() {
        let dir = std::env::temp_dir().join(format!(
            "livewasm-kv-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let path = dir.join("registry.db");
        let registry = Registry::open(path.to_str().expect("utf-8"), QuotaDefaults::default())
            .await
            .expect("registry");
        let stores = KvStores::registry(registry.clone(), limits());
        // As the guest threads call it: a plain thread, no runtime.
        let store = stores.store("app_one");
        std::thread::spawn(move || livewasm_runtime::kv_conformance(&*store))
            .join()
            .expect("conforms from a plain thread");
        // From a worker of the multi-thread runtime (block_in_place).
        livewasm_runtime::kv_conformance(&*stores.store("app_two"));
        let quota = stores.store("app_one");
        for n in 0..10 {
            quota.set(&format!("k{n}"), b"v").expect("within the quota");
        }
        assert_eq!(
            quota.set("k10", b"v"),
            Err(KvError::TooManyKeys { limit: 10 })
        );
        assert_eq!(stores.store("app_two").get("k0").expect("get"), None);
        registry.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
