//! Limits per client address: WebSockets open at once, and view joins per second.
//!
//! [`Peers`] keeps one record per IP address with a socket open (or joins still being paid
//! back). A socket holds a [`PeerSocket`] while it lives: the upgrade is refused (429) when
//! its address already has `max_sockets_per_ip` open, and every `phx_join` of a view takes a
//! token from the address's bucket, refilled at `max_joins_per_ip_per_sec` (the bucket holds
//! one second's worth): a join with no token left is refused with a reason the client shows.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Why a client address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PeerRefusal {
    /// The address has as many sockets open as it may.
    #[error("too many sockets from this address (at most {0})")]
    TooManySockets(usize),
    /// The address joined views faster than it may.
    #[error("too many joins from this address (at most {0} per second)")]
    TooManyJoins(u32),
}

/// One address's sockets and join bucket.
#[derive(Debug)]
struct Peer {
    sockets: usize,
    /// Join tokens left (fractional while refilling).
    tokens: f64,
    refilled: Instant,
}

impl Peer {
    /// Refills the bucket for the time since it was last refilled.
    fn refill(&mut self, now: Instant, rate: f64) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(rate);
        self.refilled = now;
    }

    /// True when the record says nothing the defaults would not: no socket, a full bucket.
    fn idle(&mut self, now: Instant, rate: f64) -> bool {
        self.refill(now, rate);
        self.sockets == 0 && self.tokens >= rate
    }
}

/// Records kept before idle ones are swept out (it doubles while most are in use).
const SWEEP_AT: usize = 1024;

/// The per-address records of a host.
#[derive(Debug)]
pub(crate) struct Peers {
    peers: Mutex<HashMap<IpAddr, Peer>>,
    max_sockets: usize,
    joins_per_sec: u32,
    /// The map size at which idle records are swept out next.
    sweep_at: AtomicUsize,
}

impl Peers {
    /// Records limited to `max_sockets` sockets and `joins_per_sec` joins per second per
    /// address (0: no limit).
    pub(crate) fn new(max_sockets: usize, joins_per_sec: u32) -> Arc<Peers> {
        Arc::new(Peers {
            peers: Mutex::default(),
            max_sockets,
            joins_per_sec,
            sweep_at: AtomicUsize::new(SWEEP_AT),
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, Peer>> {
        // Every change is a few integer updates: a poisoned map is still consistent.
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a socket for `ip`, or refuses it when the address is at its limit.
    pub(crate) fn open(self: &Arc<Self>, ip: IpAddr) -> Result<PeerSocket, PeerRefusal> {
        let mut peers = self.lock();
        let now = Instant::now();
        let rate = f64::from(self.joins_per_sec);
        if peers.len() >= self.sweep_at.load(Ordering::Relaxed) {
            // Records of addresses whose sockets closed stay while their bucket refills (so
            // reconnecting does not refill it); they go here, once idle.
            peers.retain(|_, peer| !peer.idle(now, rate));
            self.sweep_at
                .store((peers.len() * 2).max(SWEEP_AT), Ordering::Relaxed);
        }
        let peer = peers.entry(ip).or_insert_with(|| Peer {
            sockets: 0,
            tokens: rate,
            refilled: now,
        });
        if self.max_sockets > 0 && peer.sockets >= self.max_sockets {
            return Err(PeerRefusal::TooManySockets(self.max_sockets));
        }
        peer.sockets += 1;
        Ok(PeerSocket {
            peers: self.clone(),
            ip,
        })
    }

    /// Takes one join token of `ip`.
    fn join(&self, ip: IpAddr) -> Result<(), PeerRefusal> {
        if self.joins_per_sec == 0 {
            return Ok(());
        }
        let rate = f64::from(self.joins_per_sec);
        let mut peers = self.lock();
        let now = Instant::now();
        let peer = peers.entry(ip).or_insert_with(|| Peer {
            sockets: 0,
            tokens: rate,
            refilled: now,
        });
        peer.refill(now, rate);
        if peer.tokens < 1.0 {
            return Err(PeerRefusal::TooManyJoins(self.joins_per_sec));
        }
        peer.tokens -= 1.0;
        Ok(())
    }

    /// Sockets open from `ip` now.
    #[cfg(test)]
    fn sockets(&self, ip: IpAddr) -> usize {
        self.lock().get(&ip).map_or(0, |p| p.sockets)
    }

    /// Addresses with a record.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// One open socket of an address; closing it (dropping this) frees the address's slot. It
/// also pays for the socket's joins.
#[derive(Debug)]
pub(crate) struct PeerSocket {
    peers: Arc<Peers>,
    ip: IpAddr,
}

impl PeerSocket {
    /// Takes a join token of the socket's address.
    pub(crate) fn join(&self) -> Result<(), PeerRefusal> {
        self.peers.join(self.ip)
    }
}

impl Drop for PeerSocket {
    fn drop(&mut self) {
        let rate = f64::from(self.peers.joins_per_sec);
        let mut peers = self.peers.lock();
        if let Some(peer) = peers.get_mut(&self.ip) {
            peer.sockets = peer.sockets.saturating_sub(1);
            // The record goes with the last socket unless its bucket is still refilling
            // (then a later sweep removes it).
            if peer.idle(Instant::now(), rate) {
                peers.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_per_address_are_capped_and_released() {
        let peers = Peers::new(2, 0);
        let ip: IpAddr = [127, 0, 0, 1].into();
        let other: IpAddr = [127, 0, 0, 2].into();
        let a = peers.open(ip).expect("first");
        let _b = peers.open(ip).expect("second");
        assert_eq!(peers.open(ip).err(), Some(PeerRefusal::TooManySockets(2)));
        assert!(peers.open(other).is_ok(), "another address is not refused");
        drop(a);
        assert_eq!(peers.sockets(ip), 1);
        let _c = peers.open(ip).expect("a slot is free again");
        drop((_b, _c));
        assert_eq!(peers.len(), 0, "no record is kept for closed sockets");
    }

    #[test]
    fn joins_per_second_are_capped() {
        let peers = Peers::new(0, 3);
        let socket = peers.open([10, 0, 0, 1].into()).expect("socket");
        for _ in 0..3 {
            assert!(socket.join().is_ok());
        }
        assert_eq!(socket.join(), Err(PeerRefusal::TooManyJoins(3)));
        std::thread::sleep(std::time::Duration::from_millis(400));
        assert!(socket.join().is_ok(), "a token came back");
    }
}
