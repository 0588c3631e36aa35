//! The platform's HTTP API under `/api/v1`, on the base domain only (never on app origins):
//! tenants, tokens, apps, component versions, activation, rollback, quotas, HTTP allowlists
//! and the audit log. JSON in and out, `Authorization: Bearer <token>`; every error is
//! `{"error":{"code","message"}}`.
//! `deploy/openapi.yaml` describes it.

mod access;
mod error;
mod handlers;
mod json_body;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};

use crate::host::Host;

/// The `/api/v1` routes, and `/metrics` for operators. The [router](crate::router) sends only
/// those paths on the API host of a host with a registry here; a path the API does not have
/// answers a JSON 404.
pub(crate) fn routes() -> Router<Arc<Host>> {
    Router::new()
        .route("/api/v1/tenants", post(handlers::create_tenant))
        .route("/api/v1/tenants/{tenant}", get(handlers::get_tenant))
        .route(
            "/api/v1/tokens",
            get(handlers::list_tokens).post(handlers::create_token),
        )
        .route("/api/v1/tokens/{id}", delete(handlers::revoke_token))
        .route("/api/v1/audit", get(handlers::audit_log))
        .route("/metrics", get(handlers::scrape_metrics))
        .route(
            "/api/v1/tenants/{tenant}/apps",
            get(handlers::list_apps).post(handlers::create_app),
        )
        .route(
            "/api/v1/tenants/{tenant}/apps/{app}",
            get(handlers::get_app).delete(handlers::delete_app),
        )
        .route(
            "/api/v1/tenants/{tenant}/apps/{app}/versions",
            get(handlers::list_versions).post(handlers::upload_version),
        )
        .route(
            "/api/v1/tenants/{tenant}/apps/{app}/versions/{number}/activate",
            post(handlers::activate),
        )
        .route(
            "/api/v1/tenants/{tenant}/apps/{app}/rollback",
            post(handlers::rollback),
        )
        .route(
            "/api/v1/tenants/{tenant}/quotas",
            get(handlers::quotas).put(handlers::set_quotas),
        )
        .route(
            "/api/v1/tenants/{tenant}/http-allowlist",
            get(handlers::http_allowlist).put(handlers::set_http_allowlist),
        )
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .fallback(handlers::unknown_path)
        // Bodies are read by the handlers themselves: JSON at most 64 KiB (`json_body.rs`),
        // uploads against the tenant's own size quota.
        .layer(DefaultBodyLimit::disable())
}
