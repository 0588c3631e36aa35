//! The `kv` capability: a key-value store of the app's own. The runtime checks what a guest
//! passes (key and value sizes, list limits), charges the callback's budget, and hands the call
//! to the [`KvStore`] the server granted the instance: durable and per tenant app on a host
//! with a registry, [`MemoryKv`] otherwise (and in the test harness). A store enforces its
//! app's quotas (keys, bytes) itself, atomically with the write.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex};

use crate::bindings::livewasm::view::kv;
use crate::capabilities::budget::Budget;

/// Longest key, in bytes.
pub const MAX_KV_KEY_BYTES: usize = 512;
/// Largest value, in bytes.
pub const MAX_KV_VALUE_BYTES: usize = 1 << 20;
/// Most keys one `kv.list-keys` call returns.
pub const MAX_KV_LIST: u32 = 1000;

/// Why a store refused a call; the guest gets its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// The write would take the app past its number of keys.
    #[error("kv quota exceeded: at most {limit} keys per app")]
    TooManyKeys {
        /// The app's limit.
        limit: u64,
    },
    /// The write would take the app past its bytes (keys and values together).
    #[error("kv quota exceeded: at most {limit} bytes of keys and values per app")]
    TooManyBytes {
        /// The app's limit.
        limit: u64,
    },
    /// `increment` on a value that is not a decimal integer, or past the range of `s64`.
    #[error("kv value under `{key}` is not an integer (or the sum overflows)")]
    NotAnInteger {
        /// The key.
        key: String,
    },
    /// The store could not be reached or failed.
    #[error("kv store unavailable: {0}")]
    Unavailable(String),
}

/// Where an instance's `kv` calls go: one app's keys. Implementations are shared by every
/// instance of the app and called from guest threads (blocking is fine; async I/O is not
/// running on them).
pub trait KvStore: Send + Sync {
    /// The value under `key`.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError>;
    /// Stores `value` under `key`.
    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError>;
    /// Removes `key`; false when absent.
    fn delete(&self, key: &str) -> Result<bool, KvError>;
    /// Keys starting with `prefix` in byte order, after `after`, at most `limit`.
    fn list(&self, prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<String>, KvError>;
    /// Adds `delta` to the decimal integer under `key` (absent: 0); the new value.
    fn increment(&self, key: &str, delta: i64) -> Result<i64, KvError>;
    /// Sets (or removes, with `None`) `key` when its value is `expected`; whether it did.
    fn compare_and_set(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool, KvError>;
}

/// The store an instance was granted, if any, and the budget its calls charge.
pub(crate) struct KvState {
    budget: Budget,
    store: Option<Arc<dyn KvStore>>,
}

impl KvState {
    /// No store yet; calls charge `budget`.
    pub(crate) fn new(budget: Budget) -> KvState {
        KvState {
            budget,
            store: None,
        }
    }

    /// Grants the instance `store`.
    pub(crate) fn set_store(&mut self, store: Arc<dyn KvStore>) {
        self.store = Some(store);
    }

    fn store(&self) -> Result<&Arc<dyn KvStore>, String> {
        self.store
            .as_ref()
            .ok_or_else(|| "kv is not available to this view".to_string())
    }
}

fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX_KV_KEY_BYTES {
        return Err(format!(
            "a kv key must have 1 to {MAX_KV_KEY_BYTES} bytes, not {}",
            key.len()
        ));
    }
    Ok(())
}

fn check_value(value: &[u8]) -> Result<(), String> {
    if value.len() > MAX_KV_VALUE_BYTES {
        return Err(format!(
            "a kv value of {} bytes exceeds the limit of {MAX_KV_VALUE_BYTES} bytes",
            value.len()
        ));
    }
    Ok(())
}

impl kv::Host for KvState {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, String>> {
        self.budget.call("kv.get", key.len())?;
        let result = check_key(&key)
            .and_then(|()| self.store())
            .and_then(|store| store.get(&key).map_err(|e| e.to_string()));
        if let Ok(Some(value)) = &result {
            self.budget.produced(value.len());
        }
        Ok(result)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), String>> {
        self.budget.command("kv.set", key.len() + value.len())?;
        Ok(check_key(&key)
            .and_then(|()| check_value(&value))
            .and_then(|()| self.store())
            .and_then(|store| store.set(&key, &value).map_err(|e| e.to_string())))
    }

