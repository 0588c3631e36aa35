//! The WebSocket transport: one task per socket driving a [`Connection`], and a writer task
//! per socket draining its outbound queue.
//!
//! Limits on clients: an address may hold `max_sockets_per_ip` sockets (the next upgrade gets
//! 429); the frames waiting to be written are capped in count and bytes, and one write may take
//! at most `write_timeout`: a client that stops reading is closed (1008, "slow client: …") and
//! its views' instances freed. The server pings every `ping_interval`, and a socket silent (no
//! frame, no pong) for `heartbeat_timeout` is closed (1001), so dead peers are found.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use livewasm_protocol::frame::Frame;
use prometheus_client::metrics::counter::Counter;
use tokio::sync::broadcast;
use tokio::time::Instant;
use tracing::Instrument;

use crate::connection::{Connection, Pending};
use crate::connection_slot::ConnectionSlot;
use crate::host::Host;
use crate::origin::CurrentSite;
use crate::peers::PeerSocket;
use crate::session;
use crate::sites::SiteId;
use crate::socket_totals::{OpenSocket, OutboundTotals};

/// Close code for "message too big".
const TOO_BIG: u16 = 1009;
/// Close code for "going away" (the client reconnects).
const GOING_AWAY: u16 = 1001;
/// Close code for a client that does not read what it is sent ("policy violation").
const SLOW_CLIENT: u16 = 1008;
/// Longest wait for the close frame itself to be written.
const CLOSE_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

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
    connection: Option<axum::Extension<ConnectionSlot>>,
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
    // Every line about the socket names it, its tenant, app and version (on the default site
    // the app is its first view's, recorded at the join).
    let (tenant, app) = site
        .id()
        .tenant_app()
        .unwrap_or((crate::metrics::LOCAL_TENANT, ""));
    let span = tracing::info_span!(
        parent: None,
        "socket",
        socket = %crate::request_id::fresh(),
        tenant,
        app = tracing::field::Empty,
        version = site.version(),
    );
    if !app.is_empty() {
        span.record("app", app);
    }
    // A socket belongs to the site its upgrade request was made on and joins only its views.
    let site = site.id().clone();
    let limit = host.config().max_frame_bytes;
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(host.config().ws_read_buffer_bytes)
        // Frames are flushed as they are written: no write buffer to keep per socket.
        .write_buffer_size(0)
        .on_upgrade(move |socket| {
            // Set up before the socket's future is built, so that future keeps only what the
            // socket needs while it lives (every idle socket carries it).
            let open = span.in_scope(|| OpenedSocket::start(socket, host, site, session, peer));
            async move {
                // The socket counts against `max_connections` until it ends.
                let _connection = connection;
                open.run().await;
            }
            .instrument(span)
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

/// Close code for "try again later": the tenant's guest calls are backed up.
const OVERLOADED: u16 = 1013;

/// Close code for "service restart": the host is draining; the client reconnects (through
/// the load balancer, to another host).
const SERVICE_RESTART: u16 = 1012;

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

/// Before `work` goes to the connection: when it would wake hibernated views whose tenant has
/// no instance slot free, waits for slots to be given back (at most `wake_wait` in all) and
/// reserves them for those views; true when any was (the work then gives back what it did
/// not use). The wait is boxed: an idle socket's future keeps no room for it.
async fn wake_room(host: &Host, slot: &mut Option<Connection>, work: &Pending<'_>) -> bool {
    let wanted = match slot.as_ref() {
        Some(connection) => connection.slots_wanted(work),
        None => return false,
    };
    if wanted.is_empty() {
        return false;
    }
    // One wait for all of them: a socket never stalls longer than `wake_wait`.
    let until = Instant::now() + host.config().wake_wait;
    Box::pin(async move {
        let mut reserved = false;
        for (topic, usage) in wanted {
            let got = usage
                .acquire_within(until.saturating_duration_since(Instant::now()))
                .await;
            if let (Some(got), Some(connection)) = (got, slot.as_mut()) {
                connection.reserve(&topic, got);
                reserved = true;
            }
        }
        reserved
    })
    .await
}

/// What the writer task is asked to do.
enum Outgoing {
    /// Write a frame of `len` bytes (counted in the queue).
    Frame(Message, usize),
    /// Write a close frame and stop.
    Close(u16, String),
}

/// Why frames could not be queued: the client reads too slowly.
#[derive(Debug, thiserror::Error)]
enum QueueError {
    /// The queue holds as many frames or bytes as it may.
    #[error("slow client: {frames} frames ({bytes} bytes) waiting to be written")]
    Full {
        /// Frames waiting.
        frames: usize,
        /// Bytes waiting.
        bytes: usize,
    },
    /// The writer stopped (a write failed or timed out).
    #[error("the socket's writer stopped")]
    WriterGone,
}

/// The sending side of a socket's outbound queue. (A `futures` channel: it allocates per
/// message, where tokio's keeps a block of 32 slots for every idle socket.)
struct Outbound {
    tx: futures_channel::mpsc::UnboundedSender<Outgoing>,
    queue: Arc<Queue>,
    max_frames: usize,
    max_bytes: usize,
}

/// What one socket's queue holds now, and whether its writer stopped.
#[derive(Default)]
struct Queue {
    frames: AtomicUsize,
    bytes: AtomicUsize,
    /// Notified once when the writer stops (a write failed or timed out, or it closed).
    writer_gone: tokio::sync::Notify,
}

impl Outbound {
    /// Queues `message` (of `len` bytes), unless the queue is full. One frame is always let
    /// into an empty queue, however large.
    fn push(
        &self,
        message: Message,
        len: usize,
        totals: &OutboundTotals,
    ) -> Result<(), QueueError> {
        let frames = self.queue.frames.load(Ordering::Acquire);
        let bytes = self.queue.bytes.load(Ordering::Acquire);
        if frames > 0 && (frames >= self.max_frames || bytes.saturating_add(len) > self.max_bytes) {
            return Err(QueueError::Full { frames, bytes });
        }
        self.queue.frames.fetch_add(1, Ordering::AcqRel);
        self.queue.bytes.fetch_add(len, Ordering::AcqRel);
        totals.queued(len);
        self.tx
            .unbounded_send(Outgoing::Frame(message, len))
            .map_err(|_| QueueError::WriterGone)
    }

    /// Queues the frames of a callback, in order, counting their bytes in `sent` (the
    /// socket's app's counter, once a view joined).
    fn send_all(
        &self,
        frames: Vec<Frame>,
        totals: &OutboundTotals,
        sent: Option<&Counter>,
    ) -> Result<(), QueueError> {
        for frame in frames {
            let text = frame.encode();
            let len = text.len();
            if let Some(sent) = sent {
                sent.inc_by(len as u64);
            }
            self.push(Message::Text(text.into()), len, totals)?;
        }
        Ok(())
    }

    /// Asks the writer to close the socket with `code` and `reason` after what is queued.
    fn close(&self, code: u16, reason: &str) {
        let _ = self
            .tx
            .unbounded_send(Outgoing::Close(code, reason.to_string()));
    }
}

/// Writes what the socket's task queues, each write bounded by `write_timeout`. Returns when
/// the queue closes, after a close frame, or when a write fails or times out (the socket then
/// closes: the reader sees the queue's receiver gone).
async fn write_frames(
    mut sink: SplitSink<WebSocket, Message>,
    mut rx: futures_channel::mpsc::UnboundedReceiver<Outgoing>,
    queue: Arc<Queue>,
    totals: Arc<OutboundTotals>,
    write_timeout: Duration,
) {
    let release = |len: usize| {
        queue.frames.fetch_sub(1, Ordering::AcqRel);
        queue.bytes.fetch_sub(len, Ordering::AcqRel);
        totals.written(len);
    };
    while let Some(outgoing) = rx.next().await {
        match outgoing {
            Outgoing::Frame(message, len) => {
                let written = tokio::time::timeout(write_timeout, sink.send(message)).await;
                release(len);
                match written {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => {
                        tracing::debug!("socket write failed: {error}");
                        break;
                    }
                    Err(_) => {
                        tracing::info!(
                            timeout_ms = write_timeout.as_millis() as u64,
                            "socket closed: slow client (a write timed out)"
                        );
                        let close = Message::Close(Some(CloseFrame {
                            code: SLOW_CLIENT,
                            reason: "slow client: write timed out".into(),
                        }));
                        let _ = tokio::time::timeout(CLOSE_WRITE_TIMEOUT, sink.send(close)).await;
                        break;
                    }
                }
            }
            Outgoing::Close(code, reason) => {
                let close = Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                }));
                let _ = tokio::time::timeout(CLOSE_WRITE_TIMEOUT, sink.send(close)).await;
                break;
            }
        }
    }
    // Whatever is left is dropped with the queue: release its count.
    rx.close();
    while let Ok(outgoing) = rx.try_recv() {
        if let Outgoing::Frame(_, len) = outgoing {
            release(len);
        }
    }
    queue.writer_gone.notify_one();
}

