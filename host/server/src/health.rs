//! Health probes, on every origin and on the metrics listener:
//!
//! - liveness, `GET /health` and `GET /health/live`: `ok` whenever the async event loop
//!   answers a request (a wedged or starved runtime answers nothing, and the probe times out);
//! - readiness, `GET /health/ready`: 200 when the host can serve its sites, 503 with a JSON
//!   reason when it cannot: when its registry does not answer a `SELECT 1` within
//!   [`READY_TIMEOUT`], when the NATS connection of its cluster (`--cluster`) has been lost
//!   for longer than `cluster_ready_grace`, or once the host is draining (a host without a
//!   registry or cluster is otherwise always ready).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::host::Host;

/// Longest wait for the registry's answer before the host is reported not ready.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The probe routes, with `host` as their state, for any router to merge.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(host: Arc<Host>) -> Router<S> {
    Router::new()
        .route("/health", get(live))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .with_state(host)
}

/// Liveness: answering at all is the proof.
async fn live() -> &'static str {
    "ok"
}

/// Readiness: the registry answers a cheap query in time.
async fn ready(State(host): State<Arc<Host>>) -> Response {
    if host.is_draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not_ready", "reason": "the host is draining (shutting down)"})),
        )
            .into_response();
    }
    // A cluster member cut off from NATS for a while: its views miss the other hosts'
    // broadcasts and its quotas count only its own instances.
    let grace = host.config().cluster_ready_grace;
    if let Some(down) = host.cluster_pubsub().and_then(|stats| stats.down_for)
        && down >= grace
    {
        let reason = format!(
            "the cluster's NATS connection has been lost for {} s",
            down.as_secs()
        );
        tracing::warn!("not ready: {reason}");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not_ready", "reason": reason})),
        )
            .into_response();
    }
    let Some(registry) = host.registry() else {
        return Json(json!({"status": "ready"})).into_response();
    };
    let started = Instant::now();
    let answered = tokio::time::timeout(READY_TIMEOUT, registry.ping()).await;
    host.metrics().registry_call("ping", started.elapsed());
    let reason = match answered {
        Ok(Ok(())) => return Json(json!({"status": "ready"})).into_response(),
        Ok(Err(error)) => format!("the registry failed: {error}"),
        Err(_) => format!(
            "the registry did not answer within {} ms",
            READY_TIMEOUT.as_millis()
        ),
    };
    tracing::warn!("not ready: {reason}");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "not_ready", "reason": reason})),
    )
        .into_response()
}
