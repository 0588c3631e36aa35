//! One socket's life past the handshake. It is served **live** — the WebSocket library reads,
//! a writer task writes — until every view on it hibernates or its live views have been quiet
//! for `park_after`; then it is **parked**: the WebSocket library's state, its buffers, the
//! writer task and the live loop are dropped, and what is kept is the byte stream, the
//! connection (its views, hibernated or live) and what can wake it (a byte from the client, a
//! message for a view, a timer, a host notice). The first of those makes it live again, from
//! the bytes read; the client never knows.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::SplitStream;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, broadcast, watch};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tracing::Instrument;

use super::edge::ReadTally;
use super::handshake::RawSocket;
use super::outbound::{CLOSE_WRITE_TIMEOUT, Outbound, QueueError, SLOW_CLIENT};
use crate::connection::{Connection, Pending};
use crate::connection_slot::ConnectionSlot;
use crate::dev_reload::{Listener, Reloaded};
use crate::host::Host;
use crate::inbox::{Inbound, InboxReceiver, InboxSender};
use crate::metrics::AppMetrics;
use crate::sites::SiteId;
use crate::socket_totals::OpenSocket;

/// Close code for "message too big".
const TOO_BIG: u16 = 1009;
/// Close code for "going away" (the client reconnects).
const GOING_AWAY: u16 = 1001;
/// Close code for "try again later": the tenant's guest calls are backed up.
const OVERLOADED: u16 = 1013;
/// Close code for "service restart": the host is draining; the client reconnects (through
/// the load balancer, to another host).
const SERVICE_RESTART: u16 = 1012;
/// How soon a socket with live views tries to park again when it could not (frames still
/// being written, a message read but not yet handled).
const PARK_RETRY: Duration = Duration::from_millis(50);
/// Bytes a parked socket reads at once when the client speaks (the rest of a larger frame is
/// read by the WebSocket library).
const PARKED_READ: usize = 512;

/// What a socket keeps for its whole life, live or parked.
pub(super) struct Socket {
    host: Arc<Host>,
    /// The client's byte stream; taken while the socket is live (the WebSocket holds it).
    raw: Option<RawSocket>,
    /// Taken while a guest call runs; `None` after one failed (the socket then closes).
    slot: Option<Connection>,
    inbox: InboxReceiver,
    results: InboxSender,
    reloads: Listener,
    /// Live upgrade: a new version of this socket's app moves its open views onto it.
    upgrades: broadcast::Receiver<SiteId>,
    upgrades_gone: bool,
    /// The host's drain: once it starts, no more frames are read from the client; the socket
    /// closes when its tasks are done and their results handled, or at the deadline.
    drain: watch::Receiver<Option<Instant>>,
    drain_gone: bool,
    draining: Option<Instant>,
    /// When the client last sent anything (a socket silent for `heartbeat_timeout` closes).
    last_seen: Instant,
    /// When the server pings next (`ping_interval`; none when pings are off).
    next_ping: Option<Instant>,
    /// Messages the WebSocket library handed out so far (the socket parks only once it has
    /// every message read: see [`ReadTally`]).
    messages_handled: u64,
    /// A socket with live views does not park before this (set when a try failed — a frame
    /// half read, a message waiting — and while upload chunks arrive).
    park_hold: Instant,
    /// The metrics of the socket's app (its bytes sent are counted there), once its first view
    /// joined.
    metrics: Option<Arc<AppMetrics>>,
    /// Names the socket in its log lines (see [`Socket::span`]).
    label: Label,
    /// Tasks running for this socket's views (a result is in the inbox before it counts down).
    tasks_running: Arc<AtomicUsize>,
    /// Counts the socket as open (and, while parked, as parked).
    _open: OpenSocket,
    /// The socket counts against `max_connections` until it ends.
    _connection: Option<ConnectionSlot>,
}

