//! The server side of the WebSocket opening handshake (RFC 6455 §4.2), made here rather than
//! by axum's extractor so the socket owns its byte stream: a socket whose views all hibernate
//! takes the stream back out of the WebSocket library and drops the library's buffers (see
//! [`park`](super::park)).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::edge::Edge;

/// The client's byte stream once the handshake is answered, watched for frame boundaries.
pub(crate) type RawSocket = Edge<TokioIo<hyper::upgrade::Upgraded>>;

/// A valid WebSocket upgrade request: its key, and the hook that yields the connection once
/// the `101` answer is written.
pub(crate) struct Handshake {
    key: HeaderValue,
    on_upgrade: hyper::upgrade::OnUpgrade,
}

/// Why a request to the socket endpoint is not a WebSocket upgrade this server accepts.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HandshakeError {
    /// Not `Connection: upgrade` with `Upgrade: websocket`.
    #[error("not a WebSocket upgrade: `Connection: upgrade` and `Upgrade: websocket` are required")]
    NotAnUpgrade,
    /// A `Sec-WebSocket-Version` other than 13.
    #[error("unsupported WebSocket version: `Sec-WebSocket-Version` must be 13")]
    Version,
    /// No `Sec-WebSocket-Key`.
    #[error("`Sec-WebSocket-Key` is missing")]
    MissingKey,
    /// The request did not come through a connection that can be upgraded (HTTP/1.1 served
    /// with upgrades).
    #[error("this connection cannot be upgraded")]
    NotUpgradable,
}

impl IntoResponse for HandshakeError {
    fn into_response(self) -> Response {
        let status = match self {
            HandshakeError::NotUpgradable => StatusCode::UPGRADE_REQUIRED,
            _ => StatusCode::BAD_REQUEST,
        };
        (status, self.to_string()).into_response()
    }
}

/// True when the comma-separated header `name` lists `token` (compared ignoring case).
fn lists_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| item.trim().eq_ignore_ascii_case(token))
}

impl<S: Send + Sync> FromRequestParts<S> for Handshake {
    type Rejection = HandshakeError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if !lists_token(&parts.headers, header::CONNECTION, "upgrade")
            || !lists_token(&parts.headers, header::UPGRADE, "websocket")
        {
            return Err(HandshakeError::NotAnUpgrade);
        }
        if parts
            .headers
            .get(header::SEC_WEBSOCKET_VERSION)
            .is_none_or(|v| v.as_bytes() != b"13")
        {
            return Err(HandshakeError::Version);
        }
        let key = parts
            .headers
            .get(header::SEC_WEBSOCKET_KEY)
            .ok_or(HandshakeError::MissingKey)?
            .clone();
        let on_upgrade = parts
            .extensions
            .remove::<hyper::upgrade::OnUpgrade>()
            .ok_or(HandshakeError::NotUpgradable)?;
        Ok(Handshake { key, on_upgrade })
    }
}

impl Handshake {
    /// Answers `101 Switching Protocols`; once the answer is written, the future `serve` makes
    /// of the connection's byte stream runs on a task of its own (which holds nothing else: an
    /// idle socket's task is all its future).
    pub(crate) fn accept<F, Fut>(self, serve: F) -> Response
    where
        F: FnOnce(RawSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let accept = derive_accept_key(self.key.as_bytes());
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    tokio::spawn(serve(Edge::new(TokioIo::new(upgraded))));
                }
                Err(error) => tracing::debug!("WebSocket upgrade failed: {error}"),
            }
        });
        let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(accept) = HeaderValue::from_str(&accept) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        }
        response
    }
}
