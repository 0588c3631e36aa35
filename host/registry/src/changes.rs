//! How the hosts sharing one registry learn that it changed. Every change takes the next
//! audit sequence number (`change.rs`), and changes commit in that order, so a host compares
//! the newest number with the one it last acted on ([`Registry::change_seq`]) and reads which
//! tenants the changes in between touched ([`Registry::changes_since`]). On Postgres each
//! change also sends a `NOTIFY` on [`CHANGES_CHANNEL`] as it commits: a host listening with
//! [`Registry::listen_for_changes`] hears of it at once instead of at its next poll.

use sqlx::Row;
use sqlx::postgres::PgListener;

use crate::db::{Backend, Registry};
use crate::error::Result;
use crate::ids::TenantId;

/// The Postgres notification channel a committed change is announced on (the payload is its
/// sequence number).
pub const CHANGES_CHANNEL: &str = "livewasm_registry";

/// Past this many changed tenants, [`Changes::everything`] is set instead of a list.
const MAX_LISTED_TENANTS: usize = 1000;

/// What changed after a sequence number, up to [`Changes::seq`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// The newest change included; pass it to the next [`Registry::changes_since`].
    pub seq: i64,
    /// The tenants whose apps, versions, quotas or allowlists may differ now.
    pub tenants: Vec<TenantId>,
    /// Something changed that is not one tenant's (or too many tenants did): look at all.
    pub everything: bool,
}

impl Changes {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.tenants.is_empty() && !self.everything
    }
}

impl Registry {
    /// The sequence number of the newest committed change (0 for a new registry).
    pub async fn change_seq(&self) -> Result<i64> {
        let seq: i64 = sqlx::query_scalar("SELECT value FROM counters WHERE name = 'audit'")
            .fetch_one(&self.pool)
            .await?;
        Ok(seq)
    }

    /// What changed after change `seq` (as [`Registry::change_seq`] or an earlier
    /// [`Changes::seq`] gave it).
    pub async fn changes_since(&self, seq: i64) -> Result<Changes> {
        let now = self.change_seq().await?;
        if now <= seq {
            return Ok(Changes {
                seq: now,
                tenants: Vec::new(),
                everything: now < seq,
            });
        }
        let rows = sqlx::query(
            "SELECT DISTINCT tenant_id FROM audit_log WHERE seq > $1 AND seq <= $2 LIMIT $3",
        )
        .bind(seq)
        .bind(now)
        .bind(MAX_LISTED_TENANTS as i64 + 1)
        .fetch_all(&self.pool)
        .await?;
        let mut everything = rows.len() > MAX_LISTED_TENANTS;
        let mut tenants = Vec::with_capacity(rows.len());
        for row in &rows {
            match row.try_get::<Option<String>, _>(0)? {
                Some(id) => tenants.push(TenantId::from(id)),
                None => everything = true,
            }
        }
        if everything {
            tenants.clear();
        }
        tenants.sort();
        Ok(Changes {
            seq: now,
            tenants,
            everything,
        })
    }

    /// On Postgres, a listener that wakes up as soon as a change commits (from any host); `None`
    /// on SQLite, where hosts poll [`Registry::change_seq`].
    pub async fn listen_for_changes(&self) -> Result<Option<ChangeListener>> {
        if self.backend() != Backend::Postgres {
            return Ok(None);
        }
        let mut listener = PgListener::connect(&self.url).await?;
        listener.listen(CHANGES_CHANNEL).await?;
        Ok(Some(ChangeListener { listener }))
    }
}

/// A connection listening for committed changes ([`Registry::listen_for_changes`]).
pub struct ChangeListener {
    listener: PgListener,
}

impl std::fmt::Debug for ChangeListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangeListener")
    }
}

impl ChangeListener {
    /// Waits for the next change notification. A lost connection is reopened (notifications
    /// sent meanwhile are lost: poll [`Registry::changes_since`] after this returns anyway).
    pub async fn next(&mut self) -> Result<()> {
        self.listener.recv().await?;
        Ok(())
    }
}
