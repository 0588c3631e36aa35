//! Hostile upload traffic over a real WebSocket, against the uploads example: forged tokens,
//! chunks for unknown entries, chunks past the announced size, binary frames on other topics
//! or malformed, bad progress and preflights. Each gets a clear error; the socket, the view
//! and every other socket keep working, and the host's upload space is given back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use livewasm_integration_tests::{Page, PhxSocket, TestServer, WAIT, get};
use livewasm_runtime::{Runtime, RuntimeConfig};
use livewasm_server::{Host, ServerConfig, UploadLimits, encode_binary};
use serde_json::{Value, json};

const DOCS: &str = "phx-upload-documents";

async fn server(limits: UploadLimits) -> (TestServer, Arc<Host>) {
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let host = Host::new(
        runtime.clone(),
        ServerConfig {
            secret_key: b"hostile-uploads-secret-key-0123456789abcdef".to_vec(),
            uploads: limits,
            ..ServerConfig::default()
        },
    );
    let wasm = std::fs::read(livewasm_test::component_path("uploads").unwrap()).unwrap();
    host.add_app(runtime.load_app(&wasm).unwrap()).unwrap();
    let host = Arc::new(host);
    (TestServer::serve_host(host.clone()).await, host)
}

async fn joined(server: &TestServer) -> (PhxSocket, Page, String) {
    let page = get(server.addr, "/uploads").await.unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    let mut socket = PhxSocket::connect_page(server.addr, &page).await.unwrap();
    let (join_ref, reply) = socket
        .join_page(&page, &server.url("/uploads"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    (socket, page, join_ref)
}

async fn call(
    socket: &mut PhxSocket,
    join_ref: &str,
    topic: &str,
    event: &str,
    payload: Value,
) -> Value {
    let msg_ref = socket
        .push(Some(join_ref), topic, event, payload)
        .await
        .unwrap();
    socket.reply_to(&msg_ref, WAIT).await.unwrap()
}

/// Sends one binary chunk and returns the reply.
async fn chunk(socket: &mut PhxSocket, join_ref: &str, topic: &str, data: &[u8]) -> Value {
    let msg_ref = socket.fresh_ref();
    socket
        .send_binary(encode_binary(join_ref, &msg_ref, topic, "chunk", data))
        .await
        .unwrap();
    socket.reply_to(&msg_ref, WAIT).await.unwrap()
}

fn reason(reply: &Value) -> String {
    reply["response"]["reason"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn file(entry_ref: &str, name: &str, size: u64) -> Value {
    json!({"ref": entry_ref, "name": name, "type": "application/pdf", "size": size, "last_modified": 1})
}

/// Preflights one document of `size` bytes; returns its token.
async fn preflight(
    socket: &mut PhxSocket,
    join_ref: &str,
    topic: &str,
    entry_ref: &str,
    size: u64,
) -> Value {
    call(
        socket,
        join_ref,
        topic,
        "allow_upload",
        json!({"ref": DOCS, "entries": [file(entry_ref, "a.pdf", size)]}),
    )
    .await
}

/// The view still answers a normal event.
async fn still_works(socket: &mut PhxSocket, join_ref: &str, topic: &str) {
    let reply = call(
        socket,
        join_ref,
        topic,
        "event",
        json!({"type": "form", "event": "validate", "value": "", "meta": {"_target": "x"}}),
    )
    .await;
    assert_eq!(reply["status"], "ok", "{reply}");
    assert_eq!(socket.heartbeat().await.unwrap()["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tokens_unknown_entries_and_stray_binary_frames_get_clear_errors() {
    let (server, host) = server(UploadLimits::default()).await;
    let (mut socket, page, join_ref) = joined(&server).await;
    let (mut other, other_page, other_join) = joined(&server).await;
    let topic = page.topic();

    let reply = preflight(&mut socket, &join_ref, &topic, "0", 10).await;
    assert_eq!(reply["status"], "ok", "{reply}");
    let token = reply["response"]["entries"]["0"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(reply["response"]["config"]["chunk_size"], 64_000, "{reply}");

    // Bad tokens: forged, or a real one on another entry's topic.
    for (t, tok) in [
        ("lvu:0", "forged"),
        ("lvu:9", token.as_str()),
        ("lvu:0", ""),
    ] {
        let (_, reply) = socket.join(t, json!({"token": tok})).await.unwrap();
        assert_eq!(reply["status"], "error", "{reply}");
        assert_eq!(reason(&reply), "invalid_token", "{reply}");
    }
    // Another socket cannot use this socket's token.
    let (_, reply) = other.join("lvu:0", json!({"token": token})).await.unwrap();
    assert_eq!(reason(&reply), "invalid_token", "{reply}");

    // Chunks for an entry nobody joined.
    let reply = chunk(&mut socket, "99", "lvu:7", b"abc").await;
    assert_eq!(reason(&reply), "unmatched topic", "{reply}");
    // A binary frame on the view's own topic.
    let reply = chunk(&mut socket, &join_ref, &topic, b"abc").await;
    assert!(reason(&reply).contains("upload channels"), "{reply}");
    // Malformed binary frames: a phx_error on `phoenix`, the socket stays open.
    for bytes in [
        vec![],
        vec![1, 0, 0, 0, 0],
        vec![0, 200, 1],
        vec![0, 1, 0, 0, 0, 0xff],
    ] {
        socket.send_binary(bytes).await.unwrap();
        let frame = socket
            .wait_push("phoenix", "phx_error", WAIT)
            .await
            .unwrap();
        assert!(
            frame[4]["reason"]
                .as_str()
                .unwrap()
                .contains("binary frame"),
            "{frame}"
        );
    }

    // The real join works once; twice is refused.
    let (upload_join, reply) = socket.join("lvu:0", json!({"token": token})).await.unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    let (_, reply) = socket.join("lvu:0", json!({"token": token})).await.unwrap();
    assert_eq!(reason(&reply), "already_registered", "{reply}");
    // A chunk with a stale join ref is not taken.
    let reply = chunk(&mut socket, "12345", "lvu:0", b"abc").await;
    assert_eq!(reason(&reply), "unmatched topic", "{reply}");

    // Progress 100 before the bytes, and nonsense progress.
    for progress in [json!(100), json!(101), json!("x"), json!(-1)] {
        let reply = call(
            &mut socket,
            &join_ref,
            &topic,
            "progress",
            json!({"event": null, "ref": DOCS, "entry_ref": "0", "progress": progress}),
        )
        .await;
        assert_eq!(reply["status"], "error", "{progress}: {reply}");
    }

    // Past the announced size: refused with the limit, the channel closes, the view shows it.
    let reply = chunk(&mut socket, &upload_join, "lvu:0", &[7; 11]).await;
    assert_eq!(reason(&reply), "file_size_limit_exceeded", "{reply}");
    assert_eq!(reply["response"]["limit"], 10, "{reply}");
    let close = socket.wait_push("lvu:0", "phx_close", WAIT).await.unwrap();
    assert_eq!(close[0], json!(upload_join), "{close}");
    let diff = socket.wait_push(&topic, "diff", WAIT).await.unwrap();
    assert!(diff.to_string().contains("Upload failed"), "{diff}");
    let reply = chunk(&mut socket, &upload_join, "lvu:0", b"a").await;
    assert_eq!(reason(&reply), "unmatched topic", "{reply}");
    assert_eq!(host.upload_bytes_reserved(), 0);

    // Malformed preflights, and uploads aimed at a live component.
    for payload in [
        json!({"ref": DOCS}),
        json!({"ref": DOCS, "entries": [{"ref": "1"}]}),
        json!({"ref": DOCS, "entries": [{"ref": "", "size": 1}]}),
        json!({"ref": DOCS, "entries": [file("1", "a.pdf", 1)], "cid": 3}),
        json!({"ref": "phx-nope", "entries": [file("1", "a.pdf", 1)]}),
        json!({"entries": []}),
    ] {
        let reply = call(
            &mut socket,
            &join_ref,
            &topic,
            "allow_upload",
            payload.clone(),
        )
        .await;
        assert_eq!(reply["status"], "error", "{payload}: {reply}");
    }

    // Everyone carries on.
    still_works(&mut socket, &join_ref, &topic).await;
    still_works(&mut other, &other_join, &other_page.topic()).await;
    assert!(server.is_running());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complete_upload_is_consumed_and_space_comes_back_when_the_socket_closes() {
    let (server, host) = server(UploadLimits {
        max_tenant_bytes: 1000,
        ..UploadLimits::default()
    })
    .await;
    let (mut socket, page, join_ref) = joined(&server).await;
    let topic = page.topic();

    // The host's budget refuses what does not fit, whatever the view allows.
    let reply = preflight(&mut socket, &join_ref, &topic, "5", 5000).await;
    assert_eq!(reply["status"], "ok", "{reply}");
    assert_eq!(
        reply["response"]["errors"]["5"],
        json!(["capacity"]),
        "{reply}"
    );
    assert!(reply["response"]["entries"].get("5").is_none(), "{reply}");

    let reply = preflight(&mut socket, &join_ref, &topic, "6", 600).await;
    let token = reply["response"]["entries"]["6"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(host.upload_bytes_reserved(), 600);
    let (upload_join, reply) = socket.join("lvu:6", json!({"token": token})).await.unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    let data: Vec<u8> = (0..600u32).map(|i| (i % 256) as u8).collect();
    for part in data.chunks(250) {
        let reply = chunk(&mut socket, &upload_join, "lvu:6", part).await;
        assert_eq!(reply["status"], "ok", "{reply}");
    }
    let reply = call(
        &mut socket,
        &join_ref,
        &topic,
        "progress",
        json!({"event": null, "ref": DOCS, "entry_ref": "6", "progress": 100}),
    )
    .await;
    assert_eq!(reply["status"], "ok", "{reply}");
    assert!(
        reply.to_string().contains(r#"data-phx-done-refs=\"6\""#),
        "{reply}"
    );

    // A second entry, left half-sent when the socket goes away.
    let reply = preflight(&mut socket, &join_ref, &topic, "7", 300).await;
    let token = reply["response"]["entries"]["7"]
        .as_str()
        .unwrap()
        .to_string();
    let (join7, _) = socket.join("lvu:7", json!({"token": token})).await.unwrap();
    chunk(&mut socket, &join7, "lvu:7", &[1; 100]).await;
    assert_eq!(host.upload_bytes_reserved(), 900);
    let dir = host.upload_dir().expect("temp area");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);

    // Save consumes the complete one: its bytes arrive intact, its channel closes.
    let reply = call(
        &mut socket,
        &join_ref,
        &topic,
        "event",
        json!({"type": "form", "event": "save", "value": "", "meta": {}}),
    )
    .await;
    assert!(
        reply.to_string().contains(r#"data-size=\"600\""#),
        "{reply}"
    );
    socket.wait_push("lvu:6", "phx_close", WAIT).await.unwrap();
    assert_eq!(host.upload_bytes_reserved(), 300);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

    // Closing the socket deletes the rest.
    drop(socket);
    let deadline = tokio::time::Instant::now() + WAIT;
    while host.upload_bytes_reserved() != 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(host.upload_bytes_reserved(), 0);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_view_loses_its_uploads_and_rejoins_clean() {
    let (server, host) = server(UploadLimits::default()).await;
    let (mut socket, page, join_ref) = joined(&server).await;
    let topic = page.topic();
    let reply = preflight(&mut socket, &join_ref, &topic, "0", 100).await;
    let token = reply["response"]["entries"]["0"]
        .as_str()
        .unwrap()
        .to_string();
    let (upload_join, _) = socket.join("lvu:0", json!({"token": token})).await.unwrap();
    chunk(&mut socket, &upload_join, "lvu:0", &[1; 40]).await;
    assert_eq!(host.upload_bytes_reserved(), 100);
    let dir = host.upload_dir().expect("temp area");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

    // `cancel-upload` without a ref is a view error: the view crashes.
    socket
        .push_click(&join_ref, &topic, "cancel-upload")
        .await
        .unwrap();
    socket.wait_push(&topic, "phx_error", WAIT).await.unwrap();
    assert_eq!(host.upload_bytes_reserved(), 0);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    let reply = chunk(&mut socket, &upload_join, "lvu:0", &[1; 10]).await;
    assert_eq!(reason(&reply), "unmatched topic", "{reply}");

    // The client rejoins: a fresh view, uploads work again.
    let (join_ref, reply) = socket
        .join_page(&page, &server.url("/uploads"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    let reply = preflight(&mut socket, &join_ref, &topic, "1", 10).await;
    assert!(reply["response"]["entries"]["1"].is_string(), "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_silent_past_its_chunk_timeout_is_dropped() {
    let (server, host) = server(UploadLimits {
        max_chunk_timeout: std::time::Duration::from_millis(200),
        ..UploadLimits::default()
    })
    .await;
    let (mut socket, page, join_ref) = joined(&server).await;
    let topic = page.topic();
    let reply = preflight(&mut socket, &join_ref, &topic, "0", 100).await;
    let token = reply["response"]["entries"]["0"]
        .as_str()
        .unwrap()
        .to_string();
    let (upload_join, _) = socket.join("lvu:0", json!({"token": token})).await.unwrap();
    chunk(&mut socket, &upload_join, "lvu:0", &[1; 40]).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // The next frame (here the heartbeat the client sends every 30 s) finds it expired.
    assert_eq!(socket.heartbeat().await.unwrap()["status"], "ok");
    socket.wait_push("lvu:0", "phx_close", WAIT).await.unwrap();
    let diff = socket.wait_push(&topic, "diff", WAIT).await.unwrap();
    assert!(diff.to_string().contains("Upload failed"), "{diff}");
    assert_eq!(host.upload_bytes_reserved(), 0);
    let reply = chunk(&mut socket, &upload_join, "lvu:0", &[1; 10]).await;
    assert_eq!(reason(&reply), "unmatched topic", "{reply}");
}