/// A socket past its upgrade: its reader side, its connection, and the writer task feeding the
/// client from the outbound queue.
struct OpenedSocket {
    host: Arc<Host>,
    stream: futures_util::stream::SplitStream<WebSocket>,
    out: Outbound,
    slot: Option<Connection>,
    writer: tokio::task::JoinHandle<()>,
    _open: OpenSocket,
}

impl OpenedSocket {
    /// Splits `socket`, starts its writer and makes its connection (on `site`, seeing
    /// `session`, relayed from `peer` when the upgrade came through another host).
    fn start(
        socket: WebSocket,
        host: Arc<Host>,
        site: SiteId,
        session: Option<serde_json::Value>,
        peer: Option<PeerSocket>,
    ) -> OpenedSocket {
        let config = host.config();
        let totals = host.outbound_totals().clone();
        let open = OpenSocket::new(totals.clone());
        let (sink, stream) = socket.split();
        let (tx, rx) = futures_channel::mpsc::unbounded();
        let queue = Arc::new(Queue::default());
        let out = Outbound {
            tx,
            queue: queue.clone(),
            max_frames: config.outbound_queue_frames.max(1),
            max_bytes: config.outbound_queue_bytes,
        };
        let writer = tokio::spawn(write_frames(sink, rx, queue, totals, config.write_timeout));
        let mut connection = Connection::for_site(host.clone(), site, session);
        if let Some(peer) = peer {
            connection.set_peer(peer);
        }
        OpenedSocket {
            host,
            stream,
            out,
            slot: Some(connection),
            writer,
            _open: open,
        }
    }

