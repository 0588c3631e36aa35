//! [`Host`]: the runtime, the loaded apps and their routes, and (with a registry) the
//! platform's sites, one per tenant app.

use std::sync::{Arc, RwLock};

use axum::http::{HeaderMap, header};
use livewasm_registry::Registry;
use livewasm_runtime::{App, Route, Runtime};
use serde_json::{Map, Value};

use crate::origin::{self, Origin};
use crate::routes::Pattern;
use crate::sites::{Site, SiteRef, Sites};
use crate::tokens;
use crate::{ServerConfig, ServerError};

/// One route of one app.
#[derive(Clone)]
pub(crate) struct Mounted {
    pub(crate) app: App,
    pub(crate) route: Route,
    pattern: Pattern,
}

/// The result of routing a path.
pub(crate) struct Matched {
    pub(crate) app: App,
    pub(crate) route: Route,
    pub(crate) path_params: Map<String, Value>,
    /// The platform site it belongs to (`None` on the default site).
    pub(crate) site: Option<Arc<Site>>,
}

/// Where a request goes, from its `Host` header.
pub(crate) enum Resolved {
    /// The platform API host (only when a registry is configured).
    Api,
    /// A site serving views.
    Site(SiteRef),
    /// An app origin no app is served at; holds the host name.
    Unknown(String),
}

/// The routes of `app`, refusing patterns that are malformed or clash with `existing` or
/// with each other.
pub(crate) fn mount_routes(app: &App, existing: &[Mounted]) -> Result<Vec<Mounted>, ServerError> {
    let name = app.manifest().name.clone();
    let mut added: Vec<Mounted> = Vec::new();
    for route in &app.manifest().routes {
        let pattern =
            Pattern::parse(&route.path).ok_or_else(|| ServerError::BadRoute(route.path.clone()))?;
        if let Some(other) = existing
            .iter()
            .chain(added.iter())
            .find(|m| m.pattern.same_shape(&pattern))
        {
            return Err(ServerError::RouteConflict {
                path: route.path.clone(),
                app: name,
                other: other.app.manifest().name.clone(),
            });
        }
        added.push(Mounted {
            app: app.clone(),
            route: route.clone(),
            pattern,
        });
    }
    Ok(added)
}

fn match_route(routes: &[Mounted], path: &str, site: Option<&Arc<Site>>) -> Option<Matched> {
    routes.iter().find_map(|m| {
        m.pattern.matches(path).map(|path_params| Matched {
            app: m.app.clone(),
            route: m.route.clone(),
            path_params,
            site: site.cloned(),
        })
    })
}

/// Shared server state.
pub struct Host {
    runtime: Runtime,
    config: ServerConfig,
    routes: RwLock<Vec<Mounted>>,
    registry: Option<Registry>,
    pub(crate) sites: Sites,
    /// Pub/sub between the views of one app.
    pub(crate) broker: Arc<crate::pubsub::Broker>,
    /// The temp area and byte budgets of file uploads.
    uploads: Arc<crate::uploads::UploadSpace>,
    /// Live reload in dev: the generations of the default site's apps and their swaps.
    dev_reload: crate::dev_reload::Reloads,
}

impl Host {
    /// A host with no apps yet.
    pub fn new(runtime: Runtime, config: ServerConfig) -> Host {
        Host {
            runtime,
            routes: RwLock::new(Vec::new()),
            registry: None,
            sites: Sites::default(),
            broker: Arc::default(),
            uploads: crate::uploads::UploadSpace::new(config.uploads.clone()),
            dev_reload: crate::dev_reload::Reloads::default(),
            config,
        }
    }

    /// A multi-tenant host: serves each tenant app of `registry` on its own origin
    /// (`<app>.<tenant>.<base-domain>`) and the platform API under `/api/v1` on the base
    /// domain. Load the apps' active versions with
    /// [`platform::load_active_apps`](crate::platform::load_active_apps).
    pub fn with_registry(runtime: Runtime, config: ServerConfig, registry: Registry) -> Host {
        Host {
            registry: Some(registry),
            ..Host::new(runtime, config)
        }
    }

