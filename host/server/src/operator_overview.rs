//! The operator overview: what the `operator` capability answers the host's own dashboard
//! (`livewasm serve --dashboard`). The token is checked with the registry as the platform API
//! checks a bearer token (`api/access.rs`): an operator token sees every tenant, a tenant
//! token only its own tenant; a deploy token, or one that is unknown, revoked or expired, is
//! refused. For each app it may see: the active version (registry) and the counters `GET
//! /metrics` exports for it (live instances, events, errors, traps, instance memory, fuel),
//! read from the same atomics; then the recent deploys and audit entries it may read.
//!
//! No other app is granted the capability: [`Host::add_dashboard`] is the only place an
//! [`OperatorOverview`] is attached to an app.
//!
//! [`Host::add_dashboard`]: crate::Host::add_dashboard

use std::sync::Arc;

use livewasm_registry::{AuditEntry, AuditQuery, Principal, Registry, RegistryError, Scope};
use livewasm_runtime::{OperatorError, OperatorSource};
use serde::Serialize;
use tokio::runtime::Handle;

use crate::metrics::{AppMetrics, Metrics};

/// Most apps one overview lists (the rest are counted in `apps_left_out`).
pub(crate) const MAX_OVERVIEW_APPS: usize = 500;
/// Audit entries read for one overview (deploys are picked from them).
const AUDIT_READ: u32 = 100;
/// Audit entries one overview shows.
const AUDIT_SHOWN: usize = 15;
/// Deploys (version uploads, activations, rollbacks) one overview shows.
const DEPLOYS_SHOWN: usize = 10;

/// The message for a token the registry does not know (or that was revoked or expired).
pub(crate) const UNKNOWN_TOKEN: &str = "the token is unknown, revoked or expired";
/// The message for a deploy token.
pub(crate) const DEPLOY_TOKEN: &str =
    "a deploy token cannot open the dashboard: use a tenant or operator token";

/// What the dashboard gets: everything one token may see.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Overview {
    /// `operator` or `tenant`.
    pub(crate) scope: &'static str,
    /// The tenant a tenant token belongs to; `None` for an operator.
    pub(crate) tenant: Option<String>,
    /// The tenants it sees, by name, each with its apps.
    pub(crate) tenants: Vec<TenantOverview>,
    /// Apps not listed past [`MAX_OVERVIEW_APPS`].
    pub(crate) apps_left_out: usize,
    /// Recent version uploads, activations and rollbacks, newest first.
    pub(crate) deploys: Vec<AuditLine>,
    /// Recent audit entries, newest first.
    pub(crate) audit: Vec<AuditLine>,
}

/// One tenant and its apps.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TenantOverview {
    /// Its name.
    pub(crate) name: String,
    /// Its apps, by name.
    pub(crate) apps: Vec<AppOverview>,
}

/// One app: its active version and its counters on this host (since the host started).
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct AppOverview {
    /// Its name.
    pub(crate) name: String,
    /// The active version's number; `None` before the first deploy.
    pub(crate) version: Option<u64>,
    /// Views running now.
    pub(crate) instances: i64,
    /// Events handled.
    pub(crate) events: u64,
    /// Views crashed.
    pub(crate) errors: u64,
    /// Traps, every kind.
    pub(crate) traps: u64,
    /// Bytes of linear memory its instances hold now.
    pub(crate) memory: i64,
    /// Fuel its guest calls used.
    pub(crate) fuel: u64,
}

/// One audit entry as the dashboard shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AuditLine {
    /// Position in the log.
    pub(crate) seq: u64,
    /// When, unix ms.
    pub(crate) at: i64,
    /// Who (`token:<id>` or `system:<label>`).
    pub(crate) actor: String,
    /// What (`version.upload` …).
    pub(crate) action: String,
    /// On what (`version:acme/blog@3` …).
    pub(crate) target: String,
}

impl From<&AuditEntry> for AuditLine {
    fn from(entry: &AuditEntry) -> AuditLine {
        AuditLine {
            seq: entry.seq,
            at: entry.at,
            actor: entry.actor.clone(),
            action: entry.action.clone(),
            target: entry.target.clone(),
        }
    }
}

/// The counters of one app as the overview shows them.
fn counters(name: &str, version: Option<u64>, metrics: Option<&AppMetrics>) -> AppOverview {
    let Some(m) = metrics else {
        return AppOverview {
            name: name.to_string(),
            version,
            ..AppOverview::default()
        };
    };
    AppOverview {
        name: name.to_string(),
        version,
        instances: m.instances.get(),
        events: m.events.get(),
        errors: m.errors.get(),
        traps: m.traps.iter().map(|t| t.get()).sum(),
        memory: m.memory.get(),
        fuel: m.fuel.get(),
    }
}

fn unavailable(error: RegistryError) -> OperatorError {
    OperatorError::Unavailable(error.to_string())
}

