//! Per-tenant HTTP allowlists: the hosts a tenant's apps may send HTTP requests to, set by
//! the platform operator. [`normalize_http_host`] checks and normalizes one entry;
//! [`Registry::http_allowlist`] reads a tenant's list and [`Registry::set_http_allowlist`]
//! replaces it (operators only, audited). The registry only stores the list; the server
//! enforces it on outgoing requests.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::json;
use sqlx::AnyConnection;

use crate::change::AuditRecord;
use crate::db::Registry;
use crate::error::{RegistryError, Result};
use crate::ids::TenantId;
use crate::principal::Principal;

/// The most entries one tenant's HTTP allowlist may hold (after duplicates collapse).
pub const MAX_HTTP_ALLOWLIST_ENTRIES: usize = 100;

/// The longest host name accepted, in characters (with a wildcard's `*.`; without the port).
const MAX_HOST_NAME_LEN: usize = 253;

/// The longest label of a host name.
const MAX_LABEL_LEN: usize = 63;

/// Checks one HTTP allowlist entry and returns it normalized, or
/// [`RegistryError::InvalidHttpHost`] saying what is wrong with it.
///
/// An entry is a host, optionally followed by `:port` (1 to 65535, normalized to plain
/// decimal). The host is one of:
///
/// - a DNS name: labels of 1 to 63 letters, digits and `-` (not at either end of a label),
///   separated by `.`, at most 253 characters in all; lowercased. Its last label may not be
///   numeric (`example.123`), since URL parsers read such a name as an IPv4 address.
///   Internationalized names must be given in their punycode (`xn--`) form;
/// - a DNS name after a wildcard label, `*.example.com`, which stands for any subdomain of
///   `example.com` (at any depth) but not for `example.com` itself;
/// - an IPv4 address in dotted decimal (`192.0.2.1`);
/// - an IPv6 address in brackets (`[2001:db8::1]`), normalized to its canonical form.
///
/// Schemes (`https://`), paths, queries, userinfo (`user@`), spaces and empty entries are
/// refused, as is an unbracketed IPv6 address.
pub fn normalize_http_host(entry: &str) -> Result<String, RegistryError> {
    let invalid = |reason: &'static str| RegistryError::InvalidHttpHost {
        entry: entry.to_owned(),
        reason,
    };
    if entry.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if entry.chars().any(char::is_whitespace) {
        return Err(invalid("must not contain spaces"));
    }
    if entry.chars().any(char::is_control) {
        return Err(invalid("must not contain control characters"));
    }
    if entry.contains("://") {
        return Err(invalid(
            "must be a host name, not a URL: leave out the scheme (`https://`)",
        ));
    }
    if entry.contains('/') {
        return Err(invalid(
            "must be a host name, not a URL: leave out the path",
        ));
    }
    if entry.contains('?') || entry.contains('#') {
        return Err(invalid(
            "must be a host name, not a URL: leave out the query or fragment",
        ));
    }
    if entry.contains('@') {
        return Err(invalid("must not contain userinfo (`user@`)"));
    }
    if !entry.is_ascii() {
        return Err(invalid(
            "must be ASCII: give an internationalized name in its punycode (`xn--`) form",
        ));
    }

    let (host, port) = if let Some(bracketed) = entry.strip_prefix('[') {
        let (inside, after) = bracketed
            .split_once(']')
            .ok_or_else(|| invalid("has a `[` without its `]`"))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| invalid("may only have `:port` after `]`"))?,
            ),
        };
        let address: Ipv6Addr = inside
            .parse()
            .map_err(|_| invalid("is not a valid IPv6 address in brackets"))?;
        (format!("[{address}]"), port)
    } else {
        if entry.contains('[') || entry.contains(']') {
            return Err(invalid(
                "may only use brackets around an IPv6 address (`[2001:db8::1]`)",
            ));
        }
        let (host, port) = match entry.split_once(':') {
            None => (entry, None),
            Some((_, rest)) if rest.contains(':') => {
                return Err(invalid(
                    "must put an IPv6 address in brackets (`[2001:db8::1]:443`)",
                ));
            }
            Some((host, port)) => (host, Some(port)),
        };
        (normalize_name(host).map_err(invalid)?, port)
    };

    match port {
        None => Ok(host),
        Some(port) => {
            let port = parse_port(port).map_err(invalid)?;
            Ok(format!("{host}:{port}"))
        }
    }
}

