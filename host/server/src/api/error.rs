//! The API's error: a status and `{"error":{"code":"…","message":"…"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use livewasm_registry::{Quota, RegistryError};
use serde_json::json;

/// An API failure, as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub(crate) struct ApiError {
    /// HTTP status.
    pub(crate) status: StatusCode,
    /// Stable snake_case code.
    pub(crate) code: &'static str,
    /// A human sentence.
    pub(crate) message: String,
}

impl ApiError {
    /// An error with this status, code and message.
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 with `code`.
    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401: no token, or one that does not authenticate.
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: the token may not do this.
    pub(crate) fn forbidden() -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "This token is not allowed to do that.",
        )
    }

    /// 404 for `what`.
    pub(crate) fn not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{} not found.", capitalize(what)),
        )
    }

    /// 422: the upload is not a component this host can serve.
    pub(crate) fn invalid_component(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 500; the detail goes to the log, not to the client.
    pub(crate) fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!("API internal error: {detail}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "The server failed; see its log.",
        )
    }

    /// 408: the request body did not arrive within `timeout`.
    pub(crate) fn body_timeout(timeout: std::time::Duration) -> Self {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "The request body did not arrive within {} s.",
                timeout.as_secs_f64()
            ),
        )
    }

    /// 413: a component larger than the tenant's quota.
    pub(crate) fn too_large(limit: u64) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "component_too_large",
            format!("The component is larger than this tenant's limit of {limit} bytes."),
        )
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl From<RegistryError> for ApiError {
    fn from(error: RegistryError) -> Self {
        match error {
            RegistryError::NotFound { what } => ApiError::not_found(&what),
            RegistryError::AlreadyExists { what } => ApiError::new(
                StatusCode::CONFLICT,
                "already_exists",
                format!("{} already exists.", capitalize(&what)),
            ),
            e @ RegistryError::InvalidName { .. } => {
                ApiError::bad_request("invalid_name", format!("{}.", capitalize(&e.to_string())))
            }
            e @ RegistryError::InvalidValue { .. } => {
                ApiError::bad_request("invalid_value", format!("{}.", capitalize(&e.to_string())))
            }
            e @ RegistryError::InvalidHttpHost { .. } => ApiError::bad_request(
                "invalid_http_host",
                format!("{}.", capitalize(&e.to_string())),
            ),
            e @ RegistryError::TooManyHttpHosts { .. } => ApiError::bad_request(
                "too_many_http_hosts",
                format!("{}.", capitalize(&e.to_string())),
            ),
            RegistryError::QuotaExceeded {
                quota: Quota::MaxComponentBytes,
                limit,
            } => ApiError::too_large(limit),
            RegistryError::QuotaExceeded { quota, limit } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "quota_exceeded",
                format!("This tenant's {quota} quota ({limit}) is used up."),
            ),
            RegistryError::Forbidden => ApiError::forbidden(),
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response()
    }
}
