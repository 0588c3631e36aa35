//! An on-disk cache of compiled components, so a restarted host does not recompile every
//! version it serves.
//!
//! An artifact is what `Component::serialize` writes: native code for this machine and this
//! engine configuration. Its file is named by the component's sha256 and the engine's
//! compatibility key (a sha256 over `Engine::precompile_compatibility_hash`, which covers the
//! wasmtime version, the target and the compilation settings), so an engine built differently
//! never even looks at another engine's artifacts. Each file starts with a header holding the
//! component's sha256, the engine key and the sha256 of the artifact bytes; a file whose header
//! does not match, whose bytes do not hash to the recorded digest (truncated, corrupt) or that
//! wasmtime refuses to deserialize is deleted and the component is compiled again.
//!
//! Trust model: loading an artifact runs `Component::deserialize`, which is `unsafe` because
//! wasmtime maps the bytes as executable code without validating them: whoever can write an
//! artifact can run arbitrary native code in the host process. The digests above detect
//! accidents (a crash mid-write, disk corruption, an old format), not an attacker: the cache
//! directory must be private to the host's user. [`ArtifactCache::open`] creates it with mode
//! 0700 and refuses a directory that other users may write to. Writes are atomic (a temporary
//! file in the same directory, then a rename), so a reader never sees half an artifact.
//!
//! The cache is bounded: after each write the least recently used artifacts (by modification
//! time, which a hit refreshes) are deleted until the total fits `max_bytes`.

use std::fs;
use std::hash::Hasher;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// First bytes of every artifact file (format version 1).
const MAGIC: &[u8; 8] = b"LWCART01";
/// Magic, component sha256, engine key, artifact sha256.
const HEADER_LEN: usize = 8 + 32 + 32 + 32;
/// Extension of artifact files.
const EXTENSION: &str = "cwasm";

/// Opening the cache directory failed.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactCacheError {
    /// The directory could not be created or read.
    #[error("artifact cache {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Other users may write to the directory, so its artifacts cannot be trusted.
    #[error(
        "artifact cache {0} is writable by other users (mode {1:o}); it must be private to the host (chmod 700)"
    )]
    NotPrivate(PathBuf, u32),
}

/// What the cache did since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArtifactStats {
    /// Components loaded from an artifact instead of compiled.
    pub hits: u64,
    /// Lookups that found no artifact for this component and engine.
    pub misses: u64,
    /// Artifacts found but refused (bad header, digest mismatch, deserialize error) and deleted.
    pub rejected: u64,
    /// Artifacts written.
    pub stored: u64,
    /// Artifacts deleted to stay within the size cap.
    pub evicted: u64,
}

/// A directory of compiled-component artifacts, size-capped, least recently used first out.
#[derive(Debug)]
pub struct ArtifactCache {
    dir: PathBuf,
    max_bytes: u64,
    hits: AtomicU64,
    misses: AtomicU64,
    rejected: AtomicU64,
    stored: AtomicU64,
    evicted: AtomicU64,
}

