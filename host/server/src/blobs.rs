//! The apps' files (the `blobs` capability): one store per tenant app, held to
//! [`ServerConfig::blob_max_count`] blobs and [`ServerConfig::blob_max_bytes`] bytes, kept in
//! the registry's database when there is one (`app_blobs`, scoped like `kv`), in memory
//! otherwise; and the route that serves them, `GET /_blobs/<app>/<name>` on the app's site.
//!
//! A blob is what a visitor uploaded, so it is served as inert content: `nosniff`, a sandboxing
//! CSP, and only raster image types inline (anything else, SVG included, downloads as an
//! attachment). The path a view renders carries the blob's version (`?v=`), so a matching
//! request is cached for good; any other gets an `ETag` and revalidates.
//!
//! [`ServerConfig::blob_max_count`]: crate::ServerConfig::blob_max_count
//! [`ServerConfig::blob_max_bytes`]: crate::ServerConfig::blob_max_bytes

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use livewasm_registry::{BlobLimits, Quota, Registry, RegistryError};
use livewasm_runtime::{Blob, BlobError, BlobStore, MemoryBlobs, valid_blob_name};
use tokio::runtime::Handle;

use crate::kv::block_on_registry;
use crate::origin::CurrentSite;

/// Raster image types served inline; anything else is an attachment.
const INLINE_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
];

/// Where the host's apps keep their files.
pub(crate) enum BlobStores {
    /// In the registry's database.
    Registry {
        /// The registry.
        registry: Registry,
        /// The runtime its pool runs on.
        runtime: Option<Handle>,
        /// Each app's quotas.
        limits: BlobLimits,
    },
    /// In memory, one store per scope.
    Memory {
        /// The stores made so far, by scope.
        stores: Mutex<HashMap<String, Arc<MemoryBlobs>>>,
        /// Each app's quotas.
        limits: BlobLimits,
    },
}

impl BlobStores {
    /// Stores in `registry`'s database, reached through the current tokio runtime.
    pub(crate) fn registry(registry: Registry, limits: BlobLimits) -> BlobStores {
        BlobStores::Registry {
            registry,
            runtime: Handle::try_current().ok(),
            limits,
        }
    }

    /// Stores in memory.
    pub(crate) fn memory(limits: BlobLimits) -> BlobStores {
        BlobStores::Memory {
            stores: Mutex::default(),
            limits,
        }
    }

    /// The store of `scope` (a registry app id, or `local/<app>`).
    pub(crate) fn store(&self, scope: &str) -> Arc<dyn BlobStore> {
        match self {
            BlobStores::Registry {
                registry,
                runtime,
                limits,
            } => Arc::new(SqlBlobs {
                registry: registry.clone(),
                runtime: runtime.clone(),
                scope: scope.to_string(),
                limits: *limits,
            }),
            BlobStores::Memory { stores, limits } => stores
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry(scope.to_string())
                .or_insert_with(|| Arc::new(MemoryBlobs::new(limits.max_blobs, limits.max_bytes)))
                .clone(),
        }
    }
}

/// One app's blobs in the registry's database.
struct SqlBlobs {
    registry: Registry,
    runtime: Option<Handle>,
    scope: String,
    limits: BlobLimits,
}

impl SqlBlobs {
    fn error(&self, error: RegistryError) -> BlobError {
        match error {
            RegistryError::QuotaExceeded {
                quota: Quota::BlobCount,
                limit,
            } => BlobError::TooManyBlobs { limit },
            RegistryError::QuotaExceeded {
                quota: Quota::BlobBytes,
                limit,
            } => BlobError::TooManyBytes { limit },
            other => {
                tracing::warn!(scope = %self.scope, "blob store failed: {other}");
                BlobError::Unavailable(other.to_string())
            }
        }
    }

    fn block<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, RegistryError>>,
    ) -> Result<T, BlobError> {
        block_on_registry(self.runtime.as_ref(), call)
            .map_err(BlobError::Unavailable)?
            .map_err(|e| self.error(e))
    }
}

impl BlobStore for SqlBlobs {
    fn put(&self, name: &str, content_type: &str, bytes: &[u8]) -> Result<String, BlobError> {
        self.block(
            self.registry
                .blob_put(&self.scope, name, content_type, bytes, self.limits),
        )
        .map(|info| info.sha256)
    }

    fn get(&self, name: &str) -> Result<Option<Blob>, BlobError> {
        Ok(self
            .block(self.registry.blob_get(&self.scope, name))?
            .map(|(info, bytes)| Blob {
                content_type: info.content_type,
                sha256: info.sha256,
                bytes: Arc::from(bytes),
            }))
    }

    fn sha256(&self, name: &str) -> Result<Option<String>, BlobError> {
        Ok(self
            .block(self.registry.blob_info(&self.scope, name))?
            .map(|info| info.sha256))
    }

    fn delete(&self, name: &str) -> Result<bool, BlobError> {
        self.block(self.registry.blob_delete(&self.scope, name))
    }
}

