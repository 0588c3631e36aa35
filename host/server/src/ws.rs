//! The WebSocket transport: one task per socket driving a [`Connection`].

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use livewasm_protocol::frame::Frame;
use std::collections::HashMap;
use tokio::time::Instant;

use crate::connection::Connection;
use crate::host::Host;
use crate::origin::CurrentSite;
use crate::session;
use crate::sites::SiteId;

/// Close code for "message too big".
const TOO_BIG: u16 = 1009;
/// Close code for "going away" (the client reconnects).
const GOING_AWAY: u16 = 1001;

/// `GET /live/websocket`: checks the version and origin, reads the session, upgrades.
pub(crate) async fn upgrade(
    State(host): State<Arc<Host>>,
    CurrentSite(site): CurrentSite,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let vsn = query.get("vsn").map(String::as_str).unwrap_or("");
    if !vsn.starts_with("2.") {
        return (
            StatusCode::BAD_REQUEST,
            "unsupported protocol version: vsn must be 2.x",
        )
            .into_response();
    }
    if host.config().check_origin && !origin_matches(&headers) {
        return (StatusCode::FORBIDDEN, "origin does not match host").into_response();
    }
    let cookie = headers.get(header::COOKIE).and_then(|v| v.to_str().ok());
    let session = session::socket_session(
        &host.keys(site.id()),
        host.config().token_max_age,
        cookie,
        query.get("_csrf_token").map(String::as_str),
    );
    // A socket belongs to the site its upgrade request was made on and joins only its views.
    let site = site.id().clone();
    let limit = host.config().max_frame_bytes;
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(host.config().ws_read_buffer_bytes)
        // Frames are flushed as they are written: no write buffer to keep per socket.
        .write_buffer_size(0)
        .on_upgrade(move |socket| run(socket, host, site, session))
}

/// True when there is no `Origin` or its host equals the `Host` header.
fn origin_matches(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    url::Url::parse(origin).is_ok_and(|u| {
        let origin_host = match u.port() {
            Some(port) => format!("{}:{port}", u.host_str().unwrap_or("")),
            None => u.host_str().unwrap_or("").to_string(),
        };
        origin_host.eq_ignore_ascii_case(host)
    })
}

async fn send_all(socket: &mut WebSocket, frames: Vec<Frame>) -> bool {
    for frame in frames {
        if socket
            .send(Message::Text(frame.encode().into()))
            .await
            .is_err()
        {
            return false;
        }
    }
    true
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

/// Close code for "try again later": the tenant's guest calls are backed up.
const OVERLOADED: u16 = 1013;

/// Runs `op` on the socket's connection on a guest thread, charged to its tenant (guest code
/// never runs on this async task). `None` when the connection is lost: the tenant's backlog
/// is full, the pool is closing, or the host failed; the socket then closes.
async fn on_guest<T: Send + 'static>(
    host: &Host,
    connection: &mut Option<Connection>,
    op: impl FnOnce(&mut Connection) -> T + Send + 'static,
) -> Option<T> {
    let mut conn = connection.take()?;
    let tenant = conn.charged_to();
    let ran = host
        .guests()
        .run(&tenant, move || {
            let out = op(&mut conn);
            (conn, out)
        })
        .await;
    match ran {
        Ok((conn, out)) => {
            *connection = Some(conn);
            Some(out)
        }
        Err(error) => {
            tracing::warn!(%tenant, "socket closed: {error}");
            None
        }
    }
}

async fn run(
    mut socket: WebSocket,
    host: Arc<Host>,
    site: SiteId,
    session: Option<serde_json::Value>,
) {
    let timeout = host.config().heartbeat_timeout;
    let mut reloads = crate::dev_reload::Listener::new(&host);
    let mut slot = Some(Connection::for_site(host.clone(), site, session));
    let Some(mut inbox) = slot.as_mut().and_then(Connection::take_inbox) else {
        return;
    };
    let Some(results) = slot.as_ref().map(Connection::inbox_sender) else {
        return;
    };
    let mut last_seen = Instant::now();
    loop {
        let Some(connection) = slot.as_mut() else {
            close(&mut socket, OVERLOADED, "overloaded").await;
            break;
        };
        // Tasks the views started run on the guest pool, charged to the socket's tenant; their
        // results come back through the inbox.
        let tenant = connection.charged_to();
        for task in connection.take_tasks() {
            let (host, results, tenant) = (host.clone(), results.clone(), tenant.clone());
            tokio::spawn(async move {
                match host.guests().run(&tenant, move || task.run()).await {
                    Ok(done) => {
                        if results.send(done).await.is_err() {
                            tracing::debug!("task result dropped: the socket is gone");
                        }
                    }
                    Err(error) => tracing::warn!(%tenant, "task dropped: {error}"),
                }
            });
        }
        let deadline = connection.next_deadline();
        let silence = last_seen + timeout;
        let wake = deadline.map_or(silence, |d| d.min(silence));
        let frames = tokio::select! {
            message = socket.recv() => {
                last_seen = Instant::now();
                match message {
                    Some(Ok(Message::Text(text))) => {
                        on_guest(&host, &mut slot, move |c| c.handle_text(text.as_str())).await
                    }
                    Some(Ok(Message::Binary(bytes))) => {
                        on_guest(&host, &mut slot, move |c| c.handle_binary(&bytes)).await
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => Some(Vec::new()),
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Err(error)) => {
                        let text = error.to_string();
                        tracing::debug!("socket read error: {text}");
                        if text.contains("too long") || text.contains("Space limit") || text.contains("size") {
                            close(&mut socket, TOO_BIG, "message too big").await;
                        }
                        break;
                    }
                }
            }
            reloaded = reloads.next() => Some(connection.dev_reloaded(&reloaded)),
            Some(inbound) = inbox.recv() => {
                on_guest(&host, &mut slot, move |c| c.handle_inbound(inbound)).await
            }
            () = tokio::time::sleep_until(wake) => {
                let now = Instant::now();
                if now >= silence {
                    close(&mut socket, GOING_AWAY, "heartbeat timeout").await;
                    break;
                }
                on_guest(&host, &mut slot, move |c| c.fire_due(now)).await
            }
        };
        let Some(frames) = frames else {
            close(&mut socket, OVERLOADED, "overloaded").await;
            break;
        };
        if !send_all(&mut socket, frames).await {
            break;
        }
    }
}
