//! A Phoenix channels V2 client over a real WebSocket (tokio-tungstenite), shaped like `phoenix.js`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::Page;

/// What went wrong on a test socket.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// WebSocket failure.
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    /// Nothing arrived in time.
    #[error("timed out waiting for {0}")]
    Timeout(String),
    /// The server closed the socket.
    #[error("socket closed: {0:?}")]
    Closed(Option<String>),
    /// Writing raw bytes failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// The server sent something that is not a V2 frame.
    #[error("bad frame from server: {0}")]
    BadFrame(String),
}

/// What came from the server: a text frame (or the error reading one), or a ping.
enum Incoming {
    Frame(Result<Value, SocketError>),
    Ping,
}

/// A client's text frame carrying `text`, masked as a client must, as bytes on the wire.
pub fn masked_text_frame(text: &str) -> Vec<u8> {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let mut frame = Frame::message(text.as_bytes().to_vec(), OpCode::Data(Data::Text), true);
    frame.header_mut().mask = Some([0x5a, 0x13, 0xc4, 0x7e]);
    let mut bytes = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = frame.format(&mut bytes);
    bytes
}

/// One client socket speaking Phoenix channels V2.
pub struct PhxSocket {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_ref: u64,
    /// Frames received while waiting for something else.
    pending: VecDeque<Value>,
}

/// How long a test waits for one expected frame by default.
pub const WAIT: Duration = Duration::from_secs(10);

impl PhxSocket {
    /// Connects to `/live/websocket` with `_csrf_token` and the page's cookies, like LiveSocket does.
    pub async fn connect_page(addr: SocketAddr, page: &Page) -> Result<PhxSocket, SocketError> {
        let cookie = page.cookie_header();
        Self::connect(addr, page.csrf.as_deref(), Some(cookie.as_str())).await
    }

    /// Connects with an explicit CSRF token and cookie header (either may be absent).
    pub async fn connect(
        addr: SocketAddr,
        csrf: Option<&str>,
        cookie: Option<&str>,
    ) -> Result<PhxSocket, SocketError> {
        Self::connect_to(addr, &addr.to_string(), csrf, cookie).await
    }

    /// Fetches `path` from origin `host` on `addr` as a browser would, opens a socket with the
    /// page's cookie and CSRF token and joins its main view: `(socket, page, join_ref, reply)`.
    /// Panics when the page is not a 200 or the socket does not open.
    pub async fn join_on(
        addr: SocketAddr,
        host: &str,
        path: &str,
    ) -> (PhxSocket, Page, String, Value) {
        let page = match crate::get_from(addr, host, path).await {
            Ok(page) => page,
            Err(e) => panic!("GET {host}{path}: {e}"),
        };
        assert_eq!(page.status, 200, "{host}{path}: {}", page.body);
        let cookie = page.cookie_header();
        let mut socket =
            match PhxSocket::connect_to(addr, host, page.csrf.as_deref(), Some(&cookie)).await {
                Ok(socket) => socket,
                Err(e) => panic!("socket to {host}: {e}"),
            };
        let (join_ref, reply) = match socket
            .join_page(&page, &format!("http://{host}{path}"))
            .await
        {
            Ok(joined) => joined,
            Err(e) => panic!("join {host}{path}: {e}"),
        };
        (socket, page, join_ref, reply)
    }

