//! An on-disk cache of compiled components, so a restarted host does not recompile every
//! version it serves.
//!
//! An artifact is what `Component::serialize` writes: native code for this machine and this
//! engine configuration. Its file is named by the component's sha256 and the engine's
//! compatibility key (a sha256 over `Engine::precompile_compatibility_hash`, which covers the
//! wasmtime version, the target and the compilation settings), so an engine built differently
//! never even looks at another engine's artifacts. Each file starts with a header holding the
//! format magic, the component's sha256, the engine key and an HMAC-SHA256 over all of these and
//! the artifact bytes; a file whose header does not match, whose MAC does not verify or that
//! wasmtime refuses to deserialize is deleted and the component is compiled again.
//!
//! Trust model: loading an artifact runs `Component::deserialize`, which is `unsafe` because
//! wasmtime maps the bytes as executable code without validating them: whoever can write an
//! artifact can run arbitrary native code in the host process. So the cache trusts nothing it
//! has not checked:
//!
//! - **A private directory owned by the host's user.** [`ArtifactCache::open`] creates it with
//!   mode 0700 and refuses one that is a symbolic link, is not owned by the process's effective
//!   user, or that group or others may write to. Every parent directory up to `/` must be owned
//!   by root or the host's user and must not be writable by group or others, unless it has the
//!   sticky bit (like `/tmp`): then everything below it down to the cache must be the host
//!   user's and not writable by others either (sticky directories of its own aside), so that no
//!   other user can rename the cache away and put their own in its place. The cache then works
//!   on the directory's canonical path, so a symbolic link among the parents cannot be
//!   re-pointed later.
//! - **No symbolic links, no foreign files.** An artifact is opened without following a
//!   symbolic link (`O_NOFOLLOW`) and must be a regular file owned by the host's user; anything
//!   else is refused (and its directory entry deleted), never read.
//! - **Authenticated artifacts.** The MAC is keyed by a key the caller derives from the host's
//!   secret (see [`ArtifactCache::key_from_secret`]) and checked in constant time before
//!   anything else in the file is believed. A file planted by anyone without the secret, or
//!   written by a host with another secret, is never deserialized: it is deleted and the
//!   component compiled again. Files of the previous format (`LWCART01`, unauthenticated) are
//!   refused the same way.
//!
//! Writes are atomic (a temporary file, mode 0600, in the same directory, then a rename), so a
//! reader never sees half an artifact.
//!
//! The cache is bounded: after each write the least recently used artifacts (by modification
//! time, which a hit refreshes) are deleted until the total fits `max_bytes`.
//!
//! The cache needs Unix owners and permission bits for these checks: elsewhere
//! [`ArtifactCache::open`] refuses with [`ArtifactCacheError::Unsupported`].

use std::fs;
use std::hash::Hasher;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// First bytes of every artifact file (format version 2: authenticated).
const MAGIC: &[u8; 8] = b"LWCART02";
/// Magic, component sha256, engine key, HMAC-SHA256 (over the first three and the artifact).
const HEADER_LEN: usize = 8 + 32 + 32 + 32;
/// Where the MAC starts in the header: everything before it is authenticated.
const MAC_OFFSET: usize = 8 + 32 + 32;
/// Extension of artifact files.
const EXTENSION: &str = "cwasm";
/// Domain separation of [`ArtifactCache::key_from_secret`]: the host secret also signs other
/// things (sessions, tokens), and a MAC key for artifacts must not be usable as one of those.
const KEY_CONTEXT: &[u8] = b"livewasm artifact cache v2";

type HmacSha256 = Hmac<Sha256>;

