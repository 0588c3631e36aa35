//! A Phoenix channels V2 client connection, shaped like `phoenix.js` + LiveSocket, for load.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::page::Page;

type Waiters = Arc<Mutex<HashMap<String, oneshot::Sender<(Instant, usize, Value)>>>>;

/// The `diff` pushes a socket received: when, and the frame's size in bytes.
pub type Pushes = Arc<Mutex<Vec<(Instant, usize)>>>;

/// One client socket: a writer half owned here and a reader task that hands each reply to the
/// waiter registered for its ref.
pub struct Conn {
    sink: SplitSink<WebSocketStream<TcpStream>, Message>,
    waiters: Waiters,
    next_ref: u64,
    /// Notified when the server pushes `phx_error` (a view crashed).
    pub crashed: Arc<tokio::sync::Notify>,
    /// The `diff` pushes received (timers, PubSub, live upgrades).
    pub pushes: Pushes,
}

/// A reply: when it arrived, its size on the wire, its payload.
pub struct Reply {
    /// Arrival time (taken by the reader task as soon as the frame was parsed).
    pub at: Instant,
    /// Size of the whole text frame in bytes.
    pub bytes: usize,
    /// The `phx_reply` payload (`{"status", "response"}`).
    pub payload: Value,
}

/// The source address for the `index`-th socket: spread over 127.0.0.2–127.0.0.251, 4,000
/// sockets each, from an offset that differs from run to run, so no single source address runs
/// out of ephemeral ports (nor of the ones a previous run left in TIME_WAIT).
fn source_addr(index: usize) -> SocketAddr {
    static OFFSET: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let offset = *OFFSET.get_or_init(|| std::process::id() as usize);
    let host = 2 + ((index / 4_000 + offset) % 250) as u8;
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, host)), 0)
}

impl Conn {
    /// Opens `/live/websocket` with the page's CSRF token and cookie.
    pub async fn open(server: SocketAddr, page: &Page, index: usize) -> Result<Conn> {
        Conn::open_on(server, &server.to_string(), page, index).await
    }

    /// [`Conn::open`] with `Host: host` (an app's origin on a platform host).
    pub async fn open_on(
        server: SocketAddr,
        host: &str,
        page: &Page,
        index: usize,
    ) -> Result<Conn> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(source_addr(index))?;
        let stream = socket
            .connect(server)
            .await
            .with_context(|| format!("connecting to {server}"))?;
        stream.set_nodelay(true)?;
        let url = format!(
            "ws://{host}/live/websocket?_csrf_token={}&_mounts=0&vsn=2.0.0",
            page.csrf
        );
        let mut request = url.into_client_request()?;
        request
            .headers_mut()
            .insert("cookie", HeaderValue::from_str(&page.cookie)?);
        let (ws, _) = tokio_tungstenite::client_async(request, stream).await?;
        let (sink, stream) = ws.split();
        let waiters: Waiters = Arc::default();
        let crashed = Arc::new(tokio::sync::Notify::new());
        let pushes = Pushes::default();
        tokio::spawn(read_loop(
            stream,
            waiters.clone(),
            crashed.clone(),
            pushes.clone(),
        ));
        Ok(Conn {
            sink,
            waiters,
            next_ref: 0,
            crashed,
            pushes,
        })
    }

    /// Sends a frame and returns a receiver for its reply.
    pub async fn send(
        &mut self,
        join_ref: Option<&str>,
        topic: &str,
        event: &str,
        payload: Value,
    ) -> Result<oneshot::Receiver<(Instant, usize, Value)>> {
        self.next_ref += 1;
        let msg_ref = self.next_ref.to_string();
        let (tx, rx) = oneshot::channel();
        if let Ok(mut waiters) = self.waiters.lock() {
            waiters.insert(msg_ref.clone(), tx);
        }
        let frame = json!([join_ref, msg_ref, topic, event, payload]).to_string();
        self.sink.send(Message::text(frame)).await?;
        Ok(rx)
    }

    /// Sends and waits for the reply.
    pub async fn request(
        &mut self,
        join_ref: Option<&str>,
        topic: &str,
        event: &str,
        payload: Value,
    ) -> Result<Reply> {
        let rx = self.send(join_ref, topic, event, payload).await?;
        let (at, bytes, payload) = tokio::time::timeout(std::time::Duration::from_secs(30), rx)
            .await
            .map_err(|_| anyhow!("no reply to {event} within 30 s"))?
            .map_err(|_| anyhow!("socket closed before the reply to {event}"))?;
        Ok(Reply { at, bytes, payload })
    }

    /// Joins the page's main view; returns the join ref and the reply.
    pub async fn join(&mut self, page: &Page, url: &str) -> Result<(String, Reply)> {
        let join_ref = (self.next_ref + 1).to_string();
        let payload = json!({
            "url": url,
            "params": {"_csrf_token": page.csrf, "_mounts": 0, "_mount_attempts": 0},
            "session": page.session,
            "static": page.static_token,
            "sticky": false,
        });
        let reply = self
            .request(Some(&join_ref), &page.topic(), "phx_join", payload)
            .await?;
        if reply.payload["status"] != "ok" {
            bail!("join refused: {}", reply.payload);
        }
        Ok((join_ref, reply))
    }
}

async fn read_loop(
    mut stream: SplitStream<WebSocketStream<TcpStream>>,
    waiters: Waiters,
    crashed: Arc<tokio::sync::Notify>,
    pushes: Pushes,
) {
    while let Some(Ok(message)) = stream.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        let at = Instant::now();
        let Ok(Value::Array(mut frame)) = serde_json::from_str::<Value>(text.as_str()) else {
            continue;
        };
        if frame.len() != 5 {
            continue;
        }
        if frame[3] == "phx_error" {
            crashed.notify_one();
            continue;
        }
        if frame[3] == "diff" {
            if let Ok(mut pushes) = pushes.lock() {
                pushes.push((at, text.len()));
            }
            continue;
        }
        if frame[3] == "phx_reply" {
            let Some(msg_ref) = frame[1].as_str().map(str::to_string) else {
                continue;
            };
            let waiter = waiters.lock().ok().and_then(|mut w| w.remove(&msg_ref));
            if let Some(tx) = waiter {
                let _ = tx.send((at, text.len(), frame.swap_remove(4)));
            }
        }
    }
    // Dropping the waiters wakes everyone still waiting with an error.
    if let Ok(mut w) = waiters.lock() {
        w.clear();
    }
}