    fn delete(&mut self, key: String) -> wasmtime::Result<Result<bool, String>> {
        self.budget.command("kv.delete", key.len())?;
        Ok(check_key(&key)
            .and_then(|()| self.store())
            .and_then(|store| store.delete(&key).map_err(|e| e.to_string())))
    }

    fn list_keys(
        &mut self,
        prefix: String,
        after: Option<String>,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<String>, String>> {
        let bytes = prefix.len() + after.as_ref().map_or(0, String::len);
        self.budget.call("kv.list-keys", bytes)?;
        if prefix.len() > MAX_KV_KEY_BYTES
            || after.as_ref().is_some_and(|a| a.len() > MAX_KV_KEY_BYTES)
        {
            return Ok(Err(format!(
                "a kv prefix or key has at most {MAX_KV_KEY_BYTES} bytes"
            )));
        }
        let limit = limit.min(MAX_KV_LIST);
        let result = self.store().and_then(|store| {
            store
                .list(&prefix, after.as_deref(), limit)
                .map_err(|e| e.to_string())
        });
        if let Ok(keys) = &result {
            self.budget.produced(keys.iter().map(String::len).sum());
        }
        Ok(result)
    }

    fn increment(&mut self, key: String, delta: i64) -> wasmtime::Result<Result<i64, String>> {
        self.budget.command("kv.increment", key.len() + 8)?;
        Ok(check_key(&key)
            .and_then(|()| self.store())
            .and_then(|store| store.increment(&key, delta).map_err(|e| e.to_string())))
    }

    fn compare_and_set(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
    ) -> wasmtime::Result<Result<bool, String>> {
        let bytes =
            key.len() + expected.as_ref().map_or(0, Vec::len) + new.as_ref().map_or(0, Vec::len);
        self.budget.command("kv.compare-and-set", bytes)?;
        Ok(check_key(&key)
            .and_then(|()| new.as_deref().map_or(Ok(()), check_value))
            .and_then(|()| self.store())
            .and_then(|store| {
                store
                    .compare_and_set(&key, expected.as_deref(), new.as_deref())
                    .map_err(|e| e.to_string())
            }))
    }
}

/// One app's keys in memory, held to `max_keys` and `max_bytes` (keys and values together):
/// the store of a host without a registry (lost when it stops) and of the test harness.
#[derive(Debug)]
pub struct MemoryKv {
    max_keys: u64,
    max_bytes: u64,
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    map: BTreeMap<String, Vec<u8>>,
    bytes: u64,
}

impl MemoryKv {
    /// An empty store with these quotas.
    pub fn new(max_keys: u64, max_bytes: u64) -> MemoryKv {
        MemoryKv {
            max_keys,
            max_bytes,
            entries: Mutex::new(Entries::default()),
        }
    }

    /// Keys held and bytes used.
    pub fn usage(&self) -> (u64, u64) {
        let entries = self.lock();
        (entries.map.len() as u64, entries.bytes)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock leaves consistent data (every change is one step).
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Puts `value` (or removes the key, with `None`) after checking the quotas.
    fn put(&self, entries: &mut Entries, key: &str, value: Option<&[u8]>) -> Result<(), KvError> {
        let old = entries.map.get(key).map(|v| (key.len() + v.len()) as u64);
        let new = value.map(|v| (key.len() + v.len()) as u64);
        let keys = entries.map.len() as u64 - u64::from(old.is_some()) + u64::from(new.is_some());
        let bytes = entries.bytes - old.unwrap_or(0) + new.unwrap_or(0);
        let grows = new.unwrap_or(0) > old.unwrap_or(0);
        if new.is_some() && old.is_none() && keys > self.max_keys {
            return Err(KvError::TooManyKeys {
                limit: self.max_keys,
            });
        }
        if grows && bytes > self.max_bytes {
            return Err(KvError::TooManyBytes {
                limit: self.max_bytes,
            });
        }
        match value {
            Some(value) => {
                entries.map.insert(key.to_string(), value.to_vec());
            }
            None => {
                entries.map.remove(key);
            }
        }
        entries.bytes = bytes;
        Ok(())
    }
}

impl KvStore for MemoryKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self.lock().map.get(key).cloned())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        let mut entries = self.lock();
        self.put(&mut entries, key, Some(value))
    }

