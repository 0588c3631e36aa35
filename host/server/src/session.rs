//! The signed cookie session (holding the CSRF token) and the socket's check of it, and the
//! signed flash carried across redirects (cookie `__phoenix_flash__`) and live navigation.

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
/// The cookie the client sets from a redirect's flash token (and we set after an HTTP handler).
pub(crate) const FLASH_COOKIE: &str = "__phoenix_flash__";
/// How long a flash token is good for.
pub(crate) const FLASH_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// The key signing flash tokens of `site`.
fn flash_key(host: &Host, site: &SiteRef) -> Vec<u8> {
    tokens::derive_key(&host.cookie_key(site), "flash")
}

/// A signed flash token, or `None` when the flash is empty (or not an object).
pub(crate) fn sign_flash(host: &Host, site: &SiteRef, flash: &Value) -> Option<String> {
    let map = flash.as_object().filter(|m| !m.is_empty())?;
    let mut data = Map::new();
    data.insert("kind".into(), Value::from("flash"));
    data.insert("flash".into(), Value::Object(map.clone()));
    Some(tokens::sign(&flash_key(host, site), data))
}

/// The flash of a token; a tampered, foreign or expired token is ignored (logged), giving an
/// empty flash.
pub(crate) fn verify_flash(host: &Host, site: &SiteRef, token: &str) -> Value {
    let empty = || Value::Object(Map::new());
    if token.is_empty() {
        return empty();
    }
    match tokens::verify(&flash_key(host, site), token, FLASH_MAX_AGE) {
        Ok(data) if data.get("kind").and_then(Value::as_str) == Some("flash") => {
            match data.get("flash") {
                Some(Value::Object(map)) => Value::Object(
                    map.iter()
                        .filter(|(_, v)| v.is_string())
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                ),
                _ => empty(),
            }
        }
        Ok(_) => {
            tracing::info!("flash token ignored: not a flash token");
            empty()
        }
        Err(e) => {
            tracing::info!("flash token ignored: {e}");
            empty()
        }
    }
}

/// `Set-Cookie` for a flash token (60 s), or one deleting the flash cookie.
pub(crate) fn flash_cookie(token: Option<&str>) -> String {
    match token {
        Some(token) => format!(
            "{FLASH_COOKIE}={token}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax",
            FLASH_MAX_AGE.as_secs()
        ),
        None => format!("{FLASH_COOKIE}=; Path=/; Max-Age=0"),
    }
}

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
    match tokens::verify(&host.cookie_key(site), value, host.config().token_max_age) {
        Ok(session) => Some(session),
        Err(e) => {
            tracing::info!("session cookie ignored: {e}");
            None
        }
    }
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
/// The CSRF token stays in it, as in Phoenix, so views can render forms that post over HTTP.
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
    session.remove("v");
    session.remove("iat");
    Some(Value::Object(session))
}
