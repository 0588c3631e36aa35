//! The host's temp area for upload chunks: one private directory per host process, and byte
//! budgets per tenant and per host that every entry reserves before its first byte arrives.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tempfile::{NamedTempFile, TempDir};
use thiserror::Error;

/// Limits of uploads on a host.
#[derive(Debug, Clone)]
pub struct UploadLimits {
    /// Largest single file, whatever a view allows.
    pub max_file_bytes: u64,
    /// Bytes the uploads in progress of one tenant may hold at once.
    pub max_tenant_bytes: u64,
    /// Bytes the uploads in progress on the host may hold at once.
    pub max_host_bytes: u64,
    /// Entries one view may hold at once (preflighted, not yet consumed or cancelled).
    pub max_entries_per_view: usize,
    /// Where the temp area is created (default: the system's temp directory).
    pub dir: Option<PathBuf>,
    /// Longest wait for an entry's next chunk (a view's `chunk_timeout` is capped to it);
    /// an entry silent for longer is dropped.
    pub max_chunk_timeout: Duration,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            max_file_bytes: 64 << 20,
            max_tenant_bytes: 256 << 20,
            max_host_bytes: 1 << 30,
            max_entries_per_view: 32,
            dir: None,
            max_chunk_timeout: Duration::from_secs(60),
        }
    }
}

/// Why an upload could not get space.
#[derive(Debug, Error)]
pub enum SpaceError {
    /// The tenant's budget is used up by its uploads in progress.
    #[error("the tenant's uploads in progress already hold {used} of {limit} bytes")]
    Tenant {
        /// Bytes held.
        used: u64,
        /// The tenant's limit.
        limit: u64,
    },
    /// The host's budget is used up.
    #[error("the host's uploads in progress already hold {used} of {limit} bytes")]
    Host {
        /// Bytes held.
        used: u64,
        /// The host's limit.
        limit: u64,
    },
    /// The temp area could not be created or written.
    #[error("upload storage: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Default)]
struct Usage {
    total: u64,
    tenants: HashMap<String, u64>,
}

/// The temp area and its budgets, shared by every socket of a host.
#[derive(Debug)]
pub(crate) struct UploadSpace {
    limits: UploadLimits,
    dir: Mutex<Option<TempDir>>,
    usage: Mutex<Usage>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl UploadSpace {
    /// A space with `limits`; its directory is created on first use.
    pub(crate) fn new(limits: UploadLimits) -> Arc<UploadSpace> {
        Arc::new(UploadSpace {
            limits,
            dir: Mutex::new(None),
            usage: Mutex::new(Usage::default()),
        })
    }

    /// The limits.
    pub(crate) fn limits(&self) -> &UploadLimits {
        &self.limits
    }

    /// Bytes reserved on the whole host.
    pub(crate) fn used(&self) -> u64 {
        lock(&self.usage).total
    }

    /// Reserves `bytes` for one entry of `tenant`; given back when the reservation drops.
    pub(crate) fn reserve(
        self: &Arc<Self>,
        tenant: &str,
        bytes: u64,
    ) -> Result<Reservation, SpaceError> {
        let mut usage = lock(&self.usage);
        let held = usage.tenants.get(tenant).copied().unwrap_or(0);
        if held.saturating_add(bytes) > self.limits.max_tenant_bytes {
            return Err(SpaceError::Tenant {
                used: held,
                limit: self.limits.max_tenant_bytes,
            });
        }
        if usage.total.saturating_add(bytes) > self.limits.max_host_bytes {
            return Err(SpaceError::Host {
                used: usage.total,
                limit: self.limits.max_host_bytes,
            });
        }
        usage.total += bytes;
        *usage.tenants.entry(tenant.to_string()).or_insert(0) += bytes;
        Ok(Reservation {
            space: self.clone(),
            tenant: tenant.to_string(),
            bytes,
        })
    }

    /// A new empty file in the temp area, deleted when dropped.
    pub(crate) fn new_file(&self) -> Result<NamedTempFile, SpaceError> {
        let mut dir = lock(&self.dir);
        if dir.is_none() {
            let base = self.limits.dir.clone().unwrap_or_else(std::env::temp_dir);
            std::fs::create_dir_all(&base)?;
            *dir = Some(
                tempfile::Builder::new()
                    .prefix("livewasm-uploads-")
                    .tempdir_in(base)?,
            );
        }
        let path = dir
            .as_ref()
            .map(|d| d.path().to_path_buf())
            .unwrap_or_default();
        Ok(tempfile::Builder::new()
            .prefix("entry-")
            .tempfile_in(path)?)
    }

    /// The temp area's directory, once created.
    pub(crate) fn dir(&self) -> Option<PathBuf> {
        lock(&self.dir).as_ref().map(|d| d.path().to_path_buf())
    }
}

/// Bytes held for one entry; returned to the budgets when dropped.
#[derive(Debug)]
pub(crate) struct Reservation {
    space: Arc<UploadSpace>,
    tenant: String,
    bytes: u64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut usage = lock(&self.space.usage);
        usage.total = usage.total.saturating_sub(self.bytes);
        if let Some(held) = usage.tenants.get_mut(&self.tenant) {
            *held = held.saturating_sub(self.bytes);
            if *held == 0 {
                usage.tenants.remove(&self.tenant);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_per_tenant_and_per_host_and_come_back() {
        let space = UploadSpace::new(UploadLimits {
            max_tenant_bytes: 100,
            max_host_bytes: 150,
            ..UploadLimits::default()
        });
        let a = space.reserve("a", 60).expect("fits");
        assert!(matches!(
            space.reserve("a", 41),
            Err(SpaceError::Tenant { .. })
        ));
        let b = space.reserve("b", 90).expect("fits");
        assert!(matches!(
            space.reserve("c", 1),
            Err(SpaceError::Host { .. })
        ));
        drop(a);
        drop(b);
        assert_eq!(space.used(), 0);
        space.reserve("a", 100).expect("all of it again");
    }

    #[test]
    fn files_live_in_a_private_directory_removed_with_the_space() {
        let space = UploadSpace::new(UploadLimits::default());
        let file = space.new_file().expect("file");
        let dir = space.dir().expect("created");
        assert!(file.path().starts_with(&dir));
        drop(file);
        drop(space);
        assert!(!dir.exists());
    }
}
