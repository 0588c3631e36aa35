//! The other hosts' last reports, and what they add up to per tenant.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::report::InstanceReport;

/// Most other hosts counted at once; a report from one more is not counted (a cluster that
/// large is far beyond what one NATS subject of reports is meant for).
pub const MAX_PEERS: usize = 1024;

/// Why a report is not recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotRecorded {
    /// It is this host's own.
    #[error("sent by this host")]
    Echo,
    /// It comes from a host past [`MAX_PEERS`].
    #[error("more than {MAX_PEERS} other hosts report")]
    TooManyPeers,
}

/// One other host: its last report and when it arrived.
#[derive(Debug)]
struct Peer {
    heard: Instant,
    tenants: BTreeMap<String, u64>,
}

/// The last report heard from each other host of the cluster. A host not heard from for
/// longer than the expiry given to [`PeerCounts::expire`] is forgotten: it stops counting.
#[derive(Debug)]
pub struct PeerCounts {
    /// This host's id: its own reports are not counted.
    own: u64,
    peers: HashMap<u64, Peer>,
}

impl PeerCounts {
    /// No other host heard from yet, on the host whose id is `own`.
    pub fn new(own: u64) -> PeerCounts {
        PeerCounts {
            own,
            peers: HashMap::new(),
        }
    }

    /// Records `report`, received at `now`, as its host's latest (replacing the one before).
    pub fn record(&mut self, report: InstanceReport, now: Instant) -> Result<(), NotRecorded> {
        if report.host == self.own {
            return Err(NotRecorded::Echo);
        }
        if self.peers.len() >= MAX_PEERS && !self.peers.contains_key(&report.host) {
            return Err(NotRecorded::TooManyPeers);
        }
        self.peers.insert(
            report.host,
            Peer {
                heard: now,
                tenants: report.tenants,
            },
        );
        Ok(())
    }

    /// Forgets the hosts last heard from more than `after` before `now`; returns how many.
    pub fn expire(&mut self, now: Instant, after: Duration) -> usize {
        let before = self.peers.len();
        self.peers
            .retain(|_, peer| now.saturating_duration_since(peer.heard) <= after);
        before - self.peers.len()
    }

    /// Other hosts counted now.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// True when no other host is counted.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Per tenant, the instances the other hosts last reported, summed (tenants with none
    /// left out).
    pub fn sums(&self) -> HashMap<String, u64> {
        let mut sums: HashMap<String, u64> = HashMap::new();
        for (tenant, count) in self.peers.values().flat_map(|peer| &peer.tenants) {
            if *count > 0 {
                let sum = sums.entry(tenant.clone()).or_default();
                *sum = sum.saturating_add(*count);
            }
        }
        sums
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(host: u64, tenants: &[(&str, u64)]) -> InstanceReport {
        InstanceReport::new(
            host,
            tenants
                .iter()
                .map(|(tenant, count)| (tenant.to_string(), *count))
                .collect(),
        )
    }

    #[test]
    fn the_latest_report_of_each_host_is_summed_per_tenant() {
        let t0 = Instant::now();
        let mut peers = PeerCounts::new(1);
        assert!(peers.sums().is_empty());
        peers
            .record(report(2, &[("acme", 2), ("globex", 1)]), t0)
            .expect("recorded");
        peers
            .record(report(3, &[("acme", 1), ("idle", 0)]), t0)
            .expect("recorded");
        assert_eq!(
            peers.sums(),
            HashMap::from([("acme".to_string(), 3), ("globex".to_string(), 1)])
        );
        // A newer report replaces its host's older one (globex's view on 2 closed).
        peers
            .record(report(2, &[("acme", 2)]), t0)
            .expect("recorded");
        assert_eq!(peers.sums(), HashMap::from([("acme".to_string(), 3)]));
        assert_eq!(peers.len(), 2);
        // Own reports are not counted; absurd counts saturate.
        assert_eq!(
            peers.record(report(1, &[("acme", 50)]), t0),
            Err(NotRecorded::Echo)
        );
        peers
            .record(report(4, &[("acme", u64::MAX)]), t0)
            .expect("recorded");
        assert_eq!(peers.sums()["acme"], u64::MAX);
    }

    #[test]
    fn a_host_not_heard_from_stops_counting() {
        let expiry = Duration::from_secs(2);
        let t0 = Instant::now();
        let mut peers = PeerCounts::new(1);
        peers
            .record(report(2, &[("acme", 2)]), t0)
            .expect("recorded");
        peers
            .record(report(3, &[("acme", 1)]), t0)
            .expect("recorded");
        // Host 3 keeps reporting, host 2 went silent.
        let t1 = t0 + Duration::from_millis(1500);
        peers
            .record(report(3, &[("acme", 1)]), t1)
            .expect("recorded");
        assert_eq!(
            peers.expire(t0 + expiry, expiry),
            0,
            "exactly at the expiry"
        );
        assert_eq!(peers.sums()["acme"], 3);
        assert_eq!(
            peers.expire(t0 + expiry + Duration::from_millis(1), expiry),
            1
        );
        assert_eq!(peers.sums()["acme"], 1, "only host 3 counts");
        // Heard from again: counted again.
        let t2 = t0 + Duration::from_secs(5);
        peers
            .record(report(2, &[("acme", 2)]), t2)
            .expect("recorded");
        assert_eq!(peers.expire(t2, expiry), 1, "host 3 went silent since t1");
        assert_eq!(peers.sums()["acme"], 2);
        assert_eq!(peers.expire(t2 + Duration::from_secs(10), expiry), 1);
        assert!(peers.is_empty() && peers.sums().is_empty());
    }

    #[test]
    fn hosts_past_the_bound_are_not_counted() {
        let t0 = Instant::now();
        let mut peers = PeerCounts::new(0);
        for host in 1..=MAX_PEERS as u64 {
            peers
                .record(report(host, &[("acme", 1)]), t0)
                .expect("recorded");
        }
        assert_eq!(
            peers.record(report(u64::MAX, &[("acme", 1)]), t0),
            Err(NotRecorded::TooManyPeers)
        );
        // A host already counted still updates its report.
        peers
            .record(report(1, &[("acme", 5)]), t0)
            .expect("recorded");
        assert_eq!(peers.sums()["acme"], MAX_PEERS as u64 + 4);
    }
}
