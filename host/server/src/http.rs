//! The dead render of a view: the `GET` of a page of the request's site, rendered by a fresh
//! instance (`mount(connected = false)`, `handle-params`, `render`) inside a page carrying the
//! CSRF meta tag, the signed cookie session and the view's signed session and static tokens.
//!
//! On a platform site the render's instance takes one of the tenant's instance slots while it
//! runs, like a joined view: a tenant at its `max_concurrent_instances` gets 503 for the page,
//! not one more instance. A host out of instances answers 503 too.
//!
//! A plug of the route's pipelines that halts the request answers it with its own response
//! (status, headers, body, redirect, session and flash), as Phoenix returns a halted conn: the
//! guest's `mount` fails with `keys::page::HALTED` and the instance's `http.handle` gives the
//! response (see [`livewasm_protocol::keys::page`]).
//!
//! A path no route serves answers 404, except `/` on the default site of a dev host, which
//! shows the [welcome page](crate::welcome).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use livewasm_protocol::keys::page;
use livewasm_runtime::{CallError, HttpRequest, HttpResponse, MountRequest};
use serde_json::{Map, Value};

use crate::claims::{TokenKind, ViewClaims};
use crate::guest_calls::{GuestRunError, tenant_slot};
use crate::host::Host;
use crate::keys::SiteKeys;
use crate::navigate;
use crate::origin::CurrentSite;
use crate::page::{PageParts, error_page, view_page};
use crate::routes::query_params;
use crate::session::{self, CSRF, FLASH_COOKIE};
use crate::{app_assets, client_hooks, controller, welcome};

