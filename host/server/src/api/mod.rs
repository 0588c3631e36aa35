//! The platform's HTTP API under `/api/v1`, on the base domain only (never on app origins):
//! tenants, tokens, apps, component versions, activation, rollback and quotas. JSON in and
//! out, `Authorization: Bearer <token>`; every error is `{"error":{"code","message"}}`.
//! `deploy/openapi.yaml` describes it.

mod access;
mod error;
mod handlers;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use crate::Host;
use crate::host::Resolved;

/// The `/api/v1` routes. Requests on another host than the API's fall through to the
/// site's own pages, and without a registry the API answers 404.
pub(crate) fn routes(host: Arc<Host>) -> Router<Arc<Host>> {
    Router::new()
        .route("/api/v1/tenants", post(handlers::create_tenant))
        .route("/api/v1/tenants/{tenant}", get(handlers::get_tenant))
        .route("/api/v1/tokens", post(handlers::create_token))
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
        .method_not_allowed_fallback(handlers::method_not_allowed)
        // Uploads are read against the tenant's own size quota instead.
        .layer(DefaultBodyLimit::disable())
        .route_layer(middleware::from_fn_with_state(host, api_host_only))
}

/// Lets a request through only on the API host of a host with a registry.
async fn api_host_only(State(host): State<Arc<Host>>, request: Request, next: Next) -> Response {
    match host.resolve(request.headers()) {
        Resolved::Api => next.run(request).await,
        Resolved::Site(_) | Resolved::Unknown(_) => {
            crate::http::dead_render(State(host), request).await
        }
    }
}
