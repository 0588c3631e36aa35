//! The app's own key-value store, kept by the host across restarts and deploys: each tenant
//! app has its own, which no other app can read. Keys are strings of 1 to 512 bytes, values
//! bytes of at most 1 MiB; the host holds the app to a number of keys and bytes (an error
//! names the quota). Every call is a host call: read in `mount`/`handle_event`, not in
//! `render`.
//!
//! ```no_run
//! use livewasm_sdk::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! pub struct Article {
//!     title: String,
//! }
//!
//! fn create(title: &str) -> Result<i64> {
//!     // Atomic counters: concurrent creates get distinct ids.
//!     let id = kv::increment("next_article_id", 1)?;
//!     // Any serde type, as JSON (or raw bytes with `kv::set`):
//!     kv::set_json(&format!("article/{id:010}"), &Article { title: title.into() })?;
//!     Ok(id)
//! }
//!
//! fn titles() -> Result<Vec<String>> {
//!     let mut out = Vec::new();
//!     // Every key with the prefix, in byte order (paged for you):
//!     for key in kv::keys("article/")? {
//!         if let Some(article) = kv::get_json::<Article>(&key)? {
//!             out.push(article.title);
//!         }
//!     }
//!     Ok(out)
//! }
//!
//! fn seed_once() -> Result {
//!     // Compare-and-set: true for the one caller that wins.
//!     if kv::compare_and_set("seeded", None, Some(b"1"))? {
//!         create("Hello, world")?;
//!     }
//!     Ok(())
//! }
//!
//! # seed_once()?;
//! # let id = create("Second")?;
//! # let _ = titles()?;
//! # kv::delete(&format!("article/{id:010}"))?;
//! # Ok::<(), livewasm_sdk::Error>(())
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::livewasm::view::kv as wit;
use crate::{Error, Result};

/// Most keys one page of [`list`] returns (the host's cap).
pub const PAGE: u32 = 1000;

/// The value under `key`, if any.
pub fn get(key: &str) -> Result<Option<Vec<u8>>> {
    wit::get(key).map_err(Error::new)
}

/// Stores `value` under `key`, replacing any.
pub fn set(key: &str, value: &[u8]) -> Result {
    wit::set(key, value).map_err(Error::new)
}

/// Removes `key`; false when it was absent.
pub fn delete(key: &str) -> Result<bool> {
    wit::delete(key).map_err(Error::new)
}

/// One page of the keys that start with `prefix`, in byte order, after `after` when given:
/// at most `limit` (capped at [`PAGE`]).
pub fn list(prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<String>> {
    wit::list_keys(prefix, after, limit).map_err(Error::new)
}

/// Every key that starts with `prefix`, in byte order (page by page).
pub fn keys(prefix: &str) -> Result<Vec<String>> {
    let mut all: Vec<String> = Vec::new();
    loop {
        let page = list(prefix, all.last().map(String::as_str), PAGE)?;
        let done = page.len() < PAGE as usize;
        all.extend(page);
        if done {
            return Ok(all);
        }
    }
}

/// Adds `delta` to the integer under `key` (absent counts as 0) and returns the new value,
/// atomically: concurrent increments from any view of the app all count.
pub fn increment(key: &str, delta: i64) -> Result<i64> {
    wit::increment(key, delta).map_err(Error::new)
}

/// Sets `key` to `new` (removes it with `None`) only if its value is now `expected` (`None`:
/// absent), atomically; true when it did.
pub fn compare_and_set(key: &str, expected: Option<&[u8]>, new: Option<&[u8]>) -> Result<bool> {
    wit::compare_and_set(key, expected, new).map_err(Error::new)
}

/// The value under `key` read as JSON into `T`.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>> {
    match get(key)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::new(format!("kv value under `{key}` does not fit: {e}"))),
    }
}

/// Stores `value` under `key` as JSON.
pub fn set_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result {
    let bytes = serde_json::to_vec(value)
        .map_err(|e| Error::new(format!("kv value for `{key}` is not JSON: {e}")))?;
    set(key, &bytes)
}
