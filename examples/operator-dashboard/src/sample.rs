//! From one operator overview (and the one before it) to what the dashboard shows: a row per
//! tenant (its apps' counters summed, events and fuel per second from the difference with the
//! previous overview), a row per app, and the chart sample pushed to the `OpsCharts` hook.

use std::collections::BTreeMap;

use livewasm_sdk::operator::Overview;
use livewasm_sdk::{Value, json};

/// One tenant's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TenantRow {
    /// The tenant's name.
    pub name: String,
    /// Its apps.
    pub apps: usize,
    /// Live instances (views running now), all its apps.
    pub instances: i64,
    /// Events handled per second since the previous overview.
    pub events_per_sec: f64,
    /// Views crashed, since the host started.
    pub errors: u64,
    /// Traps, since the host started.
    pub traps: u64,
    /// Bytes of instance memory held now.
    pub memory: i64,
    /// Fuel used per second since the previous overview.
    pub fuel_per_sec: f64,
}

/// One app's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppRow {
    /// Its tenant.
    pub tenant: String,
    /// Its name.
    pub name: String,
    /// The active version, if any.
    pub version: Option<u64>,
    /// Live instances.
    pub instances: i64,
    /// Events handled since the host started.
    pub events: u64,
    /// Views crashed since the host started.
    pub errors: u64,
    /// Traps since the host started.
    pub traps: u64,
    /// Bytes of instance memory held now.
    pub memory: i64,
    /// Fuel used since the host started.
    pub fuel: u64,
}

/// What a rate is computed against: each tenant's event and fuel totals at a time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// When, unix ms.
    pub at_ms: u64,
    /// Per tenant: (events, fuel).
    pub tenants: BTreeMap<String, (u64, u64)>,
}

/// Everything the view assigns and pushes after one overview.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// A row per tenant, by name.
    pub tenants: Vec<TenantRow>,
    /// A row per app, by tenant and name.
    pub apps: Vec<AppRow>,
    /// What the next sample's rates are computed against.
    pub totals: Totals,
}

/// `count` per second over `elapsed_ms`; 0 without a previous figure, for a counter that went
/// backwards (the host restarted) or no time passed.
fn per_sec(now: u64, before: Option<u64>, elapsed_ms: u64) -> f64 {
    match before {
        Some(before) if now >= before && elapsed_ms > 0 => {
            (now - before) as f64 * 1000.0 / elapsed_ms as f64
        }
        _ => 0.0,
    }
}

/// The rows of `overview` taken at `now_ms`, rates against `previous`.
pub fn sample(overview: &Overview, previous: Option<&Totals>, now_ms: u64) -> Sample {
    let mut tenants = Vec::with_capacity(overview.tenants.len());
    let mut apps = Vec::new();
    let mut totals = Totals {
        at_ms: now_ms,
        tenants: BTreeMap::new(),
    };
    let elapsed = previous.map_or(0, |p| now_ms.saturating_sub(p.at_ms));
    for tenant in &overview.tenants {
        let mut row = TenantRow {
            name: tenant.name.clone(),
            apps: tenant.apps.len(),
            ..TenantRow::default()
        };
        let (mut events, mut fuel) = (0u64, 0u64);
        for app in &tenant.apps {
            row.instances += app.instances;
            row.errors += app.errors;
            row.traps += app.traps;
            row.memory += app.memory;
            events += app.events;
            fuel += app.fuel;
            apps.push(AppRow {
                tenant: tenant.name.clone(),
                name: app.name.clone(),
                version: app.version,
                instances: app.instances,
                events: app.events,
                errors: app.errors,
                traps: app.traps,
                memory: app.memory,
                fuel: app.fuel,
            });
        }
        let before = previous.and_then(|p| p.tenants.get(&tenant.name));
        row.events_per_sec = per_sec(events, before.map(|b| b.0), elapsed);
        row.fuel_per_sec = per_sec(fuel, before.map(|b| b.1), elapsed);
        totals.tenants.insert(tenant.name.clone(), (events, fuel));
        tenants.push(row);
    }
    Sample {
        tenants,
        apps,
        totals,
    }
}

/// MiB, one decimal.
pub fn mib(bytes: i64) -> String {
    format!("{:.1}", bytes.max(0) as f64 / (1024.0 * 1024.0))
}

/// A rate, one decimal.
pub fn rate(value: f64) -> String {
    format!("{value:.1}")
}

impl Sample {
    /// The `ops:sample` push event's payload: `{t: unix seconds, tenants: {name: {…}}}`.
    pub fn chart_event(&self) -> Value {
        let tenants: serde_json::Map<String, Value> = self
            .tenants
            .iter()
            .map(|t| {
                let figures = json!({
                    "instances": t.instances,
                    "events_per_sec": t.events_per_sec,
                    "errors": t.errors,
                    "memory_mib": t.memory as f64 / (1024.0 * 1024.0),
                    "fuel_per_sec": t.fuel_per_sec,
                });
                (t.name.clone(), figures)
            })
            .collect();
        json!({"t": self.totals.at_ms as f64 / 1000.0, "tenants": tenants})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use livewasm_sdk::operator::{AppOverview, TenantOverview};

    fn overview(events: u64, instances: i64) -> Overview {
        let app = |name: &str, events: u64| AppOverview {
            name: name.into(),
            version: Some(2),
            instances,
            events,
            fuel: events * 100,
            memory: 2 << 20,
            ..AppOverview::default()
        };
        Overview {
            scope: "operator".into(),
            tenants: vec![TenantOverview {
                name: "acme".into(),
                apps: vec![app("shop", events), app("blog", 10)],
            }],
            ..Overview::default()
        }
    }

    #[test]
    fn tenants_sum_their_apps_and_rates_come_from_two_samples() {
        let first = sample(&overview(100, 3), None, 10_000);
        assert_eq!(first.tenants[0].instances, 6);
        assert_eq!(first.tenants[0].events_per_sec, 0.0, "no previous sample");
        assert_eq!(first.apps.len(), 2);
        assert_eq!(mib(first.tenants[0].memory), "4.0");

        let second = sample(&overview(300, 1), Some(&first.totals), 12_000);
        assert_eq!(second.tenants[0].instances, 2);
        assert_eq!(second.tenants[0].events_per_sec, 100.0);
        assert_eq!(second.tenants[0].fuel_per_sec, 10_000.0);
        let event = second.chart_event();
        assert_eq!(event["t"], 12.0);
        assert_eq!(event["tenants"]["acme"]["instances"], 2);

        // A counter going backwards (the host restarted) is no negative rate.
        let third = sample(&overview(5, 1), Some(&second.totals), 13_000);
        assert_eq!(third.tenants[0].events_per_sec, 0.0);
    }
}