/// What names a socket in its log lines besides its site: a random id and the version of
/// the site it opened on.
#[derive(Debug, Clone, Copy)]
pub(super) struct Label {
    /// The socket's id (logged as 16 hex digits).
    pub(super) id: u64,
    /// The site's version at the upgrade.
    pub(super) version: u64,
}

/// What woke the socket's loop.
enum Event {
    /// The host's drain watch changed.
    Drain(Result<(), watch::error::RecvError>),
    /// The client sent a message (`None`: the stream ended).
    Message(Option<Result<Message, WsError>>),
    /// Dev mode: an app was replaced.
    Reloaded(Reloaded),
    /// A version was activated somewhere on the host.
    Upgrade(Result<SiteId, broadcast::error::RecvError>),
    /// A pub/sub message or a task's result for a view.
    Inbound(Inbound),
    /// The socket's turn to move its views onto a new version.
    Permit(Result<OwnedSemaphorePermit, tokio::sync::AcquireError>),
    /// Time to ping the client.
    Ping,
    /// The writer stopped on its own (a write failed or timed out).
    WriterGone,
    /// A timer, a hibernation, the heartbeat or the drain deadline is due.
    Due,
    /// The live views have been quiet for `park_after`: time to park.
    Park,
}

/// How a live stretch ended.
enum Live {
    /// The socket closed.
    Closed,
    /// Every view sleeps: the byte stream, taken back from the WebSocket library.
    Parked(RawSocket),
}

/// How a parked stretch ended.
enum Woken {
    /// The client sent these bytes (the start of a frame, or all of it).
    Read(Vec<u8>),
    /// Something else the live loop handles first.
    Event(Event),
    /// The socket closed, for this reason.
    Closed(String),
}

impl Socket {
    /// A socket serving `connection` (fresh: its inbox not taken) over `raw`, holding `slot`
    /// of the host's connections while it lives, named by `label` in its logs.
    pub(super) fn new(
        host: Arc<Host>,
        mut connection: Connection,
        raw: RawSocket,
        slot: Option<ConnectionSlot>,
        label: Label,
    ) -> Option<Socket> {
        let inbox = connection.take_inbox()?;
        let config = host.config();
        let ping_every = (!config.ping_interval.is_zero()).then_some(config.ping_interval);
        let drain = host.drain_watch();
        let draining = *drain.borrow();
        Some(Socket {
            results: connection.inbox_sender(),
            reloads: Listener::new(&host),
            upgrades: host.upgrade_notices(),
            upgrades_gone: false,
            drain,
            drain_gone: false,
            draining,
            last_seen: Instant::now(),
            next_ping: ping_every.map(|every| Instant::now() + every),
            park_hold: Instant::now(),
            messages_handled: 0,
            metrics: None,
            label,
            tasks_running: Arc::new(AtomicUsize::new(0)),
            _open: OpenSocket::new(host.outbound_totals().clone()),
            _connection: slot,
            raw: Some(raw),
            inbox,
            slot: Some(connection),
            host,
        })
    }

    /// Serves the socket until it closes, live and parked in turn. What this future and the
    /// box hold is what every parked socket costs: the socket is boxed (a future taking it by
    /// value would keep two copies), the live stretch is boxed too, and the wait while parked
    /// keeps one timer.
    pub(super) async fn run(mut self: Box<Self>) {
        let mut woken = Woken::Read(Vec::new());
        while let Some(raw) = self.raw.take() {
            let (part, first) = match woken {
                Woken::Read(bytes) => (bytes, None),
                Woken::Event(event) => (Vec::new(), Some(event)),
                Woken::Closed(reason) => {
                    let span = self.span();
                    span.in_scope(|| tracing::debug!("socket closed while parked: {reason}"));
                    break;
                }
            };
            // The span lives as long as the live stretch: a parked socket keeps no span.
            let span = self.span();
            match Box::pin(self.live(raw, part, first).instrument(span)).await {
                Live::Parked(raw) => self.raw = Some(raw),
                Live::Closed => break,
            };
            // What the live stretch held (the WebSocket's buffers, the writer, the view's
            // instance) is free now: the next trim hands it back to the system.
            self.host.heap_trim().freed();
            let parked = self._open.parked();
            woken = self.parked().await;
            drop(parked);
        }
        self.host.heap_trim().freed();
    }

