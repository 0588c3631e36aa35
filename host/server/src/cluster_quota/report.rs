//! What a host tells the others of its instances: an [`InstanceReport`], as JSON on
//! [`SUBJECT`](super::SUBJECT).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The format of the reports this host sends and reads.
pub const REPORT_VERSION: u8 = 1;

/// The largest report sent or read (well under NATS's default 1 MiB payload): some ten
/// thousand tenants with instances on one host.
pub const MAX_REPORT_BYTES: usize = 512 * 1024;

/// One host's instances per tenant at one moment. A report replaces the previous one from
/// the same host; a tenant left out runs nothing there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceReport {
    /// The format, [`REPORT_VERSION`].
    pub version: u8,
    /// The reporting host's cluster id (random per start).
    pub host: u64,
    /// Tenant name → instances running on that host (views, dead renders, HTTP handlers,
    /// tasks), tenants with none left out.
    pub tenants: BTreeMap<String, u64>,
}

/// Why a report is not sent, or not counted.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Past [`MAX_REPORT_BYTES`].
    #[error("{0} bytes: past the report size limit")]
    TooLarge(usize),
    /// Another report format.
    #[error("unknown report version {0}")]
    Version(u8),
    /// Not a report.
    #[error("malformed report: {0}")]
    Malformed(#[from] serde_json::Error),
}

impl InstanceReport {
    /// The report of host `host` with `tenants`.
    pub fn new(host: u64, tenants: BTreeMap<String, u64>) -> InstanceReport {
        InstanceReport {
            version: REPORT_VERSION,
            host,
            tenants,
        }
    }

    /// The report's bytes; refused past [`MAX_REPORT_BYTES`].
    pub fn encode(&self) -> Result<Vec<u8>, ReportError> {
        let bytes = serde_json::to_vec(self)?;
        if bytes.len() > MAX_REPORT_BYTES {
            return Err(ReportError::TooLarge(bytes.len()));
        }
        Ok(bytes)
    }

    /// Reads a report received from NATS.
    pub fn decode(bytes: &[u8]) -> Result<InstanceReport, ReportError> {
        if bytes.len() > MAX_REPORT_BYTES {
            return Err(ReportError::TooLarge(bytes.len()));
        }
        let report: InstanceReport = serde_json::from_slice(bytes)?;
        if report.version != REPORT_VERSION {
            return Err(ReportError::Version(report.version));
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip_as_json() {
        let report = InstanceReport::new(7, BTreeMap::from([("acme".to_string(), 3)]));
        let bytes = report.encode().expect("encoded");
        assert_eq!(
            std::str::from_utf8(&bytes).expect("text"),
            r#"{"version":1,"host":7,"tenants":{"acme":3}}"#
        );
        assert_eq!(InstanceReport::decode(&bytes).expect("decoded"), report);
    }

    #[test]
    fn odd_reports_are_refused() {
        for bad in [
            &b""[..],
            b"[]",
            b"{\"version\":1,\"host\":7}",
            b"{\"version\":1,\"host\":-1,\"tenants\":{}}",
            b"{\"version\":1,\"host\":7,\"tenants\":{\"acme\":-2}}",
            b"{\"version\":1,\"host\":7,\"tenants\":{\"acme\":1.5}}",
        ] {
            assert!(
                matches!(InstanceReport::decode(bad), Err(ReportError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(matches!(
            InstanceReport::decode(br#"{"version":2,"host":7,"tenants":{}}"#),
            Err(ReportError::Version(2))
        ));
        let huge = vec![b' '; MAX_REPORT_BYTES + 1];
        assert!(matches!(
            InstanceReport::decode(&huge),
            Err(ReportError::TooLarge(_))
        ));
        let many: BTreeMap<String, u64> = (0..40_000).map(|n| (format!("tenant-{n}"), 1)).collect();
        assert!(matches!(
            InstanceReport::new(7, many).encode(),
            Err(ReportError::TooLarge(_))
        ));
    }
}
