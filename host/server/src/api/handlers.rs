//! The API's endpoints.

use std::collections::HashMap;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use livewasm_registry::{App, QuotaOverrides, Quotas, Registry, RegistryError, Scope, Tenant};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::access::{AppAccess, Caller, TenantAccess};
use super::error::ApiError;
use super::json_body::JsonBody;
use crate::host::Host;
use crate::origin;
use crate::platform::{compile_blocking, serve_version};

type ApiResult = Result<Response, ApiError>;

/// Parses a JSON body into `T`, with the API's error format.
fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(
            "invalid_body",
            format!("The request body is not the expected JSON: {e}."),
        )
    })
}

fn reply(status: StatusCode, body: Value) -> ApiResult {
    Ok((status, Json(body)).into_response())
}

/// Apps and instance figures of a tenant; refreshes the instance limit the host enforces.
async fn usage(
    host: &Host,
    registry: &Registry,
    tenant: &Tenant,
    quotas: &Quotas,
) -> Result<Value, ApiError> {
    let apps = registry.apps(&tenant.id).await?.len();
    host.sites
        .usage(&tenant.name, quotas.max_concurrent_instances);
    let instances = host.sites.instance_usage(&tenant.name);
    Ok(json!({
        "apps": apps,
        "instances": instances.instances,
        "refused_instances": instances.refused_instances,
        "refused_over_quota": instances.refused_over_quota,
    }))
}

#[derive(Deserialize)]
struct NameBody {
    name: String,
}

/// `POST /api/v1/tenants` (operators).
pub(crate) async fn create_tenant(caller: Caller, JsonBody(body): JsonBody) -> ApiResult {
    let Caller {
        registry,
        principal,
        ..
    } = caller;
    let body: NameBody = parse_body(&body)?;
    let tenant = registry.create_tenant(&principal, &body.name).await?;
    reply(StatusCode::CREATED, json!({ "tenant": tenant }))
}

/// `GET /api/v1/tenants/{tenant}`.
pub(crate) async fn get_tenant(
    TenantAccess {
        host,
        registry,
        tenant,
        ..
    }: TenantAccess,
) -> ApiResult {
    let quotas = registry.quotas(&tenant.id).await?;
    let usage = usage(&host, &registry, &tenant, &quotas).await?;
    reply(
        StatusCode::OK,
        json!({ "tenant": tenant, "quotas": quotas, "usage": usage }),
    )
}

/// `GET /api/v1/tenants/{tenant}/quotas`.
pub(crate) async fn quotas(
    TenantAccess {
        host,
        registry,
        tenant,
        ..
    }: TenantAccess,
) -> ApiResult {
    let quotas = registry.quotas(&tenant.id).await?;
    quotas_reply(&host, &registry, &tenant, &quotas).await
}

/// `200 {"quotas", "usage"}` for `tenant`.
async fn quotas_reply(
    host: &Host,
    registry: &Registry,
    tenant: &Tenant,
    quotas: &Quotas,
) -> ApiResult {
    let usage = usage(host, registry, tenant, quotas).await?;
    reply(StatusCode::OK, json!({ "quotas": quotas, "usage": usage }))
}

/// `PUT /api/v1/tenants/{tenant}/quotas` (operators): replaces the tenant's overrides (a
/// missing or null field means the host default) and serves its apps' active versions again,
/// so instances started from now on get the new memory and fuel limits.
pub(crate) async fn set_quotas(
    TenantAccess {
        host,
        registry,
        principal,
        tenant,
    }: TenantAccess,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let overrides: QuotaOverrides = parse_body(&body)?;
    let quotas = registry
        .set_quota_overrides(&principal, &tenant.id, overrides)
        .await?;
    for app in registry.apps(&tenant.id).await? {
        if let Some(version) = registry.active_version(&app).await? {
            serve_version(&host, &registry, &app, version.number, &version.sha256)
                .await
                .map_err(ApiError::internal)?;
        }
    }
    quotas_reply(&host, &registry, &tenant, &quotas).await
}

/// The body of `PUT /api/v1/tenants/{tenant}/http-allowlist`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpAllowlistBody {
    /// The whole new list; empty clears it.
    hosts: Vec<String>,
}

/// `GET /api/v1/tenants/{tenant}/http-allowlist`: `{"hosts": [...]}`, the hosts the tenant's
/// apps may send HTTP requests to (sorted, as the registry normalized them).
pub(crate) async fn http_allowlist(
    TenantAccess {
        registry, tenant, ..
    }: TenantAccess,
) -> ApiResult {
    let hosts = registry.http_allowlist(&tenant.id).await?;
    reply(StatusCode::OK, json!({ "hosts": hosts }))
}

