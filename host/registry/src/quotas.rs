//! Per-tenant quotas in the store: reading a tenant's overrides and effective quotas, and
//! setting overrides. The values themselves ([`Quotas`], [`QuotaDefaults`],
//! [`QuotaOverrides`]) are in `limits.rs`. The registry enforces `max_apps` and
//! `max_component_bytes` itself; the other limits are stored here and enforced by the runtime
//! and server.

use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::change::AuditRecord;
use crate::db::Registry;
use crate::error::{RegistryError, Result};
use crate::ids::TenantId;
use crate::limits::{QuotaDefaults, QuotaOverrides, Quotas};
use crate::principal::Principal;
use crate::sql::to_i64;

/// Reads a nullable BIGINT limit column.
fn opt_u64(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<u64>> {
    let value: Option<i64> = row.try_get(column)?;
    // Stored values went through `to_i64`, so they are never negative.
    Ok(value.map(|v| u64::try_from(v).unwrap_or(0)))
}

/// Converts an optional limit to the nullable BIGINT the schema stores.
fn opt_i64(what: &'static str, value: Option<u64>) -> Result<Option<i64>> {
    value.map(|v| to_i64(what, v)).transpose()
}

/// Reads a tenant's overrides on `conn`.
pub(crate) async fn overrides_on(
    conn: &mut AnyConnection,
    tenant: &TenantId,
) -> Result<QuotaOverrides> {
    let row = sqlx::query(
        "SELECT max_apps, max_component_bytes, max_concurrent_instances, \
         memory_mib_per_instance, fuel_per_callback FROM tenant_quotas WHERE tenant_id = $1",
    )
    .bind(tenant.as_str())
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(QuotaOverrides::default());
    };
    Ok(QuotaOverrides {
        max_apps: opt_u64(&row, "max_apps")?,
        max_component_bytes: opt_u64(&row, "max_component_bytes")?,
        max_concurrent_instances: opt_u64(&row, "max_concurrent_instances")?,
        memory_mib_per_instance: opt_u64(&row, "memory_mib_per_instance")?,
        fuel_per_callback: opt_u64(&row, "fuel_per_callback")?,
    })
}

/// A tenant's effective quotas, read on `conn`.
pub(crate) async fn effective_quotas(
    conn: &mut AnyConnection,
    defaults: &QuotaDefaults,
    tenant: &TenantId,
) -> Result<Quotas> {
    Ok(overrides_on(conn, tenant).await?.apply(defaults))
}

impl Registry {
    /// A tenant's effective quotas: its overrides over the host defaults.
    pub async fn quotas(&self, tenant: &TenantId) -> Result<Quotas> {
        let mut conn = self.pool.acquire().await?;
        effective_quotas(&mut conn, self.quota_defaults(), tenant).await
    }

    /// A tenant's overrides only.
    pub async fn quota_overrides(&self, tenant: &TenantId) -> Result<QuotaOverrides> {
        let mut conn = self.pool.acquire().await?;
        overrides_on(&mut conn, tenant).await
    }

    /// Replaces a tenant's overrides (all five: `None` resets one to the default) and returns
    /// the effective quotas. Operators only. Lowering a limit below current use does not
    /// remove anything; it only refuses further growth.
    pub async fn set_quota_overrides(
        &self,
        by: &Principal,
        tenant: &TenantId,
        overrides: QuotaOverrides,
    ) -> Result<Quotas> {
        if !by.is_operator() {
            return Err(RegistryError::Forbidden);
        }
        let values = [
            opt_i64("max_apps", overrides.max_apps)?,
            opt_i64("max_component_bytes", overrides.max_component_bytes)?,
            opt_i64(
                "max_concurrent_instances",
                overrides.max_concurrent_instances,
            )?,
            opt_i64("memory_mib_per_instance", overrides.memory_mib_per_instance)?,
            opt_i64("fuel_per_callback", overrides.fuel_per_callback)?,
        ];
        let mut change = self.change().await?;
        let tenant_name = change.tenant_name(tenant).await?;
        let before = overrides_on(&mut change.tx, tenant).await?;
        sqlx::query(
            "INSERT INTO tenant_quotas (tenant_id, max_apps, max_component_bytes, \
             max_concurrent_instances, memory_mib_per_instance, fuel_per_callback, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (tenant_id) DO UPDATE SET max_apps = excluded.max_apps, \
             max_component_bytes = excluded.max_component_bytes, \
             max_concurrent_instances = excluded.max_concurrent_instances, \
             memory_mib_per_instance = excluded.memory_mib_per_instance, \
             fuel_per_callback = excluded.fuel_per_callback, updated_at = excluded.updated_at",
        )
        .bind(tenant.as_str())
        .bind(values[0])
        .bind(values[1])
        .bind(values[2])
        .bind(values[3])
        .bind(values[4])
        .bind(change.at)
        .execute(&mut *change.tx)
        .await?;
        let quotas = overrides.apply(self.quota_defaults());
        change
            .commit(AuditRecord::new(
                by,
                "quota.set",
                format!("tenant:{tenant_name}"),
                Some(tenant),
                json!({ "before": before, "after": overrides, "effective": quotas }),
            ))
            .await?;
        Ok(quotas)
    }
}
