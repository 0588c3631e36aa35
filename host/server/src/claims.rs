//! What the host's signed tokens carry, as types: [`ViewClaims`] for the session and static
//! tokens a dead render puts on its page (read back when the socket joins the view), and
//! [`FlashClaims`] for the flash carried across redirects. They are JSON objects inside
//! [`tokens`](crate::tokens); absent optional claims are left out of the token.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::tokens::{self, TokenError};

/// What a token is for; a token of one kind is refused where another is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TokenKind {
    /// `data-phx-session`: which view of which app the page rendered.
    Session,
    /// `data-phx-static`: what the dead render showed (its flash).
    Static,
    /// A flash for the next page.
    Flash,
}

/// The claims of a view's session or static token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ViewClaims {
    /// [`TokenKind::Session`] or [`TokenKind::Static`].
    pub(crate) kind: TokenKind,
    /// The view's DOM id (`phx-…`), which the join's topic must name.
    pub(crate) id: String,
    /// The app (its manifest name) that rendered the page.
    pub(crate) app: String,
    /// The view rendered (session tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) view: Option<String>,
    /// The live session of the route rendered (session tokens); live navigation stays in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) live_session: Option<String>,
    /// The page's container tag (session tokens of routes with a container).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) container: Option<String>,
    /// `tenant/app` of the platform site that issued it; absent on the default site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) site: Option<String>,
    /// The flash the dead render showed (static tokens, when not empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) flash: Option<Map<String, Value>>,
}

impl ViewClaims {
    /// Signs the claims with `key`.
    pub(crate) fn sign(&self, key: &[u8]) -> String {
        tokens::sign(key, to_map(self))
    }

    /// The claims of a token, unchecked (to learn which key checks it).
    pub(crate) fn peek(token: &str) -> Result<ViewClaims, TokenError> {
        from_map(tokens::peek(token)?)
    }

    /// The claims of a token of `kind` signed with `key`, not older than `max_age`.
    pub(crate) fn verify(
        key: &[u8],
        token: &str,
        max_age: Duration,
        kind: TokenKind,
    ) -> Result<ViewClaims, TokenError> {
        let claims: ViewClaims = from_map(tokens::verify(key, token, max_age)?)?;
        if claims.kind != kind {
            return Err(TokenError::BadFormat);
        }
        Ok(claims)
    }
}

/// The claims of a flash token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FlashClaims {
    /// Always [`TokenKind::Flash`].
    pub(crate) kind: TokenKind,
    /// The flash: message kind → text.
    pub(crate) flash: Map<String, Value>,
}

impl FlashClaims {
    /// A flash token's claims.
    pub(crate) fn new(flash: Map<String, Value>) -> FlashClaims {
        FlashClaims {
            kind: TokenKind::Flash,
            flash,
        }
    }

    /// Signs the claims with `key`.
    pub(crate) fn sign(&self, key: &[u8]) -> String {
        tokens::sign(key, to_map(self))
    }

    /// The flash of a flash token signed with `key`, not older than `max_age`.
    pub(crate) fn verify(
        key: &[u8],
        token: &str,
        max_age: Duration,
    ) -> Result<FlashClaims, TokenError> {
        let claims: FlashClaims = from_map(tokens::verify(key, token, max_age)?)?;
        if claims.kind != TokenKind::Flash {
            return Err(TokenError::BadFormat);
        }
        Ok(claims)
    }
}

/// Claims as the JSON object a token signs.
fn to_map(claims: &impl Serialize) -> Map<String, Value> {
    match serde_json::to_value(claims) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Claims from a token's JSON object (its version and issue time are ignored).
fn from_map<T: DeserializeOwned>(map: Map<String, Value>) -> Result<T, TokenError> {
    serde_json::from_value(Value::Object(map)).map_err(|_| TokenError::BadFormat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn view_claims_keep_the_token_format() {
        let claims = ViewClaims {
            kind: TokenKind::Session,
            id: "phx-1".into(),
            app: "shop".into(),
            view: Some("Cart".into()),
            live_session: None,
            container: Some("main".into()),
            site: Some("acme/shop".into()),
            flash: None,
        };
        assert_eq!(
            Value::Object(to_map(&claims)),
            json!({"kind": "session", "id": "phx-1", "app": "shop", "view": "Cart",
                   "container": "main", "site": "acme/shop"})
        );
        let key = b"key".to_vec();
        let token = claims.sign(&key);
        let max_age = Duration::from_secs(60);
        assert_eq!(
            ViewClaims::verify(&key, &token, max_age, TokenKind::Session),
            Ok(claims.clone())
        );
        assert_eq!(
            ViewClaims::verify(&key, &token, max_age, TokenKind::Static),
            Err(TokenError::BadFormat)
        );
        assert_eq!(ViewClaims::peek(&token), Ok(claims));
        let flash = FlashClaims::new(
            json!({"info": "hi"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        let token = flash.sign(&key);
        assert_eq!(FlashClaims::verify(&key, &token, max_age), Ok(flash));
        assert!(ViewClaims::verify(&key, &token, max_age, TokenKind::Session).is_err());
    }
}
