//! Apps: a tenant's deployable units, each served on its own origin.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::change::AuditRecord;
use crate::db::Registry;
use crate::error::{Quota, RegistryError, Result, unique_violation_as};
use crate::ids::{AppId, TenantId};
use crate::names::validate_name;
use crate::principal::Principal;
use crate::quotas::effective_quotas;
use crate::sql::new_id;

/// An app of a tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    /// Its id.
    pub id: AppId,
    /// The tenant it belongs to.
    pub tenant_id: TenantId,
    /// That tenant's name.
    pub tenant_name: String,
    /// Its name, a DNS label unique within the tenant.
    pub name: String,
    /// When it was created, unix ms.
    pub created_at: i64,
}

const APP_COLUMNS: &str = "SELECT a.id, a.tenant_id, t.name AS tenant_name, a.name, a.created_at \
     FROM apps a JOIN tenants t ON t.id = a.tenant_id";

impl App {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(App {
            id: AppId::from(row.try_get::<String, _>("id")?),
            tenant_id: TenantId::from(row.try_get::<String, _>("tenant_id")?),
            tenant_name: row.try_get("tenant_name")?,
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
        })
    }

    /// `tenant/app`, as used in errors and audit targets.
    pub fn path(&self) -> String {
        format!("{}/{}", self.tenant_name, self.name)
    }
}

/// Reads an app by id on `conn` (inside a change, so authorization sees the stored tenant).
pub(crate) async fn app_by_id_on(conn: &mut AnyConnection, id: &AppId) -> Result<App> {
    let row = sqlx::query(&format!("{APP_COLUMNS} WHERE a.id = $1"))
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| RegistryError::not_found(format!("app {id}")))?;
    App::from_row(&row)
}

