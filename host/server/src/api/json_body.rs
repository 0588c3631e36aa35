//! [`JsonBody`]: the body of a JSON API request, read within the host's body timeout and at
//! most [`MAX_JSON_BODY`] bytes, so no token holder can make the host buffer an unbounded body.
//! (Component uploads are read against the tenant's own size quota instead.)

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;

use super::error::ApiError;
use crate::host::Host;

/// Largest JSON body the API reads.
pub(crate) const MAX_JSON_BODY: usize = 64 * 1024;

/// A JSON request body of at most [`MAX_JSON_BODY`] bytes (not yet parsed).
pub(crate) struct JsonBody(pub(crate) Bytes);

impl FromRequest<Arc<Host>> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, host: &Arc<Host>) -> Result<Self, ApiError> {
        let timeout = host.config().http_body_timeout;
        let body = request.into_body();
        // One byte more than the limit tells "exactly the limit" from "past it".
        match tokio::time::timeout(timeout, axum::body::to_bytes(body, MAX_JSON_BODY + 1)).await {
            Err(_) => Err(ApiError::body_timeout(timeout)),
            Ok(Ok(bytes)) if bytes.len() <= MAX_JSON_BODY => Ok(JsonBody(bytes)),
            Ok(_) => Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("A JSON request body has at most {MAX_JSON_BODY} bytes."),
            )),
        }
    }
}
