//! Which URLs an app may fetch: its allowlist (`host`, `host:port`, `*.domain`, as the
//! registry normalizes them) matched against a URL's host and port, and which addresses a
//! request may connect to (public ones; loopback only when the host allows it for tests).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use livewasm_runtime::FetchError;
use url::{Host, Url};

/// One allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AllowEntry {
    /// Lower-case host name or IP literal (IPv6 without brackets); for a wildcard, the domain
    /// after `*.`.
    host: String,
    /// A wildcard: any subdomain of `host`, not `host` itself.
    wildcard: bool,
    /// The port; `None`: the scheme's default port only.
    port: Option<u16>,
}

impl AllowEntry {
    /// Reads an entry; `None` for one that is not `host[:port]` (the registry refuses those
    /// before they are stored; a bad `--http-allow` is reported at start).
    pub(crate) fn parse(entry: &str) -> Option<AllowEntry> {
        let entry = entry.trim().to_ascii_lowercase();
        let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
            let (ip, after) = rest.split_once(']')?;
            let port = match after.strip_prefix(':') {
                Some(port) => Some(port.parse::<u16>().ok().filter(|p| *p > 0)?),
                None if after.is_empty() => None,
                None => return None,
            };
            (ip.parse::<Ipv6Addr>().ok()?.to_string(), port)
        } else {
            match entry.rsplit_once(':') {
                Some((host, port)) => (
                    host.to_string(),
                    Some(port.parse::<u16>().ok().filter(|p| *p > 0)?),
                ),
                None => (entry.clone(), None),
            }
        };
        let (host, wildcard) = match host.strip_prefix("*.") {
            Some(domain) => (domain.to_string(), true),
            None => (host, false),
        };
        let name_ok = !host.is_empty()
            && host.len() <= 253
            && host
                .split('.')
                .all(|label| !label.is_empty() && label.len() <= 63)
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == ':');
        name_ok.then_some(AllowEntry {
            host,
            wildcard,
            port,
        })
    }

    /// True when this entry lets a request reach `host` on `port` (`default_port`: the URL
    /// named none).
    fn allows(&self, host: &str, port: u16, default_port: bool) -> bool {
        let host_ok = if self.wildcard {
            host.len() > self.host.len() + 1
                && host.ends_with(&self.host)
                && host[..host.len() - self.host.len()].ends_with('.')
        } else {
            host == self.host
        };
        let port_ok = match self.port {
            Some(allowed) => allowed == port,
            None => default_port,
        };
        host_ok && port_ok
    }
}

/// Checks `url` against `allowlist`, the scheme rules and, for an address literal, the
/// addresses apps may reach.
pub(crate) fn check_url(
    url: &Url,
    allowlist: &[AllowEntry],
    allow_loopback: bool,
) -> Result<(), FetchError> {
    let host = match url.host() {
        Some(Host::Domain(name)) => name.to_ascii_lowercase(),
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(FetchError::Invalid("the URL has no host".into())),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::Invalid(
            "credentials in the URL are not sent; use a header".into(),
        ));
    }
    let port = url.port_or_known_default().unwrap_or(0);
    // The URL parser drops a port equal to the scheme's default.
    let default_port = url.port().is_none();
    let shown = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.clone(),
    };
    if !allowlist
        .iter()
        .any(|entry| entry.allows(&host, port, default_port))
    {
        return Err(FetchError::NotAllowed { host: shown });
    }
    match url.scheme() {
        "https" => {}
        "http" if allow_loopback && is_loopback_host(url) => {}
        "http" => {
            return Err(FetchError::Refused(
                "plain http is not allowed; use https".into(),
            ));
        }
        other => {
            return Err(FetchError::Refused(format!(
                "the scheme `{other}` is not allowed"
            )));
        }
    }
    // An address given in the URL is checked here; names are checked when they resolve.
    let literal = match url.host() {
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    };
    if let Some(ip) = literal
        && !reachable(ip, allow_loopback)
    {
        return Err(FetchError::Refused(format!("{ip} is not a public address")));
    }
    Ok(())
}