fn page_response(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

/// The absolute URL of a request (the `Host` header names the origin, `scheme` is the host's
/// public scheme).
pub(crate) fn absolute_url(scheme: &str, headers: &HeaderMap, path_and_query: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("{scheme}://{host}{path_and_query}")
}

/// What a dead render produced.
enum Dead {
    /// The container's HTML and the page title.
    Page(String, Option<String>),
    /// The view (or an `on_mount` hook) sent the browser elsewhere: target and flash.
    Redirect(String, Value),
    /// A plug of the route's pipelines halted the request with this response (Phoenix
    /// returns the halted conn: its status, headers and body, a redirect included).
    Halted(HttpResponse),
}

/// A `302 Found` to `to`, carrying `flash` in the flash cookie signed with `keys`.
fn redirect_response(keys: &SiteKeys<'_>, to: &str, flash: &Value, status: StatusCode) -> Response {
    let mut response = status.into_response();
    if let Ok(value) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    if let Some(token) = session::sign_flash(keys, flash)
        && let Ok(value) = HeaderValue::from_str(&session::flash_cookie(keys, Some(&token)))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The dead render of the view routed at the request's site and path.
pub(crate) async fn dead_render(
    State(host): State<Arc<Host>>,
    CurrentSite(site): CurrentSite,
    request: Request,
) -> Response {
    let uri = request.uri().clone();
    let headers = request.headers().clone();
    // Dev live reload: the generations are read before routing (see `Reloads::snapshot`), so
    // the default site is looked up again after them.
    let (reloads, site) = if host.config().dev {
        let reloads = host.dev_reloads().snapshot();
        let site = if site.is_default() {
            host.default_site()
        } else {
            host.site(site.id()).unwrap_or(site)
        };
        (Some(reloads), site)
    } else {
        (None, site)
    };
    let Some(matched) = site.route(uri.path()) else {
        if site.http_route("GET", uri.path()).is_some() {
            return controller::handle(State(host), CurrentSite(site), request).await;
        }
        // A dev host greets `/` on the default site with what it serves.
        if host.config().dev && site.is_default() && uri.path() == "/" {
            return page_response(StatusCode::OK, welcome::page(&host, &site, &headers));
        }
        return page_response(
            StatusCode::NOT_FOUND,
            error_page(
                404,
                "Not Found",
                &format!("Nothing is served at {}.", uri.path()),
            ),
        );
    };
    let keys = host.keys(site.id());
    let cookie_header = headers.get(header::COOKIE).and_then(|v| v.to_str().ok());
    let max_age = host.config().token_max_age;
    let (mut user_session, new_cookie) = match session::read(&keys, max_age, cookie_header) {
        Some(existing) if existing.get(CSRF).is_some() => (existing, None),
        _ => {
            let fresh = session::fresh();
            let cookie = session::set_cookie(&keys, &fresh);
            (fresh, Some(cookie))
        }
    };
    let csrf = user_session
        .get(CSRF)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    user_session.remove("v");
    user_session.remove("iat");
    // The flash of a redirect arrives in a cookie the client set; it is read once.
    let flash_token = cookie_header.and_then(|c| session::cookie_value(c, FLASH_COOKIE));
    let flash = flash_token
        .map(|t| session::verify_flash(&keys, t))
        .unwrap_or_else(|| Value::Object(Map::new()));

    let mut params = matched.path_params.clone();
    params.extend(query_params(uri.query()));
    let params = Value::Object(params);
    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
    let url = absolute_url(&host.config().public_scheme, &headers, path_and_query);
    // What a halting plug's answer is compared with (a changed session renews the CSRF token).
    let session_before = user_session.clone();
    let request = MountRequest {
        view: matched.route.view.clone(),
        action: matched.route.action.clone(),
        params: params.clone(),
        session: Value::Object(user_session),
        url: url.clone(),
        connected: false,
        live_session: matched.route.live_session.clone(),
        flash: flash.clone(),
    };
    let app = matched.app.clone();
    let app_name = app.manifest().name.clone();
    let action = matched.route.action.clone();
    let guest_app = app.clone();
    // Counted against the tenant like a joined view, from here until the render is done.
    let slot = match tenant_slot(&site) {
        Ok(slot) => slot,
        Err(refused) => return failure_page(&host, &refused),
    };
    let render = move || -> Result<Dead, GuestRunError> {
        let _slot = slot;
        let mut instance = guest_app
            .instantiate()
            .map_err(GuestRunError::instantiate)?;
        match instance.mount(&request) {
            Ok(()) => {}
            // A plug halted the page's request: the guest keeps its response for `http.handle`.
            Err(CallError::Guest(reason)) if reason == page::HALTED => {
                let ask = HttpRequest {
                    method: "GET".into(),
                    route: page::HALTED_ROUTE.into(),
                    params: Value::Object(Map::new()),
                    session: Value::Object(Map::new()),
                };
                let response = instance.handle_http(&ask).map_err(describe)?;
                return Ok(Dead::Halted(response));
            }
            Err(error) => return Err(describe(error)),
        }
        // A redirect from an `on_mount` hook or `mount`, or any navigation from the first
        // `handle_params` (a patch included), becomes an HTTP redirect, as in Phoenix.
        let leave = |instance: &mut livewasm_runtime::Instance| {
            instance
                .take_navigation()
                .and_then(navigate::checked)
                .map(|n| Dead::Redirect(n.to, n.flash))
        };
        if let Some(redirect) = leave(&mut instance) {
            return Ok(redirect);
        }
        instance
            .handle_params(&params, &url, action.as_deref())
            .map_err(describe)?;
        if let Some(redirect) = leave(&mut instance) {
            return Ok(redirect);
        }
        let diff = instance.render().map_err(describe)?;
        let title = diff
            .as_map()
            .get(livewasm_protocol::keys::rendered::TITLE)
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(Dead::Page(instance.html().unwrap_or_default(), title))
    };
    // Guest code runs on the guest pool, charged to the site's tenant (or the app, on the
    // default site), bounded by fuel and the epoch deadline.
    let tenant = site.id().charged_to(&app_name);
    let rendered = host
        .guests()
        .run(&tenant, render)
        .await
        .unwrap_or_else(|error| {
            Err(GuestRunError::Capacity(format!(
                "the host is at capacity: {error}"
            )))
        });
    let (inner, title) = match rendered {
        Ok(Dead::Page(inner, title)) => (inner, title),
        Ok(Dead::Redirect(to, flash)) => {
            let mut response = redirect_response(&keys, &to, &flash, StatusCode::FOUND);
            if let Some(cookie) = new_cookie
                && let Ok(value) = HeaderValue::from_str(&cookie)
            {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            return response;
        }
        Ok(Dead::Halted(mut answer)) => {
            // Phoenix's flash on a halted conn: across a redirect it keeps the request's
            // messages and the plug's; any other response drops it.
            let redirects = answer.redirect.is_some();
            if redirects {
                if let (Value::Object(incoming), Value::Object(own)) = (&flash, &mut answer.flash) {
                    for (kind, message) in incoming {
                        own.entry(kind.clone()).or_insert_with(|| message.clone());
                    }
                }
            } else {
                answer.flash = Value::Object(Map::new());
            }
            let sets_session = answer.session.is_some();
            let mut response = controller::answer_response(
                &keys,
                &session_before,
                &app_name,
                app.manifest().content_security_policy.as_deref(),
                answer,
            );
            if !sets_session
                && let Some(cookie) = new_cookie
                && let Ok(value) = HeaderValue::from_str(&cookie)
            {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            if !redirects
                && flash_token.is_some()
                && let Ok(value) = HeaderValue::from_str(&session::flash_cookie(&keys, None))
            {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            return response;
        }
        Err(reason) => {
            tracing::warn!(app = %app_name, view = %matched.route.view, path = %uri.path(), "dead render failed: {reason}");
            return failure_page(&host, &reason);
        }
    };
    let id = format!("phx-{}", &session::random_token()[..16]);
    let key = keys.view_tokens(&app_name);
    // Tokens of a platform site name it, so a socket of another site refuses them.
    let site_label = site.label().map(str::to_string);
    let session_token = ViewClaims {
        kind: TokenKind::Session,
        id: id.clone(),
        app: app_name.clone(),
        view: Some(matched.route.view.clone()),
        live_session: matched.route.live_session.clone(),
        // The page's container tag: live navigation can change its attributes, not its tag.
        container: matched.route.container.as_ref().map(|c| c.tag.clone()),
        site: site_label.clone(),
        flash: None,
    }
    .sign(&key);
    let static_token = ViewClaims {
        kind: TokenKind::Static,
        id: id.clone(),
        app: app_name.clone(),
        view: None,
        live_session: None,
        container: None,
        site: site_label,
        // The connected mount shows the flash the dead render showed.
        flash: flash.as_object().filter(|m| !m.is_empty()).cloned(),
    }
    .sign(&key);
    // Dev pages learn of swaps (live reload): an `--app` file's pages by the app's name, a
    // platform app's by its site (`tenant/app`), whose deploys and rollbacks are the swaps.
    let reload_key = site.id().label().unwrap_or_else(|| app_name.clone());
    let reload_token = reloads.map(|generations| generations.token(&reload_key));
    let title = title.unwrap_or(app_name);
    let hooks_script = client_hooks::script(&app);
    let head_links = app_assets::head_links(&app);
    let root_layout = app.manifest().root_layout.as_ref();
    let body = view_page(&PageParts {
        title: &title,
        csrf: &csrf,
        id: &id,
        session: &session_token,
        static_token: &static_token,
        inner: &inner,
        container: matched.route.container.as_ref(),
        hooks_script: hooks_script.as_ref().map(|s| s.path.as_str()),
        reload_token: reload_token.as_deref(),
        head_links: &head_links,
        title_suffix: root_layout.and_then(|l| l.title_suffix.as_deref()),
        body_class: root_layout.and_then(|l| l.body_class.as_deref()),
    });
    let mut response = page_response(StatusCode::OK, body);
    crate::security_headers::apply_app_policy(
        &mut response,
        app.manifest().content_security_policy.as_deref(),
    );
    if let Some(cookie) = new_cookie
        && let Ok(value) = HeaderValue::from_str(&cookie)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    if flash_token.is_some()
        && let Ok(value) = HeaderValue::from_str(&session::flash_cookie(&keys, None))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The error page of a dead render that did not answer (details only in dev).
fn failure_page(host: &Host, reason: &GuestRunError) -> Response {
    let (status, title, public) = reason.page();
    let detail = if host.config().dev {
        reason.to_string()
    } else {
        public.to_string()
    };
    page_response(status, error_page(status.as_u16(), title, &detail))
}

fn describe(error: CallError) -> GuestRunError {
    GuestRunError::Failed(error.to_string())
}