/// Normalizes a host that is not bracketed: a DNS name (maybe after `*.`) or an IPv4
/// address.
fn normalize_name(host: &str) -> Result<String, &'static str> {
    if host.is_empty() {
        return Err("has no host before the `:port`");
    }
    if host.len() > MAX_HOST_NAME_LEN {
        return Err("is longer than 253 characters");
    }
    let (wildcard, name) = match host.strip_prefix("*.") {
        Some(name) => (true, name),
        None => (false, host),
    };
    if name.contains('*') {
        return Err("may only have `*` as its whole first label (`*.example.com`)");
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.iter().any(|label| label.is_empty()) {
        return Err("has an empty label (a leading or trailing `.`, or `..`)");
    }
    let last = labels.last().copied().unwrap_or_default();
    if looks_numeric(last) {
        if wildcard {
            return Err("may only put a wildcard before a domain name, not an IP address");
        }
        return match name.parse::<Ipv4Addr>() {
            Ok(address) => Ok(address.to_string()),
            Err(_) => Err(
                "ends in a numeric label, so it must be an IPv4 address in dotted decimal \
                 (four numbers 0 to 255, no leading zeros)",
            ),
        };
    }
    for label in &labels {
        if label.len() > MAX_LABEL_LEN {
            return Err("has a label longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err("may only contain letters, digits, `-` and `.`");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("has a label starting or ending with `-`");
        }
    }
    let name = name.to_ascii_lowercase();
    Ok(if wildcard { format!("*.{name}") } else { name })
}

/// Whether a host name's last label reads as a number to a URL parser (decimal, or `0x`
/// hex), which then takes the whole name for an IPv4 address.
fn looks_numeric(label: &str) -> bool {
    if label.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    match label
        .strip_prefix("0x")
        .or_else(|| label.strip_prefix("0X"))
    {
        Some(hex) => hex.bytes().all(|b| b.is_ascii_hexdigit()),
        None => false,
    }
}

/// A port, 1 to 65535, in decimal.
fn parse_port(text: &str) -> Result<u16, &'static str> {
    const REASON: &str = "must have a port from 1 to 65535 after `:`";
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(REASON);
    }
    match text.parse::<u16>() {
        Ok(port) if port >= 1 => Ok(port),
        _ => Err(REASON),
    }
}

/// Normalizes every entry, collapses duplicates, sorts, and checks the count.
fn normalize_list(hosts: &[String]) -> Result<Vec<String>> {
    let normalized = hosts
        .iter()
        .map(|entry| normalize_http_host(entry))
        .collect::<Result<BTreeSet<String>>>()?;
    if normalized.len() > MAX_HTTP_ALLOWLIST_ENTRIES {
        return Err(RegistryError::TooManyHttpHosts {
            given: normalized.len(),
            limit: MAX_HTTP_ALLOWLIST_ENTRIES,
        });
    }
    Ok(normalized.into_iter().collect())
}