/// `localhost` or a loopback address literal.
fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// True when a request may connect to `ip`: a public address, or loopback when allowed.
pub(crate) fn reachable(ip: IpAddr, allow_loopback: bool) -> bool {
    if ip.is_loopback() {
        return allow_loopback;
    }
    match ip {
        IpAddr::V4(ip) => public_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => !v4.is_loopback() && public_v4(v4),
            None => public_v6(ip),
        },
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // Benchmarking, 198.18.0.0/15; reserved, 240.0.0.0/4.
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // Unique local fc00::/7, link-local fe80::/10, documentation 2001:db8::/32.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> Vec<AllowEntry> {
        entries
            .iter()
            .map(|e| AllowEntry::parse(e).expect("valid"))
            .collect()
    }

    fn check(url: &str, entries: &[&str], loopback: bool) -> Result<(), FetchError> {
        check_url(&Url::parse(url).expect("url"), &list(entries), loopback)
    }

    #[test]
    fn hosts_and_ports_must_be_listed() {
        let allow = [
            "api.example.com",
            "*.cdn.example.net",
            "data.example.org:8443",
        ];
        assert!(check("https://api.example.com/v1", &allow, false).is_ok());
        assert!(check("https://API.example.com:443/v1", &allow, false).is_ok());
        assert!(check("https://img.cdn.example.net/a.png", &allow, false).is_ok());
        assert!(check("https://data.example.org:8443/", &allow, false).is_ok());
        for (url, host) in [
            ("https://evil.com/", "evil.com"),
            ("https://api.example.com:8443/", "api.example.com:8443"),
            ("https://cdn.example.net/", "cdn.example.net"),
            ("https://xcdn.example.net/", "xcdn.example.net"),
            ("https://data.example.org/", "data.example.org"),
            (
                "https://api.example.com.evil.com/",
                "api.example.com.evil.com",
            ),
        ] {
            assert_eq!(
                check(url, &allow, false),
                Err(FetchError::NotAllowed { host: host.into() }),
                "{url}"
            );
        }
    }

    #[test]
    fn plain_http_and_private_addresses_are_refused() {
        let allow = [
            "127.0.0.1:8080",
            "10.0.0.1",
            "api.example.com",
            "[::1]:9000",
        ];
        assert!(matches!(
            check("http://api.example.com/", &allow, false),
            Err(FetchError::Refused(_))
        ));
        assert!(matches!(
            check("https://10.0.0.1/", &allow, false),
            Err(FetchError::Refused(_))
        ));
        assert!(matches!(
            check("http://127.0.0.1:8080/", &allow, false),
            Err(FetchError::Refused(_))
        ));
        assert!(check("http://127.0.0.1:8080/", &allow, true).is_ok());
        assert!(check("http://[::1]:9000/", &allow, true).is_ok());
        assert!(matches!(
            check("ftp://api.example.com/", &allow, false),
            Err(FetchError::Refused(_))
        ));
        assert!(matches!(
            check("https://user:pw@api.example.com/", &allow, false),
            Err(FetchError::Invalid(_))
        ));
    }

    #[test]
    fn only_public_addresses_are_reachable() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!reachable(ip.parse().expect("ip"), true), "{ip}");
        }
        assert!(!reachable("127.0.0.1".parse().expect("ip"), false));
        assert!(reachable("127.0.0.1".parse().expect("ip"), true));
        assert!(reachable("93.184.216.34".parse().expect("ip"), false));
        assert!(reachable("2606:4700::1111".parse().expect("ip"), false));
    }

    #[test]
    fn entries_parse() {
        assert_eq!(
            AllowEntry::parse("[::1]:80"),
            Some(AllowEntry {
                host: "::1".into(),
                wildcard: false,
                port: Some(80)
            })
        );
        for bad in ["", "a:0", "a:x", "a b", "https://a", "a/b", "[::1]x"] {
            assert_eq!(AllowEntry::parse(bad), None, "{bad}");
        }
    }
}
