//! API tokens and the principals they authenticate as.
//!
//! A token is 32 random bytes shown once as `lw_<base64url>`; only its sha256 is stored. Its
//! scope decides what it may do: an operator token anything, a tenant token its tenant's apps
//! and tokens, a deploy token uploads and activations of one app. [`Scope`] and [`Principal`]
//! themselves are defined in `principal.rs`; this file adds what needs stored tenants and apps.
//!
//! A token may have an expiry (`expires_at`): from then on it authenticates no more, exactly as
//! if it were unknown, as does a revoked one; both take effect on the next request, since every
//! request authenticates against the store. Its `last_used_at` is refreshed by
//! [`Registry::authenticate`] at most once a minute ([`LAST_USED_RESOLUTION_MS`]), so that
//! authenticating is not a write on every request.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::apps::{App, app_by_id_on};
use crate::change::AuditRecord;
use crate::db::Registry;
use crate::error::{RegistryError, Result};
use crate::ids::{TenantId, TokenId};
use crate::principal::{Principal, Scope};
use crate::sql::{new_id, now_ms, sha256_hex};
use crate::tenants::Tenant;

/// Prefix of every token's text.
pub const TOKEN_PREFIX: &str = "lw_";

/// A token's `last_used_at` is refreshed at most this often (ms), so authenticating is not a
/// write on every request: it may lag the true last use by up to this much.
pub const LAST_USED_RESOLUTION_MS: i64 = 60_000;

impl Scope {
    /// A tenant scope for `tenant`.
    pub fn tenant(tenant: &Tenant) -> Self {
        Scope::Tenant {
            tenant: tenant.id.clone(),
        }
    }

    /// A deploy scope for `app`.
    pub fn deploy(app: &App) -> Self {
        Scope::Deploy {
            tenant: app.tenant_id.clone(),
            app: app.id.clone(),
        }
    }

    /// The `scope` column's value.
    fn kind(&self) -> &'static str {
        match self {
            Scope::Operator => "operator",
            Scope::Tenant { .. } => "tenant",
            Scope::Deploy { .. } => "deploy",
        }
    }

    /// Reads a scope back from the `scope`, `tenant_id` and `app_id` columns.
    fn from_columns(kind: &str, tenant: Option<String>, app: Option<String>) -> Result<Self> {
        match (kind, tenant, app) {
            ("operator", None, None) => Ok(Scope::Operator),
            ("tenant", Some(tenant), None) => Ok(Scope::Tenant {
                tenant: tenant.into(),
            }),
            ("deploy", Some(tenant), Some(app)) => Ok(Scope::Deploy {
                tenant: tenant.into(),
                app: app.into(),
            }),
            (kind, ..) => Err(RegistryError::Database(sqlx::Error::ColumnDecode {
                index: "scope".to_owned(),
                source: format!("inconsistent token scope {kind:?}").into(),
            })),
        }
    }
}

impl Principal {
    /// Whether it may upload and activate versions of `app`: operators, the app's tenant's
    /// tenant tokens, and deploy tokens for exactly this app.
    pub fn can_deploy(&self, app: &App) -> bool {
        match self.scope() {
            Scope::Operator => true,
            Scope::Tenant { tenant } => *tenant == app.tenant_id,
            Scope::Deploy { tenant, app: own } => *tenant == app.tenant_id && *own == app.id,
        }
    }
}

/// A token's stored record (never its text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Its id.
    pub id: TokenId,
    /// A human label, e.g. `ci deploy`.
    pub label: String,
    /// What it may act on.
    pub scope: Scope,
    /// The actor that created it.
    pub created_by: String,
    /// When it was created, unix ms.
    pub created_at: i64,
    /// When it last authenticated, unix ms (refreshed at most once a minute, see
    /// [`LAST_USED_RESOLUTION_MS`]).
    pub last_used_at: Option<i64>,
    /// When it stops authenticating, unix ms; `None` means never.
    pub expires_at: Option<i64>,
    /// When it was revoked, unix ms.
    pub revoked_at: Option<i64>,
}

impl TokenInfo {
    /// Whether it has expired at `now` (unix ms): its expiry is at or before `now`.
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// Whether it still authenticates at `now` (unix ms): neither revoked nor expired.
    pub fn is_active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && !self.is_expired(now)
    }
}

/// A token just created: the only time its text is available.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewToken {
    /// The secret to hand to the user, `lw_<base64url of 32 random bytes>`.
    pub token: String,
    /// The stored record.
    pub info: TokenInfo,
}

const TOKEN_COLUMNS: &str = "SELECT id, label, scope, tenant_id, app_id, created_by, created_at, \
                             last_used_at, expires_at, revoked_at FROM api_tokens";

