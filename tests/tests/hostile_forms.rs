//! Hostile form and event input over a real WebSocket, against the registration example: every
//! case gets a clear error reply (or, past the frame limit, a closed socket), and the view — and
//! every other socket — keeps working.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_integration_tests::{Page, PhxSocket, TestServer, WAIT, get};
use serde_json::{Value, json};

/// Loads the registration page and joins its view; returns the socket, page and join ref.
async fn joined(server: &TestServer) -> (PhxSocket, Page, String) {
    let page = get(server.addr, "/users/register").await.unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    let mut socket = PhxSocket::connect_page(server.addr, &page).await.unwrap();
    let (join_ref, reply) = socket
        .join_page(&page, &server.url("/users/register"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    (socket, page, join_ref)
}

/// Sends a form event the way the client does (urlencoded value, `_target` in meta).
async fn form_event(
    socket: &mut PhxSocket,
    join_ref: &str,
    topic: &str,
    event: &str,
    value: Value,
) -> Value {
    let msg_ref = socket
        .push(
            Some(join_ref),
            topic,
            "event",
            json!({"type": "form", "event": event, "value": value,
                   "meta": {"_target": "user[email]"}, "uploads": {}}),
        )
        .await
        .unwrap();
    socket.reply_to(&msg_ref, WAIT).await.unwrap()
}

fn status(reply: &Value) -> &str {
    reply["status"].as_str().unwrap_or("")
}

fn reason(reply: &Value) -> String {
    reply["response"]["reason"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// A well-formed validate event still works: the reply's diff shows the email error.
async fn still_validates(socket: &mut PhxSocket, join_ref: &str, topic: &str) {
    let reply = form_event(
        socket,
        join_ref,
        topic,
        "validate",
        json!("user%5Bemail%5D=bad&user%5B_unused_password%5D=&user%5Bpassword%5D="),
    )
    .await;
    assert_eq!(status(&reply), "ok", "{reply}");
    assert!(
        reply
            .to_string()
            .contains("must have the @ sign and no spaces"),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_form_values_get_clear_errors_and_the_form_keeps_working() {
    let server = TestServer::start(&["registration"]).await;
    let (mut socket, page, join_ref) = joined(&server).await;
    let topic = page.topic();

    // Not urlencoded at all: decoded to something harmless, and the view answers.
    for garbage in [
        "%%%\u{0}&&==",
        "user[email]=%FF%FE%00",
        "]]]][[[[=x",
        "user%5Bemail=1",
    ] {
        let reply = form_event(&mut socket, &join_ref, &topic, "validate", json!(garbage)).await;
        assert_eq!(status(&reply), "ok", "{garbage}: {reply}");
    }
    // Values that are not an urlencoded string, keys nested 10,000 deep, too many fields.
    let deep = format!("user{}=1", "%5Bx%5D".repeat(10_000));
    let many = "user%5Ba%5D=1&".repeat(10_001);
    for (value, expected) in [
        (
            json!({"user": {"email": "x"}}),
            "must be an urlencoded string",
        ),
        (json!(["user[email]=x"]), "must be an urlencoded string"),
        (json!(deep), "nests deeper than 32 levels"),
        (json!(many), "more than 10000 fields"),
    ] {
        let reply = form_event(&mut socket, &join_ref, &topic, "validate", value).await;
        assert_eq!(status(&reply), "error", "{reply}");
        assert!(reason(&reply).contains(expected), "{reply}");
    }
    still_validates(&mut socket, &join_ref, &topic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_nested_10000_deep_is_a_malformed_frame_and_the_socket_survives() {
    let server = TestServer::start(&["registration"]).await;
    let (mut socket, page, join_ref) = joined(&server).await;
    let topic = page.topic();
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let frame = format!(
        "[\"{join_ref}\",\"77\",\"{topic}\",\"event\",{{\"type\":\"click\",\"event\":\"validate\",\"value\":{nested}}}]"
    );
    socket.send_text(&frame).await.unwrap();
    let error = socket
        .wait_for(WAIT, "an error for the nested frame", |f| {
            f[3] == "phx_error" || f[4]["status"] == "error"
        })
        .await
        .unwrap();
    assert!(error.to_string().contains("malformed"), "{error}");
    still_validates(&mut socket, &join_ref, &topic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10_mb_event_closes_only_that_socket() {
    let server = TestServer::start(&["registration"]).await;
    let (mut other, other_page, other_ref) = joined(&server).await;
    let (mut socket, page, join_ref) = joined(&server).await;
    let huge = format!("user%5Bemail%5D={}", "a".repeat(10 << 20));
    let frame = json!([join_ref, "5", page.topic(), "event",
                       {"type": "form", "event": "validate", "value": huge, "meta": {}}]);
    let _ = socket.send_text(&frame.to_string()).await;
    let closed = socket.wait_closed(WAIT).await.unwrap();
    if let Some(reason) = closed {
        assert!(
            reason.contains("1009") || reason.to_lowercase().contains("big"),
            "{reason}"
        );
    }
    still_validates(&mut other, &other_ref, &other_page.topic()).await;
    assert!(server.is_running());
}
