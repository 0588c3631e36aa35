//! Tenants: the top of the hierarchy (tenant → apps → component versions).

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::change::AuditRecord;
use crate::db::Registry;
use crate::error::{RegistryError, Result, unique_violation_as};
use crate::ids::TenantId;
use crate::names::validate_name;
use crate::principal::Principal;
use crate::sql::new_id;

/// A tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Its id.
    pub id: TenantId,
    /// Its name, a DNS label unique across the host.
    pub name: String,
    /// When it was created, unix ms.
    pub created_at: i64,
}

impl Tenant {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(Tenant {
            id: TenantId::from(row.try_get::<String, _>("id")?),
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

impl Registry {
    /// Creates a tenant. Operators only.
    pub async fn create_tenant(&self, by: &Principal, name: &str) -> Result<Tenant> {
        if !by.is_operator() {
            return Err(RegistryError::Forbidden);
        }
        validate_name("tenant", name)?;
        let mut change = self.change().await?;
        let tenant = Tenant {
            id: TenantId::from(new_id("ten")),
            name: name.to_owned(),
            created_at: change.at,
        };
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(tenant.id.as_str())
            .bind(name)
            .bind(tenant.created_at)
            .execute(&mut *change.tx)
            .await
            .map_err(unique_violation_as(|| format!("tenant {name}")))?;
        change
            .commit(AuditRecord::new(
                by,
                "tenant.create",
                format!("tenant:{name}"),
                Some(&tenant.id),
                json!({ "tenant_id": tenant.id, "name": name }),
            ))
            .await?;
        Ok(tenant)
    }

    /// The tenant with this name.
    pub async fn tenant(&self, name: &str) -> Result<Tenant> {
        let row = sqlx::query("SELECT id, name, created_at FROM tenants WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| RegistryError::not_found(format!("tenant {name}")))?;
        Tenant::from_row(&row)
    }

    /// The tenant with this id.
    pub async fn tenant_by_id(&self, id: &TenantId) -> Result<Tenant> {
        let row = sqlx::query("SELECT id, name, created_at FROM tenants WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| RegistryError::not_found(format!("tenant {id}")))?;
        Tenant::from_row(&row)
    }

    /// All tenants, by name.
    pub async fn tenants(&self) -> Result<Vec<Tenant>> {
        sqlx::query("SELECT id, name, created_at FROM tenants ORDER BY name")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(Tenant::from_row)
            .collect()
    }
}
