//! The first stage of a join, as phoenix_live_view's channel does it: verify the view's
//! signed tokens (this site's, this container's, not expired), route the URL it asks for, and
//! check that the route is the token's view — or, for live navigation, a view of the same live
//! session. Nothing is instantiated before this passes.

use livewasm_protocol::keys::JoinPayload;
use serde_json::{Value, json};

use super::Connection;
use super::outbound::refuse;
use super::scope::{Routed, Scope};
use crate::claims::{TokenKind, ViewClaims};

/// A join that passed verification: what to mount, and where.
pub(super) struct Authorized {
    /// The route to mount.
    pub(super) routed: Routed,
    /// The URL mounted.
    pub(super) url: String,
    /// True for a live navigation's join (`redirect`).
    pub(super) navigation: bool,
    /// The flash the dead render showed (static token).
    pub(super) static_flash: Option<Value>,
    /// The container tag of the page the token was issued for.
    pub(super) page_container: String,
}

/// Verifies a view token of `scope`'s site; the error is the join reply's response:
/// `unauthorized` for a token issued by another site, `stale` for one that does not verify.
fn verify(
    scope: &Scope<'_>,
    max_age: std::time::Duration,
    token: &str,
    kind: TokenKind,
) -> Result<ViewClaims, Value> {
    let claims = ViewClaims::peek(token).map_err(|_| refuse("stale"))?;
    if claims.site != scope.label() {
        tracing::debug!(
            token_site = claims.site,
            "join refused: the token was issued by another site"
        );
        return Err(refuse("unauthorized"));
    }
    ViewClaims::verify(&scope.keys().view_tokens(&claims.app), token, max_age, kind).map_err(|e| {
        tracing::debug!("join refused: {kind:?} token: {e}");
        refuse("stale")
    })
}

impl Connection {
    /// Verifies the join of container `id`; the error is the reply's response.
    pub(super) fn authorize(&self, payload: &JoinPayload, id: &str) -> Result<Authorized, Value> {
        let scope = self.scope();
        let max_age = self.host.config().token_max_age;
        let token = payload.session.as_deref().ok_or_else(|| refuse("stale"))?;
        let data = verify(&scope, max_age, token, TokenKind::Session)?;
        if data.id != id {
            return Err(refuse("unauthorized"));
        }
        let mut static_flash = None;
        if let Some(static_token) = payload.static_token.as_deref() {
            let static_data = verify(&scope, max_age, static_token, TokenKind::Static)?;
            if static_data.id != id {
                return Err(refuse("unauthorized"));
            }
            static_flash = static_data.flash.map(Value::Object);
        }
        let app_name = data.app.as_str();
        let token_view = data.view.as_deref().unwrap_or_default();
        let (url, navigation) = payload.target_url().ok_or_else(|| refuse("unauthorized"))?;
        let routed = scope.route(url).ok_or_else(|| refuse("unauthorized"))?;
        if routed.route_app != app_name {
            return Err(refuse("unauthorized"));
        }
        if navigation {
            // Live navigation stays inside one live session of the token's app: the one the
            // page was rendered in (named in the token).
            let original = match &data.live_session {
                Some(name) => Some(name.clone()),
                None => scope
                    .route_of_view(app_name, token_view)
                    .and_then(|r| r.live_session),
            };
            if original.is_none() || original != routed.route.live_session {
                tracing::debug!(
                    from = ?original,
                    to = ?routed.route.live_session,
                    "live navigation refused: another live session"
                );
                return Err(refuse("unauthorized"));
            }
        } else if routed.route.view != token_view {
            return Err(refuse("unauthorized"));
        }
        let page_container = data.container.unwrap_or_else(|| "div".to_string());
        Ok(Authorized {
            routed,
            url: url.to_string(),
            navigation,
            static_flash,
            page_container,
        })
    }
}

/// The flash a join mounts with: a live navigation's token, else (first mount of a
/// dead-rendered page) the one the dead render showed.
pub(super) fn join_flash(
    scope: &Scope<'_>,
    payload: &JoinPayload,
    authorized: &Authorized,
) -> Value {
    match payload.flash.as_deref() {
        Some(token) => scope.verify_flash(token),
        None if !authorized.navigation && payload.mounts() == 0 => {
            authorized.static_flash.clone().unwrap_or_else(|| json!({}))
        }
        None => json!({}),
    }
}
