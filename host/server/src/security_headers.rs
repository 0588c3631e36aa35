//! Headers every response carries unless its handler set them: no MIME sniffing, a referrer
//! kept to the origin across sites, and no framing by another origin (every app has its own
//! origin, so another tenant's app cannot frame this one to click-jack it). A handler that
//! needs a stricter policy sets its own (blobs are served with a sandboxing CSP).

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;

/// The defaults, in the order they are added.
const DEFAULTS: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
    (header::CONTENT_SECURITY_POLICY, "frame-ancestors 'self'"),
];

/// HSTS on a host reached over HTTPS: browsers use HTTPS for the base domain and every app
/// under it for two years, so no app page loads over plain HTTP (where a network attacker could
/// plant cookies).
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Adds each default header `response` does not have yet, and HSTS when the host is public
/// over HTTPS (`https`).
pub(crate) async fn add_defaults(State(https): State<bool>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in DEFAULTS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if https && !headers.contains_key(header::STRICT_TRANSPORT_SECURITY) {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    response
}
