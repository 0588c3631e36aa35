//! [`Host`]: the runtime, the loaded apps and their routes.

use std::sync::RwLock;

use livewasm_runtime::{App, Route, Runtime};
use serde_json::{Map, Value};

use crate::routes::Pattern;
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
}

/// Shared server state.
pub struct Host {
    runtime: Runtime,
    config: ServerConfig,
    routes: RwLock<Vec<Mounted>>,
}

impl Host {
    /// A host with no apps yet.
    pub fn new(runtime: Runtime, config: ServerConfig) -> Host {
        Host {
            runtime,
            config,
            routes: RwLock::new(Vec::new()),
        }
    }

    /// The runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Adds an app and its routes; refuses a second app of the same name or a path another
    /// app already serves.
    pub fn add_app(&self, app: App) -> Result<(), ServerError> {
        let mut routes = self
            .routes
            .write()
            .map_err(|_| ServerError::DuplicateApp("route table poisoned".into()))?;
        let name = app.manifest().name.clone();
        if routes.iter().any(|m| m.app.manifest().name == name) {
            return Err(ServerError::DuplicateApp(name));
        }
        let mut added = Vec::new();
        for route in &app.manifest().routes {
            let pattern = Pattern::parse(&route.path)
                .ok_or_else(|| ServerError::BadRoute(route.path.clone()))?;
            if let Some(other) = routes
                .iter()
                .chain(added.iter())
                .find(|m: &&Mounted| m.pattern.same_shape(&pattern))
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
        routes.extend(added);
        Ok(())
    }

    /// Every route served, as `(app, path, view)`.
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

    /// Routes a request path.
    pub(crate) fn route(&self, path: &str) -> Option<Matched> {
        let routes = self.routes.read().ok()?;
        routes.iter().find_map(|m| {
            m.pattern.matches(path).map(|path_params| Matched {
                app: m.app.clone(),
                route: m.route.clone(),
                path_params,
            })
        })
    }

    /// The route of `view` in app `app` (its first one).
    pub(crate) fn route_of_view(&self, app: &str, view: &str) -> Option<Route> {
        let routes = self.routes.read().ok()?;
        routes
            .iter()
            .find(|m| m.app.manifest().name == app && m.route.view == view)
            .map(|m| m.route.clone())
    }

    /// The key signing session and static tokens of `app`.
    pub(crate) fn token_key(&self, app: &str) -> Vec<u8> {
        tokens::derive_key(&self.config.secret_key, &format!("view-tokens:{app}"))
    }
}
