//! The measured scenarios: mount latency, event round trips under load, density, wire bytes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::{Value, json};

use crate::page::{Page, fetch};
use crate::phx::Conn;
use crate::stats::Latency;

/// `phx_join` sent → reply received, over `count` join/leave cycles on one socket.
#[derive(Debug, Serialize)]
pub struct MountReport {
    /// Join latency.
    pub join: Latency,
    /// Bytes of the join reply frame.
    pub join_reply_bytes: usize,
}

/// Joins and leaves `count` times, timing each join.
pub async fn mount(server: SocketAddr, path: &str, count: usize) -> Result<MountReport> {
    let page = fetch(server, path).await?;
    let url = format!("http://{server}{path}");
    let mut conn = Conn::open(server, &page, 0).await?;
    let mut samples = Vec::with_capacity(count);
    let mut join_reply_bytes = 0;
    for _ in 0..count {
        let started = Instant::now();
        let (join_ref, reply) = conn.join(&page, &url).await?;
        samples.push(reply.at - started);
        join_reply_bytes = reply.bytes;
        conn.request(Some(&join_ref), &page.topic(), "phx_leave", json!({}))
            .await?;
    }
    Ok(MountReport {
        join: Latency::of(&mut samples),
        join_reply_bytes,
    })
}

/// Event round trips at one offered rate.
#[derive(Debug, Serialize)]
pub struct LoadReport {
    /// Offered events per second.
    pub offered_per_s: f64,
    /// Replies per second actually received.
    pub achieved_per_s: f64,
    /// Click → reply latency.
    pub latency: Latency,
    /// Requests that got no reply or an error reply.
    pub errors: usize,
}

/// Joined sockets ready to send events.
pub struct Fleet {
    /// Each socket and the join ref of its view.
    pub(crate) conns: Vec<(Conn, String)>,
    /// The views' topic (one page, so one topic on every socket).
    pub(crate) topic: String,
}

impl Fleet {
    /// Opens `sockets` sockets, each joined to the page at `path`.
    pub async fn join(server: SocketAddr, path: &str, sockets: usize) -> Result<(Fleet, Page)> {
        Fleet::join_on(server, &server.to_string(), path, sockets).await
    }

    /// [`Fleet::join`] with `Host: host` (an app's origin on a platform host).
    pub async fn join_on(
        server: SocketAddr,
        host: &str,
        path: &str,
        sockets: usize,
    ) -> Result<(Fleet, Page)> {
        let page = crate::page::fetch_from(server, host, path).await?;
        let url = format!("http://{host}{path}");
        let mut conns = Vec::with_capacity(sockets);
        for index in 0..sockets {
            let mut conn = Conn::open_on(server, host, &page, index).await?;
            let (join_ref, _) = conn.join(&page, &url).await?;
            conns.push((conn, join_ref));
        }
        let topic = page.topic();
        Ok((Fleet { conns, topic }, page))
    }

