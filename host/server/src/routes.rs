//! The route table of a site: route patterns such as `/articles/:id/edit`, and [`RouteTable`],
//! which owns matching a request path to a view, a view to its route, and a method and path to
//! an app's plain HTTP route.

use livewasm_runtime::{App, Route};
use serde_json::{Map, Value};

use crate::error::ServerError;

/// One route of one app.
#[derive(Clone)]
struct Mounted {
    app: App,
    route: Route,
    pattern: Pattern,
}

/// A request path routed to a view.
pub(crate) struct RouteMatch {
    /// The app serving it.
    pub(crate) app: App,
    /// The route it matched.
    pub(crate) route: Route,
    /// The params its pattern took from the path.
    pub(crate) path_params: Map<String, Value>,
}

/// A method and path routed to an app's plain HTTP handler (`http-routes`).
pub(crate) struct HttpRouteMatch {
    /// The app whose `http` export answers.
    pub(crate) app: App,
    /// The route's pattern, as the manifest spells it.
    pub(crate) route: String,
    /// The params its pattern took from the path.
    pub(crate) path_params: Map<String, Value>,
}

/// The routes of the apps of one site, in matching order.
#[derive(Clone, Default)]
pub(crate) struct RouteTable {
    routes: Vec<Mounted>,
}

impl RouteTable {
    /// The routes of `app` alone (a platform site, or the check of an upload).
    pub(crate) fn of_app(app: &App) -> Result<RouteTable, ServerError> {
        RouteTable::default().with_app(app)
    }

    /// This table with `app`'s routes added after its own; refuses a second app of the same
    /// name, and patterns that are malformed or clash with a route already served.
    pub(crate) fn with_app(&self, app: &App) -> Result<RouteTable, ServerError> {
        let name = &app.manifest().name;
        if self.routes.iter().any(|m| &m.app.manifest().name == name) {
            return Err(ServerError::DuplicateApp(name.clone()));
        }
        let mut table = self.clone();
        table.routes.extend(mount(app, &self.routes)?);
        Ok(table)
    }

    /// This table with app `old` replaced by `app`, whose routes take the old ones' place in
    /// matching order. `Ok(None)` when `app` is the very component `old` already is; refused
    /// when `app`'s routes clash with another app's or its name is another app's.
    pub(crate) fn replacing(
        &self,
        old: &str,
        app: &App,
    ) -> Result<Option<RouteTable>, ServerError> {
        let is_old = |m: &Mounted| m.app.manifest().name == old;
        if self
            .routes
            .iter()
            .any(|m| is_old(m) && m.app.digest() == app.digest())
        {
            return Ok(None);
        }
        let name = &app.manifest().name;
        let at = self
            .routes
            .iter()
            .position(is_old)
            .unwrap_or(self.routes.len());
        let mut kept: Vec<Mounted> = self.routes.iter().filter(|m| !is_old(m)).cloned().collect();
        if name != old && kept.iter().any(|m| &m.app.manifest().name == name) {
            return Err(ServerError::DuplicateApp(name.clone()));
        }
        let added = mount(app, &kept)?;
        let at = at.min(kept.len());
        kept.splice(at..at, added);
        Ok(Some(RouteTable { routes: kept }))
    }

    /// The view route matching `path` (the first one, in table order).
    pub(crate) fn route(&self, path: &str) -> Option<RouteMatch> {
        self.routes.iter().find_map(|m| {
            m.pattern.matches(path).map(|path_params| RouteMatch {
                app: m.app.clone(),
                route: m.route.clone(),
                path_params,
            })
        })
    }

    /// The route of `view` in app `app` (its first one).
    pub(crate) fn route_of_view(&self, app: &str, view: &str) -> Option<Route> {
        self.routes
            .iter()
            .find(|m| m.app.manifest().name == app && m.route.view == view)
            .map(|m| m.route.clone())
    }

    /// The plain HTTP route for `method` and `path`: apps in table order, each app's
    /// `http-routes` in manifest order.
    pub(crate) fn http_route(&self, method: &str, path: &str) -> Option<HttpRouteMatch> {
        self.apps().into_iter().find_map(|app| {
            let found = app.manifest().http_routes.iter().find_map(|route| {
                if !route.method.eq_ignore_ascii_case(method) {
                    return None;
                }
                let params = Pattern::parse(&route.path).and_then(|p| p.matches(path))?;
                Some((route.path.clone(), params))
            });
            found.map(|(route, path_params)| HttpRouteMatch {
                app,
                route,
                path_params,
            })
        })
    }

