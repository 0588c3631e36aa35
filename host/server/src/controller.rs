//! Plain HTTP routes answered by an app's `http` export (`POST /auth/log_in` …): the form is
//! decoded, the CSRF token checked, the handler runs in a fresh instance, and its answer may
//! set the cookie session, a flash for the next page, and a redirect. On a platform site the
//! handler's instance takes one of the tenant's instance slots while it runs (503 when the
//! tenant is at its quota).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use livewasm_runtime::{HttpRequest, HttpResponse};
use serde_json::{Map, Value};

use crate::form::decode_form;
use crate::guest_calls::{GuestRunError, tenant_slot};
use crate::host::Host;
use crate::keys::SiteKeys;
use crate::navigate;
use crate::origin::CurrentSite;
use crate::page::error_page;
use crate::routes::{HttpRouteMatch, query_params};
use crate::session::{self, CSRF};

/// Largest request body read.
const MAX_BODY: usize = 1024 * 1024;

fn error(status: StatusCode, title: &str, detail: &str) -> Response {
    (status, Html(error_page(status.as_u16(), title, detail))).into_response()
}

/// Answers a request routed to an app's HTTP handler.
pub(crate) async fn handle(
    State(host): State<Arc<Host>>,
    CurrentSite(site): CurrentSite,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let body_timeout = host.config().http_body_timeout;
    let read = tokio::time::timeout(body_timeout, axum::body::to_bytes(body, MAX_BODY)).await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Err(_) => {
            return error(
                StatusCode::REQUEST_TIMEOUT,
                "Request Timeout",
                "The request body did not arrive in time.",
            );
        }
        Ok(Err(_)) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload Too Large",
                "The request body is too large.",
            );
        }
    };
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let mut form = if is_form && !bytes.is_empty() {
        match std::str::from_utf8(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|text| decode_form(text).map_err(|e| e.to_string()))
        {
            Ok(form) => form,
            Err(e) => return error(StatusCode::BAD_REQUEST, "Bad Request", &e),
        }
    } else {
        Map::new()
    };
    // A form can only send GET or POST: `_method` says what it means (`DELETE` for log out).
    let mut method = parts.method.as_str().to_ascii_uppercase();
    if method == "POST"
        && let Some(Value::String(wanted)) = form.remove("_method")
    {
        method = wanted.to_ascii_uppercase();
    }
    let path = parts.uri.path();
    let Some(HttpRouteMatch {
        app,
        route,
        path_params,
    }) = site.http_route(&method, path)
    else {
        return error(
            StatusCode::NOT_FOUND,
            "Not Found",
            &format!("Nothing answers {method} {path}."),
        );
    };
    let cookie_header = parts
        .headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok());
    let keys = host.keys(site.id());
    let old_session =
        session::read(&keys, host.config().token_max_age, cookie_header).unwrap_or_default();
    let csrf = old_session.get(CSRF).and_then(Value::as_str);
    let sent = form
        .remove(CSRF)
        .and_then(|v| v.as_str().map(str::to_string))
        .or_else(|| {
            parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
    let matches = match (csrf, sent.as_deref()) {
        (Some(expected), Some(sent)) => crate::session::secrets_equal(expected, sent),
        _ => false,
    };
    if method != "GET" && !matches {
        tracing::info!(%method, path, "request refused: missing or wrong CSRF token");
        return error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "The form's CSRF token does not match the session: reload the page and try again.",
        );
    }
    let mut params = path_params;
    params.extend(query_params(parts.uri.query()));
    params.extend(form);
    let mut user_session = old_session.clone();
    user_session.remove("v");
    user_session.remove("iat");
    let request = HttpRequest {
        method: method.clone(),
        route,
        params: Value::Object(params),
        session: Value::Object(user_session),
    };
    // Guest code runs on the guest pool, charged to the site's tenant (or the app).
    let app_name = app.manifest().name.clone();
    let app_policy = app.manifest().content_security_policy.clone();
    let tenant = site.id().charged_to(&app_name);
    // Counted against the tenant like a joined view while the handler runs.
    let slot = match tenant_slot(&site) {
        Ok(slot) => slot,
        Err(refused) => {
            let (status, title, detail) = refused.page();
            return error(status, title, detail);
        }
    };
    let answer = host
        .guests()
        .run(&tenant, move || {
            let _slot = slot;
            app.instantiate()
                .map_err(GuestRunError::instantiate)
                .and_then(|mut instance| {
                    instance
                        .handle_http(&request)
                        .map_err(|e| GuestRunError::Failed(e.to_string()))
                })
        })
        .await
        .unwrap_or_else(|error| {
            Err(GuestRunError::Capacity(format!(
                "the host is at capacity: {error}"
            )))
        });
    let answer = match answer {
        Ok(answer) => answer,
        Err(reason) => {
            tracing::warn!(app = %app_name, %method, path, "HTTP handler failed: {reason}");
            let (status, title, public) = reason.page();
            let detail = match (&reason, host.config().dev) {
                (_, true) => reason.to_string(),
                (GuestRunError::Failed(_), false) => "The request could not be handled.".into(),
                (GuestRunError::Capacity(_), false) => public.to_string(),
            };
            return error(status, title, &detail);
        }
    };
    answer_response(
        &keys,
        &old_session,
        &app_name,
        app_policy.as_deref(),
        answer,
    )
}

