//! One transaction per change, with its audit row: [`Registry::change`] opens it and takes the
//! next audit sequence number, [`Change::commit`] writes the [`AuditRecord`] and commits.
//! Reading the log back is `audit.rs`'s job; telling other hosts, `changes.rs`'s.

use serde_json::Value;
use sqlx::{Any, Transaction};

use crate::changes::CHANGES_CHANNEL;
use crate::db::{Backend, Registry};
use crate::error::{RegistryError, Result};
use crate::ids::TenantId;
use crate::principal::Principal;
use crate::sql::now_ms;

impl Registry {
    /// Starts a change: a transaction whose first statement takes the next audit sequence
    /// number. Being a write, it takes the write lock up front (SQLite) or the counter's row
    /// lock (Postgres), so changes are serialized and checks made inside them (quotas,
    /// uniqueness, version numbers) hold until commit.
    pub(crate) async fn change(&self) -> Result<Change> {
        let mut tx = self.pool.begin().await?;
        let seq: i64 = sqlx::query_scalar(
            "UPDATE counters SET value = value + 1 WHERE name = 'audit' RETURNING value",
        )
        .fetch_one(&mut *tx)
        .await?;
        Ok(Change {
            tx,
            seq,
            at: now_ms(),
            notify: self.backend() == Backend::Postgres,
        })
    }
}

/// An open write transaction; [`Change::commit`] writes its audit row and commits. Dropping it
/// rolls everything back.
pub(crate) struct Change {
    pub(crate) tx: Transaction<'static, Any>,
    seq: i64,
    /// The change's timestamp (unix ms), used for every row it writes.
    pub(crate) at: i64,
    /// Whether committing also notifies listening hosts (Postgres).
    notify: bool,
}

impl Change {
    /// The name of `tenant`, read inside this change (so it cannot go away before commit);
    /// [`RegistryError::NotFound`] when there is no such tenant.
    pub(crate) async fn tenant_name(&mut self, tenant: &TenantId) -> Result<String> {
        sqlx::query_scalar("SELECT name FROM tenants WHERE id = $1")
            .bind(tenant.as_str())
            .fetch_optional(&mut *self.tx)
            .await?
            .ok_or_else(|| RegistryError::not_found(format!("tenant {tenant}")))
    }

    /// Writes `record` as this change's audit row (with the change's sequence number and
    /// timestamp) and commits the transaction.
    pub(crate) async fn commit(mut self, record: AuditRecord) -> Result<()> {
        let detail = record.detail.to_string();
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, action, target, tenant_id, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(self.seq)
        .bind(self.at)
        .bind(record.actor)
        .bind(record.action)
        .bind(record.target)
        .bind(record.tenant_id)
        .bind(detail)
        .execute(&mut *self.tx)
        .await?;
        if self.notify {
            // Delivered to listening hosts when (and only if) the transaction commits. The
            // payload is our own number, so it can be written into the statement.
            sqlx::query(&format!("NOTIFY {CHANGES_CHANNEL}, '{}'", self.seq))
                .execute(&mut *self.tx)
                .await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}

/// What a change writes into its audit row.
pub(crate) struct AuditRecord {
    pub(crate) actor: String,
    pub(crate) action: &'static str,
    pub(crate) target: String,
    pub(crate) tenant_id: Option<String>,
    pub(crate) detail: Value,
}

impl AuditRecord {
    /// The record of `by` doing `action` to `target` (in `tenant`, if any), with `detail`.
    pub(crate) fn new(
        by: &Principal,
        action: &'static str,
        target: String,
        tenant: Option<&TenantId>,
        detail: Value,
    ) -> Self {
        AuditRecord {
            actor: by.actor(),
            action,
            target,
            tenant_id: tenant.map(|t| t.as_str().to_owned()),
            detail,
        }
    }
}