impl TokenInfo {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(TokenInfo {
            id: TokenId::from(row.try_get::<String, _>("id")?),
            label: row.try_get("label")?,
            scope: Scope::from_columns(
                &row.try_get::<String, _>("scope")?,
                row.try_get("tenant_id")?,
                row.try_get("app_id")?,
            )?,
            created_by: row.try_get("created_by")?,
            created_at: row.try_get("created_at")?,
            last_used_at: row.try_get("last_used_at")?,
            expires_at: row.try_get("expires_at")?,
            revoked_at: row.try_get("revoked_at")?,
        })
    }
}

/// The stored form of a token's text: hex sha256.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// The expiry of a token asked to expire at `asked` (unix ms, `None`: never) by a token
/// expiring at `creator`: no later than the creator's. Asking for later is refused.
fn capped_expiry(asked: Option<i64>, creator: Option<i64>) -> Result<Option<i64>> {
    match (asked, creator) {
        (_, None) => Ok(asked),
        (None, Some(cap)) => Ok(Some(cap)),
        (Some(at), Some(cap)) if at <= cap => Ok(Some(at)),
        (Some(at), Some(cap)) => Err(RegistryError::InvalidValue {
            what: "token expiry",
            reason: format!(
                "{at} (unix ms) is after {cap}, when the token creating it expires \
                 (a token cannot outlive its creator)"
            ),
        }),
    }
}

/// Whether `text` has the shape of a token (prefix and 32 bytes of base64url).
fn well_formed(text: &str) -> bool {
    text.strip_prefix(TOKEN_PREFIX)
        .and_then(|b64| URL_SAFE_NO_PAD.decode(b64).ok())
        .is_some_and(|bytes| bytes.len() == 32)
}

impl Registry {
    /// Creates a token with `scope` that never expires and returns its text, which is not
    /// stored and cannot be shown again. `by` must be allowed to grant the scope
    /// ([`Principal::can_grant`]); a deploy scope must name an app of the named tenant.
    pub async fn create_token(
        &self,
        by: &Principal,
        label: &str,
        scope: Scope,
    ) -> Result<NewToken> {
        self.create_token_expiring(by, label, scope, None).await
    }

