//! Component versions: uploads (stored content-addressed by sha256), activation and rollback.
//!
//! The registry stores bytes and metadata only; checking that the bytes are a valid
//! component is the server's job.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::apps::{App, app_by_id_on};
use crate::change::AuditRecord;
use crate::db::Registry;
use crate::error::{Quota, RegistryError, Result};
use crate::ids::AppId;
use crate::principal::Principal;
use crate::quotas::effective_quotas;
use crate::sql::{get_u64, sha256_hex, to_i64};

/// One uploaded version of an app's component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// The app.
    pub app_id: AppId,
    /// Sequential per app, from 1.
    pub number: u64,
    /// Hex sha256 of the component bytes (the blob's address).
    pub sha256: String,
    /// Size of the component in bytes.
    pub size: u64,
    /// The actor that uploaded it (`token:<id>` or `system:<label>`).
    pub uploaded_by: String,
    /// When, unix ms.
    pub created_at: i64,
}

const VERSION_COLUMNS: &str =
    "SELECT app_id, number, sha256, size, uploaded_by, created_at FROM versions";

impl Version {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(Version {
            app_id: AppId::from(row.try_get::<String, _>("app_id")?),
            number: get_u64(row, "number")?,
            sha256: row.try_get("sha256")?,
            size: get_u64(row, "size")?,
            uploaded_by: row.try_get("uploaded_by")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

/// The newest activation not undone: `(seq, version number)`.
async fn current_activation(conn: &mut AnyConnection, app: &AppId) -> Result<Option<(i64, i64)>> {
    let row = sqlx::query(
        "SELECT seq, version FROM activations WHERE app_id = $1 AND undone_at IS NULL \
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(app.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| Ok((row.try_get("seq")?, row.try_get("version")?)))
        .transpose()
}

async fn version_on(conn: &mut AnyConnection, app: &App, number: i64) -> Result<Version> {
    let row = sqlx::query(&format!(
        "{VERSION_COLUMNS} WHERE app_id = $1 AND number = $2"
    ))
    .bind(app.id.as_str())
    .bind(number)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| RegistryError::not_found(format!("version {}@{number}", app.path())))?;
    Version::from_row(&row)
}

/// Re-reads `app` inside a change and checks `by` may deploy it, against the stored tenant.
async fn authorize_deploy(conn: &mut AnyConnection, by: &Principal, app: &App) -> Result<App> {
    if !by.can_deploy(app) {
        return Err(RegistryError::Forbidden);
    }
    let stored = app_by_id_on(conn, &app.id).await?;
    if !by.can_deploy(&stored) {
        return Err(RegistryError::Forbidden);
    }
    Ok(stored)
}

impl Registry {
    /// Stores `bytes` as the next version of `app` (not activated). The bytes are kept once
    /// per distinct sha256, however many apps or versions upload them. Needs
    /// [`Principal::can_deploy`]; larger than the tenant's `max_component_bytes` gives
    /// [`RegistryError::QuotaExceeded`].
    pub async fn upload_version(&self, by: &Principal, app: &App, bytes: &[u8]) -> Result<Version> {
        if !by.can_deploy(app) {
            return Err(RegistryError::Forbidden);
        }
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        let sha256 = sha256_hex(bytes);
        let mut change = self.change().await?;
        let app = authorize_deploy(&mut change.tx, by, app).await?;
        let limit = effective_quotas(&mut change.tx, self.quota_defaults(), &app.tenant_id)
            .await?
            .max_component_bytes;
        if size > limit {
            return Err(RegistryError::QuotaExceeded {
                quota: Quota::MaxComponentBytes,
                limit,
            });
        }
        let size_i64 = to_i64("component size", size)?;
        let stored: Option<String> =
            sqlx::query_scalar("SELECT sha256 FROM blobs WHERE sha256 = $1")
                .bind(&sha256)
                .fetch_optional(&mut *change.tx)
                .await?;
        let new_blob = stored.is_none();
        if new_blob {
            sqlx::query(
                "INSERT INTO blobs (sha256, size, bytes, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (sha256) DO NOTHING",
            )
            .bind(&sha256)
            .bind(size_i64)
            .bind(bytes)
            .bind(change.at)
            .execute(&mut *change.tx)
            .await?;
        }
        let number: i64 = sqlx::query_scalar(
            "UPDATE apps SET last_version = last_version + 1 WHERE id = $1 RETURNING last_version",
        )
        .bind(app.id.as_str())
        .fetch_one(&mut *change.tx)
        .await?;
        let version = Version {
            app_id: app.id.clone(),
            number: u64::try_from(number).unwrap_or(0),
            sha256,
            size,
            uploaded_by: by.actor(),
            created_at: change.at,
        };
        sqlx::query(
            "INSERT INTO versions (app_id, number, sha256, size, uploaded_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(app.id.as_str())
        .bind(number)
        .bind(&version.sha256)
        .bind(size_i64)
        .bind(&version.uploaded_by)
        .bind(version.created_at)
        .execute(&mut *change.tx)
        .await?;
        change
            .commit(AuditRecord::new(
                by,
                "version.upload",
                format!("version:{}@{number}", app.path()),
                Some(&app.tenant_id),
                json!({
                    "app_id": app.id,
                    "number": number,
                    "sha256": version.sha256,
                    "size": size,
                    "new_blob": new_blob,
                }),
            ))
            .await?;
        Ok(version)
    }

    /// Makes version `number` of `app` the active one (any existing version, earlier or
    /// later). Activating the version already active changes nothing. Needs
    /// [`Principal::can_deploy`].
    pub async fn activate(&self, by: &Principal, app: &App, number: u64) -> Result<Version> {
        if !by.can_deploy(app) {
            return Err(RegistryError::Forbidden);
        }
        let number = to_i64("version number", number)?;
        let mut change = self.change().await?;
        let app = authorize_deploy(&mut change.tx, by, app).await?;
        let version = version_on(&mut change.tx, &app, number).await?;
        let current = current_activation(&mut change.tx, &app.id).await?;
        if current.map(|(_, v)| v) == Some(number) {
            return Ok(version);
        }
        let seq: i64 = sqlx::query_scalar(
            "UPDATE apps SET last_activation = last_activation + 1 WHERE id = $1 \
             RETURNING last_activation",
        )
        .bind(app.id.as_str())
        .fetch_one(&mut *change.tx)
        .await?;
        sqlx::query(
            "INSERT INTO activations (app_id, seq, version, activated_by, activated_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(app.id.as_str())
        .bind(seq)
        .bind(number)
        .bind(by.actor())
        .bind(change.at)
        .execute(&mut *change.tx)
        .await?;
        change
            .commit(AuditRecord::new(
                by,
                "version.activate",
                format!("version:{}@{number}", app.path()),
                Some(&app.tenant_id),
                json!({ "app_id": app.id, "from": current.map(|(_, v)| v), "to": number }),
            ))
            .await?;
        Ok(version)
    }

    /// Re-activates the version that was active before the current one and returns it.
    /// Activations form a stack: each rollback undoes the newest activation, so rolling back
    /// twice after activating 1, 2, 3 leaves 1 active. Fails with
    /// [`RegistryError::NotFound`] when there is nothing to roll back to.
    pub async fn rollback(&self, by: &Principal, app: &App) -> Result<Version> {
        if !by.can_deploy(app) {
            return Err(RegistryError::Forbidden);
        }
        let mut change = self.change().await?;
        let app = authorize_deploy(&mut change.tx, by, app).await?;
        let no_previous =
            || RegistryError::not_found(format!("previous version of app {}", app.path()));
        let (seq, from) = current_activation(&mut change.tx, &app.id)
            .await?
            .ok_or_else(no_previous)?;
        let previous: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM activations WHERE app_id = $1 AND undone_at IS NULL \
             AND seq < $2 ORDER BY seq DESC LIMIT 1",
        )
        .bind(app.id.as_str())
        .bind(seq)
        .fetch_optional(&mut *change.tx)
        .await?;
        let to = previous.ok_or_else(no_previous)?;
        sqlx::query("UPDATE activations SET undone_at = $1 WHERE app_id = $2 AND seq = $3")
            .bind(change.at)
            .bind(app.id.as_str())
            .bind(seq)
            .execute(&mut *change.tx)
            .await?;
        let version = version_on(&mut change.tx, &app, to).await?;
        change
            .commit(AuditRecord::new(
                by,
                "version.rollback",
                format!("version:{}@{to}", app.path()),
                Some(&app.tenant_id),
                json!({ "app_id": app.id, "from": from, "to": to }),
            ))
            .await?;
        Ok(version)
    }

    /// The active version of `app`, if one was ever activated.
    pub async fn active_version(&self, app: &App) -> Result<Option<Version>> {
        let mut conn = self.pool.acquire().await?;
        match current_activation(&mut conn, &app.id).await? {
            Some((_, number)) => Ok(Some(version_on(&mut conn, app, number).await?)),
            None => Ok(None),
        }
    }

    /// Version `number` of `app`.
    pub async fn version(&self, app: &App, number: u64) -> Result<Version> {
        let number = to_i64("version number", number)?;
        let mut conn = self.pool.acquire().await?;
        version_on(&mut conn, app, number).await
    }

    /// All versions of `app`, oldest first.
    pub async fn versions(&self, app: &App) -> Result<Vec<Version>> {
        sqlx::query(&format!(
            "{VERSION_COLUMNS} WHERE app_id = $1 ORDER BY number"
        ))
        .bind(app.id.as_str())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(Version::from_row)
        .collect()
    }

    /// The component bytes stored under a hex sha256.
    pub async fn component_bytes(&self, sha256: &str) -> Result<Vec<u8>> {
        sqlx::query_scalar("SELECT bytes FROM blobs WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| RegistryError::not_found(format!("component {sha256}")))
    }

    /// The active version of `app` with its bytes, which is what a host loads to serve it.
    pub async fn active_component(&self, app: &App) -> Result<Option<(Version, Vec<u8>)>> {
        match self.active_version(app).await? {
            Some(version) => {
                let bytes = self.component_bytes(&version.sha256).await?;
                Ok(Some((version, bytes)))
            }
            None => Ok(None),
        }
    }
}
