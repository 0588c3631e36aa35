//! Who is acting and what they may act on: [`Scope`] and [`Principal`], with the checks
//! that need nothing but ids. Imports no table module, so every one of them can take a
//! principal. Scopes built from stored records ([`Scope::tenant`], [`Scope::deploy`]) and
//! the check against a stored app ([`Principal::can_deploy`]) are in `tokens.rs`.

use serde::{Deserialize, Serialize};

use crate::ids::{AppId, TenantId, TokenId};

/// What a token (or a system principal) may act on.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// The whole host.
    Operator,
    /// One tenant: its apps, versions, tokens and audit log.
    Tenant {
        /// The tenant.
        tenant: TenantId,
    },
    /// Uploading and activating versions of one app.
    Deploy {
        /// The app's tenant.
        tenant: TenantId,
        /// The app.
        app: AppId,
    },
}

impl Scope {
    /// The tenant the scope is confined to, if any.
    pub fn tenant_id(&self) -> Option<&TenantId> {
        match self {
            Scope::Operator => None,
            Scope::Tenant { tenant } | Scope::Deploy { tenant, .. } => Some(tenant),
        }
    }
}

/// Who is acting: an authenticated token, or the host itself (CLI, bootstrap).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    token_id: Option<TokenId>,
    label: String,
    scope: Scope,
    /// When the token stops authenticating (unix ms); `None`: never, or not a token.
    expires_at: Option<i64>,
}

impl Principal {
    /// The host acting on its own behalf (the CLI, first-run bootstrap): operator rights,
    /// recorded in the audit log as `system:<label>`. Never hand this to a network client.
    pub fn system(label: &str) -> Self {
        Principal {
            token_id: None,
            label: label.to_owned(),
            scope: Scope::Operator,
            expires_at: None,
        }
    }

    /// The principal a stored token authenticates as, until `expires_at` (unix ms) if set.
    pub(crate) fn for_token(
        token_id: TokenId,
        label: String,
        scope: Scope,
        expires_at: Option<i64>,
    ) -> Self {
        Principal {
            token_id: Some(token_id),
            label,
            scope,
            expires_at,
        }
    }

    /// When the token acting stops authenticating (unix ms): `None` for a token that never
    /// expires and for the host itself. Tokens it creates expire no later.
    pub fn expires_at(&self) -> Option<i64> {
        self.expires_at
    }

    /// The token this principal authenticated with (`None` for [`Principal::system`]).
    pub fn token_id(&self) -> Option<&TokenId> {
        self.token_id.as_ref()
    }

    /// The token's label, or the system principal's.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// What it may act on.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// How the audit log names it: `token:<id>` or `system:<label>`.
    pub fn actor(&self) -> String {
        match &self.token_id {
            Some(id) => format!("token:{id}"),
            None => format!("system:{}", self.label),
        }
    }

    /// Whether it has operator scope.
    pub fn is_operator(&self) -> bool {
        self.scope == Scope::Operator
    }

    /// Whether it may manage `tenant`: create apps and tokens in it, read its audit log.
    /// Operators and that tenant's own tenant tokens may; deploy tokens may not.
    pub fn can_manage_tenant(&self, tenant: &TenantId) -> bool {
        match &self.scope {
            Scope::Operator => true,
            Scope::Tenant { tenant: own } => own == tenant,
            Scope::Deploy { .. } => false,
        }
    }

    /// Whether it may create a token with `scope`: operators any; a tenant principal
    /// tenant and deploy tokens of its own tenant; deploy tokens none.
    pub fn can_grant(&self, scope: &Scope) -> bool {
        match scope {
            Scope::Operator => self.is_operator(),
            Scope::Tenant { tenant } | Scope::Deploy { tenant, .. } => {
                self.can_manage_tenant(tenant)
            }
        }
    }
}
