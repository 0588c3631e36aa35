//! Quota values: a full set of limits ([`Quotas`]), the host-wide defaults a tenant gets
//! ([`QuotaDefaults`]) and a tenant's optional overrides ([`QuotaOverrides`]). Plain data with
//! no storage, so opening the registry can take the defaults without knowing the tables;
//! `quotas.rs` stores and reads the overrides.

use serde::{Deserialize, Serialize};

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
