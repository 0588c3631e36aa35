//! What an app declares about itself ([`Manifest`]: routes, live sessions, HTTP routes, client
//! hooks) and the checks a manifest must pass before the app is served.

use crate::assets::Asset;
use crate::error::RuntimeError;

/// One route an app serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Path pattern, e.g. `/articles/:id`.
    pub path: String,
    /// The view mounted there.
    pub view: String,
    /// Its live action.
    pub action: Option<String>,
    /// Its live session.
    pub live_session: Option<String>,
    /// The tag and attributes of its container element (`None`: a plain `div`).
    pub container: Option<Container>,
}

/// A view's container element on the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// Tag name (ASCII letters, digits, `-`).
    pub tag: String,
    /// Attributes (names of ASCII letters, digits, `-`, `_`, `:`).
    pub attrs: Vec<(String, String)>,
}

/// A live session: `on_mount` hooks and a layout shared by its routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSession {
    /// Its name.
    pub name: String,
    /// Names of its `on_mount` hooks, in order.
    pub on_mount: Vec<String>,
    /// Its layout, if any.
    pub layout: Option<String>,
}

/// A plain HTTP route of an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRoute {
    /// Method, upper case.
    pub method: String,
    /// Path pattern.
    pub path: String,
}

/// What an app declares about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// App name.
    pub name: String,
    /// Routes.
    pub routes: Vec<Route>,
    /// Live sessions.
    pub live_sessions: Vec<LiveSession>,
    /// Plain HTTP routes.
    pub http_routes: Vec<HttpRoute>,
    /// Client hooks the app ships (`phx-hook`).
    pub client_hooks: Vec<ClientHook>,
    /// SQL migrations, in order (the `sql` capability's schema).
    pub sql_migrations: Vec<String>,
    /// Static files the app ships, with their bytes (fetched once at load).
    pub assets: Vec<Asset>,
    /// What the page shell adds for the app, if it declares a root layout.
    pub root_layout: Option<RootLayout>,
    /// The `Content-Security-Policy` of the app's pages and HTTP handlers' responses, in place
    /// of the host's default; checked by [`Manifest::check`] ([`MAX_CONTENT_SECURITY_POLICY`]).
    pub content_security_policy: Option<String>,
}

/// Longest content security policy an app may declare, in bytes.
pub const MAX_CONTENT_SECURITY_POLICY: usize = 4096;

/// The app's additions to the page around its views (Phoenix's root layout).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RootLayout {
    /// Stylesheet assets linked in `<head>`, in order.
    pub stylesheets: Vec<String>,
    /// An image asset linked as the page's icon.
    pub icon: Option<String>,
    /// Appended to every page title.
    pub title_suffix: Option<String>,
    /// Classes of the page's `<body>`.
    pub body_class: Option<String>,
}

/// Longest root layout title suffix or body class, in bytes.
pub const MAX_ROOT_LAYOUT_TEXT: usize = 1024;

impl Manifest {
    /// The asset named `name`.
    pub fn asset(&self, name: &str) -> Option<&Asset> {
        self.assets.iter().find(|a| a.name == name)
    }

    /// The stylesheets every page of the app links: its root layout's, else every `.css`
    /// asset in declaration order.
    pub fn stylesheets(&self) -> Vec<&Asset> {
        match &self.root_layout {
            Some(layout) => layout
                .stylesheets
                .iter()
                .filter_map(|name| self.asset(name))
                .collect(),
            None => self.assets.iter().filter(|a| a.is_stylesheet()).collect(),
        }
    }
}

/// A client hook an app ships: its `phx-hook` name and a JavaScript expression evaluating to
/// the hook object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHook {
    /// The name elements use in `phx-hook`.
    pub name: String,
    /// The hook object, as a JavaScript expression.
    pub source: String,
}

/// Tags a container may not be: they do not hold a view's HTML.
const BAD_CONTAINER_TAGS: &[&str] = &["script", "style", "template", "textarea", "title", "iframe"];
/// Most client hooks one app may ship.
pub const MAX_CLIENT_HOOKS: usize = 64;
/// Most bytes of client hook source one app may ship.
pub const MAX_CLIENT_HOOK_BYTES: usize = 256 * 1024;
/// Most SQL migrations one app may declare.
pub const MAX_SQL_MIGRATIONS: usize = 1000;
/// Most bytes of SQL migrations one app may declare, all together.
pub const MAX_SQL_MIGRATION_BYTES: usize = 1 << 20;

