//! Parked sockets over a real WebSocket: once every view on a socket hibernates, the socket
//! drops the WebSocket library's state and its writer and keeps only the byte stream
//! (`livewasm_parked_sockets`). Whatever comes next — a heartbeat, an event, a view's timer,
//! the server's ping, silence past the heartbeat timeout, the client going away — is handled
//! as on a live socket; and a frame the client had half sent when the view fell asleep is
//! never cut: the socket does not park until the frame is whole. A socket whose views are live
//! parks too once they have been quiet for `park_after`, its views' instances kept.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use livewasm_integration_tests::platform::http_request;
use livewasm_integration_tests::{
    PhxSocket, TestServer, app_gauge, masked_text_frame, serve_metrics,
};
use livewasm_server::{Host, ServerConfig};
use serde_json::{Value, json};

/// A failing test's bound, not a figure.
const DEADLINE: Duration = Duration::from_secs(15);

/// How long an idle thermostat stays live in these tests.
const HIBERNATE_AFTER: Duration = Duration::from_millis(300);

async fn start(config: ServerConfig) -> (TestServer, Arc<Host>) {
    let config = ServerConfig {
        hibernate_after: HIBERNATE_AFTER,
        ..config
    };
    TestServer::start_configured(&["thermostat"], config).await
}

/// Joins `/thermostat?house=5&tick=…` and returns the socket, join ref and topic.
async fn join(server: &TestServer, tick: &str) -> (PhxSocket, String, String) {
    let path = format!("/thermostat?house=5&tick={tick}");
    server.join_view(&path).await
}