    /// Serves the socket live from `raw` (`part`: bytes already read from it; `first`: an event
    /// to handle before any other) until it closes or parks.
    async fn live(&mut self, raw: RawSocket, part: Vec<u8>, first: Option<Event>) -> Live {
        let tally = raw.tally();
        let config = ws_config(self.host.config());
        let ws = WebSocketStream::from_partially_read(raw, part, Role::Server, Some(config)).await;
        let (sink, mut stream) = ws.split();
        let host = self.host.clone();
        let host_config = host.config();
        let (out, mut writer) = Outbound::start(
            sink,
            self.host.outbound_totals().clone(),
            host_config.outbound_queue_frames,
            host_config.outbound_queue_bytes,
            host_config.write_timeout,
        );
        match self.serve(&mut stream, &out, &tally, first).await {
            None => {
                // Everything queued is written before the stream comes back.
                let sink = out.take_back().await;
                match sink.map(|sink| stream.reunite(sink)) {
                    Some(Ok(ws)) => Live::Parked(ws.into_inner()),
                    Some(Err(_)) | None => {
                        tracing::debug!("socket closed: the writer stopped while parking");
                        Live::Closed
                    }
                }
            }
            Some(reason) => {
                tracing::debug!("socket closed: {reason}");
                // The views' instances are freed now, before waiting for the last writes.
                self.slot = None;
                drop((out, stream));
                let wait = host_config.write_timeout + CLOSE_WRITE_TIMEOUT;
                if tokio::time::timeout(wait, &mut writer).await.is_err() {
                    writer.abort();
                }
                Live::Closed
            }
        }
    }

    /// True when the socket may park: every view it has sleeps, or has been quiet for
    /// `park_after` with nothing left to write to the client; nothing is under way (no task,
    /// no queued message, no upgrade waiting, no drain) and the client's bytes read so far
    /// end a message.
    fn may_park(&self, permit_wanted: bool, tally: &ReadTally, out: &Outbound) -> bool {
        let Some(connection) = self.slot.as_ref() else {
            return false;
        };
        let views = connection.channel_count();
        let quiet = connection.hibernated_count() == views
            || (out.is_idle() && self.park_at().is_some_and(|at| at <= Instant::now()));
        views > 0
            && quiet
            && !connection.has_tasks()
            && !permit_wanted
            && self.draining.is_none()
            && self.tasks_running.load(Ordering::Acquire) == 0
            && self.inbox.is_empty()
            && tally.all_handled(self.messages_handled)
    }

