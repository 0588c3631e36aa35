//! The process's open-file limit, which bounds the sockets a host can hold (one file
//! descriptor each): raised at start from the soft limit to the hard one, as servers holding
//! many sockets do, and the default `max_connections` derived from it.

/// Descriptors left for everything but client connections: the registry and SQL databases,
/// the artifact cache, outgoing requests, the cluster's connection, logs.
pub const RESERVED_FILES: u64 = 1_024;

/// Connections served at once by default when the open-file limit allows it.
pub const DEFAULT_MAX_CONNECTIONS: usize = 100_000;

/// Raises the soft open-file limit to the hard one and returns the limit now in force;
/// `None` where it cannot be read (not Unix).
#[cfg(unix)]
pub fn raise_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes into the struct we own and reads nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: `setrlimit` only reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit.rlim_cur = limit.rlim_max;
        } else {
            tracing::warn!(
                soft = limit.rlim_cur,
                hard = limit.rlim_max,
                "could not raise the open-file limit"
            );
        }
    }
    Some(limit.rlim_cur)
}

/// Not Unix: the limit is not known.
#[cfg(not(unix))]
pub fn raise_limit() -> Option<u64> {
    None
}

/// The connections a host serves at once by default under the open-file `limit`:
/// [`DEFAULT_MAX_CONNECTIONS`], or the limit less [`RESERVED_FILES`] when that is lower (at
/// least 64). Past it connections wait in the listen backlog instead of failing to be accepted.
pub fn default_max_connections(limit: Option<u64>) -> usize {
    let Some(limit) = limit else {
        return DEFAULT_MAX_CONNECTIONS;
    };
    let fits = usize::try_from(limit.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX);
    fits.clamp(64, DEFAULT_MAX_CONNECTIONS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_leaves_room_for_other_files() {
        assert_eq!(default_max_connections(None), DEFAULT_MAX_CONNECTIONS);
        assert_eq!(
            default_max_connections(Some(1 << 20)),
            DEFAULT_MAX_CONNECTIONS
        );
        assert_eq!(default_max_connections(Some(20_000)), 18_976);
        assert_eq!(default_max_connections(Some(1_024)), 64);
    }

    #[test]
    fn raising_keeps_a_limit_at_least_as_high() {
        if let Some(limit) = raise_limit() {
            assert!(limit >= 64, "{limit}");
            assert_eq!(raise_limit(), Some(limit), "raising twice changes nothing");
        }
    }
}