/// `PUT /api/v1/tenants/{tenant}/http-allowlist` (operators): replaces the tenant's list with
/// `{"hosts": [...]}` (an invalid entry refuses the whole request), tells the host, and
/// answers with the list as stored.
pub(crate) async fn set_http_allowlist(
    TenantAccess {
        host,
        registry,
        principal,
        tenant,
    }: TenantAccess,
    JsonBody(body): JsonBody,
) -> ApiResult {
    // The registry checks this too; refusing first keeps a tenant's body unparsed.
    if !principal.is_operator() {
        return Err(ApiError::forbidden());
    }
    let body: HttpAllowlistBody = parse_body(&body)?;
    let hosts = registry
        .set_http_allowlist(&principal, &tenant.id, &body.hosts)
        .await?;
    host.set_http_allowlist(&tenant.id, hosts.clone());
    reply(StatusCode::OK, json!({ "hosts": hosts }))
}

/// Any API path called with a method it does not have.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This API path does not take that HTTP method; see deploy/openapi.yaml.",
    )
}

/// Any path under `/api` that the API does not have.
pub(crate) async fn unknown_path() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "The API has no such path; see deploy/openapi.yaml.",
    )
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ScopeBody {
    Operator,
    Tenant { tenant: String },
    Deploy { tenant: String, app: String },
}

#[derive(Deserialize)]
struct TokenBody {
    #[serde(default)]
    label: String,
    scope: ScopeBody,
}

/// `POST /api/v1/tokens`: the token's text is in this response only.
pub(crate) async fn create_token(caller: Caller, JsonBody(body): JsonBody) -> ApiResult {
    let body: TokenBody = parse_body(&body)?;
    let scope = match &body.scope {
        ScopeBody::Operator => Scope::Operator,
        ScopeBody::Tenant { tenant } => Scope::tenant(&caller.tenant(tenant).await?),
        ScopeBody::Deploy { tenant, app } => Scope::deploy(&caller.app(tenant, app).await?),
    };
    let created = caller
        .registry
        .create_token(&caller.principal, &body.label, scope)
        .await?;
    reply(
        StatusCode::CREATED,
        json!({ "token": created.token, "info": created.info }),
    )
}

/// `GET /api/v1/tenants/{tenant}/apps`.
pub(crate) async fn list_apps(
    TenantAccess {
        registry, tenant, ..
    }: TenantAccess,
) -> ApiResult {
    let apps = registry.apps(&tenant.id).await?;
    reply(StatusCode::OK, json!({ "apps": apps }))
}

/// `POST /api/v1/tenants/{tenant}/apps`.
pub(crate) async fn create_app(
    TenantAccess {
        host,
        registry,
        principal,
        tenant,
    }: TenantAccess,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let body: NameBody = parse_body(&body)?;
    let app = registry
        .create_app(&principal, &tenant.id, &body.name)
        .await
        .map_err(ApiError::from)
        .map_err(|e| count_quota_refusal(&host, &registry, &tenant.name, e));
    reply(StatusCode::CREATED, json!({ "app": app? }))
}

/// Counts `error` against `tenant` when a quota caused it (413 or 429), and passes it on.
fn count_quota_refusal(
    host: &Host,
    registry: &Registry,
    tenant: &str,
    error: ApiError,
) -> ApiError {
    if matches!(
        error.status,
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::TOO_MANY_REQUESTS
    ) {
        let limit = registry.quota_defaults().max_concurrent_instances;
        let usage = host
            .sites
            .usage_of(tenant)
            .unwrap_or_else(|| host.sites.usage(tenant, limit));
        usage.count_api_refusal();
    }
    error
}

/// Where an app is served, from the API request's own scheme-less host (for its port).
fn app_url(host: &Host, headers: &HeaderMap, app: &App) -> String {
    let port = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(origin::port)
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    format!(
        "{}://{}.{}.{}{port}/",
        host.config().public_scheme,
        app.name,
        app.tenant_name,
        host.config().base_domain
    )
}

/// `GET /api/v1/tenants/{tenant}/apps/{app}`.
pub(crate) async fn get_app(
    headers: HeaderMap,
    AppAccess {
        host,
        registry,
        app,
        ..
    }: AppAccess,
) -> ApiResult {
    let active = registry.active_version(&app).await?;
    let url = app_url(&host, &headers, &app);
    reply(
        StatusCode::OK,
        json!({ "app": app, "active": active, "url": url }),
    )
}

