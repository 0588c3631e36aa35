//! Which site a request is for, read from its `Host` header: the platform API on the base
//! domain, one app at `<app>.<tenant>.<base-domain>`, or anything else. The router decides it
//! once per request ([`router`](crate::router)) and hands the site to the handlers as the
//! [`CurrentSite`] extractor.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};

use crate::page::error_page;
use crate::sites::Site;

/// The site the router dispatched a request to (its version served when the request came in).
#[derive(Clone)]
pub(crate) struct CurrentSite(pub(crate) Arc<Site>);

/// A request that reached a site handler without going through the router's dispatch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoSite;

impl IntoResponse for NoSite {
    fn into_response(self) -> Response {
        let page = error_page(404, "Not Found", "No app is served here.");
        (StatusCode::NOT_FOUND, Html(page)).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentSite {
    type Rejection = NoSite;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, NoSite> {
        parts.extensions.get::<CurrentSite>().cloned().ok_or(NoSite)
    }
}

/// What a `Host` header names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The base domain itself, `api.<base-domain>`, or an IP address: the platform API.
    Api,
    /// `<app>.<tenant>.<base-domain>`.
    App {
        /// The tenant's name.
        tenant: String,
        /// The app's name.
        app: String,
    },
    /// Another name under the base domain that no app can have (e.g. `a.b.c.<base>`).
    Unknown,
    /// A name outside the base domain.
    Other,
}

/// The host name of a `Host` header value: without the port, lowercase, no trailing dot.
pub(crate) fn host_name(header: &str) -> String {
    let header = header.trim();
    let name = if let Some(rest) = header.strip_prefix('[') {
        // An IPv6 literal, `[::1]:4000`.
        match rest.split_once(']') {
            Some((ip, _)) => format!("[{ip}]"),
            None => header.to_string(),
        }
    } else {
        match header.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name.to_string(),
            _ => header.to_string(),
        }
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The port of a `Host` header value, if it names one.
pub(crate) fn port(header: &str) -> Option<u16> {
    let header = header.trim();
    let tail = match header.strip_prefix('[') {
        Some(rest) => rest.split_once(']')?.1.strip_prefix(':')?,
        None => header.rsplit_once(':')?.1,
    };
    tail.parse().ok()
}

/// Classifies a host name (as [`host_name`] returns it) against the base domain.
pub(crate) fn classify(name: &str, base_domain: &str) -> Origin {
    let base = base_domain.trim_end_matches('.').to_ascii_lowercase();
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    if name == base || bare.parse::<IpAddr>().is_ok() {
        return Origin::Api;
    }
    let Some(prefix) = name
        .strip_suffix(base.as_str())
        .and_then(|p| p.strip_suffix('.'))
    else {
        return Origin::Other;
    };
    if prefix == "api" {
        return Origin::Api;
    }
    match prefix.split('.').collect::<Vec<_>>().as_slice() {
        [app, tenant] if !app.is_empty() && !tenant.is_empty() => Origin::App {
            tenant: (*tenant).to_string(),
            app: (*app).to_string(),
        },
        _ => Origin::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_and_ports() {
        assert_eq!(
            host_name("Thermostat.ACME.localhost:4000"),
            "thermostat.acme.localhost"
        );
        assert_eq!(host_name("localhost."), "localhost");
        assert_eq!(host_name("[::1]:4000"), "[::1]");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
        assert_eq!(port("localhost:4000"), Some(4000));
        assert_eq!(port("[::1]:81"), Some(81));
        assert_eq!(port("localhost"), None);
    }

    #[test]
    fn origins() {
        let app = |t: &str, a: &str| Origin::App {
            tenant: t.into(),
            app: a.into(),
        };
        assert_eq!(classify("localhost", "localhost"), Origin::Api);
        assert_eq!(classify("api.localhost", "localhost"), Origin::Api);
        assert_eq!(classify("127.0.0.1", "localhost"), Origin::Api);
        assert_eq!(classify("[::1]", "localhost"), Origin::Api);
        assert_eq!(
            classify("thermostat.acme.localhost", "localhost"),
            app("acme", "thermostat")
        );
        assert_eq!(
            classify("blog.acme.apps.example.com", "Apps.Example.com."),
            app("acme", "blog")
        );
        assert_eq!(classify("a.b.c.localhost", "localhost"), Origin::Unknown);
        assert_eq!(classify("acme.localhost", "localhost"), Origin::Unknown);
        assert_eq!(classify("example.com", "localhost"), Origin::Other);
        assert_eq!(classify("xlocalhost", "localhost"), Origin::Other);
    }
}
