//! The welcome page of a dev host: `GET /` on the default (`--app`) site, when no app serves
//! `/` and the host runs with `--dev`, lists every app served and its routes (as links, or as
//! text for a pattern with params such as `/articles/:id`), and, on a host with a registry,
//! the tenant apps it serves on their own origins. In production `/` stays a plain 404.
//!
//! Everything an app or tenant names (app names, paths, views, host names) is HTML-escaped.

use std::fmt::Write as _;

use axum::http::{HeaderMap, header};

use crate::host::Host;
use crate::page::escape;
use crate::sites::{Site, SiteId};

/// The welcome page's style: the error page's look, plus compact lists.
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;line-height:1.4;\
max-width:60rem}code{background:#f3f3f3;padding:0 .2rem}h2{margin-bottom:.25rem}\
ul{margin-top:.25rem}.view{color:#666}";

/// The welcome page for `site` (the default site) of `host`, as the request with `headers`
/// reached it: the `Host` header's port is reused in the tenant apps' origins.
pub(crate) fn page(host: &Host, site: &Site, headers: &HeaderMap) -> String {
    let mut body = String::new();
    body.push_str("<h1>Livewasm dev host</h1>\n");
    apps_section(&mut body, site);
    if host.registry().is_some() {
        tenants_section(&mut body, host, headers);
    }
    body.push_str(
        "<p>New view: <code>cargo xtask new NAME</code> in the Livewasm repository, or \
<code>livewasm new NAME</code> anywhere. This page is shown in dev mode only.</p>\n",
    );
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Livewasm dev host</title><style>{STYLE}</style></head>\n<body>\n{body}</body>\n</html>\n"
    )
}

/// The apps of the default site, each with its view and HTTP routes.
fn apps_section(body: &mut String, site: &Site) {
    let routes = site.routes();
    let apps = routes.apps();
    if apps.is_empty() {
        body.push_str(
            "<p>No apps are served. Serve one with \
<code>livewasm serve --dev --app path/to/app.wasm</code>.</p>\n",
        );
        return;
    }
    let listed = routes.list();
    for app in apps {
        let manifest = app.manifest();
        let _ = writeln!(body, "<h2>{}</h2>\n<ul>", escape(&manifest.name));
        let mut any = false;
        for (_, path, view) in listed.iter().filter(|(name, _, _)| name == &manifest.name) {
            any = true;
            let _ = writeln!(
                body,
                "<li>{} <span class=\"view\">{}</span></li>",
                route_item(path, Some("")),
                escape(view)
            );
        }
        for route in &manifest.http_routes {
            any = true;
            let method = route.method.to_ascii_uppercase();
            let link = (method == "GET").then_some("");
            let _ = writeln!(
                body,
                "<li>{} <span class=\"view\">{} (HTTP)</span></li>",
                route_item(&route.path, link),
                escape(&method)
            );
        }
        if !any {
            body.push_str("<li>no routes</li>\n");
        }
        body.push_str("</ul>\n");
    }
}

/// The tenant apps the host serves, with links to their routes on their own origins, or how
/// to reach one when none is served yet.
fn tenants_section(body: &mut String, host: &Host, headers: &HeaderMap) {
    let base = &host.config().base_domain;
    let scheme = &host.config().public_scheme;
    let port = request_port(headers)
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    body.push_str("<h2>Tenant apps</h2>\n");
    let served = host.sites();
    if served.is_empty() {
        let _ = writeln!(
            body,
            "<p>None is deployed yet. App <code>APP</code> of tenant <code>TENANT</code> is \
served on <code>{}://APP.TENANT.{}{}/</code> once deployed \
(<code>livewasm deploy TENANT/APP app.wasm</code>).</p>",
            escape(scheme),
            escape(base),
            escape(&port)
        );
        return;
    }
    body.push_str("<ul>\n");
    for (tenant, app, version) in served {
        let origin = format!("{scheme}://{app}.{tenant}.{base}{port}");
        let routes = host
            .site(&SiteId::app(&tenant, &app))
            .map(|site| site.routes().list())
            .unwrap_or_default();
        let links: Vec<String> = routes
            .iter()
            .map(|(_, path, _)| route_item(path, Some(&origin)))
            .collect();
        let links = if links.is_empty() {
            format!("<a href=\"{0}/\">{0}/</a>", escape(&origin))
        } else {
            links.join(", ")
        };
        let _ = writeln!(
            body,
            "<li><strong>{}/{}</strong> (version {version}): {links}</li>",
            escape(&tenant),
            escape(&app)
        );
    }
    body.push_str("</ul>\n");
}

/// A route as a list item: a link to `origin` + the path when the pattern has no params
/// (`origin` is `None` for no link at all), otherwise the pattern as text.
fn route_item(pattern: &str, origin: Option<&str>) -> String {
    match (origin, link_path(pattern)) {
        (Some(origin), Some(path)) => {
            let shown = format!("{origin}{path}");
            format!("<a href=\"{0}\">{0}</a>", escape(&shown))
        }
        _ => format!("<code>{}</code>", escape(pattern)),
    }
}

/// The path to link to for a route pattern: its segments joined again (so `//x` never becomes
/// a link to another host), or `None` when a segment is a `:param`.
fn link_path(pattern: &str) -> Option<String> {
    let segments: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|s| s.starts_with(':')) {
        return None;
    }
    Some(format!("/{}", segments.join("/")))
}

/// The port the request was sent to, from its `Host` header (`127.0.0.1:4000` → `4000`).
fn request_port(headers: &HeaderMap) -> Option<u16> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    // An IPv6 literal is bracketed: `[::1]:4000`.
    let after_host = host.rsplit_once(']').map_or(host, |(_, rest)| rest);
    after_host.rsplit_once(':')?.1.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_with_params_are_not_links() {
        assert_eq!(link_path("/articles/:id"), None);
        assert_eq!(link_path("/"), Some("/".to_string()));
        assert_eq!(link_path("/thermostat"), Some("/thermostat".to_string()));
        // A pattern written with a doubled slash links to this host, not to another one.
        assert_eq!(
            link_path("//evil.example/x"),
            Some("/evil.example/x".into())
        );
        assert_eq!(
            route_item("/a\"<b>", Some("")),
            "<a href=\"/a&quot;&lt;b&gt;\">/a&quot;&lt;b&gt;</a>"
        );
        assert_eq!(
            route_item("/articles/:id", Some("")),
            "<code>/articles/:id</code>"
        );
        assert_eq!(route_item("/x", None), "<code>/x</code>");
    }

    #[test]
    fn the_port_comes_from_the_host_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(request_port(&headers), None);
        headers.insert(header::HOST, "127.0.0.1:4000".parse().expect("header"));
        assert_eq!(request_port(&headers), Some(4000));
        headers.insert(header::HOST, "[::1]:8080".parse().expect("header"));
        assert_eq!(request_port(&headers), Some(8080));
        headers.insert(header::HOST, "[::1]".parse().expect("header"));
        assert_eq!(request_port(&headers), None);
        headers.insert(header::HOST, "localhost".parse().expect("header"));
        assert_eq!(request_port(&headers), None);
    }
}
