//! The server's routes, and the one place a request is dispatched by origin. Health and the
//! client bundle are served on every origin; anything else goes, by its `Host` header, to
//! exactly one of:
//!
//! - the platform API ([`api`](crate::api)): `/api/…` paths (and `/metrics`, for operator
//!   tokens) on the base domain of a host with a registry. An API path the API does not know
//!   answers a JSON 404: it never falls back to page rendering;
//! - the site router (pages, HTTP handlers, hook scripts, the socket), with the request's site
//!   attached for the [`CurrentSite`] extractor: an app origin `<app>.<tenant>.<base-domain>`
//!   gets that platform site; any other host, or other paths on the base domain, the default
//!   (`--app`) site. Without a registry every request is for the default site;
//! - a 404 page, for an app origin no app is served at.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tower::ServiceExt;

use crate::host::Host;
use crate::origin::{self, CurrentSite, Origin};
use crate::page::error_page;
use crate::sites::{Site, SiteId};
use crate::{api, app_assets, blobs, client_hooks, controller, http, ws};

/// The client bundle (`client-js/dist/livewasm.js`), embedded in the binary.
const CLIENT_JS: &[u8] = include_bytes!("../../../client-js/dist/livewasm.js");

/// The server's routes: health and the client bundle on every origin, then the platform API or
/// the pages of the site the `Host` header names (see the module doc).
pub fn router(host: Arc<Host>) -> Router {
    let https = host.config().https();
    let dispatch = Dispatch {
        api: api::routes().with_state(host.clone()),
        site: site_routes().with_state(host.clone()),
        host: host.clone(),
    };
    Router::new()
        .merge(crate::health::routes(host))
        .route("/assets/livewasm.js", get(client_js))
        .fallback(dispatch_by_origin)
        .with_state(Arc::new(dispatch))
        .layer(axum::middleware::map_response_with_state(
            https,
            crate::security_headers::add_defaults,
        ))
        .layer(axum::middleware::from_fn(crate::request_id::tag))
}

/// The routes of one site: its hook scripts, the socket, its pages and HTTP handlers.
fn site_routes() -> Router<Arc<Host>> {
    Router::new()
        .route("/assets/hooks/{file}", get(client_hooks::serve))
        .route("/assets/app/{hash}/{*name}", get(app_assets::serve))
        .route("/_blobs/{app}/{*name}", get(blobs::serve))
        .route("/live/websocket", get(ws::upgrade))
        .fallback(
            get(http::dead_render)
                .post(controller::handle)
                .put(controller::handle)
                .patch(controller::handle)
                .delete(controller::handle),
        )
}

/// The two routers a request can be dispatched to.
struct Dispatch {
    host: Arc<Host>,
    api: Router,
    site: Router,
}

/// Where a request goes.
enum Destination {
    /// The platform API.
    Api,
    /// A site serving views.
    Site(Arc<Site>),
    /// An app origin no app is served at; holds the host name.
    Unknown(String),
}

/// Where a request for `path` with `Host` header `host_header` goes on `host`.
fn destination(host: &Host, host_header: &str, path: &str) -> Destination {
    if host.registry().is_none() {
        return Destination::Site(host.default_site());
    }
    let name = origin::host_name(host_header);
    match origin::classify(&name, &host.config().base_domain) {
        Origin::Api if is_api_path(path) => Destination::Api,
        Origin::Api | Origin::Other => Destination::Site(host.default_site()),
        Origin::Unknown => Destination::Unknown(name),
        Origin::App { tenant, app } => match host.site(&SiteId::App { tenant, app }) {
            Some(site) => Destination::Site(site),
            None => Destination::Unknown(name),
        },
    }
}

/// True for the paths the platform API owns on the base domain (`/metrics` for operators
/// included).
fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/") || path == "/metrics"
}

