//! Headers every response carries unless its handler set them: no MIME sniffing, a referrer
//! kept to the origin across sites, and no framing by another origin (every app has its own
//! origin, so another tenant's app cannot frame this one to click-jack it). A handler that
//! needs a stricter policy sets its own (blobs are served with a sandboxing CSP).

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;

/// The defaults, in the order they are added.
const DEFAULTS: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
    (header::CONTENT_SECURITY_POLICY, "frame-ancestors 'self'"),
];

/// Adds each default header `response` does not have yet.
pub(crate) async fn add_defaults(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in DEFAULTS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}