    /// Connects to the server at `addr` as the origin `host` (its `Host` and `Origin`
    /// headers), e.g. an app origin `thermostat.acme.localhost:4000`.
    pub async fn connect_to(
        addr: SocketAddr,
        host: &str,
        csrf: Option<&str>,
        cookie: Option<&str>,
    ) -> Result<PhxSocket, SocketError> {
        let mut query = String::from("vsn=2.0.0&_mounts=0&_live_referer=undefined");
        if let Some(token) = csrf {
            query = format!("_csrf_token={}&{query}", encode(token));
        }
        let url = format!("ws://{addr}/live/websocket?{query}");
        let mut request = url.into_client_request()?;
        if let Some(cookie) = cookie.filter(|c| !c.is_empty())
            && let Ok(value) = HeaderValue::from_str(cookie)
        {
            request.headers_mut().insert("cookie", value);
        }
        let origin = format!("http://{host}");
        if let Ok(value) = HeaderValue::from_str(&origin) {
            request.headers_mut().insert("origin", value);
        }
        if let Ok(value) = HeaderValue::from_str(host) {
            request.headers_mut().insert("host", value);
        }
        let (ws, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(PhxSocket {
            ws,
            next_ref: 0,
            pending: VecDeque::new(),
        })
    }

    /// A fresh message ref.
    pub fn fresh_ref(&mut self) -> String {
        self.next_ref += 1;
        self.next_ref.to_string()
    }

    /// Sends raw text (for malformed-frame tests).
    pub async fn send_text(&mut self, text: &str) -> Result<(), SocketError> {
        self.ws.send(Message::text(text.to_string())).await?;
        Ok(())
    }

    /// Sends a binary frame (upload chunks, or hostile bytes).
    pub async fn send_binary(&mut self, bytes: Vec<u8>) -> Result<(), SocketError> {
        self.ws.send(Message::binary(bytes)).await?;
        Ok(())
    }

    /// Sends a frame `[join_ref, ref, topic, event, payload]` and returns its ref.
    pub async fn push(
        &mut self,
        join_ref: Option<&str>,
        topic: &str,
        event: &str,
        payload: Value,
    ) -> Result<String, SocketError> {
        let msg_ref = self.fresh_ref();
        let frame = json!([join_ref, msg_ref, topic, event, payload]);
        self.send_text(&frame.to_string()).await?;
        Ok(msg_ref)
    }

    /// Sends a `phx-click` of `event` (empty value) without waiting for its reply (a test of
    /// what a crash or a closed socket does instead); returns its ref.
    pub async fn push_click(
        &mut self,
        join_ref: &str,
        topic: &str,
        event: &str,
    ) -> Result<String, SocketError> {
        let payload = json!({"type": "click", "event": event, "value": {}});
        self.push(Some(join_ref), topic, "event", payload).await
    }

    /// Sends `phx_join` for the page's main view (first mount) and returns `(join_ref, reply)`.
    pub async fn join_page(
        &mut self,
        page: &Page,
        url: &str,
    ) -> Result<(String, Value), SocketError> {
        let payload = json!({
            "url": url,
            "params": {"_csrf_token": page.csrf, "_mounts": 0, "_mount_attempts": 0},
            "session": page.session,
            "static": page.static_token,
            "sticky": false,
        });
        self.join(&page.topic(), payload).await
    }

    /// Sends `phx_join` on `topic` with `payload`; returns `(join_ref, reply payload)`.
    pub async fn join(
        &mut self,
        topic: &str,
        payload: Value,
    ) -> Result<(String, Value), SocketError> {
        let msg_ref = self.fresh_ref();
        let frame = json!([msg_ref, msg_ref, topic, "phx_join", payload]);
        self.send_text(&frame.to_string()).await?;
        let reply = self.reply_to(&msg_ref, WAIT).await?;
        Ok((msg_ref, reply))
    }

    /// Sends an LV `event` push and waits for its reply.
    pub async fn event(
        &mut self,
        join_ref: &str,
        topic: &str,
        kind: &str,
        event: &str,
        value: Value,
    ) -> Result<Value, SocketError> {
        self.event_payload(
            join_ref,
            topic,
            json!({"type": kind, "event": event, "value": value}),
        )
        .await
    }

    /// Sends a click on `event` (no value) and returns the diff of its reply; an error when
    /// the reply is not `ok`.
    pub async fn click_diff(
        &mut self,
        join_ref: &str,
        topic: &str,
        event: &str,
    ) -> Result<Value, SocketError> {
        let reply = self
            .event(join_ref, topic, "click", event, json!({}))
            .await?;
        if reply["status"] != "ok" {
            return Err(SocketError::BadFrame(format!("{event} refused: {reply}")));
        }
        Ok(reply["response"]["diff"].clone())
    }

    /// Sends an LV `event` push to live component `cid` (`phx-target={@myself}`) and waits
    /// for its reply.
    pub async fn event_to(
        &mut self,
        join_ref: &str,
        topic: &str,
        cid: u64,
        kind: &str,
        event: &str,
        value: Value,
    ) -> Result<Value, SocketError> {
        self.event_payload(
            join_ref,
            topic,
            json!({"type": kind, "event": event, "value": value, "cid": cid}),
        )
        .await
    }

    /// Sends an `event` push with `payload` and waits for its reply.
    async fn event_payload(
        &mut self,
        join_ref: &str,
        topic: &str,
        payload: Value,
    ) -> Result<Value, SocketError> {
        let msg_ref = self.push(Some(join_ref), topic, "event", payload).await?;
        self.reply_to(&msg_ref, WAIT).await
    }

    /// Sends a heartbeat and waits for its reply.
    pub async fn heartbeat(&mut self) -> Result<Value, SocketError> {
        let msg_ref = self.push(None, "phoenix", "heartbeat", json!({})).await?;
        self.reply_to(&msg_ref, WAIT).await
    }

    /// Waits for the `phx_reply` with `msg_ref`; other frames are kept for later.
    pub async fn reply_to(&mut self, msg_ref: &str, wait: Duration) -> Result<Value, SocketError> {
        self.wait_for(wait, &format!("reply to {msg_ref}"), |f| {
            f.get(1).and_then(Value::as_str) == Some(msg_ref)
                && f.get(3).and_then(Value::as_str) == Some("phx_reply")
        })
        .await
        .map(|f| f.get(4).cloned().unwrap_or(Value::Null))
    }

    /// Waits for a server push with `event` on `topic`; returns the whole frame.
    pub async fn wait_push(
        &mut self,
        topic: &str,
        event: &str,
        wait: Duration,
    ) -> Result<Value, SocketError> {
        self.wait_for(wait, &format!("{event} on {topic}"), |f| {
            f.get(2).and_then(Value::as_str) == Some(topic)
                && f.get(3).and_then(Value::as_str) == Some(event)
        })
        .await
    }

    /// Waits for the first frame matching `pred` (looking at earlier kept frames first).
    pub async fn wait_for(
        &mut self,
        wait: Duration,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Result<Value, SocketError> {
        if let Some(pos) = self.pending.iter().position(&pred)
            && let Some(frame) = self.pending.remove(pos)
        {
            return Ok(frame);
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, self.next_frame()).await;
            match next {
                Err(_) => return Err(SocketError::Timeout(what.to_string())),
                Ok(frame) => {
                    let frame = frame?;
                    if pred(&frame) {
                        return Ok(frame);
                    }
                    self.pending.push_back(frame);
                }
            }
        }
    }

    /// Writes `bytes` to the connection as they are, under the WebSocket framing: a test sends
    /// a frame in pieces with it ([`masked_text_frame`] makes one).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), SocketError> {
        use tokio::io::AsyncWriteExt;
        match self.ws.get_mut() {
            MaybeTlsStream::Plain(tcp) => Ok(tcp.write_all(bytes).await?),
            _ => Err(SocketError::BadFrame(
                "raw bytes need a plain TCP socket".into(),
            )),
        }
    }

