//! Slow and abusive clients, over real loopback sockets: a client that stops reading is closed
//! and its view freed while the host's outbound queue for it stays bounded; idle sockets are
//! pinged; one address cannot open more sockets, or join faster, than its limits; a slowloris
//! client sending its headers byte by byte is dropped after the header timeout while normal
//! requests are served.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use livewasm_integration_tests::{PhxSocket, SocketError, TestServer, WAIT, get};
use livewasm_server::{Host, ServerConfig};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

/// A host serving the thermostat and the rows fixture with `config`'s limits.
async fn start(config: ServerConfig) -> (TestServer, Arc<Host>) {
    TestServer::start_configured(&["thermostat", "rows"], config).await
}

/// Waits until `check` holds (or `wait` passes); returns whether it held.
async fn eventually(wait: Duration, check: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    while !check() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_closed_and_its_queue_stays_bounded() {
    let config = ServerConfig {
        write_timeout: Duration::from_secs(1),
        ..ServerConfig::default()
    };
    let queue_bytes = config.outbound_queue_bytes as u64;
    let (server, host) = start(config).await;
    let page = get(server.addr, "/rows").await.unwrap();
    let mut socket = PhxSocket::connect_page(server.addr, &page).await.unwrap();
    let (join_ref, reply) = socket.join_page(&page, &server.url("/rows")).await.unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    assert_eq!(host.open_sockets(), 1);

    // The host's outbound bytes, sampled all along.
    let peak = Arc::new(AtomicU64::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (host, peak, sampling) = (host.clone(), peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::SeqCst) {
                peak.fetch_max(host.pending_outbound_bytes(), Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };

    // Every event renames a row to a new 64 KiB name: each reply carries it. The client sends
    // and never reads; the kernel's buffers fill, then the host's queue.
    let pad = "n".repeat(64 << 10);
    let topic = page.topic();
    let started = tokio::time::Instant::now();
    let mut sent = 0;
    for n in 0..2000 {
        let name = format!("{n}{pad}");
        let pushed = tokio::time::timeout(
            Duration::from_secs(5),
            socket.push(
                Some(&join_ref),
                &topic,
                "event",
                json!({"type": "click", "event": "rename", "value": {"id": 1, "name": name}}),
            ),
        )
        .await;
        match pushed {
            Ok(Ok(_)) => sent += 1,
            // The host closed the socket: the client's writes fail (or stall).
            Ok(Err(_)) | Err(_) => break,
        }
        if host.open_sockets() == 0 {
            break;
        }
    }
    assert!(
        eventually(WAIT, || host.open_sockets() == 0).await,
        "the socket that never reads is still open after {sent} events"
    );
    let closed_after = started.elapsed();
    sampling.store(false, Ordering::SeqCst);
    sampler.await.unwrap();

    // Bounded: the queue's byte cap plus the one frame let into an empty queue.
    let peak = peak.load(Ordering::SeqCst);
    let bound = queue_bytes + (80 << 10);
    assert!(peak <= bound, "outbound bytes reached {peak}, past {bound}");
    assert_eq!(host.pending_outbound_bytes(), 0);
    assert!(
        closed_after < Duration::from_secs(30),
        "closed only after {closed_after:?}"
    );
    assert!(server.is_running());
    // Reading now ends in a close (1008, slow client) or a reset, never more frames forever.
    let end = socket.wait_closed(WAIT).await;
    assert!(
        !matches!(end, Err(SocketError::Timeout(_))),
        "the socket was not closed: {end:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_are_pinged() {
    let config = ServerConfig {
        ping_interval: Duration::from_millis(100),
        ..ServerConfig::default()
    };
    let (server, _host) = start(config).await;
    let url = format!("ws://{}/live/websocket?vsn=2.0.0", server.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let ping = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Ping(_))) => return true,
                Some(Ok(_)) => continue,
                _ => return false,
            }
        }
    })
    .await;
    assert_eq!(ping, Ok(true), "no ping from the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_past_its_socket_limit_is_refused() {
    let config = ServerConfig {
        max_sockets_per_ip: 3,
        ..ServerConfig::default()
    };
    let (server, host) = start(config).await;
    let page = get(server.addr, "/thermostat?tick=off").await.unwrap();
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(PhxSocket::connect_page(server.addr, &page).await.unwrap());
    }
    let refused = PhxSocket::connect_page(server.addr, &page).await;
    let Err(error) = refused else {
        panic!("a fourth socket from one address was accepted");
    };
    assert!(error.to_string().contains("429"), "{error}");

    // A socket closes: its slot is free again.
    drop(open.pop());
    assert!(eventually(WAIT, || host.open_sockets() == 2).await);
    let mut again = None;
    for _ in 0..50 {
        if let Ok(socket) = PhxSocket::connect_page(server.addr, &page).await {
            again = Some(socket);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut socket = again.expect("a socket after one closed");
    let (_, reply) = socket
        .join_page(&page, &server.url("/thermostat?tick=off"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_past_the_rate_of_an_address_are_refused_with_a_reason() {
    let config = ServerConfig {
        max_joins_per_ip_per_sec: 3,
        ..ServerConfig::default()
    };
    let (server, _host) = start(config).await;
    let page = get(server.addr, "/thermostat?tick=off").await.unwrap();
    let mut socket = PhxSocket::connect_page(server.addr, &page).await.unwrap();
    let url = server.url("/thermostat?tick=off");
    let mut refusals = Vec::new();
    for _ in 0..6 {
        let (_, reply) = socket.join_page(&page, &url).await.unwrap();
        if reply["status"] != "ok" {
            refusals.push(reply["response"]["reason"].to_string());
        }
    }
    assert!(!refusals.is_empty(), "six joins at once were all accepted");
    assert!(
        refusals.iter().all(|r| r.contains("too many joins")),
        "{refusals:?}"
    );
    // A second later the address may join again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, reply) = socket.join_page(&page, &url).await.unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_client_is_dropped_after_the_header_timeout() {
    let config = ServerConfig {
        http_header_timeout: Duration::from_secs(1),
        ..ServerConfig::default()
    };
    let (server, _host) = start(config).await;
    let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let started = tokio::time::Instant::now();
    // The headers, one byte every 50 ms, never finished in time.
    let trickle = tokio::spawn(async move {
        let head = format!(
            "GET /thermostat HTTP/1.1\r\nHost: localhost\r\nX-Padding: {}\r\n",
            "a".repeat(400)
        );
        for byte in head.bytes() {
            if write.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    // Meanwhile a normal request is answered.
    let page = get(server.addr, "/thermostat?tick=off").await.unwrap();
    assert_eq!(page.status, 200);
    // The slow connection is closed by the server (EOF or reset) soon after the timeout.
    let mut buf = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(10), read.read_to_end(&mut buf)).await;
    let elapsed = started.elapsed();
    trickle.abort();
    assert!(ended.is_ok(), "the slowloris connection was never closed");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
        "closed after {elapsed:?}"
    );
    let answer = String::from_utf8_lossy(&buf);
    assert!(!answer.contains("200 OK"), "{answer}");
    // The server lives on.
    let page = get(server.addr, "/thermostat?tick=off").await.unwrap();
    assert_eq!(page.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_counts_websockets_and_later_connections_wait_their_turn() {
    let config = ServerConfig {
        max_connections: 2,
        max_sockets_per_ip: 0,
        ..ServerConfig::default()
    };
    let (server, _host) = start(config).await;
    let page = get(server.addr, "/thermostat?tick=off").await.unwrap();
    let url = server.url("/thermostat?tick=off");
    // Two WebSockets hold both slots after their HTTP upgrades have ended.
    let mut first = PhxSocket::connect_page(server.addr, &page).await.unwrap();
    let (_, reply) = first.join_page(&page, &url).await.unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    let mut second = PhxSocket::connect_page(server.addr, &page).await.unwrap();
    let (_, reply) = second.join_page(&page, &url).await.unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");

    // A third connection waits in the listen backlog: no answer while both sockets live.
    let addr = server.addr;
    let mut waiting = tokio::spawn(async move { get(addr, "/thermostat?tick=off").await });
    let early = tokio::time::timeout(Duration::from_millis(700), &mut waiting).await;
    assert!(early.is_err(), "served past the connection cap: {early:?}");

    // One socket closes: its slot is free, and the waiting request is served.
    drop(first);
    let page = tokio::time::timeout(WAIT, waiting)
        .await
        .expect("served once a slot was free")
        .unwrap()
        .unwrap();
    assert_eq!(page.status, 200);
    // The other socket was never disturbed.
    assert_eq!(second.heartbeat().await.unwrap()["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_body_that_stalls_gets_408_and_frees_its_connection() {
    let config = ServerConfig {
        http_body_timeout: Duration::from_secs(1),
        max_connections: 1,
        ..ServerConfig::default()
    };
    let (server, _host) = TestServer::start_configured(&["auth"], config).await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    // Headers promise 1,000 bytes of form; 10 arrive, then nothing.
    let head = format!(
        "POST /auth/log_in HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nuser%5Bna",
        server.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = tokio::time::Instant::now();
    let mut buf = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("an answer before the test's own timeout")
        .unwrap();
    let elapsed = started.elapsed();
    let answer = String::from_utf8_lossy(&buf[..read]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
        "answered after {elapsed:?}"
    );
    drop(stream);
    // The only connection slot is free again: the next request is served.
    let page = tokio::time::timeout(WAIT, get(server.addr, "/auth"))
        .await
        .expect("served")
        .unwrap();
    assert_eq!(page.status, 200);
}