/// Opening the cache directory failed.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactCacheError {
    /// The directory could not be created or read.
    #[error("artifact cache {path}: {source}")]
    Io {
        /// The directory (or the parent being checked).
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The directory is a symbolic link: whoever can re-point it chooses what the host loads.
    #[error(
        "artifact cache {0} is a symbolic link; name the real directory (private to the host's user) instead"
    )]
    Symlink(PathBuf),
    /// The path exists and is not a directory.
    #[error("artifact cache {0} is not a directory")]
    NotADirectory(PathBuf),
    /// The directory belongs to another user, who could plant artifacts in it.
    #[error(
        "artifact cache {path} is owned by uid {owner}, not by the host's user (uid {euid}); use a directory the host's user owns (chown {euid} {path}) or another cache directory"
    )]
    NotOwned {
        /// The directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The host process's effective user.
        euid: u32,
    },
    /// Other users may write to the directory, so its artifacts cannot be trusted.
    #[error(
        "artifact cache {0} is writable by other users (mode {1:o}); it must be private to the host (chmod 700)"
    )]
    NotPrivate(PathBuf, u32),
    /// A parent directory belongs to a user other than root and the host's user, who could
    /// replace the cache directory with their own.
    #[error(
        "artifact cache {dir}: its parent directory {parent} is owned by uid {owner}, neither root nor the host's user (uid {euid}), who could replace the cache; put the cache in a directory tree only root and the host's user control"
    )]
    ParentNotOwned {
        /// The cache directory.
        dir: PathBuf,
        /// The parent directory.
        parent: PathBuf,
        /// The parent's owner.
        owner: u32,
        /// The host process's effective user.
        euid: u32,
    },
    /// A parent directory is writable by group or others without the sticky bit: they could
    /// rename the cache directory away and put their own in its place.
    #[error(
        "artifact cache {dir}: its parent directory {parent} is writable by other users (mode {mode:o}) without the sticky bit, so they could replace the cache; make it private (chmod go-w {parent}) or put the cache elsewhere"
    )]
    ParentWritable {
        /// The cache directory.
        dir: PathBuf,
        /// The parent directory.
        parent: PathBuf,
        /// The parent's permission bits.
        mode: u32,
    },
    /// Below a shared sticky directory (like `/tmp`), a directory on the way to the cache is
    /// not the host user's, or others may write to it.
    #[error(
        "artifact cache {dir}: {parent} (uid {owner}, mode {mode:o}) is inside the shared directory {shared}; there every directory down to the cache must be owned by the host's user (uid {euid}) and not writable by others (chown {euid} and chmod 700 it, or put the cache directly in {shared})"
    )]
    NotPrivateUnderShared {
        /// The cache directory.
        dir: PathBuf,
        /// The directory below the shared one that fails the check.
        parent: PathBuf,
        /// The shared (world-writable, sticky) directory above it.
        shared: PathBuf,
        /// The owner of `parent`.
        owner: u32,
        /// The permission bits of `parent`.
        mode: u32,
        /// The host process's effective user.
        euid: u32,
    },
    /// This platform has no Unix owners and permission bits to check the directory with.
    #[error(
        "artifact cache {0}: not supported on this platform (its safety checks need Unix owners and permissions); run without a cache"
    )]
    Unsupported(PathBuf),
}

/// What the cache did since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArtifactStats {
    /// Components loaded from an artifact instead of compiled.
    pub hits: u64,
    /// Lookups that found no artifact for this component and engine.
    pub misses: u64,
    /// Artifacts found but refused (a symbolic link, not a regular file or not the host user's,
    /// bad header, MAC mismatch, deserialize error) and deleted.
    pub rejected: u64,
    /// Artifacts written.
    pub stored: u64,
    /// Artifacts deleted to stay within the size cap.
    pub evicted: u64,
}

/// The key artifacts are authenticated with; never printed.
struct MacKey([u8; 32]);

impl MacKey {
    /// A MAC keyed with this key, ready for input.
    fn mac(&self) -> HmacSha256 {
        hmac_with(&self.0)
    }
}

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacKey(<redacted>)")
    }
}

/// An HMAC-SHA256 keyed with `key`.
fn hmac_with(key: &[u8]) -> HmacSha256 {
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC hashes a key longer than a block and pads a shorter one: no length is invalid.
        Err(hmac::digest::InvalidLength) => unreachable!("HMAC takes keys of any length"),
    }
}

/// A directory of compiled-component artifacts, size-capped, least recently used first out.
#[derive(Debug)]
pub struct ArtifactCache {
    /// Canonical path of the directory (checked at open).
    dir: PathBuf,
    max_bytes: u64,
    key: MacKey,
    /// The process's effective user: the only owner of artifacts the cache reads.
    euid: u32,
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

/// Unix owners, permission bits and `O_NOFOLLOW`: what the cache's checks are made of.
#[cfg(unix)]
mod platform {
    use std::fs;
    use std::os::unix::fs::MetadataExt;
    use std::path::{Path, PathBuf};

    use super::ArtifactCacheError;

    /// Group- and other-write permission bits.
    const WRITABLE_BY_OTHERS: u32 = 0o022;
    /// The sticky bit: in such a directory only an entry's owner may rename or delete it.
    const STICKY: u32 = 0o1000;

    /// The process's effective user id (safe: `rustix` wraps the system call).
    pub(super) fn euid() -> u32 {
        rustix::process::geteuid().as_raw()
    }

