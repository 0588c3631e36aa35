//! [`Scope`]: what a socket's channels need of the site they belong to — routing a URL,
//! signing and reading flashes — so the pipeline, joins and patches never reach into the
//! host's tables themselves.

use livewasm_runtime::{App, Navigation, NavigationKind, Route};
use serde_json::{Map, Value};

use crate::Host;
use crate::navigate::{self, Outcome};
use crate::session;
use crate::sites::{Site, SiteRef};

/// The site of one socket, as its channels see it.
pub(super) struct Scope<'a> {
    pub(super) host: &'a Host,
    pub(super) site: &'a SiteRef,
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
    /// The platform site (its tenant's instance quota), when not the default site.
    pub(super) site: Option<std::sync::Arc<Site>>,
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
    /// Routes an absolute URL on the site.
    pub(super) fn route(&self, url: &str) -> Option<Routed> {
        let (path, query) = path_and_query(url)?;
        let matched = self.host.route_in(self.site, &path)?;
        Some(Routed {
            route_app: matched.app.manifest().name.clone(),
            app: matched.app,
            route: matched.route,
            path_params: matched.path_params,
            query,
            site: matched.site,
        })
    }

    /// The route of `view` in app `app` (its first one).
    pub(super) fn route_of_view(&self, app: &str, view: &str) -> Option<Route> {
        self.host.route_of_view_in(self.site, app, view)
    }

    /// A navigation that leaves the view (or, at mount, never enters it), with its flash
    /// signed for the site.
    pub(super) fn leave_to(&self, navigation: Navigation) -> Outcome {
        let flash = session::sign_flash(self.host, self.site, &navigation.flash);
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
        session::verify_flash(self.host, self.site, token)
    }

    /// The key verifying view tokens of app `app` on this site.
    pub(super) fn token_key(&self, app: &str) -> Vec<u8> {
        self.host.site_token_key(self.site, app)
    }

    /// The site's label as tokens carry it (`None` on the default site).
    pub(super) fn label(&self) -> Option<String> {
        self.site.label()
    }

    /// The tenant whose upload budget a view's entries count against (`""` on the default site).
    pub(super) fn tenant(&self) -> String {
        match self.site {
            SiteRef::Default => String::new(),
            SiteRef::App { tenant, .. } => tenant.clone(),
        }
    }
}
