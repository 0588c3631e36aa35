//! Livewasm's registry: the host's durable record of tenants, their apps, API tokens,
//! uploaded component versions (content-addressed by sha256), which version each app serves,
//! per-tenant quotas, and an audit log of every change.
//!
//! It runs on an embedded SQLite file by default and on Postgres when given a `postgres://`
//! URL, with one set of migrations and one API for both ([`Registry::open`]). Mutating calls
//! take the acting [`Principal`] (from [`Registry::authenticate`] or [`Principal::system`]),
//! refuse with [`RegistryError::Forbidden`] what its token's [`Scope`] does not allow, and
//! record an [`AuditEntry`] in the same transaction. Read calls are not checked: the server
//! decides what to show to whom with the `Principal::can_*` helpers.
//!
//! The registry stores component bytes and metadata only; it does not validate wasm.
//!
//! It also keeps a durable key-value store per scope (an opaque string the server chooses,
//! e.g. an app id) for the views of tenant apps: [`Registry::kv_get`], [`Registry::kv_set`]
//! and the other `kv_*` calls, held to [`KvLimits`]. Those are app data, not registry
//! changes: they take no principal and write no audit row.
//!
//! Likewise it keeps named blobs per scope, files an app stores and the server serves back:
//! [`Registry::blob_put`], [`Registry::blob_get`] and the other `blob_*` calls, held to
//! [`BlobLimits`]; app data too, with no principal and no audit row.
//!
//! And per tenant, the operator's allowlist of hosts the tenant's apps may send HTTP requests
//! to: [`Registry::http_allowlist`] and [`Registry::set_http_allowlist`] (operators only,
//! audited), each entry checked by [`normalize_http_host`].

// Modules, from the top down; each imports only from the lines below it:
//   versions, tokens   uploads and activation; API tokens
//   kv, blobs          per-scope key-value store and blobs (app data; no audit rows)
//   apps               apps (checks quotas)
//   quotas, tenants,   quota overrides in the store; tenants;
//   http_allow         per-tenant HTTP allowlists
//   change, audit,     a transaction with its audit row; reading the log;
//   changes            telling hosts what changed (sequence numbers, NOTIFY)
//   db                 opening the store (Registry, Backend, migrations)
//   principal, sql,    who acts and what they may do; ids, clock and column helpers;
//   names, limits,     name rules; quota values;
//   error, ids         the error type; typed ids
mod apps;
mod audit;
mod blobs;
mod change;
mod changes;
mod db;
mod error;
mod http_allow;
mod ids;
mod kv;
mod limits;
mod names;
mod principal;
mod quotas;
mod sql;
mod tenants;
mod tokens;
mod versions;

pub use apps::App;
pub use audit::{AuditEntry, AuditQuery, DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT};
pub use blobs::{BlobInfo, BlobLimits, BlobUsage};
pub use changes::{CHANGES_CHANNEL, ChangeListener, Changes};
pub use db::{Backend, Registry, ping_when_idle};
pub use error::{Quota, RegistryError, Result};
pub use http_allow::{MAX_HTTP_ALLOWLIST_ENTRIES, normalize_http_host};
pub use ids::{AppId, TenantId, TokenId};
pub use kv::{KvLimits, KvUsage};
pub use limits::{QuotaDefaults, QuotaOverrides, Quotas};
pub use names::{MAX_NAME_LEN, validate_name};
pub use principal::{Principal, Scope};
pub use sql::sha256_hex;
pub use tenants::Tenant;
pub use tokens::{LAST_USED_RESOLUTION_MS, NewToken, TOKEN_PREFIX, TokenInfo, token_hash};
pub use versions::Version;