    /// Waits for a ping from the server; text frames that come meanwhile are kept.
    pub async fn wait_ping(&mut self, wait: Duration) -> Result<(), SocketError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.next_incoming()).await {
                Err(_) => return Err(SocketError::Timeout("ping".into())),
                Ok(Incoming::Ping) => return Ok(()),
                Ok(Incoming::Frame(frame)) => self.pending.push_back(frame?),
            }
        }
    }

    /// Reads the next text frame from the wire, parsed.
    async fn next_frame(&mut self) -> Result<Value, SocketError> {
        loop {
            if let Incoming::Frame(frame) = self.next_incoming().await {
                return frame;
            }
        }
    }

    /// Reads the next text frame (parsed) or ping from the wire.
    async fn next_incoming(&mut self) -> Incoming {
        Incoming::Frame(loop {
            match self.ws.next().await {
                None => break Err(SocketError::Closed(None)),
                Some(Err(e)) => break Err(e.into()),
                Some(Ok(Message::Ping(_))) => return Incoming::Ping,
                Some(Ok(Message::Text(text))) => {
                    break match serde_json::from_str::<Value>(text.as_str()) {
                        Err(e) => Err(SocketError::BadFrame(format!("{e}: {text}"))),
                        Ok(value) if value.as_array().is_none_or(|a| a.len() != 5) => {
                            Err(SocketError::BadFrame(text.to_string()))
                        }
                        Ok(value) => Ok(value),
                    };
                }
                Some(Ok(Message::Close(frame))) => {
                    break Err(SocketError::Closed(
                        frame.map(|f| format!("{} {}", u16::from(f.code), f.reason)),
                    ));
                }
                Some(Ok(_)) => continue,
            }
        })
    }

    /// Frames received but not yet consumed by a wait.
    pub fn pending(&self) -> impl Iterator<Item = &Value> {
        self.pending.iter()
    }

    /// Waits until the server closes the socket; returns the close code and reason.
    pub async fn wait_closed(&mut self, wait: Duration) -> Result<Option<String>, SocketError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.next_frame()).await {
                Err(_) => return Err(SocketError::Timeout("close".into())),
                Ok(Err(SocketError::Closed(reason))) => return Ok(reason),
                Ok(Err(SocketError::Ws(_))) => return Ok(None),
                Ok(Err(e)) => return Err(e),
                Ok(Ok(frame)) => self.pending.push_back(frame),
            }
        }
    }
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
