//! Per-tenant quotas: host-wide defaults ([`QuotaDefaults`]) with optional per-tenant
//! overrides. The registry enforces `max_apps` and `max_component_bytes` itself; the other
//! limits are stored here and enforced by the runtime and server.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::audit::AuditRecord;
use crate::db::{Registry, to_i64};
use crate::error::{RegistryError, Result};
use crate::ids::TenantId;
use crate::tokens::Principal;

/// A full set of limits: a tenant's effective quotas, or the host's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quotas {
    /// Number of apps a tenant may have.
    pub max_apps: u64,
    /// Size in bytes of one uploaded component.
    pub max_component_bytes: u64,
    /// Component instances (connected sockets) running at once for the tenant.
    pub max_concurrent_instances: u64,
    /// Linear memory cap of one instance, in MiB.
    pub memory_mib_per_instance: u64,
    /// Fuel granted to one guest callback.
    pub fuel_per_callback: u64,
}

/// The quotas a tenant gets where it has no override, configured by the operator.
pub type QuotaDefaults = Quotas;

impl Default for Quotas {
    /// Modest limits for a laptop host: 10 apps, 16 MiB components, 1,000 instances,
    /// 32 MiB per instance, 100 million fuel per callback.
    fn default() -> Self {
        Quotas {
            max_apps: 10,
            max_component_bytes: 16 * 1024 * 1024,
            max_concurrent_instances: 1_000,
            memory_mib_per_instance: 32,
            fuel_per_callback: 100_000_000,
        }
    }
}

/// A tenant's overrides; `None` keeps the host default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaOverrides {
    /// Overrides [`Quotas::max_apps`].
    pub max_apps: Option<u64>,
    /// Overrides [`Quotas::max_component_bytes`].
    pub max_component_bytes: Option<u64>,
    /// Overrides [`Quotas::max_concurrent_instances`].
    pub max_concurrent_instances: Option<u64>,
    /// Overrides [`Quotas::memory_mib_per_instance`].
    pub memory_mib_per_instance: Option<u64>,
    /// Overrides [`Quotas::fuel_per_callback`].
    pub fuel_per_callback: Option<u64>,
}

impl QuotaOverrides {
    /// These overrides applied over `defaults`.
    pub fn apply(&self, defaults: &Quotas) -> Quotas {
        Quotas {
            max_apps: self.max_apps.unwrap_or(defaults.max_apps),
            max_component_bytes: self
                .max_component_bytes
                .unwrap_or(defaults.max_component_bytes),
            max_concurrent_instances: self
                .max_concurrent_instances
                .unwrap_or(defaults.max_concurrent_instances),
            memory_mib_per_instance: self
                .memory_mib_per_instance
                .unwrap_or(defaults.memory_mib_per_instance),
            fuel_per_callback: self.fuel_per_callback.unwrap_or(defaults.fuel_per_callback),
        }
    }
}

fn opt_u64(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<u64>> {
    let value: Option<i64> = row.try_get(column)?;
    // Stored values went through `to_i64`, so they are never negative.
    Ok(value.map(|v| u64::try_from(v).unwrap_or(0)))
}

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
        let tenant_name: String = sqlx::query_scalar("SELECT name FROM tenants WHERE id = $1")
            .bind(tenant.as_str())
            .fetch_optional(&mut *change.tx)
            .await?
            .ok_or_else(|| RegistryError::not_found(format!("tenant {tenant}")))?;
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