async fn dispatch_by_origin(State(to): State<Arc<Dispatch>>, mut request: Request) -> Response {
    let host_header = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let routed: Result<Response, Infallible> =
        match destination(&to.host, host_header, request.uri().path()) {
            Destination::Api => to.api.clone().oneshot(request).await,
            Destination::Site(site) => {
                request.extensions_mut().insert(CurrentSite(site));
                to.site.clone().oneshot(request).await
            }
            Destination::Unknown(name) => {
                let page = error_page(404, "Not Found", &format!("No app is served at {name}."));
                Ok((StatusCode::NOT_FOUND, Html(page)).into_response())
            }
        };
    match routed {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

async fn client_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        CLIENT_JS,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use livewasm_registry::{QuotaDefaults, Registry};
    use livewasm_runtime::{Runtime, RuntimeConfig};
    use serde_json::Value;

    use crate::config::ServerConfig;
    use crate::sites::Sites;

    /// A host with a registry, serving the thermostat component as `acme/thermostat`.
    async fn platform(dir: &std::path::Path) -> Arc<Host> {
        let location = dir.join("registry.db").to_string_lossy().into_owned();
        let registry = Registry::open(&location, QuotaDefaults::default())
            .await
            .expect("registry");
        let runtime = Runtime::new(RuntimeConfig {
            max_instances: 4,
            ..RuntimeConfig::default()
        })
        .expect("runtime");
        let components = std::env::var_os("LIVEWASM_COMPONENTS").map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/components"),
            std::path::PathBuf::from,
        );
        let wasm = std::fs::read(components.join("thermostat.wasm"))
            .expect("thermostat.wasm (run `cargo xtask build thermostat`)");
        let app = runtime.load_app(&wasm).expect("load");
        let config = ServerConfig {
            secret_key: vec![7; 32],
            ..ServerConfig::default()
        };
        let host = Arc::new(Host::with_registry(runtime, config, registry));
        let usage = host.sites.usage("acme", 4);
        let site = Sites::build("acme", "thermostat", 1, app, usage).expect("site");
        host.sites.install(site);
        host
    }

    async fn send(
        router: &Router,
        method: &str,
        host: &str,
        path: &str,
    ) -> (StatusCode, String, String) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, host)
            .body(Body::empty())
            .expect("request");
        let response = router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        (
            status,
            content_type,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    #[tokio::test]
    async fn every_response_carries_the_default_security_headers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let router = router(platform(dir.path()).await);
        for (host, path) in [
            ("thermostat.acme.localhost:4000", "/thermostat"),
            ("thermostat.acme.localhost:4000", "/nope"),
            ("localhost:4000", "/api/v1/tenants/acme"),
            ("localhost:4000", "/assets/livewasm.js"),
        ] {
            let request = Request::builder()
                .uri(path)
                .header(header::HOST, host)
                .body(Body::empty())
                .expect("request");
            let response = router.clone().oneshot(request).await.expect("infallible");
            let headers = response.headers();
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
            assert_eq!(headers[header::X_FRAME_OPTIONS], "SAMEORIGIN", "{path}");
            assert_eq!(
                headers[header::CONTENT_SECURITY_POLICY],
                crate::security_headers::DEFAULT_CSP,
                "{path}"
            );
            assert_eq!(
                headers[header::REFERRER_POLICY],
                "strict-origin-when-cross-origin",
                "{path}"
            );
        }
    }

    #[tokio::test]
    async fn api_paths_are_answered_by_the_api_only_and_only_on_its_origin() {
        let dir = tempfile::tempdir().expect("tempdir");
        let router = router(platform(dir.path()).await);
        let api = "localhost:4000";
        let app = "thermostat.acme.localhost:4000";

        // An API path the API does not have: a JSON 404, never a page.
        for path in ["/api/v1/nope", "/api/v1/tenants/acme/nope/x", "/api"] {
            let (status, content_type, body) = send(&router, "GET", api, path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert!(
                content_type.starts_with("application/json"),
                "{path}: {content_type}"
            );
            let body: Value = serde_json::from_str(&body).expect("JSON");
            assert_eq!(body["error"]["code"], "not_found", "{path}");
        }
        // A known API path on its origin is the API's (no token: 401 in the API's format).
        let (status, content_type, _) = send(&router, "POST", api, "/api/v1/tenants").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(content_type.starts_with("application/json"));

        // On an app origin the API is not served: the site answers, with its 404 page.
        for method in ["GET", "POST"] {
            let (status, content_type, body) = send(&router, method, app, "/api/v1/tenants").await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
            assert!(
                content_type.starts_with("text/html"),
                "{method}: {content_type}"
            );
            assert!(!body.contains("\"error\""), "{body}");
        }
        // The site itself is served there, health everywhere, and unknown app origins 404.
        assert_eq!(
            send(&router, "GET", app, "/thermostat").await.0,
            StatusCode::OK
        );
        assert_eq!(
            send(&router, "GET", api, "/thermostat").await.0,
            StatusCode::NOT_FOUND
        );
        for origin in [api, app, "nope.acme.localhost"] {
            assert_eq!(
                send(&router, "GET", origin, "/health").await.0,
                StatusCode::OK
            );
        }
        let (status, _, body) = send(&router, "GET", "nope.acme.localhost", "/thermostat").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            body.contains("No app is served at nope.acme.localhost"),
            "{body}"
        );
    }
}
