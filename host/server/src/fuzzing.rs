//! Thin public wrappers around the server's private parsers, for the cargo-fuzz targets in
//! `fuzz/` (issue 11). Not an API: nothing else may use it, and it may change at any time.
//! Each wrapper calls the private function unchanged; the parsers already public
//! ([`decode_form`](crate::decode_form), [`target_path`](crate::target_path),
//! [`decode_binary`](crate::decode_binary)) are fuzzed directly.
#![doc(hidden)]

use std::time::Duration;

use serde_json::{Map, Value};

use crate::claims::{TokenKind, ViewClaims};
use crate::keys::SiteKeys;
use crate::sites::SiteId;
use crate::tokens::{self, TokenError};
use crate::{origin, routes, session};

/// `tokens::peek`: a token's payload, unchecked.
pub fn token_peek(token: &str) -> Result<Map<String, Value>, TokenError> {
    tokens::peek(token)
}

/// `tokens::verify`: a token's payload when signed with `key` and not older than `max_age`.
pub fn token_verify(
    key: &[u8],
    token: &str,
    max_age: Duration,
) -> Result<Map<String, Value>, TokenError> {
    tokens::verify(key, token, max_age)
}

/// `tokens::sign`: signs `data` with `key` (so a target can reach past the signature check).
pub fn token_sign(key: &[u8], data: Map<String, Value>) -> String {
    tokens::sign(key, data)
}

/// `ViewClaims::peek`: a view token's claims, unchecked; `Ok` carries the view's DOM id.
pub fn view_claims_peek(token: &str) -> Result<String, TokenError> {
    ViewClaims::peek(token).map(|claims| claims.id)
}

/// `ViewClaims::verify` for a session token (`session`) or a static one.
pub fn view_claims_verify(
    key: &[u8],
    token: &str,
    max_age: Duration,
    session: bool,
) -> Result<String, TokenError> {
    let kind = if session {
        TokenKind::Session
    } else {
        TokenKind::Static
    };
    ViewClaims::verify(key, token, max_age, kind).map(|claims| claims.id)
}

/// The keys of the default site (`site: None`) or of app `app` of tenant `tenant`.
fn site(site: Option<(&str, &str)>) -> SiteId {
    match site {
        None => SiteId::Default,
        Some((tenant, app)) => SiteId::app(tenant, app),
    }
}

/// `session::socket_session`: the session a socket sees, from its `Cookie` header and CSRF.
pub fn socket_session(
    secret: &[u8],
    site_of: Option<(&str, &str)>,
    max_age: Duration,
    cookie_header: Option<&str>,
    csrf: Option<&str>,
) -> Option<Value> {
    let id = site(site_of);
    session::socket_session(&SiteKeys::new(secret, &id), max_age, cookie_header, csrf)
}

/// `session::set_cookie`: the `Set-Cookie` value of a session signed for the site.
pub fn session_set_cookie(
    secret: &[u8],
    site_of: Option<(&str, &str)>,
    data: &Map<String, Value>,
) -> String {
    let id = site(site_of);
    session::set_cookie(&SiteKeys::new(secret, &id), data)
}

/// `session::cookie_value`: the value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    session::cookie_value(header, name)
}

/// `session::verify_flash`: the flash of a flash token (empty when refused).
pub fn verify_flash(secret: &[u8], site_of: Option<(&str, &str)>, token: &str) -> Value {
    let id = site(site_of);
    session::verify_flash(&SiteKeys::new(secret, &id), token)
}

/// What [`classify_origin`] found (mirrors the private `origin::Origin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginKind {
    /// The platform API.
    Api,
    /// An app's origin: `(tenant, app)`.
    App(String, String),
    /// A name under the base domain no app can have.
    Unknown,
    /// A name outside the base domain.
    Other,
}

/// `origin::host_name` of a `Host` header.
pub fn host_name(header: &str) -> String {
    origin::host_name(header)
}

/// `origin::port` of a `Host` header.
pub fn host_port(header: &str) -> Option<u16> {
    origin::port(header)
}

/// `origin::classify` of a host name against the base domain.
pub fn classify_origin(name: &str, base_domain: &str) -> OriginKind {
    match origin::classify(name, base_domain) {
        origin::Origin::Api => OriginKind::Api,
        origin::Origin::App { tenant, app } => OriginKind::App(tenant, app),
        origin::Origin::Unknown => OriginKind::Unknown,
        origin::Origin::Other => OriginKind::Other,
    }
}

/// A parsed route pattern (`routes::Pattern`).
#[derive(Debug, Clone)]
pub struct RoutePattern(routes::Pattern);

impl RoutePattern {
    /// `Pattern::parse`.
    pub fn parse(path: &str) -> Option<RoutePattern> {
        routes::Pattern::parse(path).map(RoutePattern)
    }

    /// `Pattern::matches`: the path params when `path` matches.
    pub fn matches(&self, path: &str) -> Option<Map<String, Value>> {
        self.0.matches(path)
    }

    /// `Pattern::same_shape`.
    pub fn same_shape(&self, other: &RoutePattern) -> bool {
        self.0.same_shape(&other.0)
    }
}

/// `routes::query_params` of a URL query string.
pub fn query_params(query: Option<&str>) -> Map<String, Value> {
    routes::query_params(query)
}