/// `DELETE /api/v1/tenants/{tenant}/apps/{app}`: deletes the app, its versions and its
/// deploy tokens, and stops serving it at once (views already connected may finish).
pub(crate) async fn delete_app(
    AppAccess {
        host,
        registry,
        principal,
        app,
    }: AppAccess,
) -> ApiResult {
    if !principal.can_manage_tenant(&app.tenant_id) {
        return Err(ApiError::forbidden());
    }
    registry.delete_app(&principal, &app).await?;
    host.sites.remove(&app.tenant_name, &app.name);
    host.remove_app_data(app.id.as_str());
    tracing::info!(tenant = %app.tenant_name, app = %app.name, "app deleted, no longer served");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/tenants/{tenant}/apps/{app}/versions`.
pub(crate) async fn list_versions(AppAccess { registry, app, .. }: AppAccess) -> ApiResult {
    let versions = registry.versions(&app).await?;
    let active = registry.active_version(&app).await?.map(|v| v.number);
    reply(
        StatusCode::OK,
        json!({ "versions": versions, "active": active }),
    )
}

/// Reads the request body, refusing it as soon as it passes `limit` bytes.
async fn read_limited(body: Body, limit: u64) -> Result<Vec<u8>, ApiError> {
    let cap = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    match axum::body::to_bytes(body, cap).await {
        Ok(bytes) if bytes.len() as u64 > limit => Err(ApiError::too_large(limit)),
        Ok(bytes) => Ok(bytes.to_vec()),
        Err(e) => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(inner) = source {
                text.push_str(&inner.to_string());
                source = inner.source();
            }
            if text.contains("length limit") {
                Err(ApiError::too_large(limit))
            } else {
                Err(ApiError::bad_request(
                    "bad_body",
                    format!("The request body could not be read: {e}."),
                ))
            }
        }
    }
}

/// `POST /api/v1/tenants/{tenant}/apps/{app}/versions?activate=true`: the body is the
/// component. It is checked and compiled before anything is stored.
pub(crate) async fn upload_version(
    headers: HeaderMap,
    AppAccess {
        host,
        registry,
        principal,
        app,
    }: AppAccess,
    Query(query): Query<HashMap<String, String>>,
    body: Body,
) -> ApiResult {
    if !principal.can_deploy(&app) {
        return Err(ApiError::forbidden());
    }
    let activate = match query.get("activate").map(String::as_str) {
        None | Some("true" | "1" | "") => true,
        Some("false" | "0") => false,
        Some(other) => {
            return Err(ApiError::bad_request(
                "bad_query",
                format!("`activate` must be true or false, not {other:?}."),
            ));
        }
    };
    let limit = registry.quotas(&app.tenant_id).await?.max_component_bytes;
    // A declared length over the quota is refused before reading anything (with
    // `Expect: 100-continue` the client never even sends the body).
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        let error = ApiError::too_large(limit);
        return Err(count_quota_refusal(
            &host,
            &registry,
            &app.tenant_name,
            error,
        ));
    }
    let body_timeout = host.config().http_body_timeout;
    let Ok(read) = tokio::time::timeout(body_timeout, read_limited(body, limit)).await else {
        return Err(ApiError::body_timeout(body_timeout));
    };
    let bytes = read.map_err(|e| count_quota_refusal(&host, &registry, &app.tenant_name, e))?;
    let component = compile_blocking(&host, bytes.clone())
        .await
        .map_err(ApiError::internal)?
        .map_err(|rejection| ApiError::invalid_component(rejection.code, rejection.message))?;
    let version = registry.upload_version(&principal, &app, &bytes).await?;
    host.sites.remember(&version.sha256, component);
    if activate {
        registry.activate(&principal, &app, version.number).await?;
        serve_version(&host, &registry, &app, version.number, &version.sha256)
            .await
            .map_err(ApiError::internal)?;
    }
    reply(
        StatusCode::CREATED,
        json!({ "version": version, "active": activate }),
    )
}

/// `POST /api/v1/tenants/{tenant}/apps/{app}/versions/{number}/activate`.
pub(crate) async fn activate(
    AppAccess {
        host,
        registry,
        principal,
        app,
    }: AppAccess,
    Path((_, _, number)): Path<(String, String, String)>,
) -> ApiResult {
    let number: u64 = number.parse().map_err(|_| {
        ApiError::bad_request(
            "bad_version",
            format!("{number:?} is not a version number."),
        )
    })?;
    if !principal.can_deploy(&app) {
        return Err(ApiError::forbidden());
    }
    let version = registry.version(&app, number).await?;
    let version = registry.activate(&principal, &app, version.number).await?;
    serve_version(&host, &registry, &app, version.number, &version.sha256)
        .await
        .map_err(ApiError::internal)?;
    reply(StatusCode::OK, json!({ "version": version }))
}

/// `POST /api/v1/tenants/{tenant}/apps/{app}/rollback`.
pub(crate) async fn rollback(
    AppAccess {
        host,
        registry,
        principal,
        app,
    }: AppAccess,
) -> ApiResult {
    let version = match registry.rollback(&principal, &app).await {
        Ok(version) => version,
        Err(RegistryError::NotFound { what }) if what.starts_with("previous version") => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "nothing_to_roll_back",
                format!(
                    "App {} has no earlier activation to roll back to.",
                    app.path()
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    serve_version(&host, &registry, &app, version.number, &version.sha256)
        .await
        .map_err(ApiError::internal)?;
    reply(StatusCode::OK, json!({ "version": version }))
}
