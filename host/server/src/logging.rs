//! The host's log output: human-readable text (the default) or one JSON object per line
//! (`--log-format json`), both filtered by `RUST_LOG` (default `info`).
//!
//! Lines about a socket are written inside its `socket` span (`socket`, `tenant`, `app`,
//! `version`), lines about an HTTP request inside its `request` span (`request_id`, `method`,
//! `path`), and guest work runs in the span of whoever asked for it, whatever thread it runs
//! on: in JSON each line carries those spans (`span`, `spans`); in text they prefix it.

use std::str::FromStr;

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::telemetry::Telemetry;

/// Which lines are written (`RUST_LOG` syntax: `info,livewasm_server=debug`).
pub type Filter = EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (control characters in guest lines escaped).
    #[default]
    Text,
    /// One JSON object per line, with the current span and every span above it.
    Json,
}

/// A `--log-format` value that is neither `text` nor `json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown log format `{0}` (expected `text` or `json`)")]
pub struct UnknownLogFormat(String);

impl FromStr for LogFormat {
    type Err = UnknownLogFormat;

    fn from_str(text: &str) -> Result<LogFormat, UnknownLogFormat> {
        match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(UnknownLogFormat(other.to_string())),
        }
    }
}

/// The filter from `RUST_LOG`, `info` when it is unset or does not parse.
pub fn env_filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

/// A subscriber writing `format` lines that pass `filter` to `writer` (stderr, a file, a
/// test's buffer).
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    layered(format, filter, writer, None)
}

/// [`subscriber`], and when `telemetry` is given its spans also go to OpenTelemetry (the same
/// filter decides which).
fn layered<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
    telemetry: Option<&Telemetry>,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let lines = tracing_subscriber::fmt::layer().with_writer(writer);
    let lines: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Text => lines.boxed(),
        LogFormat::Json => lines
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .boxed(),
    };
    let traces = telemetry.map(Telemetry::layer);
    Box::new(
        tracing_subscriber::registry()
            .with(lines)
            .with(traces)
            .with(filter),
    )
}

/// Installs [`subscriber`] as the process's logger (once per process; a second call fails),
/// exporting spans to `telemetry` too when given (see [`Telemetry::from_env`]).
pub fn install<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
    telemetry: Option<&Telemetry>,
) -> Result<(), tracing::subscriber::SetGlobalDefaultError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing::subscriber::set_global_default(layered(format, filter, writer, telemetry))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A writer keeping what it is given.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_carry_the_spans_they_are_written_in() {
        assert_eq!("json".parse(), Ok(LogFormat::Json));
        assert_eq!("text".parse(), Ok(LogFormat::Text));
        assert!("xml".parse::<LogFormat>().is_err());
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = subscriber(LogFormat::Json, EnvFilter::new("info"), move || {
            writer.clone()
        });
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("socket", socket = "s1", tenant = "acme", app = "shop");
            let _entered = span.enter();
            tracing::info!(target: "livewasm::guest", "a\nb");
        });
        let text = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
        let line: serde_json::Value = serde_json::from_str(text.trim()).expect("one JSON line");
        assert_eq!(line["fields"]["message"], "a\nb");
        assert_eq!(line["span"]["tenant"], "acme");
        assert_eq!(line["spans"][0]["socket"], "s1");
    }
}
