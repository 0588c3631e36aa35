//! The registry's error type.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A limit, as named in [`RegistryError::QuotaExceeded`]: a per-tenant quota, or one of the
/// limits a key-value scope (`KvKeys`, `KvBytes`) or a blob scope (`BlobCount`, `BlobBytes`)
/// is held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quota {
    /// Number of apps a tenant may have.
    MaxApps,
    /// Size in bytes of one uploaded component.
    MaxComponentBytes,
    /// Component instances (connected sockets) running at once for a tenant.
    MaxConcurrentInstances,
    /// Linear memory of one instance, in MiB.
    MemoryMibPerInstance,
    /// Fuel granted to one guest callback.
    FuelPerCallback,
    /// Number of keys one key-value scope may hold
    /// ([`KvLimits::max_keys`](crate::KvLimits::max_keys)).
    KvKeys,
    /// Bytes one key-value scope may hold, counting every key and value
    /// ([`KvLimits::max_bytes`](crate::KvLimits::max_bytes)).
    KvBytes,
    /// Number of blobs one blob scope may hold
    /// ([`BlobLimits::max_blobs`](crate::BlobLimits::max_blobs)).
    BlobCount,
    /// Bytes one blob scope may hold, summed over its blobs' sizes
    /// ([`BlobLimits::max_bytes`](crate::BlobLimits::max_bytes)).
    BlobBytes,
}

impl Quota {
    /// The quota's stable snake_case name (for the per-tenant quotas, also their column name).
    pub fn name(self) -> &'static str {
        match self {
            Quota::MaxApps => "max_apps",
            Quota::MaxComponentBytes => "max_component_bytes",
            Quota::MaxConcurrentInstances => "max_concurrent_instances",
            Quota::MemoryMibPerInstance => "memory_mib_per_instance",
            Quota::FuelPerCallback => "fuel_per_callback",
            Quota::KvKeys => "kv_keys",
            Quota::KvBytes => "kv_bytes",
            Quota::BlobCount => "blob_count",
            Quota::BlobBytes => "blob_bytes",
        }
    }
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything a registry operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The named thing does not exist (or is not visible).
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, e.g. `app acme/blog`.
        what: String,
    },
    /// A thing with that name already exists.
    #[error("{what} already exists")]
    AlreadyExists {
        /// What collided, e.g. `tenant acme`.
        what: String,
    },
    /// A tenant or app name is not a valid DNS label.
    #[error("invalid {kind} name {name:?}: {reason}")]
    InvalidName {
        /// `tenant` or `app`.
        kind: &'static str,
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// Some other argument is out of range or malformed (a database URL, a quota value...).
    #[error("invalid {what}: {reason}")]
    InvalidValue {
        /// Which argument.
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// An entry of a tenant's HTTP allowlist is not a host (or `host:port`) as
    /// [`normalize_http_host`](crate::normalize_http_host) accepts it.
    #[error("invalid HTTP allowlist entry {entry:?}: {reason}")]
    InvalidHttpHost {
        /// The rejected entry, as given.
        entry: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A tenant's HTTP allowlist would have more entries (after removing duplicates) than
    /// [`MAX_HTTP_ALLOWLIST_ENTRIES`](crate::MAX_HTTP_ALLOWLIST_ENTRIES).
    #[error("too many HTTP allowlist entries: {given} given, at most {limit} allowed per tenant")]
    TooManyHttpHosts {
        /// How many distinct entries were given.
        given: usize,
        /// The limit.
        limit: usize,
    },
    /// The change would exceed one of the tenant's quotas, or a key-value or blob scope's
    /// limits.
    #[error("quota {quota} exceeded (limit {limit})")]
    QuotaExceeded {
        /// Which quota.
        quota: Quota,
        /// The effective limit (the tenant's, or the one the key-value or blob write was
        /// given).
        limit: u64,
    },
    /// The principal may not do this.
    #[error("forbidden")]
    Forbidden,
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Running the migrations failed.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// `Result` with [`RegistryError`].
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

impl RegistryError {
    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        RegistryError::NotFound { what: what.into() }
    }

    pub(crate) fn already_exists(what: impl Into<String>) -> Self {
        RegistryError::AlreadyExists { what: what.into() }
    }
}

/// Maps a unique-constraint violation to [`RegistryError::AlreadyExists`], anything else to
/// [`RegistryError::Database`].
pub(crate) fn unique_violation_as(
    what: impl FnOnce() -> String,
) -> impl FnOnce(sqlx::Error) -> RegistryError {
    move |err| match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            RegistryError::already_exists(what())
        }
        _ => RegistryError::Database(err),
    }
}