    /// Like [`Registry::create_token`], with an expiry: from `expires_at` (unix ms) on, the
    /// token authenticates no more. `None` means never; an instant not after now is refused
    /// with [`RegistryError::InvalidValue`].
    ///
    /// A token never outlives the token that created it: when `by` expires
    /// ([`Principal::expires_at`]), a token asked without an expiry gets `by`'s, and one asked
    /// to expire later is refused with [`RegistryError::InvalidValue`].
    pub async fn create_token_expiring(
        &self,
        by: &Principal,
        label: &str,
        scope: Scope,
        expires_at: Option<i64>,
    ) -> Result<NewToken> {
        if !by.can_grant(&scope) {
            return Err(RegistryError::Forbidden);
        }
        let expires_at = capped_expiry(expires_at, by.expires_at())?;
        let mut change = self.change().await?;
        if let Some(at) = expires_at
            && at <= change.at
        {
            return Err(RegistryError::InvalidValue {
                what: "token expiry",
                reason: format!("{at} (unix ms) is not in the future"),
            });
        }
        let target_tenant = match &scope {
            Scope::Operator => None,
            Scope::Tenant { tenant } => {
                let exists: Option<String> =
                    sqlx::query_scalar("SELECT id FROM tenants WHERE id = $1")
                        .bind(tenant.as_str())
                        .fetch_optional(&mut *change.tx)
                        .await?;
                if exists.is_none() {
                    return Err(RegistryError::not_found(format!("tenant {tenant}")));
                }
                Some(tenant.clone())
            }
            Scope::Deploy { tenant, app } => {
                let stored = app_by_id_on(&mut change.tx, app).await?;
                if stored.tenant_id != *tenant {
                    // An app of another tenant: as good as absent.
                    return Err(RegistryError::not_found(format!("app {app}")));
                }
                Some(tenant.clone())
            }
        };
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret));
        let info = TokenInfo {
            id: TokenId::from(new_id("tok")),
            label: label.to_owned(),
            scope,
            created_by: by.actor(),
            created_at: change.at,
            last_used_at: None,
            expires_at,
            revoked_at: None,
        };
        let (tenant_id, app_id) = match &info.scope {
            Scope::Operator => (None, None),
            Scope::Tenant { tenant } => (Some(tenant.as_str()), None),
            Scope::Deploy { tenant, app } => (Some(tenant.as_str()), Some(app.as_str())),
        };
        sqlx::query(
            "INSERT INTO api_tokens (id, token_sha256, label, scope, tenant_id, app_id, \
             created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(info.id.as_str())
        .bind(token_hash(&token))
        .bind(label)
        .bind(info.scope.kind())
        .bind(tenant_id)
        .bind(app_id)
        .bind(&info.created_by)
        .bind(info.created_at)
        .bind(info.expires_at)
        .execute(&mut *change.tx)
        .await?;
        change
            .commit(AuditRecord::new(
                by,
                "token.create",
                format!("token:{}", info.id),
                target_tenant.as_ref(),
                json!({ "label": label, "scope": info.scope, "expires_at": info.expires_at }),
            ))
            .await?;
        Ok(NewToken { token, info })
    }

    /// The principal a token's text authenticates as: `None` for malformed, unknown, revoked
    /// or expired tokens. Records the token's last use (at most once a minute per token, see
    /// [`LAST_USED_RESOLUTION_MS`]).
    pub async fn authenticate(&self, token: &str) -> Result<Option<Principal>> {
        if !well_formed(token) {
            return Ok(None);
        }
        let now = now_ms();
        let row = sqlx::query(&format!(
            "{TOKEN_COLUMNS} WHERE token_sha256 = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2)"
        ))
        .bind(token_hash(token))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let info = TokenInfo::from_row(&row)?;
        if !info.is_active(now) {
            return Ok(None);
        }
        if info
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USED_RESOLUTION_MS)
        {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(info.id.as_str())
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(Principal::for_token(
            info.id,
            info.label,
            info.scope,
            info.expires_at,
        )))
    }

    /// A token's record, revoked or not. Visible to operators, to managers of its tenant and
    /// to the token itself.
    pub async fn token(&self, by: &Principal, id: &TokenId) -> Result<TokenInfo> {
        let row = sqlx::query(&format!("{TOKEN_COLUMNS} WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| RegistryError::not_found(format!("token {id}")))?;
        let info = TokenInfo::from_row(&row)?;
        if !may_see(by, &info) {
            return Err(RegistryError::not_found(format!("token {id}")));
        }
        Ok(info)
    }

    /// Tokens, oldest first, revoked and expired ones included: of one tenant (`Some`, needs
    /// [`Principal::can_manage_tenant`]), or all of them (`None`, operators only).
    pub async fn tokens(
        &self,
        by: &Principal,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<TokenInfo>> {
        let rows = match tenant {
            Some(tenant) => {
                if !by.can_manage_tenant(tenant) {
                    return Err(RegistryError::Forbidden);
                }
                sqlx::query(&format!(
                    "{TOKEN_COLUMNS} WHERE tenant_id = $1 ORDER BY created_at, id"
                ))
                .bind(tenant.as_str())
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                if !by.is_operator() {
                    return Err(RegistryError::Forbidden);
                }
                sqlx::query(&format!("{TOKEN_COLUMNS} ORDER BY created_at, id"))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(TokenInfo::from_row).collect()
    }

    /// Revokes a token; it stops authenticating at once. Allowed to operators, to managers of
    /// the token's tenant, and to the token itself. Revoking a revoked token changes nothing.
    pub async fn revoke_token(&self, by: &Principal, id: &TokenId) -> Result<TokenInfo> {
        let mut change = self.change().await?;
        let row = sqlx::query(&format!("{TOKEN_COLUMNS} WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(&mut *change.tx)
            .await?
            .ok_or_else(|| RegistryError::not_found(format!("token {id}")))?;
        let mut info = TokenInfo::from_row(&row)?;
        if !may_see(by, &info) {
            return Err(RegistryError::not_found(format!("token {id}")));
        }
        let may_revoke = by.can_grant(&info.scope) || by.token_id() == Some(&info.id);
        if !may_revoke {
            return Err(RegistryError::Forbidden);
        }
        if info.revoked_at.is_some() {
            return Ok(info);
        }
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(change.at)
            .bind(id.as_str())
            .execute(&mut *change.tx)
            .await?;
        info.revoked_at = Some(change.at);
        change
            .commit(AuditRecord::new(
                by,
                "token.revoke",
                format!("token:{id}"),
                info.scope.tenant_id(),
                json!({ "label": info.label, "scope": info.scope }),
            ))
            .await?;
        Ok(info)
    }
}

/// Whether `by` may learn that the token exists.
fn may_see(by: &Principal, info: &TokenInfo) -> bool {
    by.token_id() == Some(&info.id)
        || match info.scope.tenant_id() {
            None => by.is_operator(),
            Some(tenant) => by.can_manage_tenant(tenant),
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_shape() {
        let text = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode([7u8; 32]));
        assert_eq!(text.len(), 46);
        assert!(well_formed(&text));
        assert!(!well_formed(&text[1..]));
        assert!(!well_formed("lw_short"));
        assert!(!well_formed(""));
    }

    #[test]
    fn a_token_expires_no_later_than_its_creator() {
        // A creator that never expires: whatever was asked.
        assert_eq!(capped_expiry(None, None).ok(), Some(None));
        assert_eq!(capped_expiry(Some(5), None).ok(), Some(Some(5)));
        // An expiring creator: its expiry when none is asked, an earlier one kept, a later
        // one refused.
        assert_eq!(capped_expiry(None, Some(10)).ok(), Some(Some(10)));
        assert_eq!(capped_expiry(Some(7), Some(10)).ok(), Some(Some(7)));
        assert_eq!(capped_expiry(Some(10), Some(10)).ok(), Some(Some(10)));
        assert!(matches!(
            capped_expiry(Some(11), Some(10)),
            Err(RegistryError::InvalidValue { .. })
        ));
    }
}
