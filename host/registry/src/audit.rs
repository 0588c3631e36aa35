//! The audit log: one row per change (who, what, target, when, JSON detail), and reading it.
//! Rows are written by `change.rs`, in the transaction of the change they record.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::db::Registry;
use crate::error::{RegistryError, Result};
use crate::ids::TenantId;
use crate::principal::Principal;
use crate::sql::{get_u64, to_i64};

/// How many entries [`Registry::audit_log`] returns when [`AuditQuery::limit`] is 0.
pub const DEFAULT_AUDIT_LIMIT: u32 = 100;

/// The most entries [`Registry::audit_log`] returns at once; a larger limit is lowered to it.
pub const MAX_AUDIT_LIMIT: u32 = 1000;

/// One recorded change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log; strictly increasing, one per change.
    pub seq: u64,
    /// When, in unix milliseconds.
    pub at: i64,
    /// Who: `token:<token id>` or `system:<label>`.
    pub actor: String,
    /// What, e.g. `tenant.create`, `version.upload`, `token.revoke`.
    pub action: String,
    /// What it was done to, e.g. `tenant:acme`, `app:acme/blog`, `version:acme/blog@3`.
    pub target: String,
    /// The tenant the change belongs to, if any.
    pub tenant_id: Option<TenantId>,
    /// Action-specific detail.
    pub detail: serde_json::Value,
}

/// Which entries [`Registry::audit_log`] returns: newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only this tenant's entries; `None` means all (operators only).
    pub tenant: Option<TenantId>,
    /// Only entries older than this sequence number (for paging: pass the `seq` of the last
    /// entry of the previous page).
    pub before_seq: Option<u64>,
    /// At most this many entries; 0 means [`DEFAULT_AUDIT_LIMIT`], and more than
    /// [`MAX_AUDIT_LIMIT`] means that many.
    pub limit: u32,
}

impl Registry {
    /// Reads the audit log, newest first. Operators may read everything; a tenant principal
    /// only its own tenant's entries (`query.tenant` must name it).
    pub async fn audit_log(&self, by: &Principal, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        match &query.tenant {
            None if !by.is_operator() => return Err(RegistryError::Forbidden),
            Some(tenant) if !by.can_manage_tenant(tenant) => return Err(RegistryError::Forbidden),
            _ => {}
        }
        let before = match query.before_seq {
            Some(seq) => to_i64("before_seq", seq)?,
            None => i64::MAX,
        };
        let limit = i64::from(match query.limit {
            0 => DEFAULT_AUDIT_LIMIT,
            n => n.min(MAX_AUDIT_LIMIT),
        });
        let rows = match &query.tenant {
            Some(tenant) => {
                sqlx::query(
                    "SELECT seq, at, actor, action, target, tenant_id, detail FROM audit_log \
                     WHERE tenant_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
                )
                .bind(tenant.as_str())
                .bind(before)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT seq, at, actor, action, target, tenant_id, detail FROM audit_log \
                     WHERE seq < $1 ORDER BY seq DESC LIMIT $2",
                )
                .bind(before)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter()
            .map(|row| {
                let detail: String = row.try_get("detail")?;
                Ok(AuditEntry {
                    seq: get_u64(row, "seq")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    target: row.try_get("target")?,
                    tenant_id: row
                        .try_get::<Option<String>, _>("tenant_id")?
                        .map(TenantId::from),
                    detail: serde_json::from_str(&detail)
                        .unwrap_or(serde_json::Value::String(detail)),
                })
            })
            .collect()
    }
}
