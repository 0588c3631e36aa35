//! The `blobs` capability: files of the app's own, served back at `/_blobs/<app>/<name>` on
//! its origin. The runtime checks names and sizes, charges the callback's budget (a stored
//! upload's bytes are copied by the host and cost fuel per byte), and hands the call to the
//! [`BlobStore`] the server granted the app: durable and per tenant app with a registry,
//! [`MemoryBlobs`] otherwise. A store enforces its app's quotas itself.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::bindings::livewasm::view::blobs;
use crate::capabilities::budget::Budget;
use crate::capabilities::uploads::{MAX_UPLOAD_READ, UploadSource};

/// Largest blob `blobs.put` takes (its bytes pass through the guest).
pub const MAX_BLOB_PUT_BYTES: usize = 1 << 20;
/// Largest upload `blobs.put-upload` stores (the host copies it).
pub const MAX_BLOB_BYTES: usize = 10 << 20;
/// Longest blob name, in bytes.
pub const MAX_BLOB_NAME_BYTES: usize = 200;
/// Longest content type, in bytes.
pub const MAX_CONTENT_TYPE_BYTES: usize = 100;

/// A stored blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// The type it is served with.
    pub content_type: String,
    /// Lowercase hex sha256 of its bytes (its version: the served path changes with it).
    pub sha256: String,
    /// Its bytes.
    pub bytes: Arc<[u8]>,
}

/// Why a store refused a call; the guest gets its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    /// The write would take the app past its number of blobs.
    #[error("blob quota exceeded: at most {limit} blobs per app")]
    TooManyBlobs {
        /// The app's limit.
        limit: u64,
    },
    /// The write would take the app past its bytes.
    #[error("blob quota exceeded: at most {limit} bytes of blobs per app")]
    TooManyBytes {
        /// The app's limit.
        limit: u64,
    },
    /// The store could not be reached or failed.
    #[error("blob store unavailable: {0}")]
    Unavailable(String),
}

