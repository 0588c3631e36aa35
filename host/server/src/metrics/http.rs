//! `GET /metrics`: on the base domain of a host with a registry, for operator tokens only;
//! on the separate metrics listener ([`metrics_router`], `--metrics-listen`), to anyone who
//! can reach that address, as Prometheus expects.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::prometheus_text;

use crate::api::{ApiError, Caller};
use crate::host::Host;

/// The routes of the metrics listener: `GET /metrics` without authentication, and the
/// health probes (`/health`, `/health/live`, `/health/ready`). Bind it to an address only
/// the scraper reaches (loopback, a private network).
pub fn metrics_router(host: Arc<Host>) -> Router {
    Router::new()
        .route("/metrics", get(scrape_without_auth))
        .with_state(host.clone())
        .merge(crate::health::routes(host))
}

/// Serves [`metrics_router`] on `listener` until the runtime stops.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    host: Arc<Host>,
) -> std::io::Result<()> {
    axum::serve(listener, metrics_router(host)).await
}

/// `GET /metrics` on the metrics listener.
pub(crate) async fn scrape_without_auth(State(host): State<Arc<Host>>) -> Response {
    exposition(&host)
}

/// `GET /metrics` on the base domain: an operator token is required (401 without a valid
/// token, 403 for a tenant or deploy token).
pub(crate) async fn scrape_with_operator_token(caller: Caller) -> Response {
    if !caller.principal.is_operator() {
        return ApiError::forbidden().into_response();
    }
    exposition(&caller.host)
}

fn exposition(host: &Host) -> Response {
    (
        [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
        host.metrics().render(host),
    )
        .into_response()
}
