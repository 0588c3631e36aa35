//! Live upgrade under load: many open views of a platform app, then a deploy of its next
//! version (a command, e.g. `livewasm deploy …`), timed until every socket received the diff
//! that moved its view onto the new version.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::scenarios::Fleet;

/// How long every socket may take to get its diff after the deploy started.
const UPGRADE_WAIT: Duration = Duration::from_secs(300);

/// What a live upgrade of many open views cost.
#[derive(Debug, Serialize)]
pub struct UpgradeReport {
    /// Open views when the deploy started.
    pub sockets: usize,
    /// Sockets that received their diff.
    pub upgraded: usize,
    /// The deploy command's own time (upload, compile, activation).
    pub deploy_seconds: f64,
    /// Deploy started → the first socket's diff.
    pub first_diff_seconds: f64,
    /// Deploy started → the last socket's diff.
    pub all_upgraded_seconds: f64,
    /// First diff → last diff: carrying every view over, once the version was active.
    pub migrate_seconds: f64,
    /// Size of one upgrade diff frame, median, bytes.
    pub diff_bytes_p50: usize,
    /// Size of the largest upgrade diff frame, bytes.
    pub diff_bytes_max: usize,
}

/// Joins `sockets` views of `path` on the app at `Host: host`, runs `deploy` (a command and
/// its arguments), and waits until every socket got a `diff` push.
pub async fn upgrade(
    server: SocketAddr,
    host: &str,
    path: &str,
    sockets: usize,
    deploy: &[String],
) -> Result<UpgradeReport> {
    let Some((program, args)) = deploy.split_first() else {
        bail!("no deploy command");
    };
    let (fleet, _) = Fleet::join_on(server, host, path, sockets).await?;
    for (conn, _) in &fleet.conns {
        if let Ok(mut pushes) = conn.pushes.lock() {
            pushes.clear();
        }
    }
    let started = Instant::now();
    let output = tokio::process::Command::new(program)
        .args(args)
        .output()
        .await
        .with_context(|| format!("running {program}"))?;
    let deploy_seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!(
            "the deploy failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let firsts = loop {
        let firsts: Vec<Option<(Instant, usize)>> = fleet
            .conns
            .iter()
            .map(|(conn, _)| conn.pushes.lock().ok()?.first().copied())
            .collect();
        if firsts.iter().all(Option::is_some) || started.elapsed() > UPGRADE_WAIT {
            break firsts;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let got: Vec<(Instant, usize)> = firsts.into_iter().flatten().collect();
    let first = got.iter().map(|(at, _)| *at).min();
    let last = got.iter().map(|(at, _)| *at).max();
    let mut bytes: Vec<usize> = got.iter().map(|(_, b)| *b).collect();
    bytes.sort_unstable();
    let since = |at: Option<Instant>| at.map_or(f64::NAN, |at| (at - started).as_secs_f64());
    Ok(UpgradeReport {
        sockets,
        upgraded: got.len(),
        deploy_seconds,
        first_diff_seconds: since(first),
        all_upgraded_seconds: since(last),
        migrate_seconds: match (first, last) {
            (Some(first), Some(last)) => (last - first).as_secs_f64(),
            _ => f64::NAN,
        },
        diff_bytes_p50: bytes.get(bytes.len() / 2).copied().unwrap_or(0),
        diff_bytes_max: bytes.last().copied().unwrap_or(0),
    })
}