    /// The runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The temp area and byte budgets of file uploads.
    pub(crate) fn upload_space(&self) -> &Arc<crate::uploads::UploadSpace> {
        &self.uploads
    }

    /// Bytes the uploads in progress hold on this host (received or reserved).
    pub fn upload_bytes_reserved(&self) -> u64 {
        self.uploads.used()
    }

    /// The private directory holding upload chunks, once the first upload created it.
    pub fn upload_dir(&self) -> Option<std::path::PathBuf> {
        self.uploads.dir()
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The registry, for a multi-tenant host.
    pub fn registry(&self) -> Option<&Registry> {
        self.registry.as_ref()
    }

    /// Adds an app and its routes to the default site; refuses a second app of the same
    /// name or a path another app already serves.
    pub fn add_app(&self, app: App) -> Result<(), ServerError> {
        let mut routes = self
            .routes
            .write()
            .map_err(|_| ServerError::DuplicateApp("route table poisoned".into()))?;
        let name = app.manifest().name.clone();
        if routes.iter().any(|m| m.app.manifest().name == name) {
            return Err(ServerError::DuplicateApp(name));
        }
        let added = mount_routes(&app, &routes)?;
        routes.extend(added);
        Ok(())
    }

    /// Replaces app `old` of the default site with `app` (live reload in dev): new page loads
    /// and joins use it from now on, views already running keep their instance, and dev pages
    /// of either app are told to reload. Refused, `old` still served, when `app`'s routes clash
    /// with another app's or its name is another app's. `Ok(false)` when `app` is the very
    /// component `old` already is (nothing changes).
    pub fn replace_app(&self, old: &str, app: App) -> Result<bool, ServerError> {
        let mut routes = self
            .routes
            .write()
            .map_err(|_| ServerError::DuplicateApp("route table poisoned".into()))?;
        let is_old = |m: &Mounted| m.app.manifest().name == old;
        if routes
            .iter()
            .any(|m| is_old(m) && m.app.digest() == app.digest())
        {
            return Ok(false);
        }
        let name = app.manifest().name.clone();
        let at = routes.iter().position(is_old).unwrap_or(routes.len());
        let mut kept: Vec<Mounted> = routes.iter().filter(|m| !is_old(m)).cloned().collect();
        if name != old && kept.iter().any(|m| m.app.manifest().name == name) {
            return Err(ServerError::DuplicateApp(name));
        }
        let added = mount_routes(&app, &kept)?;
        // The new routes take the old ones' place: matching order is kept.
        let at = at.min(kept.len());
        kept.splice(at..at, added);
        *routes = kept;
        drop(routes);
        self.dev_reload.swapped(old, &name);
        Ok(true)
    }

    /// Live reload in dev: generations and swap notices of the default site's apps.
    pub(crate) fn dev_reloads(&self) -> &crate::dev_reload::Reloads {
        &self.dev_reload
    }

    /// Every route of the default site, as `(app, path, view)`.
    pub fn routes(&self) -> Vec<(String, String, String)> {
        self.routes
            .read()
            .map(|routes| {
                routes
                    .iter()
                    .map(|m| {
                        (
                            m.app.manifest().name.clone(),
                            m.route.path.clone(),
                            m.route.view.clone(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every tenant app served, as `(tenant, app, version)`.
    pub fn sites(&self) -> Vec<(String, String, u64)> {
        self.sites.list()
    }

    /// Where a request with these headers goes. Without a registry every host is the
    /// default site.
    pub(crate) fn resolve(&self, headers: &HeaderMap) -> Resolved {
        if self.registry.is_none() {
            return Resolved::Site(SiteRef::Default);
        }
        let raw = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let name = origin::host_name(raw);
        match origin::classify(&name, &self.config.base_domain) {
            Origin::Api => Resolved::Api,
            Origin::Other => Resolved::Site(SiteRef::Default),
            Origin::Unknown => Resolved::Unknown(name),
            Origin::App { tenant, app } => {
                if self.sites.get(&tenant, &app).is_some() {
                    Resolved::Site(SiteRef::App { tenant, app })
                } else {
                    Resolved::Unknown(name)
                }
            }
        }
    }

    /// Routes a request path on the default site.
    pub(crate) fn route(&self, path: &str) -> Option<Matched> {
        let routes = self.routes.read().ok()?;
        match_route(&routes, path, None)
    }

    /// Routes a request path on `site` (its currently served version).
    pub(crate) fn route_in(&self, site: &SiteRef, path: &str) -> Option<Matched> {
        match site {
            SiteRef::Default => self.route(path),
            SiteRef::App { tenant, app } => {
                let site = self.sites.get(tenant, app)?;
                match_route(&site.routes, path, Some(&site))
            }
        }
    }

    /// The apps served on `site` (each once).
    pub(crate) fn apps_in(&self, site: &SiteRef) -> Vec<App> {
        let collect = |routes: &[Mounted]| {
            let mut apps: Vec<App> = Vec::new();
            for mounted in routes {
                if !apps.iter().any(|a| a.digest() == mounted.app.digest()) {
                    apps.push(mounted.app.clone());
                }
            }
            apps
        };
        match site {
            SiteRef::Default => self
                .routes
                .read()
                .map(|routes| collect(&routes))
                .unwrap_or_default(),
            SiteRef::App { tenant, app } => self
                .sites
                .get(tenant, app)
                .map(|site| collect(&site.routes))
                .unwrap_or_default(),
        }
    }

    /// The route of `view` in app `app` (its first one) on `site`.
    pub(crate) fn route_of_view_in(&self, site: &SiteRef, app: &str, view: &str) -> Option<Route> {
        let find = |routes: &[Mounted]| {
            routes
                .iter()
                .find(|m| m.app.manifest().name == app && m.route.view == view)
                .map(|m| m.route.clone())
        };
        match site {
            SiteRef::Default => find(&self.routes.read().ok()?),
            SiteRef::App { tenant, app: name } => find(&self.sites.get(tenant, name)?.routes),
        }
    }

    /// The plain HTTP route (an app's `http-routes`) for `method` and `path` on `site`: the
    /// app, the route's pattern and the path params.
    pub(crate) fn http_route_in(
        &self,
        site: &SiteRef,
        method: &str,
        path: &str,
    ) -> Option<(App, String, Map<String, Value>)> {
        let find = |routes: &[Mounted]| {
            let mut seen: Vec<&str> = Vec::new();
            for mounted in routes {
                let manifest = mounted.app.manifest();
                if seen.contains(&manifest.name.as_str()) {
                    continue;
                }
                seen.push(&manifest.name);
                for route in &manifest.http_routes {
                    if !route.method.eq_ignore_ascii_case(method) {
                        continue;
                    }
                    if let Some(params) = Pattern::parse(&route.path).and_then(|p| p.matches(path))
                    {
                        return Some((mounted.app.clone(), route.path.clone(), params));
                    }
                }
            }
            None
        };
        match site {
            SiteRef::Default => find(&self.routes.read().ok()?),
            SiteRef::App { tenant, app } => find(&self.sites.get(tenant, app)?.routes),
        }
    }

    /// The key signing session and static tokens of `app` on the default site.
    pub(crate) fn token_key(&self, app: &str) -> Vec<u8> {
        tokens::derive_key(&self.config.secret_key, &format!("view-tokens:{app}"))
    }

    /// The key signing view tokens on `site`: per component on the default site, per
    /// `tenant/app` on a platform site, so one app's tokens never verify on another.
    pub(crate) fn site_token_key(&self, site: &SiteRef, app: &str) -> Vec<u8> {
        match site.label() {
            None => self.token_key(app),
            Some(label) => {
                tokens::derive_key(&self.config.secret_key, &format!("site-tokens:{label}"))
            }
        }
    }

    /// The key signing the session cookie on `site`.
    pub(crate) fn cookie_key(&self, site: &SiteRef) -> Vec<u8> {
        match site.label() {
            None => tokens::derive_key(&self.config.secret_key, "cookie-session"),
            Some(label) => {
                tokens::derive_key(&self.config.secret_key, &format!("cookie-session:{label}"))
            }
        }
    }
}
