//! A task's value stays inside its bounds: at most 1 MiB of JSON (`MAX_TASK_RESULT_BYTES`),
//! and charged to its socket's inbox byte budget until `handle-async` takes it. A value past
//! either reaches the view as a failed result naming the limit, never as host memory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_integration_tests::{PhxSocket, TestServer, WAIT, get};
use livewasm_runtime::MAX_TASK_RESULT_BYTES;
use livewasm_server::ServerConfig;
use serde_json::{Value, json};

/// The socket's inbox budget in this test.
const INBOX_BYTES: usize = 256 * 1024;

/// Starts the `hoard` task for a value of `bytes` and returns what the view shows of its end.
async fn outcome(socket: &mut PhxSocket, join_ref: &str, topic: &str, bytes: usize) -> String {
    let reply = socket
        .event(join_ref, topic, "click", "task", json!({"bytes": bytes}))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    let frame = socket.wait_push(topic, "diff", WAIT).await.unwrap();
    find_text(&frame[4]).unwrap_or_else(|| panic!("no outcome in {frame}"))
}

/// The first string of a diff that reads like an outcome (HTML-escaped as rendered).
fn find_text(diff: &Value) -> Option<String> {
    match diff {
        Value::String(s) if s.starts_with("ok ") || s.starts_with("error: ") => {
            Some(s.replace("&#39;", "'"))
        }
        Value::Object(map) => map.values().find_map(find_text),
        Value::Array(items) => items.iter().find_map(find_text),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_values_past_the_size_limit_or_the_inbox_budget_become_failed_results() {
    let config = ServerConfig {
        inbox_bytes_per_socket: INBOX_BYTES,
        ..ServerConfig::default()
    };
    let (server, host) = TestServer::start_configured(&["hostile"], config).await;
    let page = get(server.addr, "/hostile/task").await.unwrap();
    let topic = page.topic();
    let mut socket = PhxSocket::connect_page(server.addr, &page).await.unwrap();
    let (join_ref, reply) = socket
        .join_page(&page, &server.url("/hostile/task"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");

    // Within both bounds: delivered whole.
    assert_eq!(
        outcome(&mut socket, &join_ref, &topic, 100_000).await,
        "ok 100000"
    );
    // Fits the task limit, not the socket's inbox.
    assert_eq!(
        outcome(&mut socket, &join_ref, &topic, 300_000).await,
        "error: the task's value of 300000 bytes does not fit the socket's inbox"
    );
    // Past the task limit.
    let big = MAX_TASK_RESULT_BYTES + 10;
    assert_eq!(
        outcome(&mut socket, &join_ref, &topic, big).await,
        format!(
            "error: the task's value of {big} bytes exceeds the limit of {MAX_TASK_RESULT_BYTES} bytes"
        )
    );
    // The view goes on, and nothing waits in the inbox.
    assert_eq!(outcome(&mut socket, &join_ref, &topic, 10).await, "ok 10");
    assert_eq!(host.pending_inbox_bytes(), 0);
    assert!(server.is_running());
}
