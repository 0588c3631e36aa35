//! `GET /metrics`: on the base domain of a host with a registry, for operator tokens only
//! (the [API](crate::api) checks the token and answers with [`exposition`]); on the separate metrics listener ([`metrics_router`], `--metrics-listen`), to anyone who
//! can reach that address, as Prometheus expects.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::prometheus_text;

use super::HostGauges;
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

/// The Prometheus text exposition of `host`'s metrics, as a response.
pub(crate) fn exposition(host: &Host) -> Response {
    (
        [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
        host.metrics().render(&gauges(host)),
    )
        .into_response()
}

/// The host-wide gauges, read from `host` now.
fn gauges(host: &Host) -> HostGauges {
    let (busy, threads, waiting) = host.guests().occupancy();
    let (disk_cache_hits, disk_cache_misses) =
        host.runtime().artifact_cache().map_or((0, 0), |cache| {
            let stats = cache.stats();
            (stats.hits, stats.misses)
        });
    HostGauges {
        open_sockets: host.open_sockets(),
        parked_sockets: host.parked_sockets(),
        guest_threads: threads,
        guest_threads_busy: busy,
        guest_calls_waiting: waiting,
        pubsub_dropped: host.pubsub_dropped_messages(),
        compilations: host.runtime().compilations(),
        disk_cache_hits,
        disk_cache_misses,
        cluster: host.cluster_pubsub(),
        cluster_peers: host.cluster_peers(),
        remote_instances: host.sites.remote_counts(),
    }
}
