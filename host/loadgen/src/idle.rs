//! Idle views: waiting for the host to hibernate them (read from its Prometheus metrics), and
//! what waking one costs — the round trip of the first event to a hibernated view against the
//! same event to a live one.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::page::Page;
use crate::phx::Conn;
use crate::scenarios::Fleet;
use crate::stats::Latency;

/// How long the host may take to hibernate every view.
const HIBERNATION_WAIT: Duration = Duration::from_secs(180);

/// How long a join refused for capacity is retried (while earlier views hibernate and free
/// their pool slots).
const CAPACITY_WAIT: Duration = Duration::from_secs(120);

/// The sum of every sample of metric `name` in the host's `/metrics` at `metrics`.
pub async fn scrape(metrics: SocketAddr, name: &str) -> Result<f64> {
    let mut stream = tokio::net::TcpStream::connect(metrics)
        .await
        .with_context(|| format!("connecting to the metrics listener {metrics}"))?;
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {metrics}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    Ok(text
        .lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// Waits until the host reports at least `want` hibernated views; returns how many it reports.
pub async fn until_hibernated(metrics: SocketAddr, want: f64) -> Result<f64> {
    let started = Instant::now();
    loop {
        let now = scrape(metrics, "livewasm_hibernated_instances").await?;
        if now >= want {
            return Ok(now);
        }
        if started.elapsed() > HIBERNATION_WAIT {
            bail!("only {now} of {want} views hibernated within {HIBERNATION_WAIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Joins the page's view, retrying while the host refuses for capacity (its pool is full of
/// views that have not hibernated yet).
pub async fn join_retrying(conn: &mut Conn, page: &Page, url: &str) -> Result<String> {
    let started = Instant::now();
    loop {
        match conn.join(page, url).await {
            Ok((join_ref, _)) => return Ok(join_ref),
            Err(error)
                if error.to_string().contains("capacity") && started.elapsed() < CAPACITY_WAIT =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// The first event to a hibernated view (it wakes: a fresh instance, its snapshot restored)
/// against the same event to the live view right after.
#[derive(Debug, Serialize)]
pub struct RestoreReport {
    /// Views measured.
    pub sockets: usize,
    /// Views hibernated before the first round.
    pub hibernated: f64,
    /// Click → reply of the event that woke a view.
    pub restore: Latency,
    /// Click → reply of the next event, to the live view.
    pub live: Latency,
}

/// Joins `sockets` views of `path`, waits until they all hibernated, then sends `event` to
/// each in turn (one at a time, so each round trip is one wake alone) and again to each now
/// live view.
pub async fn restore(
    server: SocketAddr,
    metrics: SocketAddr,
    path: &str,
    event: &str,
    sockets: usize,
) -> Result<RestoreReport> {
    let (mut fleet, _) = Fleet::join(server, path, sockets).await?;
    let hibernated = until_hibernated(metrics, sockets as f64).await?;
    let restore = round(&mut fleet, event).await?;
    let live = round(&mut fleet, event).await?;
    Ok(RestoreReport {
        sockets,
        hibernated,
        restore,
        live,
    })
}

/// Sends `event` to each view of the fleet in turn; the round trips.
async fn round(fleet: &mut Fleet, event: &str) -> Result<Latency> {
    let payload = json!({"type": "click", "event": event, "value": {}});
    let mut samples = Vec::with_capacity(fleet.conns.len());
    for (conn, join_ref) in &mut fleet.conns {
        let sent = Instant::now();
        let reply = conn
            .request(Some(join_ref), &fleet.topic, "event", payload.clone())
            .await?;
        if reply.payload["status"] != "ok" {
            bail!("event {event} refused: {}", reply.payload);
        }
        samples.push(reply.at - sent);
    }
    Ok(Latency::of(&mut samples))
}