    /// The apps of the table, each once, in table order.
    pub(crate) fn apps(&self) -> Vec<App> {
        let mut apps: Vec<App> = Vec::new();
        for mounted in &self.routes {
            if !apps.iter().any(|a| a.digest() == mounted.app.digest()) {
                apps.push(mounted.app.clone());
            }
        }
        apps
    }

    /// Every route, as `(app, path, view)`.
    pub(crate) fn list(&self) -> Vec<(String, String, String)> {
        self.routes
            .iter()
            .map(|m| {
                (
                    m.app.manifest().name.clone(),
                    m.route.path.clone(),
                    m.route.view.clone(),
                )
            })
            .collect()
    }
}

/// The routes of `app`, refusing patterns that are malformed or clash with `existing` or
/// with each other.
fn mount(app: &App, existing: &[Mounted]) -> Result<Vec<Mounted>, ServerError> {
    let name = &app.manifest().name;
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
                app: name.clone(),
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

/// A parsed route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

impl Pattern {
    /// Parses `/a/:b/c`; None when it does not start with `/` or has an empty `:` name.
    pub(crate) fn parse(path: &str) -> Option<Pattern> {
        let rest = path.strip_prefix('/')?;
        let mut segments = Vec::new();
        for part in rest.split('/').filter(|s| !s.is_empty()) {
            match part.strip_prefix(':') {
                Some("") => return None,
                Some(name) => segments.push(Segment::Param(name.to_string())),
                None => segments.push(Segment::Literal(part.to_string())),
            }
        }
        Some(Pattern { segments })
    }

    /// Matches a request path; returns the path params.
    pub(crate) fn matches(&self, path: &str) -> Option<Map<String, Value>> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = Map::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            match segment {
                Segment::Literal(lit) if lit == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => {
                    let decoded = percent_decode(part);
                    params.insert(name.clone(), Value::String(decoded));
                }
            }
        }
        Some(params)
    }

    /// True when both patterns match exactly the same paths.
    pub(crate) fn same_shape(&self, other: &Pattern) -> bool {
        self.segments.len() == other.segments.len()
            && self
                .segments
                .iter()
                .zip(&other.segments)
                .all(|(a, b)| match (a, b) {
                    (Segment::Literal(x), Segment::Literal(y)) => x == y,
                    (Segment::Param(_), Segment::Param(_)) => true,
                    _ => false,
                })
    }
}

fn percent_decode(text: &str) -> String {
    form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Query params of a URL query string, as a JSON object of strings (last value wins).
pub(crate) fn query_params(query: Option<&str>) -> Map<String, Value> {
    let mut params = Map::new();
    if let Some(query) = query {
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            params.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_param_segments() {
        let p = Pattern::parse("/articles/:id/edit").unwrap();
        let params = p.matches("/articles/42/edit").unwrap();
        assert_eq!(params["id"], "42");
        assert!(p.matches("/articles/42").is_none());
        assert!(p.matches("/posts/42/edit").is_none());
        assert_eq!(
            Pattern::parse("/a/b%20c")
                .unwrap()
                .matches("/a/b%20c")
                .map(|m| m.len()),
            Some(0)
        );
        assert_eq!(
            Pattern::parse("/u/:name")
                .unwrap()
                .matches("/u/a%20b")
                .unwrap()["name"],
            "a b"
        );
        assert!(Pattern::parse("nope").is_none());
        assert!(Pattern::parse("/a/:").is_none());
        assert!(Pattern::parse("/").unwrap().matches("/").is_some());
        assert!(
            Pattern::parse("/a/:x")
                .unwrap()
                .same_shape(&Pattern::parse("/a/:y").unwrap())
        );
    }

    #[test]
    fn query_strings() {
        let q = query_params(Some("house=1&name=a+b&x=%26"));
        assert_eq!(q["house"], "1");
        assert_eq!(q["name"], "a b");
        assert_eq!(q["x"], "&");
    }
}
