//! What the host knows of its tenants, for the operator dashboard the host serves itself
//! (`livewasm serve --dashboard`, the `examples/operator-dashboard` app). The host grants this
//! to that one app: any other app's calls fail with `not permitted`.
//!
//! The token is a registry API token, checked as the platform API checks it: an operator
//! token sees every tenant, a tenant token only its own tenant's apps; a deploy token, or one
//! that is unknown, revoked or expired, is refused (the error says which). Counters count
//! since the host started; a rate (events per second) is the difference of two overviews.
//!
//! ```no_run
//! use livewasm_sdk::operator;
//!
//! fn instances_of(token: &str, tenant: &str) -> livewasm_sdk::Result<i64> {
//!     let overview = operator::overview(token)?;
//!     Ok(overview
//!         .tenants
//!         .iter()
//!         .filter(|t| t.name == tenant)
//!         .flat_map(|t| &t.apps)
//!         .map(|app| app.instances)
//!         .sum())
//! }
//! # instances_of("lw_…", "acme")?;
//! # Ok::<(), livewasm_sdk::Error>(())
//! ```

use serde::Deserialize;

use crate::bindings::livewasm::view::operator as wit;
use crate::{Error, Result};

/// Everything one token may see.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Overview {
    /// `operator` or `tenant`.
    pub scope: String,
    /// The tenant a tenant token belongs to; `None` for an operator.
    pub tenant: Option<String>,
    /// The tenants it sees, by name, each with its apps.
    pub tenants: Vec<TenantOverview>,
    /// Apps the host left out of the overview past its limit (500).
    #[serde(default)]
    pub apps_left_out: usize,
    /// Recent version uploads, activations and rollbacks, newest first.
    pub deploys: Vec<AuditLine>,
    /// Recent audit entries, newest first.
    pub audit: Vec<AuditLine>,
}

/// One tenant and its apps.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TenantOverview {
    /// Its name.
    pub name: String,
    /// Its apps, by name.
    pub apps: Vec<AppOverview>,
}

/// One app: its active version and its counters on this host since it started.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AppOverview {
    /// Its name.
    pub name: String,
    /// The active version's number; `None` before the first deploy.
    pub version: Option<u64>,
    /// Views running now.
    pub instances: i64,
    /// Events handled.
    pub events: u64,
    /// Views crashed.
    pub errors: u64,
    /// Traps, every kind.
    pub traps: u64,
    /// Bytes of linear memory its instances hold now.
    pub memory: i64,
    /// Fuel its guest calls used.
    pub fuel: u64,
}

/// One audit entry.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AuditLine {
    /// Position in the log.
    pub seq: u64,
    /// When, unix ms.
    pub at: i64,
    /// Who (`token:<id>` or `system:<label>`).
    pub actor: String,
    /// What (`version.upload` …).
    pub action: String,
    /// On what (`version:acme/blog@3` …).
    pub target: String,
}

/// The overview `token` may see; an error says why the host refused it (not this app's to
/// ask, a bad token, no registry).
pub fn overview(token: &str) -> Result<Overview> {
    let json = wit::overview(token).map_err(Error::new)?;
    serde_json::from_str(&json).map_err(|e| Error::new(format!("operator overview: {e}")))
}
