//! [`Scope`]: what a socket's channels need of the site they belong to — routing a URL,
//! signing and reading flashes — so the pipeline, joins and patches never reach into the
//! host's tables themselves.

use std::sync::Arc;

use livewasm_runtime::{App, Navigation, NavigationKind, Route};
use serde_json::{Map, Value};

use crate::host::Host;
use crate::keys::SiteKeys;
use crate::navigate::{self, Outcome};
use crate::session;
use crate::sites::{Site, SiteId};

/// The site of one socket, as its channels see it.
pub(super) struct Scope<'a> {
    pub(super) host: &'a Host,
    pub(super) site: &'a SiteId,
}

/// A URL routed on the site.
pub(super) struct Routed {
    /// The app serving the route.
    pub(super) app: App,
    /// Its manifest name.
    pub(super) route_app: String,
    /// The route.
    pub(super) route: Route,
    /// Params from the path pattern.
    pub(super) path_params: Map<String, Value>,
    /// The URL's query string.
    pub(super) query: Option<String>,
    /// The site as served now (a socket joins the version deployed last), with its tenant's
    /// instance accounting.
    pub(super) site: Arc<Site>,
}

/// Splits an absolute URL into path and query.
fn path_and_query(url: &str) -> Option<(String, Option<String>)> {
    let parsed = url::Url::parse(url).ok()?;
    Some((
        parsed.path().to_string(),
        parsed.query().map(str::to_string),
    ))
}

impl Scope<'_> {
    /// The site as served now.
    pub(super) fn current(&self) -> Option<Arc<Site>> {
        self.host.site(self.site)
    }

    /// The site's signing keys.
    pub(super) fn keys(&self) -> SiteKeys<'_> {
        self.host.keys(self.site)
    }

    /// Routes an absolute URL on the site as served now.
    pub(super) fn route(&self, url: &str) -> Option<Routed> {
        let (path, query) = path_and_query(url)?;
        let site = self.current()?;
        let matched = site.route(&path)?;
        Some(Routed {
            route_app: matched.app.manifest().name.clone(),
            app: matched.app,
            route: matched.route,
            path_params: matched.path_params,
            query,
            site,
        })
    }

    /// The route of `view` in app `app` (its first one).
    pub(super) fn route_of_view(&self, app: &str, view: &str) -> Option<Route> {
        self.current()?.routes().route_of_view(app, view)
    }

    /// A navigation that leaves the view (or, at mount, never enters it), with its flash
    /// signed for the site.
    pub(super) fn leave_to(&self, navigation: Navigation) -> Outcome {
        let flash = session::sign_flash(&self.keys(), &navigation.flash);
        match navigation.kind {
            NavigationKind::Redirect => Outcome::Redirect {
                to: navigation.to,
                flash,
            },
            NavigationKind::Navigate | NavigationKind::Patch => Outcome::LiveRedirect {
                to: navigation.to,
                kind: navigate::history_kind(navigation.replace),
                flash,
            },
        }
    }

    /// The flash a live navigation's join carries (empty when it does not verify).
    pub(super) fn verify_flash(&self, token: &str) -> Value {
        session::verify_flash(&self.keys(), token)
    }

    /// The site's label as tokens carry it (`None` on the default site).
    pub(super) fn label(&self) -> Option<String> {
        self.site.label()
    }

    /// The tenant whose upload budget a view's entries count against (`""` on the default site).
    pub(super) fn tenant(&self) -> String {
        self.site
            .tenant_app()
            .map(|(tenant, _)| tenant.to_string())
            .unwrap_or_default()
    }
}