/// `GET /_blobs/<app>/<name>`: blob `name` of the site's app `app`.
pub(crate) async fn serve(
    CurrentSite(site): CurrentSite,
    Path((app, name)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "no such file").into_response();
    if !valid_blob_name(&name) {
        return not_found();
    }
    let Some(store) = site
        .routes()
        .apps()
        .into_iter()
        .find(|a| a.manifest().name == app)
        .and_then(|a| a.blobs().cloned())
    else {
        return not_found();
    };
    let read = tokio::task::spawn_blocking(move || store.get(&name)).await;
    let blob = match read {
        Ok(Ok(Some(blob))) => blob,
        Ok(Ok(None)) => return not_found(),
        Ok(Err(error)) => {
            tracing::warn!(app, "blob read failed: {error}");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the file cannot be read now",
            )
                .into_response();
        }
        Err(error) => {
            tracing::warn!(app, "blob read task failed: {error}");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    respond(&blob, query.get("v").map(String::as_str), &headers)
}

/// The response for `blob`, asked for at version `version`.
fn respond(blob: &Blob, version: Option<&str>, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", blob.sha256);
    let current = version.is_some_and(|v| !v.is_empty() && blob.sha256.starts_with(v));
    let cache = if current {
        crate::http_cache::IMMUTABLE
    } else {
        "no-cache"
    };
    let inline = INLINE_TYPES
        .iter()
        .any(|t| blob.content_type.eq_ignore_ascii_case(t));
    let content_type = if inline {
        blob.content_type.as_str()
    } else {
        "application/octet-stream"
    };
    let mut response = if crate::http_cache::if_none_match(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, blob.bytes.to_vec()).into_response()
    };
    let out = response.headers_mut();
    let mut put = |name: header::HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            out.insert(name, value);
        }
    };
    put(header::CONTENT_TYPE, content_type);
    put(header::ETAG, &etag);
    put(header::CACHE_CONTROL, cache);
    put(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    put(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; sandbox",
    );
    if !inline {
        put(header::CONTENT_DISPOSITION, "attachment");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn registry_blobs_round_trip_from_a_guest_thread_and_survive_a_reopen() {
        use livewasm_registry::QuotaDefaults;
        let dir = std::env::temp_dir().join(format!("livewasm-blobs-{}", std::process::id()));
        let path = dir.join("registry.db");
        let location = path.to_str().expect("utf-8").to_string();
        let limits = BlobLimits {
            max_blobs: 2,
            max_bytes: 1 << 20,
        };
        let registry = Registry::open(&location, QuotaDefaults::default())
            .await
            .expect("registry");
        let stores = BlobStores::registry(registry.clone(), limits);
        let store = stores.store("app_one");
        let sha = std::thread::spawn(move || {
            let sha = store
                .put("a/b.png", "image/png", b"png bytes")
                .expect("put");
            store.put("c", "text/plain", b"c").expect("second");
            assert_eq!(
                store.put("d", "text/plain", b"d"),
                Err(BlobError::TooManyBlobs { limit: 2 })
            );
            sha
        })
        .join()
        .expect("a plain thread");
        assert_eq!(stores.store("app_two").get("a/b.png").expect("get"), None);
        registry.close().await;

        let registry = Registry::open(&location, QuotaDefaults::default())
            .await
            .expect("reopened");
        let stores = BlobStores::registry(registry.clone(), limits);
        let blob = stores
            .store("app_one")
            .get("a/b.png")
            .expect("get")
            .expect("kept");
        assert_eq!(blob.sha256, sha);
        assert_eq!(&*blob.bytes, b"png bytes");
        assert_eq!(blob.content_type, "image/png");
        assert!(stores.store("app_one").delete("c").expect("delete"));
        registry.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    fn blob(content_type: &str) -> Blob {
        Blob {
            content_type: content_type.into(),
            sha256: "ab".repeat(32),
            bytes: Arc::from(&b"bytes"[..]),
        }
    }

    #[test]
    fn images_inline_everything_else_attached_and_versions_cached_for_good() {
        let png = respond(&blob("image/png"), Some("abab"), &HeaderMap::new());
        assert_eq!(png.status(), StatusCode::OK);
        let h = png.headers();
        assert_eq!(h[header::CONTENT_TYPE], "image/png");
        assert_eq!(
            h[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(h.get(header::CONTENT_DISPOSITION).is_none());

        for risky in ["text/html", "image/svg+xml", "application/javascript"] {
            let r = respond(&blob(risky), None, &HeaderMap::new());
            assert_eq!(
                r.headers()[header::CONTENT_TYPE],
                "application/octet-stream"
            );
            assert_eq!(r.headers()[header::CONTENT_DISPOSITION], "attachment");
            assert_eq!(r.headers()[header::CACHE_CONTROL], "no-cache");
        }
        let stale = respond(&blob("image/png"), Some("ffff"), &HeaderMap::new());
        assert_eq!(stale.headers()[header::CACHE_CONTROL], "no-cache");

        let mut conditional = HeaderMap::new();
        let etag = format!("\"{}\"", "ab".repeat(32));
        conditional.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&etag).unwrap());
        let r = respond(&blob("image/png"), None, &conditional);
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    }
}