/// The HTTP response of an app's `answer` (an HTTP handler's, or the plug that halted a page's
/// dead render): its status, headers (but `Set-Cookie`) and body; a redirect to a local path
/// or an http(s) URL (302 unless the answer chose another 3xx); its new session re-signed into
/// the cookie (with a fresh CSRF token when it changed); its flash in the flash cookie; the
/// app's content security policy.
pub(crate) fn answer_response(
    keys: &SiteKeys<'_>,
    old_session: &Map<String, Value>,
    app_name: &str,
    app_policy: Option<&str>,
    answer: HttpResponse,
) -> Response {
    let mut status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = Html(answer.body).into_response();
    if let Some(to) = &answer.redirect {
        let local = navigate::is_local_path(to);
        let external = url::Url::parse(to).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !local && !external {
            tracing::warn!(app = %app_name, to, "HTTP handler redirect ignored: not a path or an http(s) URL");
        } else {
            if !status.is_redirection() {
                status = StatusCode::FOUND;
            }
            if let Ok(value) = HeaderValue::from_str(to) {
                response.headers_mut().insert(header::LOCATION, value);
            }
        }
    }
    *response.status_mut() = status;
    for (name, value) in &answer.headers {
        match (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) if name != header::SET_COOKIE => {
                response.headers_mut().append(name, value);
            }
            _ => tracing::debug!(name, "HTTP handler header ignored"),
        }
    }
    if let Some(Value::Object(mut new_session)) = answer.session {
        // A session that changed (log in, log out, another user) gets a fresh CSRF token, as
        // Phoenix renews it: a token learnt before (a form in another tab, a page an attacker
        // loaded as the victim's anonymous session) is worth nothing after. A handler that
        // hands the session back unchanged keeps the token.
        new_session.remove(CSRF);
        let mut before = old_session.clone();
        for key in [CSRF, "v", "iat"] {
            before.remove(key);
        }
        let token = match old_session.get(CSRF) {
            Some(token) if new_session == before => token.clone(),
            _ => Value::String(session::random_token()),
        };
        new_session.insert(CSRF.into(), token);
        let cookie = session::set_cookie(keys, &new_session);
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    if let Some(token) = session::sign_flash(keys, &answer.flash)
        && let Ok(value) = HeaderValue::from_str(&session::flash_cookie(keys, Some(&token)))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    crate::security_headers::apply_app_policy(&mut response, app_policy);
    response
}
