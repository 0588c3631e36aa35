//! OpenTelemetry traces: when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, the host's spans (`request`, `socket`, and a
//! `message` span per frame a socket handles, with their fields as attributes) are exported over
//! OTLP/HTTP (protobuf) in batches, as Spin and wasmCloud do. The standard variables apply:
//! `OTEL_SERVICE_NAME` (default `livewasm`), `OTEL_RESOURCE_ATTRIBUTES`,
//! `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_BSP_SCHEDULE_DELAY` and the
//! other batch settings; `OTEL_SDK_DISABLED=true` turns export off.
//!
//! Export runs on a thread of its own: a collector that is down or slow costs dropped spans
//! (the batch queue is bounded), never a stalled socket.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

/// The variables that turn export on.
const ENDPOINT_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
];

/// Why traces could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The OTLP exporter could not be built (a malformed endpoint or header).
    #[error("OpenTelemetry exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
}

/// Trace export, while it lives; [`Telemetry::shutdown`] (or dropping it) sends what is queued.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// Trace export as the environment configures it: `None` when no endpoint is set or
    /// `OTEL_SDK_DISABLED` is `true`.
    ///
    /// # Errors
    /// [`TelemetryError`] when an endpoint is set but the exporter cannot be built from it.
    pub fn from_env() -> Result<Option<Telemetry>, TelemetryError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let disabled = var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if disabled || !ENDPOINT_VARS.iter().any(|name| var(name).is_some()) {
            return Ok(None);
        }
        // The endpoint, headers and timeout come from the standard variables.
        let exporter = SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .build()?;
        let mut resource = Resource::builder();
        if var("OTEL_SERVICE_NAME").is_none() {
            resource = resource.with_service_name("livewasm");
        }
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build();
        Ok(Some(Telemetry { provider }))
    }

    /// The `tracing` layer that turns spans into OpenTelemetry spans for this exporter.
    pub fn layer<S>(&self) -> impl Layer<S> + Send + Sync + 'static
    where
        S: Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
    {
        tracing_opentelemetry::layer().with_tracer(self.provider.tracer("livewasm"))
    }

    /// Sends what is queued and stops exporting (waits for the collector up to its timeout).
    pub fn shutdown(&self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("OpenTelemetry: {error}");
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        // A second shutdown (after an explicit one) only reports that it was already done.
        let _ = self.provider.shutdown();
    }
}
