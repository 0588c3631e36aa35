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

async fn run(
    mut socket: WebSocket,
    host: Arc<Host>,
    site: SiteId,
    session: Option<serde_json::Value>,
) {
    let timeout = host.config().heartbeat_timeout;
    let mut reloads = crate::dev_reload::Listener::new(&host);
    let mut connection = Connection::for_site(host, site, session);
    let Some(mut inbox) = connection.take_inbox() else {
        return;
    };
    let results = connection.inbox_sender();
    let mut last_seen = Instant::now();
    loop {
        // Tasks the views started run on the blocking pool; their results come back through
        // the inbox.
        for task in connection.take_tasks() {
            let results = results.clone();
            tokio::task::spawn_blocking(move || {
                let done = task.run();
                if results.blocking_send(done).is_err() {
                    tracing::debug!("task result dropped: the socket is gone");
                }
            });
        }
        let deadline = connection.next_deadline();
        let silence = last_seen + timeout;
        let wake = deadline.map_or(silence, |d| d.min(silence));
        tokio::select! {
            message = socket.recv() => {
                last_seen = Instant::now();
                match message {
                    Some(Ok(Message::Text(text))) => {
                        let frames = connection.handle_text(text.as_str());
                        if !send_all(&mut socket, frames).await {
                            break;
                        }
                    }
                    Some(Ok(Message::Binary(bytes))) => {
                        let frames = connection.handle_binary(&bytes);
                        if !send_all(&mut socket, frames).await {
                            break;
                        }
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
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
            reloaded = reloads.next() => {
                if !send_all(&mut socket, connection.dev_reloaded(&reloaded)).await {
                    break;
                }
            }
            Some(inbound) = inbox.recv() => {
                let frames = connection.handle_inbound(inbound);
                if !send_all(&mut socket, frames).await {
                    break;
                }
            }
            () = tokio::time::sleep_until(wake) => {
                let now = Instant::now();
                if now >= silence {
                    close(&mut socket, GOING_AWAY, "heartbeat timeout").await;
                    break;
                }
                let frames = connection.fire_due(now);
                if !send_all(&mut socket, frames).await {
                    break;
                }
            }
        }
    }
}
