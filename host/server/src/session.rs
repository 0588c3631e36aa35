//! The signed cookie session (holding the CSRF token) and the socket's check of it, and the
//! signed flash carried across redirects (cookie `__phoenix_flash__`) and live navigation.
//! Everything here is signed with the keys of one site ([`SiteKeys`]).
//!
//! Every app has its own origin under one base domain, so a page of one tenant's app can set a
//! cookie for the whole base domain (`Domain=`), which the browser then sends to every other
//! app too. Against that: the session cookie is host-only and, on a host reached over HTTPS,
//! named `__Host-livewasm_session` and `Secure` (the browser refuses a `__Host-` cookie that
//! names a domain, so no other origin can set it); each site signs it with its own key (another
//! app's cookie never verifies); and a request carrying the session cookie twice (one planted
//! for the parent domain beside the app's own) gets no session at all rather than whichever
//! comes first.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde_json::{Map, Value};

use crate::claims::FlashClaims;
use crate::keys::SiteKeys;
use crate::tokens;

/// Name of the session cookie on a host reached over plain HTTP.
pub(crate) const COOKIE: &str = "_livewasm_session";
/// Name of the session cookie on a host reached over HTTPS.
pub(crate) const SECURE_COOKIE: &str = "__Host-livewasm_session";

/// The session cookie's name for a site with `keys`.
pub(crate) fn cookie_name(keys: &SiteKeys<'_>) -> &'static str {
    if keys.secure() { SECURE_COOKIE } else { COOKIE }
}

/// `; Secure` for a site reached over HTTPS, else nothing.
fn secure_attr(keys: &SiteKeys<'_>) -> &'static str {
    if keys.secure() { "; Secure" } else { "" }
}
/// Key of the CSRF token inside the session.
pub(crate) const CSRF: &str = "_csrf_token";
/// The cookie the client sets from a redirect's flash token (and we set after an HTTP handler).
pub(crate) const FLASH_COOKIE: &str = "__phoenix_flash__";
/// How long a flash token is good for.
pub(crate) const FLASH_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// A signed flash token, or `None` when the flash is empty (or not an object).
pub(crate) fn sign_flash(keys: &SiteKeys<'_>, flash: &Value) -> Option<String> {
    let map = flash.as_object().filter(|m| !m.is_empty())?;
    Some(FlashClaims::new(map.clone()).sign(&keys.flash()))
}

/// The flash of a token; a tampered, foreign, expired or malformed token is ignored (logged),
/// giving an empty flash.
pub(crate) fn verify_flash(keys: &SiteKeys<'_>, token: &str) -> Value {
    if token.is_empty() {
        return Value::Object(Map::new());
    }
    match FlashClaims::verify(&keys.flash(), token, FLASH_MAX_AGE) {
        Ok(claims) => Value::Object(
            claims
                .flash
                .into_iter()
                .filter(|(_, v)| v.is_string())
                .collect(),
        ),
        Err(e) => {
            tracing::info!("flash token ignored: {e}");
            Value::Object(Map::new())
        }
    }
}

/// `Set-Cookie` for a flash token (60 s), or one deleting the flash cookie.
pub(crate) fn flash_cookie(keys: &SiteKeys<'_>, token: Option<&str>) -> String {
    let secure = secure_attr(keys);
    match token {
        Some(token) => format!(
            "{FLASH_COOKIE}={token}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
            FLASH_MAX_AGE.as_secs()
        ),
        None => format!("{FLASH_COOKIE}=; Path=/; Max-Age=0{secure}"),
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

/// Reads and verifies the session cookie (signed with `keys`, not older than `max_age`).
pub(crate) fn read(
    keys: &SiteKeys<'_>,
    max_age: Duration,
    cookie_header: Option<&str>,
) -> Option<Map<String, Value>> {
    let header = cookie_header?;
    let name = cookie_name(keys);
    let sent = header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .count();
    if sent > 1 {
        tracing::info!(
            "session cookie sent {sent} times (one set for a parent domain?): no session"
        );
        return None;
    }
    let value = cookie_value(header, name)?;
    match tokens::verify(&keys.cookie(), value, max_age) {
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

/// The `Set-Cookie` value for a session, signed with `keys`.
pub(crate) fn set_cookie(keys: &SiteKeys<'_>, session: &Map<String, Value>) -> String {
    let mut data = session.clone();
    data.remove("v");
    data.remove("iat");
    let token = tokens::sign(&keys.cookie(), data);
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax{}",
        cookie_name(keys),
        secure_attr(keys)
    )
}

/// Whether two secrets (CSRF tokens, upload tokens) are equal, in time that does not depend on
/// where they first differ (only on their lengths).
pub(crate) fn secrets_equal(expected: &str, sent: &str) -> bool {
    use subtle::ConstantTimeEq;
    expected.len() == sent.len() && bool::from(expected.as_bytes().ct_eq(sent.as_bytes()))
}

/// The session a socket's views see: present only when the cookie verifies and the socket's
/// `_csrf_token` matches it (otherwise every join is answered `stale`, as Phoenix does).
/// The CSRF token stays in it, as in Phoenix, so views can render forms that post over HTTP.
pub(crate) fn socket_session(
    keys: &SiteKeys<'_>,
    max_age: Duration,
    cookie_header: Option<&str>,
    csrf: Option<&str>,
) -> Option<Value> {
    let mut session = read(keys, max_age, cookie_header)?;
    let expected = session.get(CSRF).and_then(Value::as_str)?;
    if !csrf.is_some_and(|sent| secrets_equal(expected, sent)) {
        return None;
    }
    session.remove("v");
    session.remove("iat");
    Some(Value::Object(session))
}

#[cfg(test)]
mod secret_tests {
    use super::secrets_equal;

    #[test]
    fn secrets_compare_whole() {
        assert!(secrets_equal("abc123", "abc123"));
        assert!(!secrets_equal("abc123", "abc124"));
        assert!(!secrets_equal("abc123", "abc12"));
        assert!(!secrets_equal("abc123", ""));
        assert!(!secrets_equal("", "x"));
    }
}