    /// The live loop: handles the client's frames and everything else that wakes the socket.
    /// Returns why it closed, or `None` when it should park.
    async fn serve(
        &mut self,
        stream: &mut SplitStream<WebSocketStream<RawSocket>>,
        out: &Outbound,
        tally: &ReadTally,
        mut first: Option<Event>,
    ) -> Option<String> {
        let host = self.host.clone();
        let config = host.config();
        let totals = host.outbound_totals().clone();
        // A socket with views to carry over waits for a host-wide permit; the wait is kept
        // across passes of the loop, so the socket keeps its place in the semaphore's queue.
        let mut permit_wait: Option<
            futures_util::future::BoxFuture<
                'static,
                Result<OwnedSemaphorePermit, tokio::sync::AcquireError>,
            >,
        > = None;
        loop {
            let Some(connection) = self.slot.as_mut() else {
                out.close(OVERLOADED, "overloaded");
                return Some("overloaded".into());
            };
            // Tasks the views started run on the guest pool, charged to the socket's tenant;
            // their results come back through the inbox.
            let tenant = connection.charged_to();
            for task in connection.take_tasks() {
                let (host, results, tenant) = (host.clone(), self.results.clone(), tenant.clone());
                let running = self.tasks_running.clone();
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
            if let Some(deadline) = self.draining {
                let settled =
                    self.tasks_running.load(Ordering::Acquire) == 0 && self.inbox.is_empty();
                if settled || Instant::now() >= deadline {
                    out.close(SERVICE_RESTART, "server restarting: reconnect");
                    return Some("the host is draining".into());
                }
            }
            let wake = self.next_wake();
            let park_at = self.park_at();
            let event = match first.take() {
                Some(event) => event,
                None => tokio::select! {
                    changed = self.drain.changed(), if self.draining.is_none() && !self.drain_gone => Event::Drain(changed),
                    message = stream.next(), if self.draining.is_none() => Event::Message(message),
                    reloaded = self.reloads.next() => Event::Reloaded(reloaded),
                    notice = self.upgrades.recv(), if !self.upgrades_gone => Event::Upgrade(notice),
                    Some(inbound) = self.inbox.recv() => Event::Inbound(inbound),
                    permit = async {
                        match permit_wait.as_mut() {
                            Some(wait) => wait.await,
                            None => std::future::pending().await,
                        }
                    }, if permit_wait.is_some() => Event::Permit(permit),
                    () = sleep_until(self.next_ping) => Event::Ping,
                    () = out.writer_gone() => Event::WriterGone,
                    () = tokio::time::sleep_until(wake) => Event::Due,
                    () = sleep_until(park_at) => Event::Park,
                },
            };
            let parking = matches!(event, Event::Park);
            let frames = match event {
                Event::Park => Some(Vec::new()),
                Event::Drain(changed) => {
                    match changed {
                        Ok(()) => self.draining = *self.drain.borrow_and_update(),
                        Err(_) => self.drain_gone = true,
                    }
                    Some(Vec::new())
                }
                Event::Message(message) => {
                    self.last_seen = Instant::now();
                    if let Some(Ok(_)) = &message {
                        self.messages_handled += 1;
                    }
                    match message {
                        Some(Ok(Message::Text(text))) => {
                            let work = Pending::Text(text.as_str());
                            let reserved = wake_room(&host, &mut self.slot, &work).await;
                            on_guest(&host, &mut self.slot, move |c| {
                                let frames = c.handle_text(text.as_str());
                                if reserved {
                                    c.release_reserved();
                                }
                                frames
                            })
                            .await
                        }
                        Some(Ok(Message::Binary(bytes))) => {
                            // Upload chunks reach no view's callback: a socket receiving them
                            // stays live as if its views were busy.
                            self.park_hold = Instant::now() + config.park_after;
                            on_guest(&host, &mut self.slot, move |c| c.handle_binary(&bytes)).await
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {
                            Some(Vec::new())
                        }
                        Some(Ok(Message::Close(_))) | None => {
                            return Some("closed by the client".into());
                        }
                        Some(Err(error)) => {
                            if let WsError::Capacity(_) = error {
                                out.close(TOO_BIG, "message too big");
                            }
                            return Some(format!("read error: {error}"));
                        }
                    }
                }
                Event::Reloaded(reloaded) => Some(
                    self.slot
                        .as_ref()
                        .map(|c| c.dev_reloaded(&reloaded))
                        .unwrap_or_default(),
                ),
                Event::Upgrade(notice) => match notice {
                    Ok(site) if !self.slot.as_ref().is_some_and(|c| c.serves(&site)) => {
                        Some(Vec::new())
                    }
                    // A socket that fell behind checks its views anyway (unchanged ones cost
                    // a route lookup). It waits its turn (a permit) while serving its frames.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        if permit_wait.is_none() {
                            let permits = host.upgrade_permits().clone();
                            permit_wait = Some(Box::pin(permits.acquire_owned()));
                        }
                        Some(Vec::new())
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        self.upgrades_gone = true;
                        Some(Vec::new())
                    }
                },
                Event::Inbound(inbound) => {
                    let reserved =
                        wake_room(&host, &mut self.slot, &Pending::Inbound(&inbound)).await;
                    on_guest(&host, &mut self.slot, move |c| {
                        let frames = c.handle_inbound(inbound);
                        if reserved {
                            c.release_reserved();
                        }
                        frames
                    })
                    .await
                }
                Event::Permit(permit) => {
                    permit_wait = None;
                    let frames = on_guest(&host, &mut self.slot, Connection::upgrade_views).await;
                    drop(permit);
                    frames
                }
                Event::Ping => {
                    self.next_ping = self
                        .next_ping
                        .map(|_| Instant::now() + config.ping_interval);
                    if let Err(error) = out.push(Message::Ping(Default::default()), 0, &totals) {
                        return Some(error.to_string());
                    }
                    Some(Vec::new())
                }
                Event::WriterGone => {
                    return Some("the writer stopped (write failed or timed out)".into());
                }
                Event::Due => {
                    let now = Instant::now();
                    if now >= self.last_seen + config.heartbeat_timeout {
                        out.close(GOING_AWAY, "heartbeat timeout");
                        return Some("heartbeat timeout".into());
                    }
                    let reserved = wake_room(&host, &mut self.slot, &Pending::Due(now)).await;
                    on_guest(&host, &mut self.slot, move |c| {
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
            if self.metrics.is_none()
                && let Some(metrics) = self.slot.as_ref().and_then(Connection::metrics)
            {
                if self.site_app().is_none() {
                    tracing::Span::current().record("app", &*metrics.app);
                }
                self.metrics = Some(metrics.clone());
            }
            let sent = self.metrics.as_ref().map(|m| &m.bytes_sent);
            match out.send_all(frames, &totals, sent) {
                Ok(()) => {}
                Err(error @ QueueError::Full { .. }) => {
                    tracing::info!("socket closed: {error}");
                    out.close(SLOW_CLIENT, &error.to_string());
                    return Some(error.to_string());
                }
                Err(error) => return Some(error.to_string()),
            }
            if self.may_park(permit_wait.is_some(), tally, out) {
                return None;
            }
            if parking {
                // What kept it live passes quickly (the reply to the heartbeat that woke it
                // being written, the heartbeat itself not yet handed out, a message waiting):
                // try again shortly; a task running waits another `park_after`.
                let retry = if self.slot.as_ref().is_some_and(Connection::has_tasks) {
                    config.park_after
                } else {
                    PARK_RETRY
                };
                self.park_hold = Instant::now() + retry;
            }
        }
    }

    /// When the socket parks although its views are live (they have been quiet for
    /// `park_after`); `None` when none is live or parking live views is off.
    fn park_at(&self) -> Option<Instant> {
        let at = self.slot.as_ref()?.next_park()?;
        Some(at.max(self.park_hold))
    }

    /// The app the socket's site names (none on the default site, where the socket's app is
    /// its first view's).
    fn site_app(&self) -> Option<&str> {
        self.slot
            .as_ref()
            .and_then(|c| c.site().tenant_app())
            .map(|(_, app)| app)
            .filter(|app| !app.is_empty())
    }

    /// The socket's span: every line about it names it, its tenant, app and version. A live
    /// stretch runs in one; a parked socket holds none (a span costs hundreds of bytes).
    fn span(&self) -> tracing::Span {
        let tenant = self
            .slot
            .as_ref()
            .and_then(|c| c.site().tenant_app())
            .map_or(crate::metrics::LOCAL_TENANT, |(tenant, _)| tenant);
        let span = tracing::info_span!(
            parent: None,
            "socket",
            socket = %format_args!("{:016x}", self.label.id),
            tenant,
            app = tracing::field::Empty,
            version = self.label.version,
        );
        let app = self
            .site_app()
            .or_else(|| self.metrics.as_ref().map(|m| &*m.app));
        if let Some(app) = app {
            span.record("app", app);
        }
        span
    }

    /// When the loop must wake by itself: the next timer or hibernation of a view, the
    /// heartbeat's deadline, the drain's.
    fn next_wake(&self) -> Instant {
        let deadline = self.slot.as_ref().and_then(|connection| {
            match (connection.next_deadline(), connection.next_hibernation()) {
                (Some(d), Some(h)) => Some(d.min(h)),
                (d, h) => d.or(h),
            }
        });
        let silence = self.last_seen + self.host.config().heartbeat_timeout;
        let wake = deadline.map_or(silence, |d| d.min(silence));
        self.draining.map_or(wake, |d| d.min(wake))
    }

    /// Waits, parked, for whatever wakes the socket: bytes from the client, a message for a
    /// view, a timer, a ping, a host notice.
    async fn parked(&mut self) -> Woken {
        let host = self.host.clone();
        loop {
            // The host's notices (drain, live upgrade, dev reload) ring one bell for every
            // parked socket, which then reads its receivers: one waiter each, not three.
            let bell = host.parked_bell().notified();
            let mut bell = std::pin::pin!(bell);
            bell.as_mut().enable();
            if let Some(event) = self.notice() {
                return Woken::Event(event);
            }
            // One timer for the views' next timer, the heartbeat and the next ping.
            let wake = self.next_wake();
            let wake = self.next_ping.map_or(wake, |ping| ping.min(wake));
            let Some(raw) = self.raw.as_mut() else {
                return Woken::Closed("the connection is gone".into());
            };
            let event = tokio::select! {
                read = read_some(raw) => {
                    return match read {
                        Ok(bytes) if bytes.is_empty() => Woken::Closed("closed by the client".into()),
                        Ok(bytes) => {
                            self.last_seen = Instant::now();
                            Woken::Read(bytes)
                        }
                        Err(error) => Woken::Closed(format!("read error: {error}")),
                    };
                }
                () = &mut bell => continue,
                Some(inbound) = self.inbox.recv() => Event::Inbound(inbound),
                () = tokio::time::sleep_until(wake) => {
                    if self.next_ping.is_some_and(|ping| ping <= Instant::now()) {
                        Event::Ping
                    } else {
                        Event::Due
                    }
                }
            };
            return Woken::Event(event);
        }
    }
}

impl Socket {
    /// A host notice this parked socket must wake for, read without waiting: the drain, a
    /// new version of its app (another app's is skipped), a dev reload.
    fn notice(&mut self) -> Option<Event> {
        if !self.drain_gone {
            match self.drain.has_changed() {
                Ok(true) => return Some(Event::Drain(Ok(()))),
                Ok(false) => {}
                Err(_) => self.drain_gone = true,
            }
        }
        while !self.upgrades_gone {
            match self.upgrades.try_recv() {
                Ok(site) if !self.slot.as_ref().is_some_and(|c| c.serves(&site)) => {}
                Ok(site) => return Some(Event::Upgrade(Ok(site))),
                Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                    return Some(Event::Upgrade(Err(broadcast::error::RecvError::Lagged(
                        missed,
                    ))));
                }
                Err(broadcast::error::TryRecvError::Closed) => self.upgrades_gone = true,
                Err(broadcast::error::TryRecvError::Empty) => break,
            }
        }
        self.reloads.try_next().map(Event::Reloaded)
    }
}

/// The WebSocket's limits and buffers under `config`.
fn ws_config(config: &crate::config::ServerConfig) -> WebSocketConfig {
    let limit = config.max_frame_bytes;
    WebSocketConfig::default()
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit))
        .read_buffer_size(config.ws_read_buffer_bytes)
        // Frames are flushed as they are written: no write buffer to keep per socket.
        .write_buffer_size(0)
}

/// Sleeps until `at`; never wakes for `None`.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The next bytes the client sends (at most [`PARKED_READ`]); empty at the end of the stream.
async fn read_some(raw: &mut RawSocket) -> std::io::Result<Vec<u8>> {
    std::future::poll_fn(|cx| {
        let mut buf = [0u8; PARKED_READ];
        let mut read = ReadBuf::new(&mut buf);
        match Pin::new(&mut *raw).poll_read(cx, &mut read) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(read.filled().to_vec())),
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

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