impl Manifest {
    /// Checks what the app declared: a name, routes with absolute paths naming views, valid
    /// container elements, absolute HTTP route paths, and client hooks within the limits.
    pub fn check(&self) -> Result<(), RuntimeError> {
        if self.name.trim().is_empty() {
            return Err(RuntimeError::Manifest("the app has no name".into()));
        }
        if self.routes.is_empty() {
            return Err(RuntimeError::Manifest("the app declares no routes".into()));
        }
        for route in &self.routes {
            if !route.path.starts_with('/') {
                return Err(RuntimeError::Manifest(format!(
                    "route `{}` must start with `/`",
                    route.path
                )));
            }
            if route.view.is_empty() {
                return Err(RuntimeError::Manifest(format!(
                    "route `{}` names no view",
                    route.path
                )));
            }
        }
        for route in &self.routes {
            if let Some(container) = &route.container
                && !container.is_valid()
            {
                return Err(RuntimeError::Manifest(format!(
                    "route `{}` has an invalid container tag or attribute name",
                    route.path
                )));
            }
        }
        for route in &self.http_routes {
            if !route.path.starts_with('/') {
                return Err(RuntimeError::Manifest(format!(
                    "HTTP route `{}` must start with `/`",
                    route.path
                )));
            }
        }
        check_client_hooks(&self.client_hooks)?;
        check_sql_migrations(&self.sql_migrations)?;
        if let Some(policy) = &self.content_security_policy {
            check_content_security_policy(policy)?;
        }
        self.check_root_layout()
    }

    /// The root layout names assets the app ships (stylesheets that are `.css`, an icon that
    /// is an image) and keeps its texts short.
    fn check_root_layout(&self) -> Result<(), RuntimeError> {
        let Some(layout) = &self.root_layout else {
            return Ok(());
        };
        for name in &layout.stylesheets {
            if !self.asset(name).is_some_and(Asset::is_stylesheet) {
                return Err(RuntimeError::Manifest(format!(
                    "root layout stylesheet `{name}` is not a `.css` asset of the app"
                )));
            }
        }
        if let Some(icon) = &layout.icon
            && !self.asset(icon).is_some_and(Asset::is_image)
        {
            return Err(RuntimeError::Manifest(format!(
                "root layout icon `{icon}` is not an image asset of the app"
            )));
        }
        for text in [&layout.title_suffix, &layout.body_class]
            .into_iter()
            .flatten()
        {
            if text.len() > MAX_ROOT_LAYOUT_TEXT {
                return Err(RuntimeError::Manifest(format!(
                    "root layout text is {} bytes (at most {MAX_ROOT_LAYOUT_TEXT})",
                    text.len()
                )));
            }
        }
        Ok(())
    }
}

/// A declared content security policy becomes a header value as it is: it must be one line of
/// visible ASCII (spaces allowed), not empty, within [`MAX_CONTENT_SECURITY_POLICY`] bytes.
fn check_content_security_policy(policy: &str) -> Result<(), RuntimeError> {
    if policy.trim().is_empty() {
        return Err(RuntimeError::Manifest(
            "the content security policy is empty (leave it out for the host's default)".into(),
        ));
    }
    if policy.len() > MAX_CONTENT_SECURITY_POLICY {
        return Err(RuntimeError::Manifest(format!(
            "the content security policy is {} bytes (at most {MAX_CONTENT_SECURITY_POLICY})",
            policy.len()
        )));
    }
    if !policy.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return Err(RuntimeError::Manifest(
            "the content security policy must be one line of visible ASCII".into(),
        ));
    }
    Ok(())
}

fn check_sql_migrations(migrations: &[String]) -> Result<(), RuntimeError> {
    if migrations.len() > MAX_SQL_MIGRATIONS {
        return Err(RuntimeError::Manifest(format!(
            "the app declares {} SQL migrations; at most {MAX_SQL_MIGRATIONS} are allowed",
            migrations.len()
        )));
    }
    let bytes: usize = migrations.iter().map(String::len).sum();
    if bytes > MAX_SQL_MIGRATION_BYTES {
        return Err(RuntimeError::Manifest(format!(
            "the app's SQL migrations take {bytes} bytes; at most {MAX_SQL_MIGRATION_BYTES} are allowed"
        )));
    }
    if let Some(n) = migrations.iter().position(|m| m.trim().is_empty()) {
        return Err(RuntimeError::Manifest(format!(
            "SQL migration {} is empty",
            n + 1
        )));
    }
    Ok(())
}

