//! Idle views: the host's memory per idle socket (bare, live, hibernated: [`density`]), waiting
//! for the host to hibernate them (read from its Prometheus metrics), and what waking one costs
//! — the round trip of the first event to a hibernated view against the same event to a live one.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::page::{Page, fetch};
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

/// Host memory with many idle connected views.
#[derive(Debug, Serialize)]
pub struct DensityReport {
    /// Connected sockets.
    pub sockets: usize,
    /// Whether each socket joined a view (false: bare WebSockets, the transport's own cost).
    pub joined: bool,
    /// Views hibernated when RSS was read (with `--metrics`; `None` otherwise).
    pub hibernated: Option<f64>,
    /// Host RSS before connecting, KiB.
    pub rss_before_kib: u64,
    /// Host RSS with every socket joined, KiB.
    pub rss_after_kib: u64,
    /// Whole-process RSS divided by the sockets, KiB.
    pub rss_per_socket_kib: f64,
    /// RSS growth divided by the sockets, KiB.
    pub delta_per_socket_kib: f64,
    /// Host proportional set size (PSS) before connecting, KiB.
    pub pss_before_kib: u64,
    /// Host PSS with every socket joined, KiB.
    pub pss_after_kib: u64,
    /// PSS growth divided by the sockets, KiB: what the sockets cost the machine. RSS counts a
    /// page every live instance maps from the component's memory image once per instance; PSS
    /// counts it once.
    pub pss_delta_per_socket_kib: f64,
    /// Time to connect and join them all.
    pub connect_seconds: f64,
}

/// How [`density`] loads the host.
pub struct DensityPlan<'a> {
    /// Page to join.
    pub path: &'a str,
    /// Sockets to open.
    pub sockets: usize,
    /// Join a view on each (false: bare WebSockets).
    pub join: bool,
    /// The host's metrics listener: RSS is read once every view hibernated.
    pub metrics: Option<SocketAddr>,
    /// Wait before reading RSS (after the hibernation, with `metrics`).
    pub settle: Duration,
}

/// Connects `plan.sockets` idle views (or bare sockets) and reads the host's RSS from
/// `/proc/<pid>/status`, once they all hibernated when `plan.metrics` is given.
pub async fn density(
    server: SocketAddr,
    server_pid: u32,
    plan: &DensityPlan<'_>,
) -> Result<(DensityReport, Vec<Conn>)> {
    let rss_before_kib = rss_kib(server_pid)?;
    let pss_before_kib = pss_kib(server_pid)?;
    let path = plan.path;
    let sockets = plan.sockets;
    let join = plan.join;
    let page = fetch(server, path).await?;
    let url = format!("http://{server}{path}");
    let started = Instant::now();
    let mut conns = Vec::with_capacity(sockets);
    let mut joining = tokio::task::JoinSet::new();
    let mut next = 0;
    // At most 64 joins in flight.
    while conns.len() < sockets {
        while next < sockets && joining.len() < 64 {
            let page = page.clone();
            let url = url.clone();
            let index = next;
            joining.spawn(async move {
                let mut conn = Conn::open(server, &page, index).await?;
                if join {
                    join_retrying(&mut conn, &page, &url).await?;
                }
                Ok::<Conn, anyhow::Error>(conn)
            });
            next += 1;
        }
        match joining.join_next().await {
            Some(joined) => conns.push(joined.context("join task")??),
            None => bail!("joins stopped early"),
        }
    }
    let connect_seconds = started.elapsed().as_secs_f64();
    let hibernated = match plan.metrics {
        Some(metrics) if join => Some(until_hibernated(metrics, sockets as f64).await?),
        _ => None,
    };
    tokio::time::sleep(plan.settle).await;
    let rss_after_kib = rss_kib(server_pid)?;
    let pss_after_kib = pss_kib(server_pid)?;
    Ok((
        DensityReport {
            sockets,
            joined: join,
            hibernated,
            rss_before_kib,
            rss_after_kib,
            rss_per_socket_kib: rss_after_kib as f64 / sockets as f64,
            delta_per_socket_kib: rss_after_kib.saturating_sub(rss_before_kib) as f64
                / sockets as f64,
            pss_before_kib,
            pss_after_kib,
            pss_delta_per_socket_kib: pss_after_kib.saturating_sub(pss_before_kib) as f64
                / sockets as f64,
            connect_seconds,
        },
        conns,
    ))
}

/// Resident set size of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> Result<u64> {
    proc_kib(pid, "status", "VmRSS:")
}

/// Proportional set size of process `pid`, in KiB: its resident pages, each shared page
/// divided among the mappings that share it.
pub fn pss_kib(pid: u32) -> Result<u64> {
    proc_kib(pid, "smaps_rollup", "Pss:")
}

/// The `… kB` value of the line starting with `label` in `/proc/<pid>/<file>`.
fn proc_kib(pid: u32, file: &str, label: &str) -> Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .with_context(|| format!("reading /proc/{pid}/{file}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix(label))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {label} line in /proc/{pid}/{file}"))
}
