//! The API's endpoints.

use std::collections::HashMap;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use livewasm_registry::{
    App, AppId, AuditQuery, DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT, QuotaOverrides, Quotas, Registry,
    RegistryError, Scope, Tenant, TenantId, TokenId, TokenInfo,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::access::{AppAccess, Caller, TenantAccess};
use super::error::ApiError;
use super::json_body::JsonBody;
use crate::host::Host;
use crate::origin;
use crate::platform::{Unavailable, compiled_once, serve_version};
use crate::registry_sync::unserve;

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
/// apps may send HTTP requests to (sorted, as the registry normalized them). Any token of the
/// tenant may read it, deploy tokens included: it governs their app too.
pub(crate) async fn http_allowlist(caller: Caller, Path(tenant): Path<String>) -> ApiResult {
    let tenant = caller.tenant(&tenant).await?;
    let hosts = caller.registry.http_allowlist(&tenant.id).await?;
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
    /// The token expires this many seconds from now.
    #[serde(default)]
    expires_in_secs: Option<u64>,
    /// The token expires at this instant, unix ms.
    #[serde(default)]
    expires_at: Option<i64>,
}

/// Milliseconds since the unix epoch.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The expiry a token creation asks for: `expires_in_secs` from now, or `expires_at`, or none
/// (not both). Whether it lies ahead is the registry's check.
fn requested_expiry(body: &TokenBody) -> Result<Option<i64>, ApiError> {
    let invalid = |message: &str| ApiError::bad_request("invalid_expiry", message);
    match (body.expires_in_secs, body.expires_at) {
        (Some(_), Some(_)) => Err(invalid("Give `expires_in_secs` or `expires_at`, not both.")),
        (Some(0), None) => Err(invalid("`expires_in_secs` must be at least 1.")),
        (Some(secs), None) => i64::try_from(secs)
            .ok()
            .and_then(|secs| secs.checked_mul(1000))
            .and_then(|ms| now_ms().checked_add(ms))
            .map(Some)
            .ok_or_else(|| invalid("`expires_in_secs` is too large.")),
        (None, at) => Ok(at),
    }
}

/// `POST /api/v1/tokens`: the token's text is in this response only. An optional
/// `expires_in_secs` (or `expires_at`, unix ms) makes it stop authenticating then.
pub(crate) async fn create_token(caller: Caller, JsonBody(body): JsonBody) -> ApiResult {
    let body: TokenBody = parse_body(&body)?;
    let expires_at = requested_expiry(&body)?;
    let scope = match &body.scope {
        ScopeBody::Operator => Scope::Operator,
        ScopeBody::Tenant { tenant } => Scope::tenant(&caller.tenant(tenant).await?),
        ScopeBody::Deploy { tenant, app } => Scope::deploy(&caller.app(tenant, app).await?),
    };
    let created = caller
        .registry
        .create_token_expiring(&caller.principal, &body.label, scope, expires_at)
        .await?;
    reply(
        StatusCode::CREATED,
        json!({ "token": created.token, "info": created.info }),
    )
}

/// Refuses query parameters other than `allowed`, so that a misspelt filter is not silently
/// ignored (an operator's `?tenants=acme` would otherwise list every tenant's).
fn only_params(query: &HashMap<String, String>, allowed: &[&str]) -> Result<(), ApiError> {
    match query.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(key) => Err(ApiError::bad_request(
            "bad_query",
            format!(
                "Unknown query parameter {key:?}; this path takes {}.",
                allowed.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// Whose records a listing covers: the tenant of `?tenant=NAME` (which the caller must see),
/// else the caller's own tenant, else (operators) every tenant's. Deploy tokens list nothing.
async fn listing_tenant(
    caller: &Caller,
    query: &HashMap<String, String>,
) -> Result<Option<TenantId>, ApiError> {
    if matches!(caller.principal.scope(), Scope::Deploy { .. }) {
        return Err(ApiError::forbidden());
    }
    match query.get("tenant") {
        Some(name) => Ok(Some(caller.tenant(name).await?.id)),
        None => Ok(caller.principal.scope().tenant_id().cloned()),
    }
}

/// Tenant and app names of the tokens being shown, each looked up once.
#[derive(Default)]
struct Names {
    tenants: HashMap<TenantId, String>,
    apps: HashMap<AppId, String>,
}

impl Names {
    /// The name of tenant `id` (`None` if it is gone).
    async fn tenant(&mut self, registry: &Registry, id: &TenantId) -> Option<String> {
        if !self.tenants.contains_key(id) {
            let name = registry.tenant_by_id(id).await.ok()?.name;
            self.tenants.insert(id.clone(), name);
        }
        self.tenants.get(id).cloned()
    }

    /// The name of app `id` (`None` if it is gone).
    async fn app(&mut self, registry: &Registry, id: &AppId) -> Option<String> {
        if !self.apps.contains_key(id) {
            let name = registry.app_by_id(id).await.ok()?.name;
            self.apps.insert(id.clone(), name);
        }
        self.apps.get(id).cloned()
    }
}

/// A token's record as the API shows it: never its text (which is not stored) nor its hash;
/// names beside ids, and `status` (`active`, `expired` or `revoked`) as of `now`.
async fn token_view(registry: &Registry, names: &mut Names, info: &TokenInfo, now: i64) -> Value {
    let (tenant_id, app_id) = match &info.scope {
        Scope::Operator => (None, None),
        Scope::Tenant { tenant } => (Some(tenant), None),
        Scope::Deploy { tenant, app } => (Some(tenant), Some(app)),
    };
    let tenant = match tenant_id {
        Some(id) => names.tenant(registry, id).await,
        None => None,
    };
    let app = match app_id {
        Some(id) => names.app(registry, id).await,
        None => None,
    };
    let status = if info.revoked_at.is_some() {
        "revoked"
    } else if info.is_expired(now) {
        "expired"
    } else {
        "active"
    };
    json!({
        "id": info.id,
        "label": info.label,
        "kind": match info.scope {
            Scope::Operator => "operator",
            Scope::Tenant { .. } => "tenant",
            Scope::Deploy { .. } => "deploy",
        },
        "tenant": tenant,
        "app": app,
        "tenant_id": tenant_id,
        "app_id": app_id,
        "created_by": info.created_by,
        "created_at": info.created_at,
        "expires_at": info.expires_at,
        "last_used_at": info.last_used_at,
        "revoked_at": info.revoked_at,
        "status": status,
    })
}

/// `GET /api/v1/tokens[?tenant=NAME]`: `{"tokens": [...]}`, oldest first, revoked and expired
/// ones included. Operators: every token, or one tenant's; a tenant token: its tenant's;
/// deploy tokens: 403.
pub(crate) async fn list_tokens(
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    only_params(&query, &["tenant"])?;
    let tenant = listing_tenant(&caller, &query).await?;
    let infos = caller
        .registry
        .tokens(&caller.principal, tenant.as_ref())
        .await?;
    let now = now_ms();
    let mut names = Names::default();
    let mut tokens = Vec::with_capacity(infos.len());
    for info in &infos {
        tokens.push(token_view(&caller.registry, &mut names, info, now).await);
    }
    reply(StatusCode::OK, json!({ "tokens": tokens }))
}

/// `DELETE /api/v1/tokens/{id}`: revokes the token (it is refused from the next request on)
/// and answers `{"info": …}`, its record (as listed; `token` is only ever the text of a token
/// just created). Operators may revoke any token, a tenant token
/// its tenant's, any token itself; a token the caller may not see is a 404.
pub(crate) async fn revoke_token(caller: Caller, Path(id): Path<String>) -> ApiResult {
    let info = caller
        .registry
        .revoke_token(&caller.principal, &TokenId::from(id))
        .await?;
    let view = token_view(&caller.registry, &mut Names::default(), &info, now_ms()).await;
    reply(StatusCode::OK, json!({ "info": view }))
}

/// Parses the query parameter `name` as a number in `range`, if present.
fn number_param<T>(
    query: &HashMap<String, String>,
    name: &str,
    range: std::ops::RangeInclusive<T>,
) -> Result<Option<T>, ApiError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    let Some(text) = query.get(name) else {
        return Ok(None);
    };
    match text.parse::<T>() {
        Ok(value) if range.contains(&value) => Ok(Some(value)),
        _ => Err(ApiError::bad_request(
            "bad_query",
            format!(
                "`{name}` must be a whole number from {} to {}, not {text:?}.",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// `GET /api/v1/audit[?tenant=NAME][&limit=N][&before=SEQ]`: `{"entries": [...],
/// "next_before": SEQ|null}`, newest first. Operators: every entry, or one tenant's; a tenant
/// token: its tenant's; deploy tokens: 403. `limit` is 1 to 1000 (default 100); `before`
/// keeps entries with a smaller `seq`, and `next_before` is what to pass for the next page
/// (null when this one is the last).
pub(crate) async fn audit_log(
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    only_params(&query, &["tenant", "limit", "before"])?;
    let limit = number_param(&query, "limit", 1..=MAX_AUDIT_LIMIT)?.unwrap_or(DEFAULT_AUDIT_LIMIT);
    let before_seq = number_param(&query, "before", 0..=i64::MAX.unsigned_abs())?;
    let tenant = listing_tenant(&caller, &query).await?;
    let entries = caller
        .registry
        .audit_log(
            &caller.principal,
            &AuditQuery {
                tenant,
                before_seq,
                limit,
            },
        )
        .await?;
    let full = usize::try_from(limit).is_ok_and(|limit| entries.len() == limit);
    let next_before = entries.last().filter(|_| full).map(|entry| entry.seq);
    reply(
        StatusCode::OK,
        json!({ "entries": entries, "next_before": next_before }),
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
    // Its SQL database goes too (even if no version was ever served).
    if !unserve(&host, &app.tenant_name, &app.name, true).await {
        host.remove_app_data(app.id.as_str());
    }
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
    // Checked and compiled (once, however many apps this component is deployed to at once),
    // and kept for the activation.
    let sha256 = livewasm_registry::sha256_hex(&bytes);
    compiled_once(&host, &sha256, async { Ok(bytes.clone()) })
        .await
        .map_err(|e| match e {
            Unavailable::Rejected(rejection) => {
                ApiError::invalid_component(rejection.code, rejection.message)
            }
            Unavailable::Failed(error) => ApiError::internal(error),
        })?;
    let version = registry.upload_version(&principal, &app, &bytes).await?;
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

/// `GET /metrics` on the base domain: an operator token is required (401 without a valid
/// token, 403 for a tenant or deploy token).
pub(super) async fn scrape_metrics(caller: Caller) -> Response {
    if !caller.principal.is_operator() {
        return ApiError::forbidden().into_response();
    }
    crate::metrics::http::exposition(&caller.host)
}
