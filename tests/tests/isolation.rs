//! One app cannot stall another: while four sockets of one app (the hostile fixture) each burn a
//! whole fuel budget on every callback, a thermostat of another app keeps answering at once.
//!
//! The property is checked by order, not by a time limit: each attack callback runs until its
//! fuel is gone (about 0.1 s), and the attacking app may hold one of the host's two guest
//! threads, so it gets through its attacks one at a time while the thermostat's events take the
//! other thread. Were guest code run on the socket tasks (or the pool unfair), the thermostat's
//! events would wait behind the attacks and most attacks would end before they did. Speed
//! figures for the same scenario are in `cargo xtask bench` (tenant isolation).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use livewasm_integration_tests::{PhxSocket, TestServer, WAIT, get};
use livewasm_server::ServerConfig;
use serde_json::json;

/// A host serving the thermostat and the hostile fixture with two guest threads, one of which
/// an app may hold.
async fn start() -> TestServer {
    let config = ServerConfig {
        guest_threads: 2,
        guest_threads_per_tenant: 1,
        ..ServerConfig::default()
    };
    TestServer::start_configured(&["thermostat", "hostile"], config)
        .await
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_app_does_not_stall_another_apps_events() {
    let server = start().await;

    let thermostat = get(server.addr, "/thermostat?house=1&tick=off")
        .await
        .unwrap();
    let mut victim = PhxSocket::connect_page(server.addr, &thermostat)
        .await
        .unwrap();
    let (victim_ref, reply) = victim
        .join_page(&thermostat, &server.url("/thermostat?house=1&tick=off"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");

    // Four attacking sockets, each sending one callback that loops until its fuel is gone.
    let hostile = get(server.addr, "/hostile").await.unwrap();
    let crashed = Arc::new(AtomicUsize::new(0));
    let mut attackers = Vec::new();
    for _ in 0..4 {
        let mut socket = PhxSocket::connect_page(server.addr, &hostile)
            .await
            .unwrap();
        let (join_ref, reply) = socket
            .join_page(&hostile, &server.url("/hostile"))
            .await
            .unwrap();
        assert_eq!(reply["status"], "ok", "{reply}");
        attackers.push((socket, join_ref));
    }
    let topic = hostile.topic();
    let mut waiting = Vec::new();
    for (mut socket, join_ref) in attackers {
        socket.push_click(&join_ref, &topic, "loop").await.unwrap();
        let (crashed, topic) = (crashed.clone(), topic.clone());
        waiting.push(tokio::spawn(async move {
            // The attack ends in phx_error: the fuel ran out and only that view crashed.
            socket.wait_push(&topic, "phx_error", WAIT).await.unwrap();
            crashed.fetch_add(1, Ordering::SeqCst);
        }));
    }

    // The thermostat's events are answered while the attacks are still queued.
    let topic = thermostat.topic();
    for expected in 1..=10 {
        let reply = victim
            .event(&victim_ref, &topic, "click", "inc", json!({}))
            .await
            .unwrap();
        assert_eq!(reply["status"], "ok", "{reply}");
        assert!(
            reply["response"]["diff"].is_object(),
            "{reply} ({expected})"
        );
    }
    let attacks_done_meanwhile = crashed.load(Ordering::SeqCst);
    for attacker in waiting {
        attacker.await.unwrap();
    }
    assert_eq!(crashed.load(Ordering::SeqCst), 4);
    assert!(
        attacks_done_meanwhile <= 2,
        "the thermostat waited for {attacks_done_meanwhile} of 4 attacks"
    );
    // The thermostat lives on.
    let reply = victim
        .event(&victim_ref, &topic, "click", "inc", json!({}))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
}
