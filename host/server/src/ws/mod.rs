//! The WebSocket transport: the handshake (`handshake`), one task per socket driving a
//! [`Connection`] (`socket`: live, or parked while all its views hibernate), and a writer task
//! per live socket draining its outbound queue (`outbound`); `edge` follows the client's frames
//! so a socket parks only between messages.
//!
//! Limits on clients: an address may hold `max_sockets_per_ip` sockets (the next upgrade gets
//! 429); the frames waiting to be written are capped in count and bytes, and one write may take
//! at most `write_timeout`: a client that stops reading is closed (1008, "slow client: …") and
//! its views' instances freed. The server pings every `ping_interval`, and a socket silent (no
//! frame, no pong) for `heartbeat_timeout` is closed (1001), so dead peers are found.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;

use crate::connection::Connection;
use crate::connection_slot::ConnectionSlot;
use crate::host::Host;
use crate::origin::CurrentSite;
use crate::session;

mod edge;
mod handshake;
mod outbound;
mod socket;

use handshake::Handshake;
use socket::{Label, Socket};

/// The client's IP address, when the server knows it (requests served by [`serve`]
/// carry it; requests handed to the router directly, as in unit tests, do not).
///
/// [`serve`]: crate::listener::serve
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerIp(pub(crate) Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip()),
        ))
    }
}

/// `GET /live/websocket`: checks the version and origin, reads the session, upgrades.
pub(crate) async fn upgrade(
    State(host): State<Arc<Host>>,
    CurrentSite(site): CurrentSite,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    PeerIp(ip): PeerIp,
    connection_slot: Option<axum::Extension<ConnectionSlot>>,
    handshake: Handshake,
) -> Response {
    let vsn = query.get("vsn").map(String::as_str).unwrap_or("");
    if !vsn.starts_with("2.") {
        return (
            StatusCode::BAD_REQUEST,
            "unsupported protocol version: vsn must be 2.x",
        )
            .into_response();
    }
    if host.config().check_origin && !origin_matches(&headers, &host.config().public_scheme) {
        return (StatusCode::FORBIDDEN, "origin does not match host").into_response();
    }
    let cookie = headers.get(header::COOKIE).and_then(|v| v.to_str().ok());
    let session = session::socket_session(
        &host.keys(site.id()),
        host.config().token_max_age,
        cookie,
        query.get("_csrf_token").map(String::as_str),
    );
    // The address's socket slot is held from here until the socket ends.
    let peer = match ip.map(|ip| (ip, host.peers().open(ip))) {
        Some((ip, Err(refusal))) => {
            tracing::info!(%ip, "socket refused: {refusal}");
            return (StatusCode::TOO_MANY_REQUESTS, refusal.to_string()).into_response();
        }
        Some((_, Ok(peer))) => Some(peer),
        None => None,
    };
    // Every line about the socket names it, its tenant, app and version (`Socket::span`).
    let label = Label {
        id: rand::random(),
        version: site.version(),
    };
    // A socket belongs to the site its upgrade request was made on and joins only its views.
    let site = site.id().clone();
    let connection_slot = connection_slot.map(|slot| slot.0);
    handshake.accept(move |raw| {
        // Set up before the socket's future is built, so that future keeps only what the
        // socket needs while it lives (every idle socket carries it).
        let mut connection = Connection::for_site(host.clone(), site, session);
        if let Some(peer) = peer {
            connection.set_peer(peer);
        }
        match Socket::new(host, connection, raw, connection_slot, label) {
            Some(socket) => Either::Left(Box::new(socket).run()),
            None => Either::Right(std::future::ready(())),
        }
    })
}

/// True when there is no `Origin` (not a browser), or its scheme is the host's public `scheme`
/// and its host and port equal the `Host` header's (so a page of a sibling app, of the base
/// domain or of a plain-HTTP origin of an HTTPS host cannot open a socket here).
fn origin_matches(headers: &HeaderMap, scheme: &str) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    url::Url::parse(origin).is_ok_and(|u| {
        if !u.scheme().eq_ignore_ascii_case(scheme) {
            return false;
        }
        let origin_host = match u.port() {
            Some(port) => format!("{}:{port}", u.host_str().unwrap_or("")),
            None => u.host_str().unwrap_or("").to_string(),
        };
        origin_host.eq_ignore_ascii_case(host)
    })
}