    /// The owner of what `meta` describes.
    pub(super) fn owner(meta: &fs::Metadata) -> u32 {
        meta.uid()
    }

    /// Opens `path` for reading without following a symbolic link (`ELOOP` when it is one) and
    /// without blocking on a FIFO.
    pub(super) fn open_no_follow(path: &Path) -> std::io::Result<fs::File> {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = rustix::fs::open(path, flags, Mode::empty())?;
        Ok(fs::File::from(fd))
    }

    /// Checks that `dir` (an existing directory) is a private directory of `euid` that only
    /// root and `euid` can replace (see the module documentation), and returns its canonical
    /// path.
    pub(super) fn trusted_directory(dir: &Path, euid: u32) -> Result<PathBuf, ArtifactCacheError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ArtifactCacheError::Io { path, source }
        };
        let meta = fs::symlink_metadata(dir).map_err(io(dir))?;
        if meta.file_type().is_symlink() {
            return Err(ArtifactCacheError::Symlink(dir.to_path_buf()));
        }
        if !meta.is_dir() {
            return Err(ArtifactCacheError::NotADirectory(dir.to_path_buf()));
        }
        // `dir` itself is no link, so this only resolves links among its parents: the cache
        // works on the real path from here on, and the real parents are the ones checked.
        let real = fs::canonicalize(dir).map_err(io(dir))?;
        let meta = fs::symlink_metadata(&real).map_err(io(&real))?;
        if !meta.is_dir() {
            return Err(ArtifactCacheError::NotADirectory(real));
        }
        if meta.uid() != euid {
            return Err(ArtifactCacheError::NotOwned {
                path: real,
                owner: meta.uid(),
                euid,
            });
        }
        let mode = meta.mode() & 0o7777;
        if mode & WRITABLE_BY_OTHERS != 0 {
            return Err(ArtifactCacheError::NotPrivate(real, mode));
        }
        // From `/` down to the cache's parent.
        let parents: Vec<PathBuf> = real.ancestors().skip(1).map(Path::to_path_buf).collect();
        let mut shared: Option<PathBuf> = None;
        for parent in parents.into_iter().rev() {
            let meta = fs::metadata(&parent).map_err(io(&parent))?;
            let owner = meta.uid();
            let mode = meta.mode() & 0o7777;
            let writable = mode & WRITABLE_BY_OTHERS != 0;
            if let Some(shared) = &shared {
                // In a shared sticky directory others cannot touch our entries, but the owner
                // of an entry can: every directory down to the cache must be ours, and shared
                // with others only in the same sticky way.
                if owner != euid || (writable && mode & STICKY == 0) {
                    return Err(ArtifactCacheError::NotPrivateUnderShared {
                        dir: real,
                        parent,
                        shared: shared.clone(),
                        owner,
                        mode,
                        euid,
                    });
                }
                continue;
            }
            if owner != euid && owner != 0 {
                return Err(ArtifactCacheError::ParentNotOwned {
                    dir: real,
                    parent,
                    owner,
                    euid,
                });
            }
            if writable {
                if mode & STICKY == 0 {
                    return Err(ArtifactCacheError::ParentWritable {
                        dir: real,
                        parent,
                        mode,
                    });
                }
                shared = Some(parent);
            }
        }
        Ok(real)
    }
}

/// Stand-ins where there are no Unix owners and permissions: [`ArtifactCache::open`] refuses.
#[cfg(not(unix))]
mod platform {
    use std::fs;
    use std::path::{Path, PathBuf};

    use super::ArtifactCacheError;

    pub(super) fn euid() -> u32 {
        0
    }

    pub(super) fn owner(_meta: &fs::Metadata) -> u32 {
        0
    }

    pub(super) fn open_no_follow(path: &Path) -> std::io::Result<fs::File> {
        if fs::symlink_metadata(path)?.file_type().is_symlink() {
            return Err(std::io::Error::other("a symbolic link"));
        }
        fs::File::open(path)
    }

    pub(super) fn trusted_directory(dir: &Path, _euid: u32) -> Result<PathBuf, ArtifactCacheError> {
        Err(ArtifactCacheError::Unsupported(dir.to_path_buf()))
    }
}

impl ArtifactCache {
    /// The key to open a cache with, derived from the host's secret (HMAC-SHA256 of the secret
    /// over a fixed label, so it is never the secret itself nor usable for what the secret
    /// signs). Hosts sharing a secret share artifacts; a host with another secret refuses them.
    pub fn key_from_secret(secret: &[u8]) -> [u8; 32] {
        let mut mac = hmac_with(secret);
        mac.update(KEY_CONTEXT);
        mac.finalize().into_bytes().into()
    }