    /// Serves the socket until it ends, then gives its writer a moment to send what is left.
    async fn run(mut self) {
        let reason = serve_frames(&self.host, &mut self.slot, &mut self.stream, &self.out).await;
        if let Some(reason) = reason {
            tracing::debug!("socket closed: {reason}");
        }
        let OpenedSocket {
            host,
            stream,
            out,
            slot,
            mut writer,
            _open,
        } = self;
        // The views' instances are freed now, before waiting for the last writes.
        drop((slot, out, stream));
        let write_timeout = host.config().write_timeout;
        if tokio::time::timeout(write_timeout + CLOSE_WRITE_TIMEOUT, &mut writer)
            .await
            .is_err()
        {
            writer.abort();
        }
    }
}

/// Reads the socket's frames and everything else that wakes it until it ends; returns why.
async fn serve_frames(
    host: &Arc<Host>,
    slot: &mut Option<Connection>,
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
    out: &Outbound,
) -> Option<String> {
    let config = host.config();
    let totals = host.outbound_totals().clone();
    let timeout = config.heartbeat_timeout;
    let mut reloads = crate::dev_reload::Listener::new(host);
    // Live upgrade: a new version of this socket's app moves its open views onto it.
    let mut upgrades = host.upgrade_notices();
    let mut upgrades_gone = false;
    // A socket with views to carry over waits for a host-wide permit; the wait is kept across
    // passes of the loop, so the socket keeps its place in the semaphore's queue.
    let mut permit_wait: Option<
        futures_util::future::BoxFuture<
            'static,
            Result<tokio::sync::OwnedSemaphorePermit, tokio::sync::AcquireError>,
        >,
    > = None;
    let mut inbox = slot.as_mut().and_then(Connection::take_inbox)?;
    let results = slot.as_ref().map(Connection::inbox_sender)?;
    let ping_every = (!config.ping_interval.is_zero()).then_some(config.ping_interval);
    let mut pings = tokio::time::interval_at(
        Instant::now() + ping_every.unwrap_or(Duration::from_secs(3600)),
        ping_every.unwrap_or(Duration::from_secs(3600)),
    );
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_seen = Instant::now();
    // The counter of bytes sent to the socket's app, resolved once its first view joined.
    let mut sent: Option<Counter> = None;
    // The span names the app from the start unless the socket is on the default site (there
    // the app is its first view's): a field recorded twice would show twice.
    let app_named = slot
        .as_ref()
        .and_then(|c| c.site().tenant_app())
        .is_some_and(|(_, app)| !app.is_empty());
    // Tasks running for this socket's views (a result is in the inbox before it counts down).
    let tasks_running = Arc::new(AtomicUsize::new(0));
    // The host's drain: once it starts, no more frames are read from the client; the socket
    // closes when its tasks are done and their results handled, or at the deadline.
    let mut drain = host.drain_watch();
    let mut draining: Option<Instant> = *drain.borrow();
    let mut drain_gone = false;
    loop {
        let Some(connection) = slot.as_mut() else {
            out.close(OVERLOADED, "overloaded");
            return Some("overloaded".into());
        };
        // Tasks the views started run on the guest pool, charged to the socket's tenant; their
        // results come back through the inbox.
        let tenant = connection.charged_to();
        for task in connection.take_tasks() {
            let (host, results, tenant) = (host.clone(), results.clone(), tenant.clone());
            let running = tasks_running.clone();
            running.fetch_add(1, Ordering::AcqRel);
            tokio::spawn(async move {
                match host.guests().run(&tenant, move || task.run()).await {
                    Ok(done) => {
                        if results.push(done).is_err() {
                            tracing::debug!("task result dropped: the socket is gone");
                        }
                    }
                    Err(error) => tracing::warn!(%tenant, "task dropped: {error}"),
                }
                running.fetch_sub(1, Ordering::AcqRel);
            });
        }
        if let Some(deadline) = draining {
            let settled = tasks_running.load(Ordering::Acquire) == 0 && inbox.is_empty();
            if settled || Instant::now() >= deadline {
                out.close(SERVICE_RESTART, "server restarting: reconnect");
                return Some("the host is draining".into());
            }
        }
        let deadline = connection.next_deadline();
        // An idle view hibernates when its time comes (`--hibernate-after-secs`).
        let deadline = match (deadline, connection.next_hibernation()) {
            (Some(d), Some(h)) => Some(d.min(h)),
            (d, h) => d.or(h),
        };
        let silence = last_seen + timeout;
        let wake = deadline.map_or(silence, |d| d.min(silence));
        let wake = draining.map_or(wake, |d| d.min(wake));
        let frames = tokio::select! {
            changed = drain.changed(), if draining.is_none() && !drain_gone => {
                match changed {
                    Ok(()) => draining = *drain.borrow(),
                    Err(_) => drain_gone = true,
                }
                Some(Vec::new())
            }
            message = stream.next(), if draining.is_none() => {
                last_seen = Instant::now();
                match message {
                    Some(Ok(Message::Text(text))) => {
                        let reserved = wake_room(host, slot, &Pending::Text(text.as_str())).await;
                        on_guest(host, slot, move |c| {
                            let frames = c.handle_text(text.as_str());
                            if reserved {
                                c.release_reserved();
                            }
                            frames
                        })
                        .await
                    }
                    Some(Ok(Message::Binary(bytes))) => {
                        on_guest(host, slot, move |c| c.handle_binary(&bytes)).await
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => Some(Vec::new()),
                    Some(Ok(Message::Close(_))) | None => return Some("closed by the client".into()),
                    Some(Err(error)) => {
                        let text = error.to_string();
                        if text.contains("too long") || text.contains("Space limit") || text.contains("size") {
                            out.close(TOO_BIG, "message too big");
                        }
                        return Some(format!("read error: {text}"));
                    }
                }
            }
            reloaded = reloads.next() => Some(connection.dev_reloaded(&reloaded)),
            notice = upgrades.recv(), if !upgrades_gone => match notice {
                Ok(site) if !connection.serves(&site) => Some(Vec::new()),
                // A socket that fell behind checks its views anyway (unchanged ones cost a
                // route lookup). It waits its turn (a permit) while serving its frames.
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    if permit_wait.is_none() {
                        permit_wait = Some(Box::pin(host.upgrade_permits().clone().acquire_owned()));
                    }
                    Some(Vec::new())
                }
                Err(broadcast::error::RecvError::Closed) => {
                    upgrades_gone = true;
                    Some(Vec::new())
                }
            },
            Some(inbound) = inbox.recv() => {
                let reserved = wake_room(host, slot, &Pending::Inbound(&inbound)).await;
                on_guest(host, slot, move |c| {
                    let frames = c.handle_inbound(inbound);
                    if reserved {
                        c.release_reserved();
                    }
                    frames
                })
                .await
            }
            permit = async {
                match permit_wait.as_mut() {
                    Some(wait) => wait.await,
                    None => std::future::pending().await,
                }
            }, if permit_wait.is_some() => {
                permit_wait = None;
                let frames = on_guest(host, slot, Connection::upgrade_views).await;
                drop(permit);
                frames
            }
            _ = pings.tick(), if ping_every.is_some() => {
                if let Err(error) = out.push(Message::Ping(Default::default()), 0, &totals) {
                    return Some(error.to_string());
                }
                Some(Vec::new())
            }
            () = out.queue.writer_gone.notified() => return Some("the writer stopped (write failed or timed out)".into()),
            () = tokio::time::sleep_until(wake) => {
                let now = Instant::now();
                if now >= silence {
                    out.close(GOING_AWAY, "heartbeat timeout");
                    return Some("heartbeat timeout".into());
                }
                let reserved = wake_room(host, slot, &Pending::Due(now)).await;
                on_guest(host, slot, move |c| {
                    let frames = c.fire_due(now);
                    if reserved {
                        c.release_reserved();
                    }
                    c.hibernate_idle(now);
                    frames
                })
                .await
            }
        };
        let Some(frames) = frames else {
            out.close(OVERLOADED, "overloaded");
            return Some("overloaded".into());
        };
        if sent.is_none()
            && let Some(metrics) = slot.as_ref().and_then(Connection::metrics)
        {
            sent = Some(metrics.bytes_sent.clone());
            if !app_named {
                tracing::Span::current().record("app", &*metrics.app);
            }
        }
        match out.send_all(frames, &totals, sent.as_ref()) {
            Ok(()) => {}
            Err(error @ QueueError::Full { .. }) => {
                tracing::info!("socket closed: {error}");
                out.close(SLOW_CLIENT, &error.to_string());
                return Some(error.to_string());
            }
            Err(error) => return Some(error.to_string()),
        }
    }
}
