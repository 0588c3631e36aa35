//! `livewasm serve` with `OTEL_EXPORTER_OTLP_ENDPOINT` exports its spans over OTLP/HTTP: a
//! collector on loopback (this test) receives the dead render's `request` span, the socket's
//! `message` span per frame (inside the socket's span), with their fields as attributes, under
//! the service name `livewasm`. Without the variable nothing is sent.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::routing::post;
use livewasm_integration_tests::{PhxSocket, get};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message;
use serde_json::json;

/// A span as the collector received it.
#[derive(Debug, Clone)]
struct Received {
    service: String,
    name: String,
    attributes: Vec<(String, String)>,
    trace_id: Vec<u8>,
    parent_span_id: Vec<u8>,
}

impl Received {
    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn text(value: &KeyValue) -> (String, String) {
    let shown = match value.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        other => format!("{other:?}"),
    };
    (value.key.clone(), shown)
}

/// An OTLP/HTTP collector on a loopback port keeping every span it is sent.
async fn collector() -> (SocketAddr, Arc<Mutex<Vec<Received>>>) {
    let spans = Arc::new(Mutex::new(Vec::new()));
    let kept = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let kept = kept.clone();
            async move {
                let request = ExportTraceServiceRequest::decode(body).expect("an OTLP request");
                let mut kept = kept.lock().expect("lock");
                for resource in request.resource_spans {
                    let service = resource
                        .resource
                        .iter()
                        .flat_map(|r| r.attributes.iter().map(text))
                        .find(|(k, _)| k == "service.name")
                        .map(|(_, v)| v)
                        .unwrap_or_default();
                    for span in resource.scope_spans.into_iter().flat_map(|s| s.spans) {
                        kept.push(Received {
                            service: service.clone(),
                            name: span.name.clone(),
                            attributes: span.attributes.iter().map(text).collect(),
                            trace_id: span.trace_id.clone(),
                            parent_span_id: span.parent_span_id.clone(),
                        });
                    }
                }
                // An empty ExportTraceServiceResponse.
                ""
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("collector port");
    let addr = listener.local_addr().expect("collector address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("collector") });
    (addr, spans)
}

/// `livewasm serve --app thermostat` on a free port with `env`, killed when dropped.
struct Host {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Host {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

async fn host(env: &[(&str, String)]) -> Host {
    let component =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/components/thermostat.wasm");
    assert!(
        component.is_file(),
        "{} is missing: `cargo xtask build thermostat` first",
        component.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_livewasm"));
    command
        .args([
            "serve",
            "--no-cache",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--app")
        .arg(&component)
        .env("LIVEWASM_SECRET_KEY", "ef".repeat(32))
        .env("RUST_LOG", "info")
        .env_remove("DATABASE_URL")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_SDK_DISABLED")
        .env_remove("OTEL_SERVICE_NAME")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let host = Host {
        child: command.spawn().expect("start livewasm serve"),
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    };
    let started = Instant::now();
    while get(host.addr, "/health").await.map(|p| p.status).ok() != Some(200) {
        assert!(started.elapsed() < Duration::from_secs(60), "no answer");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    host
}

/// Loads the thermostat, joins it and clicks once.
async fn use_the_thermostat(addr: SocketAddr) {
    let page = get(addr, "/thermostat?house=3&tick=off")
        .await
        .expect("page");
    assert_eq!(page.status, 200, "{}", page.body);
    let mut socket = PhxSocket::connect_page(addr, &page).await.expect("socket");
    let url = format!("http://{addr}/thermostat?house=3&tick=off");
    let (join_ref, reply) = socket.join_page(&page, &url).await.expect("join");
    assert_eq!(reply["status"], "ok", "{reply}");
    let reply = socket
        .event(&join_ref, &page.topic(), "click", "inc", json!({}))
        .await
        .expect("event");
    assert_eq!(reply["status"], "ok", "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_an_otlp_collector() {
    let (collector, spans) = collector().await;
    let host = host(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{collector}")),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
    ])
    .await;
    use_the_thermostat(host.addr).await;
    // The socket's span ends when the host stops (it closes the socket); its messages' spans
    // end as each frame is handled.
    let started = Instant::now();
    let received = loop {
        let received = spans.lock().expect("lock").clone();
        let click = received
            .iter()
            .any(|s| s.name == "message" && s.attribute("event") == Some("event"));
        if click {
            break received;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no `message` span for the click: {received:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        received.iter().all(|s| s.service == "livewasm"),
        "{received:#?}"
    );
    let page = received
        .iter()
        .find(|s| s.name == "request" && s.attribute("path") == Some("/thermostat"))
        .unwrap_or_else(|| panic!("no request span for the page: {received:#?}"));
    assert_eq!(page.attribute("method"), Some("GET"));
    assert_eq!(
        page.attribute("request_id").map(str::len),
        Some(16),
        "{page:?}"
    );
    let join = received
        .iter()
        .find(|s| s.name == "message" && s.attribute("event") == Some("phx_join"))
        .unwrap_or_else(|| panic!("no message span for the join: {received:#?}"));
    assert!(
        join.attribute("topic")
            .is_some_and(|t| t.starts_with("lv:")),
        "{join:?}"
    );
    let click = received
        .iter()
        .find(|s| s.name == "message" && s.attribute("event") == Some("event"))
        .expect("the click");
    // Both frames belong to the socket's trace, under its span.
    assert_eq!(join.trace_id, click.trace_id);
    assert_eq!(join.parent_span_id, click.parent_span_id);
    assert!(!join.parent_span_id.is_empty());
    assert!(
        !received
            .iter()
            .any(|s| s.name == "message" && s.attribute("event") == Some("heartbeat")),
        "heartbeats are not traced"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_sent_without_an_endpoint_or_when_disabled() {
    let (collector, spans) = collector().await;
    let quiet = host(&[]).await;
    use_the_thermostat(quiet.addr).await;
    let disabled = host(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{collector}")),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
        ("OTEL_SDK_DISABLED", "true".into()),
    ])
    .await;
    use_the_thermostat(disabled.addr).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(spans.lock().expect("lock").is_empty());
}
