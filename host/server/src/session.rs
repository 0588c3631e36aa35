//! The signed cookie session (holding the CSRF token) and the socket's check of it, and the
//! signed flash carried across redirects (cookie `__phoenix_flash__`) and live navigation.
//! Everything here is signed with the keys of one site ([`SiteKeys`]).
//!
//! Every app has its own origin under one base domain, so a page of one tenant's app can set a
//! cookie for the whole base domain (`Domain=`), which the browser then sends to every other
//! app too. Against that: the session cookie is host-only and, on a host reached over HTTPS,
//! named `__Host-livewasm_session` and `Secure` (the browser refuses a `__Host-` cookie that
//! names a domain, so no other origin can set it); each site signs it with its own key (another
//! app's cookie never verifies); and of the values of a session cookie sent more than once
//! (one planted for the parent domain beside the app's own), only one that verifies with this
//! site's key is used, never whichever comes first.

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
///
/// A request may carry the cookie's name more than once: the app's own host-only cookie beside
/// one a sibling app planted for the parent domain (junk, another app's session, a cookie bomb
/// of many paths). Each value is checked, in the order the browser sent them, and the first
/// that verifies with this site's key is the session; one that does not verify is never used.
/// When none verifies there is no session. Junk planted beside the app's own cookie therefore
/// neither replaces the session nor ends it (which would start a fresh session on every
/// request, and a reload loop on the socket).
pub(crate) fn read(
    keys: &SiteKeys<'_>,
    max_age: Duration,
    cookie_header: Option<&str>,
) -> Option<Map<String, Value>> {
    let header = cookie_header?;
    let name = cookie_name(keys);
    let key = keys.cookie();
    let mut sent = 0usize;
    let mut last_error = None;
    for value in cookie_values(header, name) {
        sent += 1;
        match tokens::verify(&key, value, max_age) {
            Ok(session) => {
                if sent > 1 {
                    tracing::info!(
                        "session cookie sent more than once (one set for a parent domain?): \
                         value {sent} verifies"
                    );
                }
                return Some(session);
            }
            Err(e) => last_error = Some(e),
        }
    }
    if let Some(e) = last_error {
        tracing::info!("session cookie ignored ({sent} sent, none verifies): {e}");
    }
    None
}

/// Every value of cookie `name` in a `Cookie` header, in the order sent.
fn cookie_values<'a>(header: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(move |(k, _)| *k == name)
        .map(|(_, v)| v)
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

#[cfg(test)]
mod read_tests {
    use std::time::Duration;

    use super::*;
    use crate::sites::SiteId;

    const SECRET: [u8; 32] = [9; 32];
    const DAY: Duration = Duration::from_secs(86_400);

    /// A session cookie value signed for `site`, holding `user`.
    fn signed(site: &SiteId, user: &str) -> String {
        let mut data = fresh();
        data.insert("user".into(), Value::String(user.into()));
        tokens::sign(&SiteKeys::new(&SECRET, site).cookie(), data)
    }

    fn user(session: Option<Map<String, Value>>) -> Option<String> {
        session.and_then(|s| s.get("user").and_then(Value::as_str).map(str::to_string))
    }

    #[test]
    fn of_several_values_only_one_that_verifies_is_the_session() {
        let mine = SiteId::app("globex", "auth");
        let sibling = SiteId::app("acme", "auth");
        let keys = SiteKeys::new(&SECRET, &mine);
        let own = signed(&mine, "alice");
        let foreign = signed(&sibling, "mallory");
        // Planted junk before and after the app's own cookie: the own one is the session.
        for header in [
            format!("{COOKIE}=junk; {COOKIE}={own}"),
            format!("{COOKIE}={own}; {COOKIE}=junk"),
            format!("{COOKIE}={foreign}; other=1; {COOKIE}={own}"),
            format!(
                "{}{COOKIE}={own}",
                (0..50)
                    .map(|i| format!("{COOKIE}=bomb{i}; "))
                    .collect::<String>()
            ),
        ] {
            assert_eq!(
                user(read(&keys, DAY, Some(&header))).as_deref(),
                Some("alice"),
                "{header}"
            );
        }
        // Nothing that verifies: no session, whatever comes first.
        for header in [
            format!("{COOKIE}=junk"),
            format!("{COOKIE}={foreign}; {COOKIE}=junk"),
            format!("{COOKIE}={own}x; {COOKIE}={foreign}"),
            format!("{SECURE_COOKIE}={own}"),
        ] {
            assert_eq!(read(&keys, DAY, Some(&header)), None, "{header}");
        }
        // The HTTPS name alone counts on an HTTPS site.
        let secure = keys.clone().with_secure(true);
        let header = format!("{COOKIE}={own}; {SECURE_COOKIE}=junk; {SECURE_COOKIE}={own}");
        assert_eq!(
            user(read(&secure, DAY, Some(&header))).as_deref(),
            Some("alice")
        );
        assert_eq!(read(&secure, DAY, Some(&format!("{COOKIE}={own}"))), None);
    }
}