/// Where an app's blobs are kept; shared by its instances and by the server's route that
/// serves them. Called from guest threads and, for serving, from the server's async tasks
/// through `spawn_blocking`.
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` as `name`; returns the blob's sha256.
    fn put(&self, name: &str, content_type: &str, bytes: &[u8]) -> Result<String, BlobError>;
    /// The blob `name`.
    fn get(&self, name: &str) -> Result<Option<Blob>, BlobError>;
    /// The sha256 of blob `name`, without reading its bytes.
    fn sha256(&self, name: &str) -> Result<Option<String>, BlobError>;
    /// Removes `name`; false when absent.
    fn delete(&self, name: &str) -> Result<bool, BlobError>;
}

/// Whether `name` is a valid blob name: 1 to [`MAX_BLOB_NAME_BYTES`] bytes of ASCII letters,
/// digits and `-_./`, not starting with `/` or `.`, with no empty or `..` segment.
pub fn valid_blob_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_BLOB_NAME_BYTES
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
        && !name.starts_with('.')
        && name
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "..")
}

fn check_name(name: &str) -> Result<(), String> {
    if valid_blob_name(name) {
        Ok(())
    } else {
        Err(format!(
            "invalid blob name `{}`: 1 to {MAX_BLOB_NAME_BYTES} bytes of letters, digits and \
             `-_./`, not starting with `/` or `.`, no empty or `..` segment",
            name.escape_default()
        ))
    }
}

fn check_content_type(content_type: &str) -> Result<(), String> {
    let printable = content_type.bytes().all(|b| (0x20..0x7f).contains(&b));
    if content_type.is_empty() || content_type.len() > MAX_CONTENT_TYPE_BYTES || !printable {
        return Err(format!(
            "a content type has 1 to {MAX_CONTENT_TYPE_BYTES} printable ASCII bytes"
        ));
    }
    Ok(())
}

/// The path blob `name` of app `app` is served at, for version `sha256`.
pub fn blob_path(app: &str, name: &str, sha256: &str) -> String {
    let version = sha256.get(..16).unwrap_or(sha256);
    format!("/_blobs/{app}/{name}?v={version}")
}

/// An instance's store, its uploads (for `put-upload`), and the budget its calls charge.
pub(crate) struct BlobsState {
    app: Arc<str>,
    budget: Budget,
    store: Option<Arc<dyn BlobStore>>,
    uploads: Option<Arc<dyn UploadSource>>,
}

impl BlobsState {
    /// No store yet; paths name `app`; calls charge `budget`.
    pub(crate) fn new(app: Arc<str>, budget: Budget) -> BlobsState {
        BlobsState {
            app,
            budget,
            store: None,
            uploads: None,
        }
    }

    /// Grants the instance `store`.
    pub(crate) fn set_store(&mut self, store: Arc<dyn BlobStore>) {
        self.store = Some(store);
    }

    /// Lets `put-upload` read the view's received uploads.
    pub(crate) fn set_uploads(&mut self, source: Arc<dyn UploadSource>) {
        self.uploads = Some(source);
    }

    /// Takes over the upload source a hibernated view kept ([`Self::kept`]).
    pub(crate) fn carry(&mut self, uploads: Option<Arc<dyn UploadSource>>) {
        self.uploads = uploads;
    }

    /// The upload source, kept while the view hibernates.
    pub(crate) fn kept(self) -> Option<Arc<dyn UploadSource>> {
        self.uploads
    }

    fn store(&self) -> Result<&Arc<dyn BlobStore>, String> {
        self.store
            .as_ref()
            .ok_or_else(|| "blobs are not available to this view".to_string())
    }

    fn stored(&self, name: &str, content_type: &str, bytes: &[u8]) -> Result<String, String> {
        let sha256 = self
            .store()?
            .put(name, content_type, bytes)
            .map_err(|e| e.to_string())?;
        Ok(blob_path(&self.app, name, &sha256))
    }

    /// Every byte of a completely received upload entry, at most [`MAX_BLOB_BYTES`].
    fn read_upload(&self, upload_ref: &str, entry_ref: &str) -> Result<Vec<u8>, String> {
        let source = self
            .uploads
            .as_ref()
            .ok_or_else(|| "this view has no uploads".to_string())?;
        let mut bytes = Vec::new();
        loop {
            let chunk = source.read(upload_ref, entry_ref, bytes.len() as u64, MAX_UPLOAD_READ)?;
            if chunk.is_empty() {
                return Ok(bytes);
            }
            if bytes.len() + chunk.len() > MAX_BLOB_BYTES {
                return Err(format!(
                    "the upload is larger than a blob may be ({MAX_BLOB_BYTES} bytes)"
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
    }
}

impl blobs::Host for BlobsState {
    fn put(
        &mut self,
        name: String,
        content_type: String,
        bytes: Vec<u8>,
    ) -> wasmtime::Result<Result<String, String>> {
        self.budget
            .command("blobs.put", name.len() + content_type.len() + bytes.len())?;
        if bytes.len() > MAX_BLOB_PUT_BYTES {
            return Ok(Err(format!(
                "a blob of {} bytes exceeds the limit of {MAX_BLOB_PUT_BYTES} bytes for `put` \
                 (store uploads with `put-upload`)",
                bytes.len()
            )));
        }
        Ok(check_name(&name)
            .and_then(|()| check_content_type(&content_type))
            .and_then(|()| self.stored(&name, &content_type, &bytes)))
    }

    fn put_upload(
        &mut self,
        upload_ref: String,
        entry_ref: String,
        name: String,
        content_type: String,
    ) -> wasmtime::Result<Result<String, String>> {
        let args = upload_ref.len() + entry_ref.len() + name.len() + content_type.len();
        self.budget.command("blobs.put-upload", args)?;
        let result = check_name(&name)
            .and_then(|()| check_content_type(&content_type))
            .and_then(|()| self.read_upload(&upload_ref, &entry_ref))
            .and_then(|bytes| {
                // The host's copy costs fuel like bytes passed through an import.
                self.budget.produced(bytes.len());
                self.stored(&name, &content_type, &bytes)
            });
        Ok(result)
    }

    fn delete(&mut self, name: String) -> wasmtime::Result<Result<bool, String>> {
        self.budget.command("blobs.delete", name.len())?;
        Ok(check_name(&name)
            .and_then(|()| self.store())
            .and_then(|store| store.delete(&name).map_err(|e| e.to_string())))
    }

    fn path(&mut self, name: String) -> wasmtime::Result<Result<Option<String>, String>> {
        self.budget.call("blobs.path", name.len())?;
        Ok(check_name(&name)
            .and_then(|()| self.store())
            .and_then(|store| store.sha256(&name).map_err(|e| e.to_string()))
            .map(|sha| sha.map(|sha| blob_path(&self.app, &name, &sha))))
    }
}

/// One app's blobs in memory, held to `max_blobs` and `max_bytes`: the store of a host
/// without a registry (lost when it stops) and of the test harness.
#[derive(Debug)]
pub struct MemoryBlobs {
    max_blobs: u64,
    max_bytes: u64,
    blobs: Mutex<BTreeMap<String, Blob>>,
}

impl MemoryBlobs {
    /// An empty store with these quotas.
    pub fn new(max_blobs: u64, max_bytes: u64) -> MemoryBlobs {
        MemoryBlobs {
            max_blobs,
            max_bytes,
            blobs: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Blob>> {
        self.blobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Lowercase hex sha256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl BlobStore for MemoryBlobs {
    fn put(&self, name: &str, content_type: &str, bytes: &[u8]) -> Result<String, BlobError> {
        let mut blobs = self.lock();
        let old = blobs.get(name).map_or(0, |b| b.bytes.len() as u64);
        let used: u64 = blobs.values().map(|b| b.bytes.len() as u64).sum();
        let new = bytes.len() as u64;
        if !blobs.contains_key(name) && blobs.len() as u64 >= self.max_blobs {
            return Err(BlobError::TooManyBlobs {
                limit: self.max_blobs,
            });
        }
        if new > old && used - old + new > self.max_bytes {
            return Err(BlobError::TooManyBytes {
                limit: self.max_bytes,
            });
        }
        let sha256 = sha256_hex(bytes);
        blobs.insert(
            name.to_string(),
            Blob {
                content_type: content_type.to_string(),
                sha256: sha256.clone(),
                bytes: Arc::from(bytes),
            },
        );
        Ok(sha256)
    }

    fn get(&self, name: &str) -> Result<Option<Blob>, BlobError> {
        Ok(self.lock().get(name).cloned())
    }

    fn sha256(&self, name: &str) -> Result<Option<String>, BlobError> {
        Ok(self.lock().get(name).map(|b| b.sha256.clone()))
    }

    fn delete(&self, name: &str) -> Result<bool, BlobError> {
        Ok(self.lock().remove(name).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blobs::Host as _;

    /// One upload entry of `len` bytes.
    struct OneUpload(usize);

    impl UploadSource for OneUpload {
        fn read(&self, _: &str, _: &str, offset: u64, max: usize) -> Result<Vec<u8>, String> {
            let start = (offset as usize).min(self.0);
            Ok((start..self.0.min(start + max)).map(|b| b as u8).collect())
        }
    }

    #[test]
    fn names_are_checked() {
        for good in ["a", "avatars/u1.png", "A-b_c.d/e"] {
            assert!(valid_blob_name(good), "{good}");
        }
        let long = "a".repeat(MAX_BLOB_NAME_BYTES + 1);
        for bad in [
            "", "/a", ".a", "a/../b", "a//b", "a/", "a b", "é", "a?b", &long,
        ] {
            assert!(!valid_blob_name(bad), "{bad}");
        }
    }

    #[test]
    fn put_path_delete_and_uploads_through_the_capability() {
        let mut state = BlobsState::new(Arc::from("shop"), Budget::default());
        assert_eq!(
            state
                .put("a.txt".into(), "text/plain".into(), b"hi".to_vec())
                .expect("budget"),
            Err("blobs are not available to this view".into())
        );
        let store = Arc::new(MemoryBlobs::new(3, 3 << 20));
        state.set_store(store.clone());
        let path = state
            .put("a.txt".into(), "text/plain".into(), b"hi".to_vec())
            .expect("budget")
            .expect("stored");
        assert_eq!(path, blob_path("shop", "a.txt", &sha256_hex(b"hi")));
        assert!(path.starts_with("/_blobs/shop/a.txt?v="));
        assert_eq!(state.path("a.txt".into()).expect("budget"), Ok(Some(path)));
        assert!(
            state
                .put("../x".into(), "text/plain".into(), vec![])
                .expect("budget")
                .is_err()
        );
        assert!(
            state
                .put("x".into(), "text/plain\n".into(), vec![])
                .expect("budget")
                .is_err()
        );
        // An upload copied by the host.
        assert!(
            state
                .put_upload("u".into(), "e".into(), "big.bin".into(), "image/png".into())
                .expect("budget")
                .is_err_and(|e| e.contains("no uploads"))
        );
        state.set_uploads(Arc::new(OneUpload(2_500_000)));
        state
            .put_upload("u".into(), "e".into(), "big.bin".into(), "image/png".into())
            .expect("budget")
            .expect("stored");
        let blob = store.get("big.bin").expect("get").expect("there");
        assert_eq!(blob.bytes.len(), 2_500_000);
        assert_eq!(blob.bytes[300_000], (300_000usize % 256) as u8);
        // Quotas: a fourth blob, then too many bytes.
        state
            .put("b".into(), "text/plain".into(), vec![])
            .expect("budget")
            .expect("third");
        assert!(
            state
                .put("c".into(), "text/plain".into(), vec![])
                .expect("budget")
                .is_err_and(|e| e.contains("at most 3 blobs"))
        );
        state.set_uploads(Arc::new(OneUpload(MAX_BLOB_BYTES + 1)));
        assert!(
            state
                .put_upload("u".into(), "e".into(), "big.bin".into(), "image/png".into())
                .expect("budget")
                .is_err_and(|e| e.contains("larger than a blob may be"))
        );
        assert_eq!(state.delete("b".into()).expect("budget"), Ok(true));
        assert_eq!(state.delete("b".into()).expect("budget"), Ok(false));
    }
}
