//! Who is calling and on what: extractors that authenticate the bearer token and resolve the
//! `{tenant}` and `{app}` path segments, so every handler starts from checked access.
//!
//! What each kind of token reaches:
//! - an operator token, everything;
//! - a tenant token, its own tenant (another tenant, and all it holds, answers 404 as if it did
//!   not exist);
//! - a deploy token, its own app only: any other app, of its tenant or not, answers 404 as if
//!   it did not exist, and the tenant itself ([`TenantAccess`]: its app list, usage, quotas)
//!   answers 403. (Handlers that take a [`Caller`] check their own access.)

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path};
use axum::http::header;
use axum::http::request::Parts;
use livewasm_registry::{App, Principal, Registry, Scope, Tenant};

use super::error::ApiError;
use crate::host::Host;

/// An authenticated request: the registry and the principal its token stands for.
pub(crate) struct Caller {
    /// The host serving the API.
    pub(crate) host: Arc<Host>,
    /// The host's registry.
    pub(crate) registry: Registry,
    /// Who the bearer token authenticates as.
    pub(crate) principal: Principal,
}

/// An authenticated request on `{tenant}`, which the principal may see and manage: an
/// operator, or a tenant token of that tenant. Deploy tokens of the tenant get a 403.
pub(crate) struct TenantAccess {
    /// The host serving the API.
    pub(crate) host: Arc<Host>,
    /// The host's registry.
    pub(crate) registry: Registry,
    /// Who the bearer token authenticates as.
    pub(crate) principal: Principal,
    /// The tenant of the path.
    pub(crate) tenant: Tenant,
}

/// An authenticated request on `{tenant}/{app}`, which the principal may see: an operator, a
/// tenant token of that tenant, or a deploy token of exactly that app.
pub(crate) struct AppAccess {
    /// The host serving the API.
    pub(crate) host: Arc<Host>,
    /// The host's registry.
    pub(crate) registry: Registry,
    /// Who the bearer token authenticates as.
    pub(crate) principal: Principal,
    /// The app of the path.
    pub(crate) app: App,
}

impl FromRequestParts<Arc<Host>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, host: &Arc<Host>) -> Result<Self, ApiError> {
        let registry = host
            .registry()
            .ok_or_else(|| ApiError::not_found("the platform API"))?
            .clone();
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("An `Authorization: Bearer <token>` header is required.")
        })?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthorized("The Authorization header must be `Bearer <token>`.")
            })?;
        let started = std::time::Instant::now();
        let authenticated = registry.authenticate(token).await;
        host.metrics()
            .registry_call("authenticate", started.elapsed());
        let principal = authenticated?
            .ok_or_else(|| ApiError::unauthorized("The token is unknown, revoked or expired."))?;
        Ok(Caller {
            host: host.clone(),
            registry,
            principal,
        })
    }
}

/// The named segments of the request's path.
async fn segments(
    parts: &mut Parts,
    host: &Arc<Host>,
) -> Result<HashMap<String, String>, ApiError> {
    Path::<HashMap<String, String>>::from_request_parts(parts, host)
        .await
        .map(|Path(map)| map)
        .map_err(|e| ApiError::bad_request("bad_path", e.body_text()))
}

/// The path segment `name` (routes that use these extractors always have it).
fn segment<'a>(map: &'a HashMap<String, String>, name: &str) -> Result<&'a str, ApiError> {
    map.get(name)
        .map(String::as_str)
        .ok_or_else(|| ApiError::internal(format!("route without a `{name}` segment")))
}

impl FromRequestParts<Arc<Host>> for TenantAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, host: &Arc<Host>) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, host).await?;
        let map = segments(parts, host).await?;
        let tenant = caller.tenant(segment(&map, "tenant")?).await?;
        // A deploy token sees its tenant (for its one app) but may not act on the tenant.
        if !caller.principal.can_manage_tenant(&tenant.id) {
            return Err(ApiError::forbidden());
        }
        let Caller {
            host,
            registry,
            principal,
        } = caller;
        Ok(TenantAccess {
            host,
            registry,
            principal,
            tenant,
        })
    }
}

impl FromRequestParts<Arc<Host>> for AppAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, host: &Arc<Host>) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, host).await?;
        let map = segments(parts, host).await?;
        let app = caller
            .app(segment(&map, "tenant")?, segment(&map, "app")?)
            .await?;
        let Caller {
            host,
            registry,
            principal,
        } = caller;
        Ok(AppAccess {
            host,
            registry,
            principal,
            app,
        })
    }
}

impl Caller {
    /// Whether the principal may see `tenant` at all (its own tenant, or any for operators).
    fn sees(&self, tenant: &Tenant) -> bool {
        self.principal.is_operator() || self.principal.scope().tenant_id() == Some(&tenant.id)
    }

    /// The tenant named `name`, as a 404 when it does not exist or is not the principal's.
    pub(crate) async fn tenant(&self, name: &str) -> Result<Tenant, ApiError> {
        let tenant = self.registry.tenant(name).await?;
        if !self.sees(&tenant) {
            return Err(ApiError::not_found(&format!("tenant {name}")));
        }
        Ok(tenant)
    }

    /// The app `tenant/app`, as a 404 when either does not exist or is not the principal's
    /// (for a deploy token: any app but its own).
    pub(crate) async fn app(&self, tenant: &str, app: &str) -> Result<App, ApiError> {
        self.tenant(tenant).await?;
        let found = self.registry.app(tenant, app).await?;
        if let Scope::Deploy { app: own, .. } = self.principal.scope()
            && *own != found.id
        {
            return Err(ApiError::not_found(&format!("app {tenant}/{app}")));
        }
        Ok(found)
    }
}
