//! One-off guest calls outside a socket — dead renders and HTTP handlers: the tenant instance
//! slot each holds while it runs, and why one did not answer.

use axum::http::StatusCode;
use livewasm_runtime::RuntimeError;

/// Why a dead render (or an HTTP handler) did not answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GuestRunError {
    /// No instance could be had: the tenant is at its instance quota, the host's pool is
    /// exhausted, or the tenant's guest calls are backed up (503).
    #[error("{0}")]
    Capacity(String),
    /// The guest failed (500).
    #[error("{0}")]
    Failed(String),
}

impl GuestRunError {
    /// The error of instantiating a component.
    pub(crate) fn instantiate(error: RuntimeError) -> GuestRunError {
        match error {
            RuntimeError::PoolExhausted(_) => {
                GuestRunError::Capacity("the host is at capacity".into())
            }
            other => GuestRunError::Failed(other.to_string()),
        }
    }

    /// The status, title and public detail of the error page.
    pub(crate) fn page(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            GuestRunError::Capacity(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
                "The app is at capacity; try again in a moment.",
            ),
            GuestRunError::Failed(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
                "The page could not be rendered.",
            ),
        }
    }
}

/// An instance slot of the site's tenant (platform sites), held while a dead render or an HTTP
/// handler runs; `Err` when the tenant is at its instance quota.
pub(crate) fn tenant_slot(
    site: &crate::sites::Site,
) -> Result<Option<crate::sites::InstanceSlot>, GuestRunError> {
    match site.usage() {
        None => Ok(None),
        Some(usage) => usage.try_acquire().map(Some).ok_or_else(|| {
            tracing::info!(
                site = site.label(),
                "request refused: tenant at its instance quota"
            );
            GuestRunError::Capacity("the tenant is at its instance quota".into())
        }),
    }
}