impl Container {
    /// True when the tag and attribute names are safe to write into a page as they are.
    fn is_valid(&self) -> bool {
        let name_ok = |name: &str, extra: &[char]| {
            !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || extra.contains(&c))
        };
        name_ok(&self.tag, &[])
            && self.tag.starts_with(|c: char| c.is_ascii_alphabetic())
            && !BAD_CONTAINER_TAGS.contains(&self.tag.to_ascii_lowercase().as_str())
            && self.attrs.len() <= 32
            && self
                .attrs
                .iter()
                .all(|(name, _)| name_ok(name, &['_', ':']) && !name.starts_with('-'))
    }
}

/// The client `LiveSocket` options an app may set through a client hook named
/// `LiveSocket.<option>` (Phoenix's `uploaders`, `metadata` and `dom` options).
const LIVE_SOCKET_OPTIONS: [&str; 3] = ["uploaders", "metadata", "dom"];

/// A hook name: ASCII letters, digits, `_`, `-`, `.`, starting with a letter, at most 64 bytes.
fn hook_name_ok(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn check_client_hooks(hooks: &[ClientHook]) -> Result<(), RuntimeError> {
    if hooks.len() > MAX_CLIENT_HOOKS {
        return Err(RuntimeError::Manifest(format!(
            "the app ships {} client hooks (at most {MAX_CLIENT_HOOKS})",
            hooks.len()
        )));
    }
    let bytes: usize = hooks.iter().map(|h| h.source.len()).sum();
    if bytes > MAX_CLIENT_HOOK_BYTES {
        return Err(RuntimeError::Manifest(format!(
            "the app's client hooks are {bytes} bytes (at most {MAX_CLIENT_HOOK_BYTES})"
        )));
    }
    for (i, hook) in hooks.iter().enumerate() {
        if let Some(option) = hook.name.strip_prefix("LiveSocket.")
            && !LIVE_SOCKET_OPTIONS.contains(&option)
        {
            return Err(RuntimeError::Manifest(format!(
                "client hook `{}` names no LiveSocket option (LiveSocket.uploaders, \
                 LiveSocket.metadata, LiveSocket.dom)",
                hook.name
            )));
        }
        if !hook_name_ok(&hook.name) {
            return Err(RuntimeError::Manifest(format!(
                "client hook name `{}` is invalid (letters, digits, `_`, `-`, `.`)",
                hook.name
            )));
        }
        if hooks[..i].iter().any(|h| h.name == hook.name) {
            return Err(RuntimeError::Manifest(format!(
                "client hook `{}` is declared twice",
                hook.name
            )));
        }
        if hook.source.trim().is_empty() {
            return Err(RuntimeError::Manifest(format!(
                "client hook `{}` has no source",
                hook.name
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(tag: &str, attrs: &[(&str, &str)]) -> Container {
        Container {
            tag: tag.into(),
            attrs: attrs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        }
    }

    #[test]
    fn container_tags_and_attribute_names_are_checked() {
        assert!(container("main", &[("class", "a \" b")]).is_valid());
        assert!(container("my-el", &[("aria-label", "x"), ("xml:lang", "en")]).is_valid());
        assert!(!container("script", &[]).is_valid());
        assert!(!container("SCRIPT", &[]).is_valid());
        assert!(!container("div onload=x", &[]).is_valid());
        assert!(!container("1div", &[]).is_valid());
        assert!(!container("div", &[("on click", "x")]).is_valid());
        assert!(!container("div", &[("\"x", "y")]).is_valid());
    }

    fn hook(name: &str, source: &str) -> ClientHook {
        ClientHook {
            name: name.into(),
            source: source.into(),
        }
    }

    #[test]
    fn client_hooks_are_checked() {
        assert!(check_client_hooks(&[hook("Sortable", "{}"), hook("Game.Board-2", "{}")]).is_ok());
        for bad in ["", "2d", "a b", "x\"];", "<script>"] {
            assert!(check_client_hooks(&[hook(bad, "{}")]).is_err(), "{bad:?}");
        }
        assert!(check_client_hooks(&[hook("A", "{}"), hook("A", "{}")]).is_err());
        assert!(check_client_hooks(&[hook("LiveSocket.uploaders", "{}")]).is_ok());
        assert!(check_client_hooks(&[hook("LiveSocket.params", "{}")]).is_err());
        assert!(check_client_hooks(&[hook("A", "  ")]).is_err());
        let many: Vec<_> = (0..=MAX_CLIENT_HOOKS)
            .map(|i| hook(&format!("H{i}"), "{}"))
            .collect();
        assert!(check_client_hooks(&many).is_err());
        let big = "x".repeat(MAX_CLIENT_HOOK_BYTES + 1);
        assert!(check_client_hooks(&[hook("Big", &big)]).is_err());
    }

    #[test]
    fn a_root_layout_names_the_apps_own_stylesheets_and_icon() {
        let asset = |name: &str, content_type: &'static str| Asset {
            name: name.into(),
            content_type,
            sha256: "0".repeat(64),
            bytes: std::sync::Arc::from(&b"x"[..]),
        };
        let base = Manifest {
            name: "app".into(),
            routes: vec![Route {
                path: "/".into(),
                view: "Home".into(),
                action: None,
                live_session: None,
                container: None,
            }],
            assets: vec![
                asset("a.css", "text/css; charset=utf-8"),
                asset("b.css", "text/css; charset=utf-8"),
                asset("logo.png", "image/png"),
            ],
            ..Manifest::default()
        };
        let names = |m: &Manifest| -> Vec<String> {
            m.stylesheets().iter().map(|a| a.name.clone()).collect()
        };
        // Without a root layout every stylesheet is linked, in order.
        assert_eq!(names(&base), ["a.css", "b.css"]);
        let with = |layout: RootLayout| Manifest {
            root_layout: Some(layout),
            ..base.clone()
        };
        let good = with(RootLayout {
            stylesheets: vec!["b.css".into()],
            icon: Some("logo.png".into()),
            title_suffix: Some(" · App".into()),
            body_class: None,
        });
        assert!(good.check().is_ok());
        assert_eq!(names(&good), ["b.css"]);
        for bad in [
            RootLayout {
                stylesheets: vec!["missing.css".into()],
                ..RootLayout::default()
            },
            RootLayout {
                stylesheets: vec!["logo.png".into()],
                ..RootLayout::default()
            },
            RootLayout {
                icon: Some("a.css".into()),
                ..RootLayout::default()
            },
            RootLayout {
                body_class: Some("x".repeat(MAX_ROOT_LAYOUT_TEXT + 1)),
                ..RootLayout::default()
            },
        ] {
            assert!(with(bad.clone()).check().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_content_security_policy_is_one_short_line_of_ascii() {
        let with = |policy: &str| Manifest {
            name: "app".into(),
            routes: vec![Route {
                path: "/".into(),
                view: "Home".into(),
                action: None,
                live_session: None,
                container: None,
            }],
            content_security_policy: Some(policy.into()),
            ..Manifest::default()
        };
        assert!(
            with("default-src 'self'; img-src 'self' https://cdn.example.com")
                .check()
                .is_ok()
        );
        let too_long = format!(
            "default-src 'self' {}",
            "a".repeat(MAX_CONTENT_SECURITY_POLICY)
        );
        for bad in [
            "",
            "   ",
            "default-src 'self'\r\nSet-Cookie: x=1",
            "default-src 'self'\n",
            "default-src 'self' \u{e9}",
            "default-src\t'self'",
            too_long.as_str(),
        ] {
            assert!(with(bad).check().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_manifest_needs_a_name_and_absolute_routes() {
        let route = |path: &str, view: &str| Route {
            path: path.into(),
            view: view.into(),
            action: None,
            live_session: None,
            container: None,
        };
        let good = Manifest {
            name: "app".into(),
            routes: vec![route("/", "Home")],
            ..Manifest::default()
        };
        assert!(good.check().is_ok());
        for bad in [
            Manifest {
                name: " ".into(),
                ..good.clone()
            },
            Manifest {
                routes: vec![],
                ..good.clone()
            },
            Manifest {
                routes: vec![route("home", "Home")],
                ..good.clone()
            },
            Manifest {
                routes: vec![route("/", "")],
                ..good.clone()
            },
            Manifest {
                http_routes: vec![HttpRoute {
                    method: "POST".into(),
                    path: "x".into(),
                }],
                ..good.clone()
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }
}
