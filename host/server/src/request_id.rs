//! Request ids: every HTTP request gets a fresh random id, runs inside a `request` span
//! carrying it (so each log line about the request names it), and its response echoes it in
//! `x-request-id`. An id a client sends is not trusted: the host always makes its own.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The response header naming the request's id.
pub(crate) const HEADER: &str = "x-request-id";

/// A fresh request id: 16 hex digits.
pub(crate) fn fresh() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Middleware: runs the request in its `request` span and tags the response with its id.
pub(crate) async fn tag(request: Request, next: Next) -> Response {
    let id = fresh();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let started = std::time::Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::debug!(
            status = response.status().as_u16(),
            us = started.elapsed().as_micros() as u64,
            "request served"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}