impl Registry {
    /// Creates an app in `tenant`. Needs a principal that manages the tenant; fails with
    /// [`RegistryError::QuotaExceeded`] when the tenant already has `max_apps` apps.
    pub async fn create_app(&self, by: &Principal, tenant: &TenantId, name: &str) -> Result<App> {
        if !by.can_manage_tenant(tenant) {
            return Err(RegistryError::Forbidden);
        }
        validate_name("app", name)?;
        let mut change = self.change().await?;
        let tenant_name = change.tenant_name(tenant).await?;
        let limit = effective_quotas(&mut change.tx, self.quota_defaults(), tenant)
            .await?
            .max_apps;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM apps WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_one(&mut *change.tx)
            .await?;
        if u64::try_from(count).unwrap_or(0) >= limit {
            return Err(RegistryError::QuotaExceeded {
                quota: Quota::MaxApps,
                limit,
            });
        }
        let app = App {
            id: AppId::from(new_id("app")),
            tenant_id: tenant.clone(),
            tenant_name,
            name: name.to_owned(),
            created_at: change.at,
        };
        sqlx::query("INSERT INTO apps (id, tenant_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(app.id.as_str())
            .bind(tenant.as_str())
            .bind(name)
            .bind(app.created_at)
            .execute(&mut *change.tx)
            .await
            .map_err(unique_violation_as(|| format!("app {}", app.path())))?;
        change
            .commit(AuditRecord::new(
                by,
                "app.create",
                format!("app:{}", app.path()),
                Some(tenant),
                json!({ "app_id": app.id, "name": name }),
            ))
            .await?;
        Ok(app)
    }

    /// Deletes `app` with everything that belongs to it, in one transaction: its versions,
    /// its activation history, the deploy tokens scoped to it (deleted, not revoked: a token
    /// row must reference an existing app), the app itself, its key-value data and its own
    /// blobs (the `kv` and blob scopes named by its id), and every component blob no
    /// other version still references. The name is free again afterwards and the app no
    /// longer counts against `max_apps`. Needs a principal that manages the app's tenant
    /// ([`Principal::can_manage_tenant`]); deploy tokens may not delete.
    pub async fn delete_app(&self, by: &Principal, app: &App) -> Result<()> {
        if !by.can_manage_tenant(&app.tenant_id) {
            return Err(RegistryError::Forbidden);
        }
        let mut change = self.change().await?;
        let app = app_by_id_on(&mut change.tx, &app.id).await?;
        if !by.can_manage_tenant(&app.tenant_id) {
            return Err(RegistryError::Forbidden);
        }
        let id = app.id.as_str();
        let shas: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT sha256 FROM versions WHERE app_id = $1")
                .bind(id)
                .fetch_all(&mut *change.tx)
                .await?;
        let activations = sqlx::query("DELETE FROM activations WHERE app_id = $1")
            .bind(id)
            .execute(&mut *change.tx)
            .await?
            .rows_affected();
        let versions = sqlx::query("DELETE FROM versions WHERE app_id = $1")
            .bind(id)
            .execute(&mut *change.tx)
            .await?
            .rows_affected();
        let tokens = sqlx::query("DELETE FROM api_tokens WHERE app_id = $1")
            .bind(id)
            .execute(&mut *change.tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM apps WHERE id = $1")
            .bind(id)
            .execute(&mut *change.tx)
            .await?;
        // The app's key-value data (its `kv` scope is its id), the usage row locked first as
        // every kv write does, so a write in flight is deleted here or starts afresh after.
        sqlx::query(
            "INSERT INTO kv_usage (scope, keys, bytes) VALUES ($1, 0, 0) \
             ON CONFLICT (scope) DO UPDATE SET keys = kv_usage.keys",
        )
        .bind(id)
        .execute(&mut *change.tx)
        .await?;
        let kv_keys = sqlx::query("DELETE FROM kv_entries WHERE scope = $1")
            .bind(id)
            .execute(&mut *change.tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM kv_usage WHERE scope = $1")
            .bind(id)
            .execute(&mut *change.tx)
            .await?;
        // The app's own blobs (its blob scope is its id, too). Writing the scope's usage row
        // first takes its lock, as every blob write does, so a put still in flight has
        // committed (and is deleted here) or waits and then starts from an empty scope.
        sqlx::query(
            "INSERT INTO blob_usage (scope, blobs, bytes) VALUES ($1, 0, 0) \
             ON CONFLICT (scope) DO UPDATE SET blobs = blob_usage.blobs",
        )
        .bind(id)
        .execute(&mut *change.tx)
        .await?;
        let app_blobs = sqlx::query("DELETE FROM app_blobs WHERE scope = $1")
            .bind(id)
            .execute(&mut *change.tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM blob_usage WHERE scope = $1")
            .bind(id)
            .execute(&mut *change.tx)
            .await?;
        let mut freed_blobs = Vec::new();
        for sha in shas {
            let deleted = sqlx::query(
                "DELETE FROM blobs WHERE sha256 = $1 \
                 AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.sha256 = blobs.sha256)",
            )
            .bind(&sha)
            .execute(&mut *change.tx)
            .await?
            .rows_affected();
            if deleted > 0 {
                freed_blobs.push(sha);
            }
        }
        change
            .commit(AuditRecord::new(
                by,
                "app.delete",
                format!("app:{}", app.path()),
                Some(&app.tenant_id),
                json!({
                    "app_id": app.id,
                    "name": app.name,
                    "versions": versions,
                    "activations": activations,
                    "deploy_tokens": tokens,
                    "freed_blobs": freed_blobs,
                    "kv_keys": kv_keys,
                    "app_blobs": app_blobs,
                }),
            ))
            .await?;
        Ok(())
    }

    /// The app `app` of the tenant named `tenant` (both names).
    pub async fn app(&self, tenant: &str, app: &str) -> Result<App> {
        let row = sqlx::query(&format!("{APP_COLUMNS} WHERE t.name = $1 AND a.name = $2"))
            .bind(tenant)
            .bind(app)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| RegistryError::not_found(format!("app {tenant}/{app}")))?;
        App::from_row(&row)
    }

    /// The app with this id.
    pub async fn app_by_id(&self, id: &AppId) -> Result<App> {
        let mut conn = self.pool.acquire().await?;
        app_by_id_on(&mut conn, id).await
    }

    /// A tenant's apps, by name.
    pub async fn apps(&self, tenant: &TenantId) -> Result<Vec<App>> {
        sqlx::query(&format!(
            "{APP_COLUMNS} WHERE a.tenant_id = $1 ORDER BY a.name"
        ))
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(App::from_row)
        .collect()
    }
}