    /// Opens (creating it, mode 0700) the cache directory `dir`, holding at most `max_bytes`
    /// of artifacts authenticated with `key` (derive it with [`ArtifactCache::key_from_secret`]).
    /// Refuses a directory that is a symbolic link, is not owned by the process's effective user
    /// or that group or others may write to, and one whose parents others could replace it
    /// from (see the module documentation).
    pub fn open(
        dir: impl Into<PathBuf>,
        max_bytes: u64,
        key: [u8; 32],
    ) -> Result<ArtifactCache, ArtifactCacheError> {
        let dir = dir.into();
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&dir)
            .map_err(|source| ArtifactCacheError::Io {
                path: dir.clone(),
                source,
            })?;
        let euid = platform::euid();
        let dir = platform::trusted_directory(&dir, euid)?;
        Ok(ArtifactCache {
            dir,
            max_bytes,
            key: MacKey(key),
            euid,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            stored: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
        })
    }

    /// The directory (its canonical path).
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

    /// The MAC of an artifact: over the header fields before it and the artifact bytes.
    fn mac(&self, header: &[u8], payload: &[u8]) -> HmacSha256 {
        let mut mac = self.key.mac();
        mac.update(header);
        mac.update(payload);
        mac
    }

    /// Counts a refused artifact and deletes its directory entry (for a symbolic link, the
    /// link: never what it points to).
    fn refuse(&self, path: &Path, reason: &str) {
        tracing::warn!(path = %path.display(), "artifact refused, compiling again: {reason}");
        self.rejected.fetch_add(1, Ordering::Relaxed);
        let _ = fs::remove_file(path);
    }

    /// The component with hex sha256 `sha256` compiled earlier for an engine like `engine`, or
    /// `None` (nothing cached, or an artifact that fails a check: it is deleted).
    pub fn load(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let component_sha = parse_sha256(sha256)?;
        let key = engine_key(engine);
        let path = self.path(sha256, &key);
        let mut file = match platform::open_no_follow(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            Err(e) => {
                if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
                    self.refuse(&path, "a symbolic link");
                } else {
                    tracing::warn!(path = %path.display(), "cannot open an artifact: {e}");
                    self.misses.fetch_add(1, Ordering::Relaxed);
                }
                return None;
            }
        };
        // What was opened, not what the path names now.
        let meta = match file.metadata() {
            Ok(meta) => meta,
            Err(e) => {
                tracing::warn!(path = %path.display(), "cannot stat an artifact: {e}");
                self.misses.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        };
        if !meta.is_file() {
            self.refuse(&path, "not a regular file");
            return None;
        }
        let owner = platform::owner(&meta);
        if owner != self.euid {
            let reason = format!("owned by uid {owner}, not the host's user");
            self.refuse(&path, &reason);
            return None;
        }
        if meta.len() > self.max_bytes {
            self.refuse(&path, "larger than the whole cache");
            return None;
        }
        let mut bytes = Vec::new();
        // The bound holds even if the file grows after the check above.
        if let Err(e) = (&mut file)
            .take(self.max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
        {
            tracing::warn!(path = %path.display(), "cannot read an artifact: {e}");
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        match self.check(engine, &bytes, &component_sha, &key) {
            Ok(component) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                // Refresh the modification time of the file opened (ours, so allowed without
                // write access): eviction goes by least recent use.
                let _ = file.set_modified(SystemTime::now());
                Some(component)
            }
            Err(reason) => {
                self.refuse(&path, &reason);
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
            return Err("not an artifact of this format (an older one, or not one at all)".into());
        }
        let payload = &bytes[HEADER_LEN..];
        // Nothing in the file is believed before its MAC verifies (in constant time).
        self.mac(&bytes[..MAC_OFFSET], payload)
            .verify_slice(&bytes[MAC_OFFSET..HEADER_LEN])
            .map_err(|_| {
                "MAC mismatch: written without this host's key (another secret, a planted file) \
                 or corrupt"
                    .to_string()
            })?;
        if &bytes[8..40] != component_sha {
            return Err("made from another component".into());
        }
        if &bytes[40..MAC_OFFSET] != key {
            return Err("made by an incompatible engine".into());
        }
        // SAFETY: `deserialize` trusts the bytes to be an artifact wasmtime wrote. They were read,
        // without following a symbolic link, from a regular file owned by this host's user in a
        // directory private to it (checked at open), and their MAC, keyed by a key derived from
        // the host's secret, verifies: they are what `store` below wrote for this component and
        // an engine with this compatibility key, on this host or one sharing its secret.
        // wasmtime still checks the version and configuration it recorded in the artifact and
        // errors on a mismatch.
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
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&component_sha);
        header.extend_from_slice(&key);
        let mac = self.mac(&header, &payload).finalize().into_bytes();
        header.extend_from_slice(&mac);
        let written = (|| -> std::io::Result<()> {
            let mut file = tempfile::Builder::new()
                .prefix(".tmp-")
                .tempfile_in(&self.dir)?;
            file.write_all(&header)?;
            file.write_all(&payload)?;
            file.as_file().sync_data()?;
            // A rename replaces the directory entry (even a symbolic link), never a target.
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
                // Not following links: a symbolic link is no artifact and counts for nothing.
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

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::{PermissionsExt, symlink};

    use super::*;

    /// The smallest valid component: just the header.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";
    /// The key of most tests.
    const KEY: [u8; 32] = [7; 32];

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

    fn chmod(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
    }

    /// A private directory in the system temp dir (`/tmp` is shared and sticky).
    fn tempdir() -> tempfile::TempDir {
        tempfile::tempdir().expect("tempdir")
    }

    #[test]
    fn stores_and_loads_an_artifact() {
        let dir = tempdir();
        let cache = ArtifactCache::open(dir.path().join("c"), 1 << 30, KEY).expect("open");
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
        // The artifact is private too.
        let mode = fs::metadata(&artifacts(cache.dir())[0])
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }

    #[test]
    fn directory_is_private_and_a_shared_one_is_refused() {
        let dir = tempdir();
        let cache = ArtifactCache::open(dir.path().join("c"), 1 << 20, KEY).expect("open");
        let mode = fs::metadata(cache.dir())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
        let shared = dir.path().join("shared");
        fs::create_dir(&shared).expect("mkdir");
        chmod(&shared, 0o777);
        assert!(matches!(
            ArtifactCache::open(&shared, 1 << 20, KEY),
            Err(ArtifactCacheError::NotPrivate(..))
        ));
        // Even sticky: the cache directory itself is for the host alone.
        chmod(&shared, 0o1777);
        assert!(matches!(
            ArtifactCache::open(&shared, 1 << 20, KEY),
            Err(ArtifactCacheError::NotPrivate(..))
        ));
        let file = dir.path().join("file");
        fs::write(&file, b"").expect("write");
        assert!(matches!(
            ArtifactCache::open(&file, 1 << 20, KEY),
            Err(ArtifactCacheError::Io { .. } | ArtifactCacheError::NotADirectory(_))
        ));
    }

    #[test]
    fn a_symlinked_cache_directory_is_refused() {
        let dir = tempdir();
        let real = dir.path().join("real");
        fs::create_dir(&real).expect("mkdir");
        chmod(&real, 0o700);
        let link = dir.path().join("link");
        symlink(&real, &link).expect("symlink");
        let err = ArtifactCache::open(&link, 1 << 20, KEY).expect_err("a symlink");
        assert!(
            matches!(&err, ArtifactCacheError::Symlink(p) if p == &link),
            "{err}"
        );
        assert!(err.to_string().contains("symbolic link"), "{err}");
        // A link among the parents is resolved: the cache works on the real path.
        let cache = ArtifactCache::open(link.join("c"), 1 << 20, KEY).expect("open");
        assert_eq!(
            cache.dir(),
            fs::canonicalize(&real).expect("canonical").join("c")
        );
    }

    /// Temporary trees to check parent directories in: one in the system temp dir (below a
    /// shared sticky directory, normally) and, when the directory of the test binary and all
    /// its parents are writable only by their owners, one there; with whether a directory
    /// above the tree is shared.
    fn trees() -> Vec<(tempfile::TempDir, bool)> {
        use std::os::unix::fs::MetadataExt;
        let shared_above = |base: &Path| {
            fs::canonicalize(base)
                .expect("canonical")
                .ancestors()
                .skip(1)
                .any(|p| fs::metadata(p).expect("meta").mode() & 0o022 != 0)
        };
        let mut trees = Vec::new();
        let tmp = tempdir();
        let shared = shared_above(tmp.path());
        trees.push((tmp, shared));
        let exe = std::env::current_exe().expect("test binary");
        if let Some(base) = exe.parent()
            && let Ok(tree) = tempfile::tempdir_in(base)
        {
            let shared = shared_above(tree.path());
            chmod(tree.path(), 0o700);
            trees.push((tree, shared));
        }
        trees
    }

    /// Whether `err` refuses the cache because of `parent`: `exact` when there is no shared
    /// directory above (else the check below a shared directory is what refuses).
    fn refused_for(
        err: &ArtifactCacheError,
        parent: &Path,
        shared_above: bool,
        exact: fn(&ArtifactCacheError) -> bool,
    ) -> bool {
        let parent = fs::canonicalize(parent).expect("canonical");
        match err {
            ArtifactCacheError::NotPrivateUnderShared { parent: p, .. } if shared_above => {
                p == &parent
            }
            ArtifactCacheError::ParentWritable { parent: p, .. }
            | ArtifactCacheError::ParentNotOwned { parent: p, .. } => exact(err) && p == &parent,
            _ => false,
        }
    }

    #[test]
    fn a_parent_writable_by_others_is_refused_unless_sticky() {
        for (tree, shared_above) in trees() {
            let parent = tree.path().join("parent");
            fs::create_dir(&parent).expect("mkdir");
            let cache_dir = parent.join("c");
            for mode in [0o777, 0o770, 0o757] {
                chmod(&parent, mode);
                let err = ArtifactCache::open(&cache_dir, 1 << 20, KEY).expect_err("shared parent");
                assert!(
                    refused_for(&err, &parent, shared_above, |e| matches!(
                        e,
                        ArtifactCacheError::ParentWritable { .. }
                    )),
                    "{mode:o}: {err}"
                );
                assert!(
                    err.to_string().contains(&parent.display().to_string()),
                    "{err}"
                );
            }
            // Sticky like /tmp: others cannot rename our cache away.
            chmod(&parent, 0o1777);
            ArtifactCache::open(&cache_dir, 1 << 20, KEY).expect("sticky parent");
            // Below it, a directory of ours others may write to without the sticky bit is not.
            let middle = parent.join("middle");
            fs::create_dir(&middle).expect("mkdir");
            chmod(&middle, 0o777);
            let err = ArtifactCache::open(middle.join("c"), 1 << 20, KEY).expect_err("middle");
            assert!(
                matches!(&err, ArtifactCacheError::NotPrivateUnderShared { parent: p, shared, .. }
                    if p == &fs::canonicalize(&middle).expect("canonical")
                        && (shared_above || shared == &fs::canonicalize(&parent).expect("canonical"))),
                "{err}"
            );
            chmod(&middle, 0o1777);
            ArtifactCache::open(middle.join("c"), 1 << 20, KEY).expect("sticky and ours");
        }
    }

    /// Directories owned by another user can only be made by root: as anyone else the cases
    /// below are skipped (they are the same comparisons of owners the other tests exercise).
    #[test]
    fn a_directory_or_parent_of_another_user_is_refused() {
        let euid = platform::euid();
        if euid != 0 {
            eprintln!("not root: cannot make a directory owned by another user, skipped");
            return;
        }
        const OTHER: u32 = 54_321;
        for (tree, shared_above) in trees() {
            let theirs = tree.path().join("theirs");
            fs::create_dir(&theirs).expect("mkdir");
            chmod(&theirs, 0o700);
            std::os::unix::fs::chown(&theirs, Some(OTHER), None).expect("chown");
            let err = ArtifactCache::open(&theirs, 1 << 20, KEY).expect_err("not ours");
            assert!(
                matches!(
                    err,
                    ArtifactCacheError::NotOwned {
                        owner: OTHER,
                        euid: 0,
                        ..
                    }
                ),
                "{err}"
            );

            // Our directory inside theirs: they could swap it.
            let ours = theirs.join("ours");
            fs::create_dir(&ours).expect("mkdir");
            chmod(&ours, 0o700);
            let err = ArtifactCache::open(&ours, 1 << 20, KEY).expect_err("their parent");
            assert!(
                refused_for(&err, &theirs, shared_above, |e| matches!(
                    e,
                    ArtifactCacheError::ParentNotOwned { owner: OTHER, .. }
                )),
                "{err}"
            );

            // Below a sticky shared directory, every directory must be ours.
            let shared = tree.path().join("shared");
            fs::create_dir(&shared).expect("mkdir");
            chmod(&shared, 0o1777);
            let middle = shared.join("middle");
            fs::create_dir(&middle).expect("mkdir");
            chmod(&middle, 0o755);
            std::os::unix::fs::chown(&middle, Some(OTHER), None).expect("chown");
            let err =
                ArtifactCache::open(middle.join("c"), 1 << 20, KEY).expect_err("their middle");
            assert!(
                matches!(
                    err,
                    ArtifactCacheError::NotPrivateUnderShared { owner: OTHER, .. }
                ),
                "{err}"
            );
            std::os::unix::fs::chown(&middle, Some(euid), None).expect("chown");
            ArtifactCache::open(middle.join("c"), 1 << 20, KEY).expect("ours again");
        }
    }

    #[test]
    fn a_foreign_artifact_is_refused_and_deleted() {
        if platform::euid() != 0 {
            eprintln!("not root: cannot make a file owned by another user, skipped");
            return;
        }
        let dir = tempdir();
        let cache = ArtifactCache::open(dir.path().join("c"), 1 << 30, KEY).expect("open");
        let engine = engine(true);
        let component = Component::new(&engine, EMPTY_COMPONENT).expect("compile");
        cache.store(&engine, &sha(1), &component);
        let path = artifacts(cache.dir()).remove(0);
        std::os::unix::fs::chown(&path, Some(54_321), None).expect("chown");
        assert!(cache.load(&engine, &sha(1)).is_none());
        assert_eq!(cache.stats().rejected, 1);
        assert!(!path.exists());
    }

    #[test]
    fn a_symlinked_artifact_is_refused_not_followed() {
        let dir = tempdir();
        let cache = ArtifactCache::open(dir.path().join("c"), 1 << 30, KEY).expect("open");
        let engine = engine(true);
        let component = Component::new(&engine, EMPTY_COMPONENT).expect("compile");
        // A perfectly good artifact elsewhere, linked to under the artifact's name.
        cache.store(&engine, &sha(1), &component);
        let path = artifacts(cache.dir()).remove(0);
        let elsewhere = dir.path().join("elsewhere.bin");
        fs::rename(&path, &elsewhere).expect("move");
        symlink(&elsewhere, &path).expect("symlink");
        assert!(
            cache.load(&engine, &sha(1)).is_none(),
            "the link is not followed"
        );
        assert_eq!(cache.stats().rejected, 1);
        assert!(
            fs::symlink_metadata(&path).is_err(),
            "the link itself is deleted"
        );
        assert!(elsewhere.exists(), "what it pointed to is left alone");
        // A directory under an artifact's name is no artifact either.
        fs::create_dir(&path).expect("mkdir");
        assert!(cache.load(&engine, &sha(1)).is_none());
        assert_eq!(cache.stats().rejected, 2);
        fs::remove_dir(&path).expect("rmdir");
        // Eviction does not count or follow links.
        symlink(&elsewhere, &path).expect("symlink");
        cache.store(&engine, &sha(2), &component);
        assert!(elsewhere.exists());
    }

    #[test]
    fn an_artifact_of_another_key_is_refused_and_recompiled() {
        let dir = tempdir();
        let engine = engine(true);
        let component = Component::new(&engine, EMPTY_COMPONENT).expect("compile");
        let a = ArtifactCache::open(dir.path(), 1 << 30, [0xa; 32]).expect("open");
        a.store(&engine, &sha(1), &component);
        assert!(a.load(&engine, &sha(1)).is_some());
        let b = ArtifactCache::open(dir.path(), 1 << 30, [0xb; 32]).expect("open");
        assert!(b.load(&engine, &sha(1)).is_none());
        assert_eq!(b.stats().rejected, 1);
        assert!(artifacts(dir.path()).is_empty(), "deleted");
        // Compiled again and stored under B's key, it is B's.
        b.store(&engine, &sha(1), &component);
        assert!(b.load(&engine, &sha(1)).is_some());
        assert!(a.load(&engine, &sha(1)).is_none());
    }

    #[test]
    fn tampered_artifacts_without_the_key_are_refused() {
        let dir = tempdir();
        let cache = ArtifactCache::open(dir.path(), 1 << 30, KEY).expect("open");
        let engine = engine(true);
        let component = Component::new(&engine, EMPTY_COMPONENT).expect("compile");
        cache.store(&engine, &sha(1), &component);
        let path = artifacts(dir.path()).remove(0);
        let good = fs::read(&path).expect("read");

        // One byte of code changed, and the plain sha256 of the result put where the MAC was:
        // all an attacker without the key could do (and what format 1 would have accepted).
        let mut bytes = good.clone();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        let digest = Sha256::digest(&bytes[HEADER_LEN..]);
        bytes[MAC_OFFSET..HEADER_LEN].copy_from_slice(&digest);
        fs::write(&path, &bytes).expect("write");
        assert!(cache.load(&engine, &sha(1)).is_none());
        assert!(!path.exists(), "deleted");

        // The same with the MAC left as it was.
        let mut bytes = good.clone();
        bytes[last] ^= 0x01;
        fs::write(&path, &bytes).expect("write");
        assert!(cache.load(&engine, &sha(1)).is_none());

        // A MAC under another key over the tampered bytes.
        let other = ArtifactCache::open(dir.path().join("other"), 1 << 30, [9; 32]).expect("open");
        let mac = other
            .mac(&bytes[..MAC_OFFSET], &bytes[HEADER_LEN..])
            .finalize()
            .into_bytes();
        bytes[MAC_OFFSET..HEADER_LEN].copy_from_slice(&mac);
        fs::write(&path, &bytes).expect("write");
        assert!(cache.load(&engine, &sha(1)).is_none());

        // A file of the previous format (magic LWCART01, a plain sha256): refused, deleted.
        let mut old = b"LWCART01".to_vec();
        old.extend_from_slice(&good[8..MAC_OFFSET]);
        old.extend_from_slice(&Sha256::digest(&good[HEADER_LEN..]));
        old.extend_from_slice(&good[HEADER_LEN..]);
        fs::write(&path, &old).expect("write");
        assert!(cache.load(&engine, &sha(1)).is_none());
        assert!(!path.exists(), "deleted");

        assert_eq!(cache.stats().rejected, 4);
        assert_eq!(cache.stats().hits, 0);
        // The good artifact still hits.
        fs::write(&path, &good).expect("write");
        assert!(cache.load(&engine, &sha(1)).is_some());
        assert_eq!(cache.stats().hits, 1);
    }

    #[test]
    fn the_key_is_derived_from_the_secret_with_a_label_and_never_printed() {
        let key = ArtifactCache::key_from_secret(b"secret one, at least 32 bytes long!");
        assert_eq!(
            key,
            ArtifactCache::key_from_secret(b"secret one, at least 32 bytes long!")
        );
        assert_ne!(
            key,
            ArtifactCache::key_from_secret(b"secret two, at least 32 bytes long!")
        );
        assert_ne!(key[..], b"secret one, at least 32 bytes long!"[..32]);
        let dir = tempdir();
        let cache = ArtifactCache::open(dir.path(), 1 << 20, [0xa5; 32]).expect("open");
        let printed = format!("{cache:?}");
        assert!(printed.contains("redacted"), "{printed}");
        assert!(!printed.contains("165"), "{printed}");
    }

    #[test]
    fn corrupt_truncated_and_misfiled_artifacts_are_refused_and_deleted() {
        let dir = tempdir();
        let cache = ArtifactCache::open(dir.path(), 1 << 30, KEY).expect("open");
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

        // Another component's artifact renamed to this one's name: its MAC verifies, its header
        // names the other component.
        cache.store(&engine, &sha(2), &component);
        let other = artifacts(dir.path()).remove(0);
        fs::rename(&other, &path).expect("rename");
        assert!(cache.load(&engine, &sha(1)).is_none());

        // Garbage with a valid header and MAC: wasmtime's own check refuses it.
        let payload = b"not native code at all".to_vec();
        let mut forged = MAGIC.to_vec();
        forged.extend_from_slice(&parse_sha256(&sha(1)).expect("sha"));
        forged.extend_from_slice(&engine_key(&engine));
        let mac = cache.mac(&forged, &payload).finalize().into_bytes();
        forged.extend_from_slice(&mac);
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
        let dir = tempdir();
        let cache = ArtifactCache::open(dir.path(), 1 << 30, KEY).expect("open");
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
        let dir = tempdir();
        let engine = engine(true);
        let component = Component::new(&engine, EMPTY_COMPONENT).expect("compile");
        let size = (HEADER_LEN + component.serialize().expect("serialize").len()) as u64;
        let cache = ArtifactCache::open(dir.path(), 3 * size, KEY).expect("open");
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
        let tiny = ArtifactCache::open(dir.path().join("tiny"), 10, KEY).expect("open");
        tiny.store(&engine, &sha(1), &component);
        assert!(artifacts(tiny.dir()).is_empty());
    }

    #[test]
    fn only_sha256_names_are_used() {
        let dir = tempdir();
        let cache = ArtifactCache::open(dir.path(), 1 << 30, KEY).expect("open");
        let engine = engine(true);
        let component = Component::new(&engine, EMPTY_COMPONENT).expect("compile");
        cache.store(&engine, "../../etc/passwd", &component);
        cache.store(&engine, &sha(0xab).to_uppercase(), &component);
        assert!(artifacts(dir.path()).is_empty());
        assert!(cache.load(&engine, "../x").is_none());
    }
}