/// Feeds what `Hash` writes into a sha256, for a key that is stable across processes.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// The engine's compatibility key: artifacts of engines with different keys never mix.
fn engine_key(engine: &Engine) -> [u8; 32] {
    let mut hasher = Sha256Hasher(Sha256::new());
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
    hasher.0.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The 32 bytes of a lowercase hex sha256, or `None` when `text` is not one.
fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

impl ArtifactCache {
    /// Opens (creating it, mode 0700) the cache directory `dir`, holding at most `max_bytes`
    /// of artifacts. Refuses a directory that group or others may write to.
    pub fn open(
        dir: impl Into<PathBuf>,
        max_bytes: u64,
    ) -> Result<ArtifactCache, ArtifactCacheError> {
        let dir = dir.into();
        let io = |source| ArtifactCacheError::Io {
            path: dir.clone(),
            source,
        };
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&dir).map_err(io)?.permissions().mode();
            if mode & 0o022 != 0 {
                return Err(ArtifactCacheError::NotPrivate(dir, mode & 0o777));
            }
        }
        Ok(ArtifactCache {
            dir,
            max_bytes,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            stored: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The size cap, in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// What the cache did since it was opened.
    pub fn stats(&self) -> ArtifactStats {
        ArtifactStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            stored: self.stored.load(Ordering::Relaxed),
            evicted: self.evicted.load(Ordering::Relaxed),
        }
    }

    fn path(&self, sha256: &str, key: &[u8; 32]) -> PathBuf {
        self.dir
            .join(format!("{sha256}-{}.{EXTENSION}", hex(&key[..16])))
    }

    /// The component with hex sha256 `sha256` compiled earlier for an engine like `engine`, or
    /// `None` (nothing cached, or an artifact that fails a check: it is deleted).
    pub fn load(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let component_sha = parse_sha256(sha256)?;
        let key = engine_key(engine);
        let path = self.path(sha256, &key);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(_) => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        };
        match self.check(engine, &bytes, &component_sha, &key) {
            Ok(component) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                // Refresh the modification time: eviction goes by least recent use.
                if let Ok(file) = fs::File::options().write(true).open(&path) {
                    let _ = file.set_modified(SystemTime::now());
                }
                Some(component)
            }
            Err(reason) => {
                tracing::warn!(path = %path.display(), "artifact refused, compiling again: {reason}");
                self.rejected.fetch_add(1, Ordering::Relaxed);
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    fn check(
        &self,
        engine: &Engine,
        bytes: &[u8],
        component_sha: &[u8; 32],
        key: &[u8; 32],
    ) -> Result<Component, String> {
        if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
            return Err("not an artifact of this format".into());
        }
        if &bytes[8..40] != component_sha {
            return Err("made from another component".into());
        }
        if &bytes[40..72] != key {
            return Err("made by an incompatible engine".into());
        }
        let payload = &bytes[HEADER_LEN..];
        if Sha256::digest(payload).as_slice() != &bytes[72..HEADER_LEN] {
            return Err("truncated or corrupt (digest mismatch)".into());
        }
        // SAFETY: `deserialize` trusts the bytes to be an artifact wasmtime wrote. They come
        // from a directory private to this host (checked at open), written by `store` below
        // for this component and an engine with this compatibility key, and their digest
        // matches the one recorded when they were written. wasmtime still checks the version
        // and configuration it recorded in the artifact and errors on a mismatch.
        unsafe { Component::deserialize(engine, payload) }.map_err(|e| format!("{e:#}"))
    }

    /// Writes `component` (hex sha256 `sha256`) as an artifact for `engine`, atomically, then
    /// evicts the least recently used artifacts beyond the size cap. Failures are logged: the
    /// cache is an optimisation.
    pub fn store(&self, engine: &Engine, sha256: &str, component: &Component) {
        let Some(component_sha) = parse_sha256(sha256) else {
            return;
        };
        let payload = match component.serialize() {
            Ok(payload) => payload,
            Err(e) => {
                tracing::warn!("cannot serialize a compiled component: {e:#}");
                return;
            }
        };
        let total = (HEADER_LEN + payload.len()) as u64;
        if total > self.max_bytes {
            tracing::debug!(
                sha256,
                total,
                "artifact larger than the whole cache: not stored"
            );
            return;
        }
        let key = engine_key(engine);
        let path = self.path(sha256, &key);
        let written = (|| -> std::io::Result<()> {
            let mut file = tempfile::Builder::new()
                .prefix(".tmp-")
                .tempfile_in(&self.dir)?;
            file.write_all(MAGIC)?;
            file.write_all(&component_sha)?;
            file.write_all(&key)?;
            file.write_all(&Sha256::digest(&payload))?;
            file.write_all(&payload)?;
            file.as_file().sync_data()?;
            file.persist(&path).map_err(|e| e.error)?;
            Ok(())
        })();
        match written {
            Ok(()) => {
                self.stored.fetch_add(1, Ordering::Relaxed);
                self.evict(&path);
            }
            Err(e) => tracing::warn!(path = %path.display(), "cannot write an artifact: {e}"),
        }
    }

    /// Deletes the least recently used artifacts (never `keep`) until the total fits.
    fn evict(&self, keep: &Path) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(SystemTime, u64, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == EXTENSION))
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                meta.is_file().then(|| {
                    (
                        meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                        meta.len(),
                        e.path(),
                    )
                })
            })
            .collect();
        let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
        files.sort();
        for (_, len, path) in files {
            if total <= self.max_bytes {
                break;
            }
            if path == keep {
                continue;
            }
            if fs::remove_file(&path).is_ok() {
                total = total.saturating_sub(len);
                self.evicted.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest valid component: just the header.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    fn engine(fuel: bool) -> Engine {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true).consume_fuel(fuel);
        Engine::new(&config).expect("engine")
    }

    fn sha(n: u8) -> String {
        hex(&[n; 32])
    }

    fn artifacts(dir: &Path) -> Vec<PathBuf> {
        let mut list: Vec<_> = fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == EXTENSION))
            .collect();
        list.sort();
        list
    }

    #[test]
    fn stores_and_loads_an_artifact() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = ArtifactCache::open(dir.path().join("c"), 1 << 30).expect("open");
        let engine = engine(true);
        let component = Component::new(&engine, EMPTY_COMPONENT).expect("compile");
        assert!(cache.load(&engine, &sha(1)).is_none());
        cache.store(&engine, &sha(1), &component);
        let loaded = cache.load(&engine, &sha(1)).expect("hit");
        assert_eq!(
            loaded.serialize().expect("serialize"),
            component.serialize().expect("serialize")
        );
        assert_eq!(
            cache.stats(),
            ArtifactStats {
                hits: 1,
                misses: 1,
                stored: 1,
                ..ArtifactStats::default()
            }
        );
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(cache.dir()).expect("dir").count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn directory_is_private_and_a_shared_one_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = ArtifactCache::open(dir.path().join("c"), 1 << 20).expect("open");
        let mode = fs::metadata(cache.dir())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
        let shared = dir.path().join("shared");
        fs::create_dir(&shared).expect("mkdir");
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o777)).expect("chmod");
        assert!(matches!(
            ArtifactCache::open(&shared, 1 << 20),
            Err(ArtifactCacheError::NotPrivate(..))
        ));
    }

    #[test]
    fn corrupt_truncated_and_misfiled_artifacts_are_refused_and_deleted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = ArtifactCache::open(dir.path(), 1 << 30).expect("open");
        let engine = engine(true);
        let component = Component::new(&engine, EMPTY_COMPONENT).expect("compile");

        // One flipped byte in the code.
        cache.store(&engine, &sha(1), &component);
        let path = artifacts(dir.path()).remove(0);
        let mut bytes = fs::read(&path).expect("read");
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        fs::write(&path, &bytes).expect("write");
        assert!(cache.load(&engine, &sha(1)).is_none());
        assert!(!path.exists(), "the corrupt artifact is deleted");

        // Cut short.
        cache.store(&engine, &sha(1), &component);
        let len = fs::metadata(&path).expect("meta").len();
        fs::File::options()
            .write(true)
            .open(&path)
            .expect("open")
            .set_len(len / 2)
            .expect("truncate");
        assert!(cache.load(&engine, &sha(1)).is_none());

        // Another component's artifact renamed to this one's name.
        cache.store(&engine, &sha(2), &component);
        let other = artifacts(dir.path()).remove(0);
        fs::rename(&other, &path).expect("rename");
        assert!(cache.load(&engine, &sha(1)).is_none());

        // Garbage with a valid header and digest: wasmtime's own check refuses it.
        let payload = b"not native code at all".to_vec();
        let mut forged = MAGIC.to_vec();
        forged.extend_from_slice(&parse_sha256(&sha(1)).expect("sha"));
        forged.extend_from_slice(&engine_key(&engine));
        forged.extend_from_slice(&Sha256::digest(&payload));
        forged.extend_from_slice(&payload);
        fs::write(&path, &forged).expect("write");
        assert!(cache.load(&engine, &sha(1)).is_none());

        assert_eq!(cache.stats().rejected, 4);
        assert!(artifacts(dir.path()).is_empty());
        // A fresh store works again.
        cache.store(&engine, &sha(1), &component);
        assert!(cache.load(&engine, &sha(1)).is_some());
    }

    #[test]
    fn an_engine_with_other_settings_does_not_use_the_artifact() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = ArtifactCache::open(dir.path(), 1 << 30).expect("open");
        let fuel = engine(true);
        let plain = engine(false);
        assert_ne!(engine_key(&fuel), engine_key(&plain));
        assert_eq!(engine_key(&fuel), engine_key(&engine(true)));
        let component = Component::new(&fuel, EMPTY_COMPONENT).expect("compile");
        cache.store(&fuel, &sha(1), &component);
        assert!(cache.load(&plain, &sha(1)).is_none());
        assert_eq!(cache.stats().misses, 1);
        // Even under the other engine's file name, the header check refuses it.
        let path = artifacts(dir.path()).remove(0);
        fs::copy(&path, cache.path(&sha(1), &engine_key(&plain))).expect("copy");
        assert!(cache.load(&plain, &sha(1)).is_none());
        assert_eq!(cache.stats().rejected, 1);
        assert!(cache.load(&fuel, &sha(1)).is_some());
    }

    #[test]
    fn least_recently_used_artifacts_are_evicted_beyond_the_cap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let engine = engine(true);
        let component = Component::new(&engine, EMPTY_COMPONENT).expect("compile");
        let size = (HEADER_LEN + component.serialize().expect("serialize").len()) as u64;
        let cache = ArtifactCache::open(dir.path(), 3 * size).expect("open");
        let old = SystemTime::now() - std::time::Duration::from_secs(3600);
        for n in 1..=3 {
            cache.store(&engine, &sha(n), &component);
            let path = cache.path(&sha(n), &engine_key(&engine));
            let age = old + std::time::Duration::from_secs(u64::from(n));
            fs::File::options()
                .write(true)
                .open(&path)
                .expect("open")
                .set_modified(age)
                .expect("mtime");
        }
        // Using 1 makes 2 the least recently used.
        assert!(cache.load(&engine, &sha(1)).is_some());
        cache.store(&engine, &sha(4), &component);
        assert_eq!(artifacts(dir.path()).len(), 3);
        assert_eq!(cache.stats().evicted, 1);
        assert!(cache.load(&engine, &sha(2)).is_none());
        for n in [1, 3, 4] {
            assert!(cache.load(&engine, &sha(n)).is_some(), "{n}");
        }
        // An artifact larger than the whole cache is not stored.
        let tiny = ArtifactCache::open(dir.path().join("tiny"), 10).expect("open");
        tiny.store(&engine, &sha(1), &component);
        assert!(artifacts(tiny.dir()).is_empty());
    }

    #[test]
    fn only_sha256_names_are_used() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = ArtifactCache::open(dir.path(), 1 << 30).expect("open");
        let engine = engine(true);
        let component = Component::new(&engine, EMPTY_COMPONENT).expect("compile");
        cache.store(&engine, "../../etc/passwd", &component);
        cache.store(&engine, &sha(0xab).to_uppercase(), &component);
        assert!(artifacts(dir.path()).is_empty());
        assert!(cache.load(&engine, "../x").is_none());
    }
}
