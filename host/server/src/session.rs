//! The signed cookie session (holding the CSRF token) and the socket's check of it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde_json::{Map, Value};

use crate::Host;
use crate::sites::SiteRef;
use crate::tokens;

/// Name of the session cookie.
pub(crate) const COOKIE: &str = "_livewasm_session";
/// Key of the CSRF token inside the session.
pub(crate) const CSRF: &str = "_csrf_token";

/// A random URL-safe token of 32 bytes.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The value of cookie `name` in a `Cookie` header.
pub(crate) fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Reads and verifies the session cookie of `site`.
pub(crate) fn read(
    host: &Host,
    site: &SiteRef,
    cookie_header: Option<&str>,
) -> Option<Map<String, Value>> {
    let value = cookie_value(cookie_header?, COOKIE)?;
    tokens::verify(&host.cookie_key(site), value, host.config().token_max_age).ok()
}

/// A new session with a fresh CSRF token.
pub(crate) fn fresh() -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(CSRF.into(), Value::String(random_token()));
    map
}

/// The `Set-Cookie` value for a session of `site`.
pub(crate) fn set_cookie(host: &Host, site: &SiteRef, session: &Map<String, Value>) -> String {
    let mut data = session.clone();
    data.remove("v");
    data.remove("iat");
    let token = tokens::sign(&host.cookie_key(site), data);
    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax")
}

/// The session a socket's views see: present only when the cookie verifies and the socket's
/// `_csrf_token` matches it (otherwise every join is answered `stale`, as Phoenix does).
/// The CSRF token itself is removed.
pub fn socket_session(
    host: &Host,
    cookie_header: Option<&str>,
    csrf: Option<&str>,
) -> Option<Value> {
    site_socket_session(host, &SiteRef::Default, cookie_header, csrf)
}

/// [`socket_session`] for the cookie of `site`.
pub(crate) fn site_socket_session(
    host: &Host,
    site: &SiteRef,
    cookie_header: Option<&str>,
    csrf: Option<&str>,
) -> Option<Value> {
    let mut session = read(host, site, cookie_header)?;
    let expected = session.get(CSRF).and_then(Value::as_str)?;
    if Some(expected) != csrf {
        return None;
    }
    session.remove(CSRF);
    session.remove("v");
    session.remove("iat");
    Some(Value::Object(session))
}