/// Waits until `host` has `want` parked sockets.
async fn until_parked(host: &Host, want: usize) {
    let started = Instant::now();
    while host.parked_sockets() != want {
        assert!(
            started.elapsed() < DEADLINE,
            "parked sockets stayed {}, expected {want}",
            host.parked_sockets()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `livewasm_hibernated_instances` of the thermostat.
async fn hibernated(metrics: std::net::SocketAddr) -> f64 {
    app_gauge(metrics, "livewasm_hibernated_instances", "thermostat").await
}

/// The text of a click on `event` as the client sends it.
fn click_frame(join_ref: &str, msg_ref: &str, topic: &str, event: &str) -> String {
    json!([
        join_ref,
        msg_ref,
        topic,
        "event",
        {"type": "click", "event": event, "value": {}}
    ])
    .to_string()
}

async fn click(socket: &mut PhxSocket, join_ref: &str, topic: &str, event: &str) -> Value {
    socket.click_diff(join_ref, topic, event).await.unwrap()
}

/// Waits for the diff a tick of the view on `topic` pushes.
async fn tick_reaches(socket: &mut PhxSocket, topic: &str) {
    let push = socket
        .wait_push(topic, "diff", Duration::from_secs(10))
        .await
        .unwrap();
    assert!(
        push[4].is_object(),
        "the tick's diff reached the client: {push}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_whose_views_all_sleep_parks_and_wakes_for_the_client() {
    let (server, host) = start(ServerConfig::default()).await;
    let metrics = serve_metrics(host.clone()).await;
    let (mut socket, join_ref, topic) = join(&server, "off").await;
    assert_eq!(
        host.parked_sockets(),
        0,
        "a live view keeps its socket live"
    );
    click(&mut socket, &join_ref, &topic, "inc").await;

    until_parked(&host, 1).await;
    let scrape = http_request(metrics, "GET", &metrics.to_string(), "/metrics", &[], None)
        .await
        .expect("scrape")
        .text();
    assert!(
        scrape.lines().any(|l| l == "livewasm_parked_sockets 1"),
        "the gauge shows it: {}",
        scrape
            .lines()
            .filter(|l| l.contains("parked"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    // A heartbeat is answered, and the socket parks again at once (its view still sleeps).
    let reply = socket.heartbeat().await.unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    until_parked(&host, 1).await;

    // An event wakes socket and view, with the view's state and a minimal diff.
    let diff = click(&mut socket, &join_ref, &topic, "inc").await;
    assert!(diff.to_string().contains("72"), "{diff}");
    assert_eq!(host.parked_sockets(), 0, "the view is live again");
    until_parked(&host, 1).await;
    let diff = click(&mut socket, &join_ref, &topic, "dec").await;
    assert!(diff.to_string().contains("71"), "{diff}");

    // The client goes away while parked: the socket is gone, its view with it.
    until_parked(&host, 1).await;
    drop(socket);
    let started = Instant::now();
    while host.open_sockets() > 0 || host.parked_sockets() > 0 {
        assert!(
            started.elapsed() < DEADLINE,
            "the parked socket stayed open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_half_sent_when_the_view_sleeps_keeps_the_socket_live_until_it_is_whole() {
    let (server, host) = start(ServerConfig::default()).await;
    let metrics = serve_metrics(host.clone()).await;
    let (mut socket, join_ref, topic) = join(&server, "off").await;
    let bytes = masked_text_frame(&click_frame(&join_ref, "half", &topic, "inc"));
    // The header and part of the payload now; the rest after the view has gone to sleep.
    let (head, rest) = bytes.split_at(bytes.len() / 2);
    socket.send_raw(head).await.unwrap();

    let started = Instant::now();
    while hibernated(metrics).await < 1.0 {
        assert!(started.elapsed() < DEADLINE, "the view did not hibernate");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(HIBERNATE_AFTER).await;
    assert_eq!(
        host.parked_sockets(),
        0,
        "a socket holding half a frame does not park (the half would be lost)"
    );

    socket.send_raw(rest).await.unwrap();
    let reply = socket
        .reply_to("half", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    assert!(
        reply["response"]["diff"].to_string().contains("71"),
        "{reply}"
    );

    // Whole again: it parks, and a frame sent in two pieces to the parked socket is read whole.
    until_parked(&host, 1).await;
    let bytes = masked_text_frame(&click_frame(&join_ref, "split", &topic, "inc"));
    let (head, rest) = bytes.split_at(3);
    socket.send_raw(head).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    socket.send_raw(rest).await.unwrap();
    let reply = socket
        .reply_to("split", Duration::from_secs(10))
        .await
        .unwrap();
    assert!(
        reply["response"]["diff"].to_string().contains("72"),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_socket_is_pinged_and_closed_when_the_client_falls_silent() {
    let config = ServerConfig {
        ping_interval: Duration::from_millis(400),
        heartbeat_timeout: Duration::from_secs(2),
        ..ServerConfig::default()
    };
    let (server, host) = start(config).await;
    let (mut socket, _join_ref, _topic) = join(&server, "off").await;
    until_parked(&host, 1).await;
    // The server's pings reach a parked socket (the client answers each with a pong, which
    // counts as hearing from it).
    socket.wait_ping(Duration::from_secs(5)).await.unwrap();
    socket.wait_ping(Duration::from_secs(5)).await.unwrap();
    until_parked(&host, 1).await;

    // A client that is gone without a word: nothing read, so no pongs; the heartbeat timeout
    // closes the socket, parked or not.
    let (server, host) = start(ServerConfig {
        heartbeat_timeout: Duration::from_secs(2),
        ..ServerConfig::default()
    })
    .await;
    let (mut socket, _join_ref, _topic) = join(&server, "off").await;
    until_parked(&host, 1).await;
    let closed = socket.wait_closed(Duration::from_secs(10)).await.unwrap();
    assert_eq!(closed.as_deref(), Some("1001 heartbeat timeout"));
    assert_eq!(host.parked_sockets(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_views_timer_wakes_its_parked_socket() {
    let (server, host) = start(ServerConfig::default()).await;
    // A tick every 6 s: far enough off (more than the 5 s margin) for the view to sleep.
    let (mut socket, _join_ref, topic) = join(&server, "6").await;
    until_parked(&host, 1).await;
    tick_reaches(&mut socket, &topic).await;
    // After the tick the view sleeps again and the socket parks.
    until_parked(&host, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_reaches_parked_sockets_at_once() {
    let (mut server, host) = start(ServerConfig {
        drain_timeout: Duration::from_secs(10),
        ..ServerConfig::default()
    })
    .await;
    let mut sockets = Vec::new();
    for _ in 0..2 {
        sockets.push(join(&server, "off").await.0);
    }
    until_parked(&host, 2).await;

    let started = Instant::now();
    server.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the parked sockets heard the drain at once, not at its deadline ({:?})",
        started.elapsed()
    );
    assert_eq!(host.open_sockets(), 0, "every socket closed");
    for socket in &mut sockets {
        let close = socket.wait_closed(Duration::from_secs(5)).await.unwrap();
        assert!(
            close.as_deref().is_some_and(|c| c.starts_with("1012 ")),
            "told to reconnect: {close:?}"
        );
    }
}

/// A host whose views never hibernate and whose sockets park after `PARK_AFTER` of quiet.
async fn start_live_parking() -> (TestServer, Arc<Host>) {
    let config = ServerConfig {
        hibernate_after: Duration::ZERO,
        park_after: PARK_AFTER,
        ..ServerConfig::default()
    };
    TestServer::start_configured(&["thermostat"], config).await
}

/// How long a socket with live views stays quiet before it parks, in these tests.
const PARK_AFTER: Duration = Duration::from_millis(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_whose_live_views_are_quiet_parks_and_keeps_them_live() {
    let (server, host) = start_live_parking().await;
    let metrics = serve_metrics(host.clone()).await;
    let (mut socket, join_ref, topic) = join(&server, "off").await;
    let diff = click(&mut socket, &join_ref, &topic, "inc").await;
    assert!(diff.to_string().contains("71"), "{diff}");

    until_parked(&host, 1).await;
    assert_eq!(
        hibernated(metrics).await,
        0.0,
        "the view stays live: its instance is kept while the socket is parked"
    );

    // An event to the parked socket: the live view answers with its state kept.
    let diff = click(&mut socket, &join_ref, &topic, "inc").await;
    assert!(diff.to_string().contains("72"), "{diff}");
    assert_eq!(host.parked_sockets(), 0, "the event made the socket live");
    until_parked(&host, 1).await;

    // A heartbeat is answered; the socket parks again once quiet.
    let reply = socket.heartbeat().await.unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    until_parked(&host, 1).await;
    let diff = click(&mut socket, &join_ref, &topic, "dec").await;
    assert!(diff.to_string().contains("71"), "{diff}");
    assert_eq!(hibernated(metrics).await, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_views_timer_wakes_its_parked_socket() {
    let (server, host) = start_live_parking().await;
    // A tick every 2 s; the socket parks 300 ms after each.
    let (mut socket, _join_ref, topic) = join(&server, "2").await;
    for _ in 0..2 {
        until_parked(&host, 1).await;
        tick_reaches(&mut socket, &topic).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_parking_of_live_views_off_only_sleeping_views_park() {
    let (server, host) = TestServer::start_configured(
        &["thermostat"],
        ServerConfig {
            hibernate_after: Duration::ZERO,
            park_after: Duration::ZERO,
            ..ServerConfig::default()
        },
    )
    .await;
    let (mut socket, join_ref, topic) = join(&server, "off").await;
    click(&mut socket, &join_ref, &topic, "inc").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        host.parked_sockets(),
        0,
        "a live view keeps its socket live"
    );
    let diff = click(&mut socket, &join_ref, &topic, "inc").await;
    assert!(diff.to_string().contains("72"), "{diff}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_sent_together_to_a_parked_socket_are_all_answered() {
    let (server, host) = start(ServerConfig::default()).await;
    let (mut socket, join_ref, topic) = join(&server, "off").await;
    until_parked(&host, 1).await;
    // Two heartbeats and an event in one write: the socket wakes on the first, and must not
    // park again while the others wait, read but not handed out, in the WebSocket library.
    let heartbeat = |r: &str| json!([null, r, "phoenix", "heartbeat", {}]).to_string();
    let bytes = [
        masked_text_frame(&heartbeat("hb1")),
        masked_text_frame(&heartbeat("hb2")),
        masked_text_frame(&click_frame(&join_ref, "click", &topic, "inc")),
    ]
    .concat();
    socket.send_raw(&bytes).await.unwrap();
    for r in ["hb1", "hb2", "click"] {
        let reply = socket.reply_to(r, Duration::from_secs(10)).await.unwrap();
        assert_eq!(reply["status"], "ok", "{r}: {reply}");
    }
    until_parked(&host, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heartbeat_to_a_parked_live_view_does_not_keep_its_socket_live() {
    let park_after = Duration::from_secs(3);
    let (server, host) = TestServer::start_configured(
        &["thermostat"],
        ServerConfig {
            hibernate_after: Duration::ZERO,
            park_after,
            ..ServerConfig::default()
        },
    )
    .await;
    let (mut socket, _join_ref, _topic) = join(&server, "off").await;
    until_parked(&host, 1).await;
    // The heartbeat touches no view: once its reply is written the socket parks again, without
    // waiting another `park_after`.
    let reply = socket.heartbeat().await.unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    let answered = Instant::now();
    until_parked(&host, 1).await;
    assert!(
        answered.elapsed() < park_after / 2,
        "parked again after {:?}",
        answered.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_wakes_a_parked_subscriber() {
    let (server, host) = TestServer::start_configured(
        &["dashboard"],
        ServerConfig {
            hibernate_after: HIBERNATE_AFTER,
            park_after: PARK_AFTER,
            ..ServerConfig::default()
        },
    )
    .await;
    let (mut viewer, _join_ref, topic) = server.join_view("/dashboard/acme").await;
    // Its mount's tasks are done (their results pushed), then its socket parks. The dashboard
    // itself stays live (it refuses to be snapshotted, and is asked again every
    // `hibernate_after`): those tries are no callbacks and do not keep the socket live.
    viewer
        .wait_for(DEADLINE, "the revenue task's diff", |f| {
            f.to_string().contains("Revenue: $")
        })
        .await
        .unwrap();
    until_parked(&host, 1).await;

    // A sale recorded on another socket is broadcast to the org's dashboards.
    let (mut sales, sales_ref, sales_topic) = server.join_view("/dashboard/acme/sales").await;
    let reply = sales
        .event(
            &sales_ref,
            &sales_topic,
            "click",
            "sale",
            json!({"amount": "250"}),
        )
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    let diff = viewer
        .wait_for(DEADLINE, "the sale's diff", |f| {
            f.get(2).and_then(Value::as_str) == Some(topic.as_str())
                && f.get(3).and_then(Value::as_str) == Some("diff")
                && f.to_string().contains("Sale: $250")
        })
        .await;
    assert!(
        diff.is_ok(),
        "the parked subscriber got the broadcast: {diff:?}"
    );
}