/// Everything `token` may see, read from `registry` and `metrics`.
pub(crate) async fn overview(
    registry: &Registry,
    metrics: &Metrics,
    token: &str,
) -> Result<Overview, OperatorError> {
    let started = std::time::Instant::now();
    let authenticated = registry.authenticate(token).await;
    metrics.registry_call("authenticate", started.elapsed());
    let principal: Principal = authenticated
        .map_err(unavailable)?
        .ok_or_else(|| OperatorError::Refused(UNKNOWN_TOKEN.into()))?;
    let (scope, tenants, audit_of) = match principal.scope() {
        Scope::Operator => (
            "operator",
            registry.tenants().await.map_err(unavailable)?,
            None,
        ),
        Scope::Tenant { tenant } => {
            let own = registry.tenant_by_id(tenant).await.map_err(unavailable)?;
            ("tenant", vec![own], Some(tenant.clone()))
        }
        Scope::Deploy { .. } => return Err(OperatorError::Refused(DEPLOY_TOKEN.into())),
    };
    let mut listed = 0;
    let mut apps_left_out = 0;
    let mut out = Vec::with_capacity(tenants.len());
    for tenant in &tenants {
        let mut apps = Vec::new();
        for app in registry.apps(&tenant.id).await.map_err(unavailable)? {
            if listed == MAX_OVERVIEW_APPS {
                apps_left_out += 1;
                continue;
            }
            listed += 1;
            let version = registry
                .active_version(&app)
                .await
                .map_err(unavailable)?
                .map(|v| v.number);
            let metered = metrics.find_app(&tenant.name, &app.name);
            apps.push(counters(&app.name, version, metered.as_deref()));
        }
        apps.sort_by(|a, b| a.name.cmp(&b.name));
        out.push(TenantOverview {
            name: tenant.name.clone(),
            apps,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    let query = AuditQuery {
        tenant: audit_of,
        before_seq: None,
        limit: AUDIT_READ,
    };
    let entries = registry
        .audit_log(&principal, &query)
        .await
        .map_err(unavailable)?;
    let deploys = entries
        .iter()
        .filter(|e| e.action.starts_with("version."))
        .take(DEPLOYS_SHOWN)
        .map(AuditLine::from)
        .collect();
    let audit = entries
        .iter()
        .take(AUDIT_SHOWN)
        .map(AuditLine::from)
        .collect();
    Ok(Overview {
        scope,
        tenant: (scope == "tenant")
            .then(|| tenants.first().map(|t| t.name.clone()))
            .flatten(),
        tenants: out,
        apps_left_out,
        deploys,
        audit,
    })
}

/// The `operator` capability's source for the host's dashboard: the registry (if the host has
/// one) and the host's metrics, reached from the guest threads through the host's runtime.
pub(crate) struct OperatorOverview {
    /// The host's registry; `None` on a host without one.
    pub(crate) registry: Option<Registry>,
    /// The host's counters.
    pub(crate) metrics: Arc<Metrics>,
    /// The runtime the registry's pool runs on.
    pub(crate) runtime: Handle,
}

impl OperatorSource for OperatorOverview {
    fn overview(&self, token: &str) -> Result<String, OperatorError> {
        let Some(registry) = &self.registry else {
            return Err(OperatorError::Unavailable(
                "this host has no registry (start it with --database)".into(),
            ));
        };
        let found = crate::kv::block_on_registry(
            Some(&self.runtime),
            overview(registry, &self.metrics, token),
        )
        .map_err(OperatorError::Unavailable)??;
        serde_json::to_string(&found).map_err(|e| OperatorError::Unavailable(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use livewasm_registry::{QuotaDefaults, Scope};

    async fn registry(dir: &std::path::Path) -> Registry {
        let location = dir.join("registry.db").to_string_lossy().into_owned();
        Registry::open(&location, QuotaDefaults::default())
            .await
            .expect("registry")
    }

    /// Tenants `acme` (apps `shop`, `blog`) and `globex` (app `site`), and a token of each
    /// kind: `(operator, acme tenant, acme/shop deploy, globex tenant)`.
    async fn tenants(registry: &Registry) -> (String, String, String, String) {
        let system = Principal::system("test");
        let operator = registry
            .create_token(&system, "op", Scope::Operator)
            .await
            .expect("operator token")
            .token;
        let acme = registry.create_tenant(&system, "acme").await.expect("acme");
        let globex = registry
            .create_tenant(&system, "globex")
            .await
            .expect("globex");
        let shop = registry
            .create_app(&system, &acme.id, "shop")
            .await
            .expect("shop");
        registry
            .create_app(&system, &acme.id, "blog")
            .await
            .expect("blog");
        registry
            .create_app(&system, &globex.id, "site")
            .await
            .expect("site");
        let acme_token = registry
            .create_token(&system, "acme", Scope::tenant(&acme))
            .await
            .map(|t| t.token)
            .expect("tenant token");
        let deploy = registry
            .create_token(&system, "ci", Scope::deploy(&shop))
            .await
            .map(|t| t.token)
            .expect("deploy token");
        let globex_token = registry
            .create_token(&system, "globex", Scope::tenant(&globex))
            .await
            .map(|t| t.token)
            .expect("tenant token");
        (operator, acme_token, deploy, globex_token)
    }

    fn app_names(overview: &Overview) -> Vec<String> {
        overview
            .tenants
            .iter()
            .flat_map(|t| t.apps.iter().map(move |a| format!("{}/{}", t.name, a.name)))
            .collect()
    }

    #[tokio::test]
    async fn bad_revoked_and_deploy_tokens_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let registry = registry(dir.path()).await;
        let metrics = Metrics::new();
        let (_, acme, deploy, _) = tenants(&registry).await;
        for token in ["", "lw_nope", "Bearer lw_x", &format!("{acme}x")] {
            let refused = overview(&registry, &metrics, token).await;
            assert!(
                matches!(&refused, Err(OperatorError::Refused(m)) if m == UNKNOWN_TOKEN),
                "{token:?}: {refused:?}"
            );
        }
        let refused = overview(&registry, &metrics, &deploy).await;
        assert!(matches!(&refused, Err(OperatorError::Refused(m)) if m == DEPLOY_TOKEN));

        // Revoked: refused from the next call on.
        let system = Principal::system("test");
        let acme_principal = registry
            .authenticate(&acme)
            .await
            .expect("authenticate")
            .expect("known");
        let id = acme_principal.token_id().expect("a token").clone();
        registry.revoke_token(&system, &id).await.expect("revoke");
        let refused = overview(&registry, &metrics, &acme).await;
        assert!(matches!(&refused, Err(OperatorError::Refused(m)) if m == UNKNOWN_TOKEN));
    }

    #[tokio::test]
    async fn a_tenant_token_sees_only_its_own_apps_and_audit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let registry = registry(dir.path()).await;
        let metrics = Metrics::new();
        let (_, acme, _, globex) = tenants(&registry).await;
        metrics.app("globex", "site").events.inc_by(7);
        metrics.app("acme", "shop").events.inc_by(3);

        let seen = overview(&registry, &metrics, &acme).await.expect("acme");
        assert_eq!(seen.scope, "tenant");
        assert_eq!(seen.tenant.as_deref(), Some("acme"));
        assert_eq!(app_names(&seen), ["acme/blog", "acme/shop"]);
        assert_eq!(seen.tenants[0].apps[1].events, 3);
        assert!(
            seen.audit.iter().all(|e| !e.target.contains("globex")),
            "{:?}",
            seen.audit
        );
        assert!(
            !serde_json::to_string(&seen)
                .expect("json")
                .contains("globex")
        );

        let seen = overview(&registry, &metrics, &globex)
            .await
            .expect("globex");
        assert_eq!(app_names(&seen), ["globex/site"]);
        assert_eq!(seen.tenants[0].apps[0].events, 7);
        assert!(!serde_json::to_string(&seen).expect("json").contains("acme"));
    }

    #[tokio::test]
    async fn an_operator_token_sees_every_tenant_and_the_live_counters() {
        let dir = tempfile::tempdir().expect("tempdir");
        let registry = registry(dir.path()).await;
        let metrics = Metrics::new();
        let (operator, ..) = tenants(&registry).await;
        let shop = metrics.app("acme", "shop");
        let _a = crate::metrics::LiveInstance::new(&shop);
        let _b = crate::metrics::LiveInstance::new(&shop);
        shop.fuel.inc_by(1234);
        shop.errors.inc();

        let seen = overview(&registry, &metrics, &operator)
            .await
            .expect("operator");
        assert_eq!(seen.scope, "operator");
        assert_eq!(seen.tenant, None);
        assert_eq!(app_names(&seen), ["acme/blog", "acme/shop", "globex/site"]);
        let shop = &seen.tenants[0].apps[1];
        assert_eq!((shop.instances, shop.fuel, shop.errors), (2, 1234, 1));
        assert_eq!(shop.version, None, "nothing deployed yet");
        assert!(seen.audit.iter().any(|e| e.action == "tenant.create"));
        // No series were made for the apps nothing counted for.
        assert!(metrics.find_app("acme", "blog").is_none());
    }

    #[test]
    fn a_host_without_a_registry_says_so() {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let source = OperatorOverview {
            registry: None,
            metrics: Arc::new(Metrics::new()),
            runtime: tokio.handle().clone(),
        };
        let refused = source.overview("lw_x");
        assert!(matches!(refused, Err(OperatorError::Unavailable(m)) if m.contains("--database")));
    }
}
