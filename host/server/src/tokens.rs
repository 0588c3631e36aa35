//! Signed tokens: HMAC-SHA256 over a JSON payload, `base64url(payload).base64url(mac)`, with a
//! version and an issue time. The keys come from [`keys`](crate::keys); what a view token
//! carries is typed in [`claims`](crate::claims).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

/// Token format version; a token of another version is refused as outdated.
const VERSION: u64 = 1;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not two base64url parts holding a JSON object.
    #[error("malformed token")]
    BadFormat,
    /// The signature does not match.
    #[error("bad signature")]
    BadSignature,
    /// Older than the allowed age.
    #[error("token expired")]
    Expired,
    /// Signed by another version of the format.
    #[error("outdated token version")]
    WrongVersion,
}

/// HMAC-SHA256 of `data` under `key`.
pub(crate) fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        // HMAC accepts keys of any length; this branch cannot be reached.
        Err(_) => Vec::new(),
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Signs `data` (a JSON object) with `key`, adding version and issue time.
pub(crate) fn sign(key: &[u8], mut data: Map<String, Value>) -> String {
    data.insert("v".into(), Value::from(VERSION));
    data.insert("iat".into(), Value::from(now_secs()));
    let payload = URL_SAFE_NO_PAD.encode(Value::Object(data).to_string());
    let signature = URL_SAFE_NO_PAD.encode(mac(key, payload.as_bytes()));
    format!("{payload}.{signature}")
}

/// Reads a token's payload without checking it (to learn which key to check it with).
pub(crate) fn peek(token: &str) -> Result<Map<String, Value>, TokenError> {
    let (payload, _) = token.split_once('.').ok_or(TokenError::BadFormat)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::BadFormat)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(TokenError::BadFormat),
    }
}

/// Verifies a token signed with `key` and not older than `max_age`; returns its data.
pub(crate) fn verify(
    key: &[u8],
    token: &str,
    max_age: Duration,
) -> Result<Map<String, Value>, TokenError> {
    let (payload, signature) = token.split_once('.').ok_or(TokenError::BadFormat)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::BadFormat)?;
    let mut check = Hmac::<Sha256>::new_from_slice(key).map_err(|_| TokenError::BadSignature)?;
    check.update(payload.as_bytes());
    check
        .verify_slice(&signature)
        .map_err(|_| TokenError::BadSignature)?;
    let data = peek(token)?;
    if data.get("v").and_then(Value::as_u64) != Some(VERSION) {
        return Err(TokenError::WrongVersion);
    }
    let issued = data
        .get("iat")
        .and_then(Value::as_u64)
        .ok_or(TokenError::BadFormat)?;
    if now_secs().saturating_sub(issued) > max_age.as_secs() {
        return Err(TokenError::Expired);
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A key for `purpose`, derived as [`crate::keys`] does.
    fn derive_key(secret: &[u8], purpose: &str) -> Vec<u8> {
        mac(secret, purpose.as_bytes())
    }

    fn data() -> Map<String, Value> {
        json!({"id": "phx-1", "view": "Thermostat"})
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn round_trip() {
        let key = derive_key(b"secret-secret-secret-secret-secret", "session:app");
        let token = sign(&key, data());
        let back = verify(&key, &token, Duration::from_secs(60)).unwrap();
        assert_eq!(back["id"], "phx-1");
        assert_eq!(peek(&token).unwrap()["view"], "Thermostat");
    }

    #[test]
    fn tampering_wrong_key_and_garbage_are_refused() {
        let key = derive_key(b"secret-secret-secret-secret-secret", "session:app");
        let token = sign(&key, data());
        let other = derive_key(b"secret-secret-secret-secret-secret", "session:other");
        assert_eq!(
            verify(&other, &token, Duration::from_secs(60)),
            Err(TokenError::BadSignature)
        );
        let (payload, sig) = token.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(r#"{"id":"phx-2","v":1,"iat":0}"#);
        assert_eq!(
            verify(&key, &format!("{forged}.{sig}"), Duration::from_secs(60)),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            verify(&key, payload, Duration::from_secs(60)),
            Err(TokenError::BadFormat)
        );
        assert_eq!(
            verify(&key, "a.b.c", Duration::from_secs(60)),
            Err(TokenError::BadFormat)
        );
    }

    #[test]
    fn expiry_and_version() {
        let key = b"k".to_vec();
        let mut old = data();
        old.insert("x".into(), json!(1));
        let token = sign(&key, old);
        assert!(verify(&key, &token, Duration::from_secs(3600)).is_ok());
        // Re-sign a payload with an old issue time and another version.
        let payload = URL_SAFE_NO_PAD.encode(r#"{"v":1,"iat":1}"#);
        let signature = URL_SAFE_NO_PAD.encode(mac(&key, payload.as_bytes()));
        assert_eq!(
            verify(
                &key,
                &format!("{payload}.{signature}"),
                Duration::from_secs(60)
            ),
            Err(TokenError::Expired)
        );
        let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"v":0,"iat":{}}}"#, now_secs()));
        let signature = URL_SAFE_NO_PAD.encode(mac(&key, payload.as_bytes()));
        assert_eq!(
            verify(
                &key,
                &format!("{payload}.{signature}"),
                Duration::from_secs(60)
            ),
            Err(TokenError::WrongVersion)
        );
    }
}
