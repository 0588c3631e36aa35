//! `--log-format json`, end to end: the host's logger (the very subscriber `livewasm serve`
//! installs) writes into a buffer while a platform host serves real sockets. Every line is a
//! JSON object; lines about a socket carry its tenant, app (the registry's names), version and
//! socket id, guest log lines their tenant and app, and lines about an HTTP request its id,
//! which the response echoes in `x-request-id`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use livewasm_integration_tests::platform::{Api, Database, app_origin, http_request, roomy_quotas};
use livewasm_integration_tests::{PhxSocket, TestServer, WAIT, get_from};
use livewasm_server::logging::{Filter, LogFormat, install};
use serde_json::{Value, json};

/// A writer keeping every line written.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Every line so far, each parsed as JSON (panics on a line that is not).
    fn lines(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
            })
            .collect()
    }
}

/// The value of field `name` in the line's spans (innermost first) or its own fields.
fn field<'a>(line: &'a Value, name: &str) -> Option<&'a Value> {
    line["fields"].get(name).or_else(|| {
        line["spans"]
            .as_array()?
            .iter()
            .rev()
            .find_map(|span| span.get(name))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_name_the_socket_the_app_and_the_request() {
    let captured = Captured::default();
    let writer = captured.clone();
    install(
        LogFormat::Json,
        Filter::new("info,livewasm_server=debug"),
        move || writer.clone(),
        None,
    )
    .expect("the only logger of this test binary");

    let db = Database::sqlite();
    let (server, registry) = TestServer::start_platform(&db.location, roomy_quotas()).await;
    let operator = livewasm_server::platform::bootstrap_operator_token(&registry)
        .await
        .expect("operator token");
    let operator = Api::new(server.addr, Some(&operator.token));
    operator.create_tenant("globex").await;
    operator.create_app("globex", "burner", "hostile").await;

    // An HTTP request: its response names its id.
    let addr = server.addr;
    let host = app_origin(addr, "globex", "burner");
    let response = http_request(addr, "GET", &host, "/hostile", &[], None)
        .await
        .unwrap();
    let request_id = response
        .headers
        .iter()
        .find(|(name, _)| name == "x-request-id")
        .map(|(_, value)| value.clone())
        .expect("x-request-id");
    assert_eq!(request_id.len(), 16, "{request_id}");

    // A socket whose view panics: the guest logs its panic, the host its crash.
    let page = get_from(addr, &host, "/hostile").await.unwrap();
    let cookie = page.cookie_header();
    let mut socket = PhxSocket::connect_to(addr, &host, page.csrf.as_deref(), Some(&cookie))
        .await
        .unwrap();
    let (join_ref, reply) = socket
        .join_page(&page, &format!("http://{host}/hostile"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    let topic = page.topic();
    socket.push_click(&join_ref, &topic, "trap").await.unwrap();
    socket.wait_push(&topic, "phx_error", WAIT).await.unwrap();

    let lines = captured.lines();
    assert!(!lines.is_empty());
    // The crash, written on a guest thread, inside the socket's span.
    let crash = lines
        .iter()
        .find(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("view crashed"))
        })
        .unwrap_or_else(|| panic!("no crash line in {lines:#?}"));
    assert_eq!(field(crash, "tenant"), Some(&json!("globex")), "{crash}");
    assert_eq!(field(crash, "app"), Some(&json!("burner")), "{crash}");
    assert_eq!(field(crash, "version"), Some(&json!(1)), "{crash}");
    assert!(
        field(crash, "socket")
            .and_then(Value::as_str)
            .is_some_and(|s| s.len() == 16),
        "{crash}"
    );
    // The guest's own line (its panic), tagged with the registry's names, not "hostile".
    let guest = lines
        .iter()
        .find(|l| {
            l["target"] == "livewasm::guest"
                && l["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("panicked at"))
        })
        .unwrap_or_else(|| panic!("no guest line in {lines:#?}"));
    assert_eq!(guest["fields"]["tenant"], "globex", "{guest}");
    assert_eq!(guest["fields"]["app"], "burner", "{guest}");
    assert!(field(guest, "socket").is_some(), "{guest}");
    // The page request's line names its id.
    assert!(
        lines
            .iter()
            .any(|l| field(l, "request_id") == Some(&json!(request_id))),
        "no line of request {request_id} in {lines:#?}"
    );
    db.cleanup().await;
}