    fn delete(&self, key: &str) -> Result<bool, KvError> {
        let mut entries = self.lock();
        let present = entries.map.contains_key(key);
        self.put(&mut entries, key, None)?;
        Ok(present)
    }

    fn list(&self, prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<String>, KvError> {
        let entries = self.lock();
        let start = match after {
            Some(after) if after >= prefix => Bound::Excluded(after.to_string()),
            _ => Bound::Included(prefix.to_string()),
        };
        Ok(entries
            .map
            .range((start, Bound::Unbounded))
            .map(|(key, _)| key)
            .take_while(|key| key.starts_with(prefix))
            .take(limit as usize)
            .cloned()
            .collect())
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, KvError> {
        let mut entries = self.lock();
        let current = match entries.map.get(key) {
            None => 0,
            Some(bytes) => std::str::from_utf8(bytes)
                .ok()
                .and_then(|text| text.parse::<i64>().ok())
                .ok_or_else(|| KvError::NotAnInteger {
                    key: key.to_string(),
                })?,
        };
        let next = current
            .checked_add(delta)
            .ok_or_else(|| KvError::NotAnInteger {
                key: key.to_string(),
            })?;
        self.put(&mut entries, key, Some(next.to_string().as_bytes()))?;
        Ok(next)
    }

    fn compare_and_set(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool, KvError> {
        let mut entries = self.lock();
        if entries.map.get(key).map(Vec::as_slice) != expected {
            return Ok(false);
        }
        self.put(&mut entries, key, new)?;
        Ok(true)
    }
}

/// The behaviour every [`KvStore`] must have, as one test any implementation can run (the
/// server runs it against its SQL store): `store` must be empty and held to 10 keys and
/// 1,000 bytes. Panics on the first difference.
#[doc(hidden)]
pub fn conformance(store: &dyn KvStore) {
    let ok = |r: Result<(), KvError>| r.expect("within the quotas");
    assert_eq!(store.get("a").expect("get"), None);
    ok(store.set("a", b"1"));
    ok(store.set("a", b"one"));
    assert_eq!(store.get("a").expect("get").as_deref(), Some(&b"one"[..]));
    assert!(store.delete("a").expect("delete"));
    assert!(!store.delete("a").expect("delete again"));

    // Listing: byte order, prefix, paging, limit.
    for key in ["user/2", "user/10", "user/1", "users", "item/1", "user/é"] {
        ok(store.set(key, b"x"));
    }
    let all = store.list("user/", None, 100).expect("list");
    assert_eq!(all, ["user/1", "user/10", "user/2", "user/é"]);
    let page = store.list("user/", Some("user/10"), 2).expect("page");
    assert_eq!(page, ["user/2", "user/é"]);
    assert_eq!(store.list("", None, 2).expect("all").len(), 2);
    assert!(store.list("nope", None, 10).expect("none").is_empty());
    for key in ["user/2", "user/10", "user/1", "users", "item/1", "user/é"] {
        store.delete(key).expect("delete");
    }

    // Counters.
    assert_eq!(store.increment("n", 5).expect("from absent"), 5);
    assert_eq!(store.increment("n", -7).expect("negative"), -2);
    assert_eq!(store.get("n").expect("get").as_deref(), Some(&b"-2"[..]));
    ok(store.set("text", b"abc"));
    assert!(matches!(
        store.increment("text", 1),
        Err(KvError::NotAnInteger { .. })
    ));
    ok(store.set("big", i64::MAX.to_string().as_bytes()));
    assert!(matches!(
        store.increment("big", 1),
        Err(KvError::NotAnInteger { .. })
    ));
    for key in ["n", "text", "big"] {
        store.delete(key).expect("delete");
    }

    // Compare-and-set.
    assert!(store.compare_and_set("c", None, Some(b"1")).expect("cas"));
    assert!(!store.compare_and_set("c", None, Some(b"2")).expect("cas"));
    assert!(
        !store
            .compare_and_set("c", Some(b"9"), Some(b"2"))
            .expect("cas")
    );
    assert_eq!(store.get("c").expect("get").as_deref(), Some(&b"1"[..]));
    assert!(store.compare_and_set("c", Some(b"1"), None).expect("cas"));
    assert_eq!(store.get("c").expect("get"), None);

    // Quotas: 10 keys, 1,000 bytes; a refused write changes nothing.
    for n in 0..10 {
        ok(store.set(&format!("k{n}"), b"v"));
    }
    assert_eq!(
        store.set("k10", b"v"),
        Err(KvError::TooManyKeys { limit: 10 })
    );
    assert_eq!(store.get("k10").expect("get"), None);
    ok(store.set("k0", b"replaced"));
    assert_eq!(
        store.set("k1", &[b'x'; 1000]),
        Err(KvError::TooManyBytes { limit: 1000 })
    );
    assert_eq!(store.get("k1").expect("get").as_deref(), Some(&b"v"[..]));
    assert!(matches!(
        store.increment("k10", 1),
        Err(KvError::TooManyKeys { .. })
    ));
    for n in 0..10 {
        store.delete(&format!("k{n}")).expect("delete");
    }
    ok(store.set("big", &[b'x'; 900]));
    ok(store.set("big", &[b'x'; 10]));
    assert!(store.list("", None, 100).expect("list") == ["big"]);
    store.delete("big").expect("delete");
}

#[cfg(test)]
mod tests {
    use super::*;
    use kv::Host as _;

    #[test]
    fn the_memory_store_conforms() {
        let store = MemoryKv::new(10, 1000);
        conformance(&store);
        assert_eq!(store.usage(), (0, 0));
    }

    #[test]
    fn guest_input_is_checked_before_the_store() {
        let mut state = KvState::new(Budget::default());
        assert_eq!(
            state.get("k".into()).expect("budget"),
            Err("kv is not available to this view".into())
        );
        state.set_store(Arc::new(MemoryKv::new(100, 1 << 30)));
        assert!(state.get(String::new()).expect("budget").is_err());
        let long = "k".repeat(MAX_KV_KEY_BYTES + 1);
        assert!(state.set(long, vec![]).expect("budget").is_err());
        let big = vec![0; MAX_KV_VALUE_BYTES + 1];
        let refused = state.set("k".into(), big).expect("budget");
        assert!(refused.is_err_and(|e| e.contains("exceeds the limit")));
        state
            .set("k".into(), b"v".to_vec())
            .expect("budget")
            .expect("stored");
        assert_eq!(
            state.get("k".into()).expect("budget"),
            Ok(Some(b"v".to_vec()))
        );
    }

    #[test]
    fn kv_calls_charge_the_callback_budget() {
        let mut state = KvState::new(Budget::default());
        state.set_store(Arc::new(MemoryKv::new(100_000, 1 << 40)));
        let value = vec![0; MAX_KV_VALUE_BYTES];
        // 4 MiB per callback: the fourth full-size value traps.
        for n in 0..3 {
            state
                .set(format!("k{n}"), value.clone())
                .expect("within the budget")
                .expect("stored");
        }
        assert!(
            state.set("k3".into(), value).is_err(),
            "past 4 MiB in one callback"
        );
    }
}