    /// Sends `event` at `rate` events/s in total (open loop, spread evenly over the sockets) for
    /// `seconds`, and measures every round trip.
    pub async fn load(
        &mut self,
        event: &str,
        value: &Value,
        rate: f64,
        seconds: f64,
    ) -> Result<LoadReport> {
        let samples: Arc<Mutex<Vec<Duration>>> = Arc::default();
        let errors = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let sockets = self.conns.len().max(1) as f64;
        let per_socket = rate / sockets;
        let period = Duration::from_secs_f64(1.0 / per_socket);
        let total = (seconds * per_socket).round() as usize;
        let started = Instant::now();
        let mut senders = Vec::new();
        let conns = std::mem::take(&mut self.conns);
        for (index, (mut conn, join_ref)) in conns.into_iter().enumerate() {
            let topic = self.topic.clone();
            let payload = json!({"type": "click", "event": event, "value": value});
            let samples = samples.clone();
            let errors = errors.clone();
            // Stagger the sockets so the load is smooth rather than in bursts.
            let offset = period.mul_f64(index as f64 / sockets);
            senders.push(tokio::spawn(async move {
                let mut ticker =
                    tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                let mut waits = Vec::with_capacity(total);
                for _ in 0..total {
                    ticker.tick().await;
                    let sent = Instant::now();
                    match conn
                        .send(Some(&join_ref), &topic, "event", payload.clone())
                        .await
                    {
                        Ok(rx) => waits.push((sent, rx)),
                        Err(_) => {
                            errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                }
                for (sent, rx) in waits {
                    match tokio::time::timeout(Duration::from_secs(10), rx).await {
                        Ok(Ok((at, _, reply))) if reply["status"] == "ok" => {
                            if let Ok(mut s) = samples.lock() {
                                s.push(at - sent);
                            }
                        }
                        _ => {
                            errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                }
                (conn, join_ref)
            }));
        }
        for sender in senders {
            self.conns.push(sender.await.context("sender task")?);
        }
        let elapsed = started.elapsed().as_secs_f64();
        let mut samples = samples.lock().map(|s| s.clone()).unwrap_or_default();
        let achieved = samples.len() as f64 / elapsed.max(seconds);
        Ok(LoadReport {
            offered_per_s: rate,
            achieved_per_s: achieved,
            latency: Latency::of(&mut samples),
            errors: errors.load(std::sync::atomic::Ordering::Relaxed),
        })
    }
}

/// The highest offered rate whose p99 stayed under `p99_limit` with no errors.
#[derive(Debug, Serialize)]
pub struct MaxRateReport {
    /// The best sustained step.
    pub max_sustained_per_s: f64,
    /// Every step tried.
    pub steps: Vec<LoadReport>,
}

/// Raises the offered rate step by step until p99 passes `p99_limit` or replies fall behind.
pub async fn max_rate(
    fleet: &mut Fleet,
    event: &str,
    value: &Value,
    rates: &[f64],
    seconds: f64,
    p99_limit: Duration,
) -> Result<MaxRateReport> {
    let mut steps = Vec::new();
    let mut best = 0.0;
    for &rate in rates {
        let report = fleet.load(event, value, rate, seconds).await?;
        let ok = report.errors == 0
            && report.latency.p99_us <= p99_limit.as_secs_f64() * 1e6
            && report.achieved_per_s >= rate * 0.95;
        steps.push(report);
        if !ok {
            break;
        }
        best = rate;
    }
    Ok(MaxRateReport {
        max_sustained_per_s: best,
        steps,
    })
}

/// Wire sizes for one view: dead render, join reply, and one event's reply.
#[derive(Debug, Serialize)]
pub struct BytesReport {
    /// The page path.
    pub path: String,
    /// Whole HTTP response of the dead render.
    pub dead_render_bytes: usize,
    /// The view's own HTML (what a server without diffs would resend after every event).
    pub view_html_bytes: usize,
    /// The join reply frame.
    pub join_reply_bytes: usize,
    /// The event that was sent.
    pub event: String,
    /// The event's reply frame.
    pub event_reply_bytes: usize,
    /// The diff inside that reply, as JSON text.
    pub event_diff_bytes: usize,
    /// Round trips of the event (click sent → reply read), over `repeat` sends.
    pub event_round_trip: Latency,
}

/// Measures the bytes of a dead render, a join and one event on `path`.
pub async fn bytes(
    server: SocketAddr,
    path: &str,
    event: &str,
    value: Value,
    repeat: usize,
) -> Result<BytesReport> {
    let page = fetch(server, path).await?;
    let url = format!("http://{server}{path}");
    let mut conn = Conn::open(server, &page, 0).await?;
    let (join_ref, join) = conn.join(&page, &url).await?;
    let payload = json!({"type": "click", "event": event, "value": value});
    let mut reply = None;
    let mut samples = Vec::with_capacity(repeat);
    // The first reply's diff is the one measured; every later send is timed.
    for _ in 0..repeat {
        let sent = Instant::now();
        let answer = conn
            .request(Some(&join_ref), &page.topic(), "event", payload.clone())
            .await?;
        if reply.is_some() {
            samples.push(sent.elapsed());
        }
        if answer.payload["status"] != "ok" {
            bail!("event {event} refused: {}", answer.payload);
        }
        reply.get_or_insert(answer);
    }
    let reply = reply.context("no event was sent")?;
    let diff = reply.payload["response"]
        .get("diff")
        .cloned()
        .unwrap_or(json!({}));
    Ok(BytesReport {
        path: path.to_string(),
        dead_render_bytes: page.bytes,
        view_html_bytes: page.view_html_bytes,
        event_round_trip: Latency::of(&mut samples),
        join_reply_bytes: join.bytes,
        event: event.to_string(),
        event_reply_bytes: reply.bytes,
        event_diff_bytes: diff.to_string().len(),
    })
}

/// A victim's closed-loop event rate and latency.
#[derive(Debug, Serialize)]
pub struct ClosedLoop {
    /// Replies per second over all victim sockets.
    pub events_per_s: f64,
    /// Event → reply latency.
    pub latency: Latency,
}

/// One tenant's view under another tenant's CPU attack.
#[derive(Debug, Serialize)]
pub struct IsolationReport {
    /// The victim alone.
    pub unloaded: ClosedLoop,
    /// The victim while the attackers burn their fuel on every callback.
    pub loaded: ClosedLoop,
    /// Attack callbacks completed (each one a whole fuel budget, then a crash and a rejoin).
    pub attacks: usize,
    /// Loaded rate / unloaded rate.
    pub rate_ratio: f64,
}

/// Each victim socket sends `event` and waits for its reply, again and again, for `seconds`.
async fn closed_loop(fleet: &mut Fleet, event: &str, seconds: f64) -> Result<ClosedLoop> {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let conns = std::mem::take(&mut fleet.conns);
    let mut tasks = Vec::new();
    for (mut conn, join_ref) in conns {
        let topic = fleet.topic.clone();
        let payload = json!({"type": "click", "event": event, "value": {}});
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                match conn
                    .request(Some(&join_ref), &topic, "event", payload.clone())
                    .await
                {
                    Ok(reply) if reply.payload["status"] == "ok" => samples.push(reply.at - sent),
                    _ => break,
                }
            }
            (conn, join_ref, samples)
        }));
    }
    let mut samples = Vec::new();
    for task in tasks {
        let (conn, join_ref, mine) = task.await.context("victim task")?;
        fleet.conns.push((conn, join_ref));
        samples.extend(mine);
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(ClosedLoop {
        events_per_s: samples.len() as f64 / elapsed.max(1e-9),
        latency: Latency::of(&mut samples),
    })
}

/// The victim's closed-loop rate alone, then while `attackers` sockets of another app send
/// `attack_event` (a callback that runs until its fuel is gone) as fast as the host answers,
/// rejoining after every crash. Bounded by `seconds` per phase.
#[allow(clippy::too_many_arguments)]
pub async fn isolation(
    server: SocketAddr,
    victim_path: &str,
    victim_event: &str,
    victims: usize,
    attacker_path: &str,
    attack_event: &str,
    attackers: usize,
    seconds: f64,
) -> Result<IsolationReport> {
    let (mut fleet, _) = Fleet::join(server, victim_path, victims).await?;
    // Warm up, then measure alone.
    closed_loop(&mut fleet, victim_event, 0.5).await?;
    let unloaded = closed_loop(&mut fleet, victim_event, seconds).await?;

    let page = fetch(server, attacker_path).await?;
    let url = format!("http://{server}{attacker_path}");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attacks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut attack_tasks = Vec::new();
    for index in 0..attackers {
        let mut conn = Conn::open(server, &page, victims + index).await?;
        let (page, url) = (page.clone(), url.clone());
        let (stop, attacks) = (stop.clone(), attacks.clone());
        let event = attack_event.to_string();
        attack_tasks.push(tokio::spawn(async move {
            let topic = page.topic();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok((join_ref, _)) = conn.join(&page, &url).await else {
                    break;
                };
                let payload = json!({"type": "click", "event": event, "value": {}});
                let Ok(rx) = conn.send(Some(&join_ref), &topic, "event", payload).await else {
                    break;
                };
                let crashed = conn.crashed.clone();
                tokio::select! {
                    _ = rx => {}
                    () = crashed.notified() => {}
                    () = tokio::time::sleep(Duration::from_secs(10)) => {}
                }
                attacks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    // Let the attack reach its pace before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let loaded = closed_loop(&mut fleet, victim_event, seconds).await?;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let attacks = attacks.load(std::sync::atomic::Ordering::Relaxed);
    for task in attack_tasks {
        task.abort();
    }
    let rate_ratio = loaded.events_per_s / unloaded.events_per_s.max(1e-9);
    Ok(IsolationReport {
        unloaded,
        loaded,
        attacks,
        rate_ratio,
    })
}