/// A tenant's allowlist, sorted, read on `conn`.
async fn allowlist_on(conn: &mut AnyConnection, tenant: &TenantId) -> Result<Vec<String>> {
    let mut hosts: Vec<String> =
        sqlx::query_scalar("SELECT host FROM tenant_http_allow WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_all(conn)
            .await?;
    // Sorted here, bytewise, rather than by the database's collation.
    hosts.sort_unstable();
    Ok(hosts)
}

impl Registry {
    /// The hosts `tenant`'s apps may send HTTP requests to, as [`normalize_http_host`]
    /// returned them, sorted. Empty for a tenant with no list (or no such tenant).
    pub async fn http_allowlist(&self, tenant: &TenantId) -> Result<Vec<String>> {
        let mut conn = self.pool.acquire().await?;
        allowlist_on(&mut conn, tenant).await
    }

    /// Replaces `tenant`'s HTTP allowlist with `hosts` (an empty slice clears it) in one
    /// transaction, and returns the list as stored: normalized, without duplicates, sorted.
    /// Operators only. Every entry must pass [`normalize_http_host`], and there may be at most
    /// [`MAX_HTTP_ALLOWLIST_ENTRIES`] distinct ones; otherwise nothing changes.
    pub async fn set_http_allowlist(
        &self,
        by: &Principal,
        tenant: &TenantId,
        hosts: &[String],
    ) -> Result<Vec<String>> {
        if !by.is_operator() {
            return Err(RegistryError::Forbidden);
        }
        let hosts = normalize_list(hosts)?;
        let mut change = self.change().await?;
        let tenant_name = change.tenant_name(tenant).await?;
        let before = allowlist_on(&mut change.tx, tenant).await?;
        sqlx::query("DELETE FROM tenant_http_allow WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .execute(&mut *change.tx)
            .await?;
        for host in &hosts {
            sqlx::query("INSERT INTO tenant_http_allow (tenant_id, host) VALUES ($1, $2)")
                .bind(tenant.as_str())
                .bind(host)
                .execute(&mut *change.tx)
                .await?;
        }
        change
            .commit(AuditRecord::new(
                by,
                "http_allow.set",
                format!("tenant:{tenant_name}"),
                Some(tenant),
                json!({ "before": before, "after": hosts }),
            ))
            .await?;
        Ok(hosts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The normalized entry, panicking with the error otherwise.
    fn ok(entry: &str) -> String {
        match normalize_http_host(entry) {
            Ok(host) => host,
            Err(e) => panic!("{entry:?} refused: {e}"),
        }
    }

    /// The reason `entry` is refused, panicking if it is accepted.
    fn refused(entry: &str) -> &'static str {
        match normalize_http_host(entry) {
            Err(RegistryError::InvalidHttpHost { entry: e, reason }) => {
                assert_eq!(e, entry, "the error names the entry as given");
                reason
            }
            other => panic!("{entry:?} should be refused, got {other:?}"),
        }
    }

    #[test]
    fn dns_names_are_lowercased() {
        assert_eq!(ok("example.com"), "example.com");
        assert_eq!(ok("API.Example.COM"), "api.example.com");
        assert_eq!(ok("localhost"), "localhost");
        assert_eq!(ok("my-api.example-2.com"), "my-api.example-2.com");
        assert_eq!(ok("xn--bcher-kva.example"), "xn--bcher-kva.example");
        assert_eq!(ok("3com.com"), "3com.com");
        assert_eq!(ok("a.b.c.d.e"), "a.b.c.d.e");
    }

    #[test]
    fn ports() {
        assert_eq!(ok("example.com:443"), "example.com:443");
        assert_eq!(ok("example.com:1"), "example.com:1");
        assert_eq!(ok("example.com:65535"), "example.com:65535");
        assert_eq!(ok("example.com:08080"), "example.com:8080");
        for bad in [
            "example.com:",
            "example.com:0",
            "example.com:65536",
            "example.com:123456",
            "example.com:http",
            "example.com:+80",
            "example.com:-1",
            "[::1]:",
            "[::1]:0",
        ] {
            assert!(refused(bad).contains("port"), "{bad}");
        }
    }

    #[test]
    fn wildcards() {
        assert_eq!(ok("*.example.com"), "*.example.com");
        assert_eq!(ok("*.Example.com:8443"), "*.example.com:8443");
        for bad in [
            "*",
            "*.",
            "*example.com",
            "a.*.example.com",
            "*.*.example.com",
            "**.example.com",
            "example.*",
            "*.192.0.2.1",
        ] {
            refused(bad);
        }
    }

    #[test]
    fn ip_addresses() {
        assert_eq!(ok("192.0.2.1"), "192.0.2.1");
        assert_eq!(ok("127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(ok("[::1]"), "[::1]");
        assert_eq!(ok("[2001:DB8:0:0::1]:443"), "[2001:db8::1]:443");
        assert_eq!(ok("[::ffff:192.0.2.1]"), "[::ffff:192.0.2.1]");
        for bad in [
            "256.0.0.1",
            "1.2.3",
            "01.2.3.4",
            "1.2.3.4.5",
            "example.123",
            "0x7f000001",
            "example.0x1f",
            "::1",
            "2001:db8::1",
            "[::1",
            "::1]",
            "[not-ip]",
            "[::1]x",
            "[::1]:80:80",
            "[fe80::1%eth0]",
            "[192.0.2.1]",
        ] {
            refused(bad);
        }
    }

    #[test]
    fn urls_userinfo_spaces_and_empty_are_refused() {
        assert!(refused("").contains("empty"));
        assert!(refused("https://example.com").contains("scheme"));
        assert!(refused("example.com/path").contains("path"));
        assert!(refused("example.com?q=1").contains("query"));
        assert!(refused("example.com#top").contains("fragment"));
        assert!(refused("user@example.com").contains("userinfo"));
        assert!(refused("user:pw@example.com").contains("userinfo"));
        assert!(refused(" example.com").contains("spaces"));
        assert!(refused("example.com ").contains("spaces"));
        assert!(refused("exa mple.com").contains("spaces"));
        assert!(refused("example.com\t").contains("spaces"));
        assert!(refused("exa\u{0}mple.com").contains("control"));
        assert!(refused("bücher.example").contains("punycode"));
    }

    #[test]
    fn labels_and_lengths() {
        let label63 = "a".repeat(63);
        assert_eq!(ok(&format!("{label63}.com")), format!("{label63}.com"));
        assert!(refused(&format!("{}.com", "a".repeat(64))).contains("63"));
        // 4 labels of 61 and 3 dots: 247; with "." and a label of 5: 253.
        let base = vec!["x".repeat(61); 4].join(".");
        let at_limit = format!("{base}.{}", "y".repeat(5));
        assert_eq!(at_limit.len(), 253);
        assert_eq!(ok(&at_limit), at_limit);
        assert!(refused(&format!("{at_limit}z")).contains("253"));
        for bad in [
            ".example.com",
            "example.com.",
            "example..com",
            "-example.com",
            "example-.com",
            "exam_ple.com",
            "example.com:80:80",
            ":80",
            "ex!ample.com",
        ] {
            refused(bad);
        }
    }

    #[test]
    fn lists_collapse_duplicates_sort_and_are_bounded() {
        let list = |hosts: &[&str]| {
            normalize_list(&hosts.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>())
        };
        assert_eq!(
            list(&["b.example", "A.example", "a.example", "b.example"]).unwrap(),
            ["a.example", "b.example"]
        );
        assert_eq!(list(&[]).unwrap(), Vec::<String>::new());
        assert!(matches!(
            list(&["ok.example", "not ok"]),
            Err(RegistryError::InvalidHttpHost { entry, .. }) if entry == "not ok"
        ));
        let hosts: Vec<String> = (0..=MAX_HTTP_ALLOWLIST_ENTRIES)
            .map(|i| format!("h{i}.example"))
            .collect();
        assert_eq!(
            normalize_list(&hosts[..MAX_HTTP_ALLOWLIST_ENTRIES])
                .unwrap()
                .len(),
            MAX_HTTP_ALLOWLIST_ENTRIES
        );
        assert!(matches!(
            normalize_list(&hosts),
            Err(RegistryError::TooManyHttpHosts {
                given: 101,
                limit: 100
            })
        ));
        // Duplicates do not count twice.
        let mut doubled = hosts[..MAX_HTTP_ALLOWLIST_ENTRIES].to_vec();
        doubled.extend(doubled.clone());
        assert_eq!(
            normalize_list(&doubled).unwrap().len(),
            MAX_HTTP_ALLOWLIST_ENTRIES
        );
    }
}
