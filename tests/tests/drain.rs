//! Stopping a host (SIGTERM) drains it: no new connections, every socket finishes the callback
//! it is running, gets its reply, and is then closed with code 1012 ("service restart") so its
//! client reconnects, to another host behind a load balancer; the server returns within the
//! drain timeout, and readiness is off meanwhile.

use std::time::{Duration, Instant};

use livewasm_integration_tests::{PhxSocket, TestServer, get};
use livewasm_server::ServerConfig;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_socket_is_told_to_reconnect_after_its_replies() {
    let config = ServerConfig {
        drain_timeout: Duration::from_secs(10),
        ..ServerConfig::default()
    };
    let (mut server, host) = TestServer::start_configured(&["thermostat"], config).await;
    let page = get(server.addr, "/thermostat").await.unwrap();
    let url = server.url("/thermostat?house=1&tick=off");
    let mut sockets = Vec::new();
    for _ in 0..3 {
        let mut socket = PhxSocket::connect_page(server.addr, &page).await.unwrap();
        let (join_ref, reply) = socket.join_page(&page, &url).await.unwrap();
        assert_eq!(reply["status"], "ok", "{reply}");
        let reply = socket
            .event(&join_ref, &page.topic(), "click", "inc", json!({}))
            .await
            .unwrap();
        assert_eq!(reply["status"], "ok", "{reply}");
        sockets.push((socket, join_ref));
    }
    assert_eq!(host.open_sockets(), 3);

    let started = Instant::now();
    server.stop().await;
    let took = started.elapsed();
    assert!(host.is_draining());
    assert!(
        took < Duration::from_secs(10),
        "the sockets had nothing left to do, so the drain did not wait for its deadline ({took:?})"
    );
    assert_eq!(host.open_sockets(), 0, "every socket closed");
    for (socket, _) in &mut sockets {
        let close = socket.wait_closed(WAIT).await.unwrap();
        assert!(
            close.as_deref().is_some_and(|c| c.starts_with("1012 ")),
            "closed with {close:?}"
        );
    }
    // Nothing is accepted any more.
    assert!(get(server.addr, "/thermostat").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_still_running_at_the_deadline_does_not_hold_the_host() {
    let config = ServerConfig {
        drain_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    };
    let (mut server, host) = TestServer::start_configured(&["hostile"], config).await;
    let page = get(server.addr, "/hostile").await.unwrap();
    let mut socket = PhxSocket::connect_page(server.addr, &page).await.unwrap();
    let (join_ref, reply) = socket
        .join_page(&page, &server.url("/hostile"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    // A callback that runs until its own deadline (fuel or epoch) ends it.
    let msg_ref = socket
        .push_click(&join_ref, &page.topic(), "loop")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    server.stop().await;
    println!("stop returned after {} ms", started.elapsed().as_millis());
    // The callback's own deadline ends it, its outcome is sent, then the socket closes.
    let close = socket.wait_closed(WAIT).await.unwrap();
    assert!(
        close.as_deref().is_some_and(|c| c.starts_with("1012 ")),
        "closed with {close:?}"
    );
    let topic = page.topic();
    assert!(
        socket.pending().any(|frame| frame[1] == msg_ref.as_str()
            || (frame[2] == topic.as_str() && frame[3] == "phx_error")),
        "the looping event's outcome came before the close: {:?}",
        socket.pending().collect::<Vec<_>>()
    );
    assert_eq!(host.open_sockets(), 0);
}
