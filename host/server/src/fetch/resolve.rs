//! Name resolution for outgoing requests: the system resolver, keeping only the addresses a
//! request may connect to ([`reachable`]), so an allowed name that resolves to a private or
//! loopback address (a DNS rebinding, a metadata endpoint) is refused at connect time.

use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::allow::reachable;

/// Resolves names to reachable addresses only.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PublicResolver {
    /// Loopback addresses are reachable too (tests).
    pub(crate) allow_loopback: bool,
}

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| reachable(addr.ip(), allow_loopback))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}
