//! Headers every response carries unless its handler set them: no MIME sniffing, a referrer
//! kept to the origin across sites, no framing by another origin (every app has its own
//! origin, so another tenant's app cannot frame this one to click-jack it), and a content
//! security policy ([`DEFAULT_CSP`]) that lets a page load scripts, styles, fonts and connect
//! only to its own origin. A handler that needs another policy sets its own (blobs are served
//! with a sandboxing CSP; an app may declare its own for its pages).

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;

/// The content security policy of every page (and every other response) whose app declares
/// none. What a page needs is all on its own origin: the client bundle
/// (`/assets/livewasm.js`) and the app's hook script (`/assets/hooks/<hash>.js`), both
/// external and deferred (pages carry no inline script, so `script-src 'self'` without
/// `'unsafe-inline'` or `'unsafe-eval'`); its stylesheets and fonts; and its socket
/// (`/live/websocket`: `'self'` covers `ws:`/`wss:` to the same host and port). Styles may be
/// inline (the host's default `<style>` and the `style` attributes templates use); images may
/// also be `data:` URLs and `blob:` URLs (upload previews, `live_img_preview`). No plugins, no
/// `<base>` pointing elsewhere, forms posting only to the app, framing only by itself.
pub(crate) const DEFAULT_CSP: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; \
     media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
     form-action 'self'; frame-ancestors 'self'";

/// The defaults, in the order they are added.
const DEFAULTS: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
    (header::CONTENT_SECURITY_POLICY, DEFAULT_CSP),
];

/// HSTS on a host reached over HTTPS: browsers use HTTPS for the base domain and every app
/// under it for two years, so no app page loads over plain HTTP (where a network attacker could
/// plant cookies).
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Sets an app's own content security policy (`content_security_policy` of its manifest,
/// checked when the app loaded) on `response`, unless the response carries one already (an
/// HTTP handler that set its own). Without one, [`add_defaults`] adds [`DEFAULT_CSP`] later.
pub(crate) fn apply_app_policy(response: &mut Response, policy: Option<&str>) {
    let headers = response.headers_mut();
    if headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        return;
    }
    if let Some(value) = policy.and_then(|p| HeaderValue::from_str(p).ok()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
}

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

#[cfg(test)]
mod tests {
    use axum::body::Body;

    use super::*;

    fn csp(response: &Response) -> Vec<&str> {
        response
            .headers()
            .get_all(header::CONTENT_SECURITY_POLICY)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    #[tokio::test]
    async fn an_apps_policy_replaces_the_default_unless_its_handler_set_one() {
        let app = "default-src 'none'";
        // The app's policy, and the default no longer added.
        let mut response = Response::new(Body::empty());
        apply_app_policy(&mut response, Some(app));
        let response = add_defaults(State(false), response).await;
        assert_eq!(csp(&response), [app]);
        // No policy of its own: the default.
        let mut response = Response::new(Body::empty());
        apply_app_policy(&mut response, None);
        let response = add_defaults(State(false), response).await;
        assert_eq!(csp(&response), [DEFAULT_CSP]);
        // A handler that set its own keeps it.
        let mut response = Response::new(Body::empty());
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox"),
        );
        apply_app_policy(&mut response, Some(app));
        let response = add_defaults(State(false), response).await;
        assert_eq!(csp(&response), ["sandbox"]);
    }
}
