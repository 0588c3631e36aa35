//! A PubSub storm stays inside its bounds: one view broadcasts as much as a callback may (64
//! messages of almost 64 KiB each, to every subscriber) over and over, to many subscribers.
//! The host keeps each message once, as shared JSON text, and charges it to each inbox it
//! waits in; an inbox past its byte budget drops the message for that socket only. The host's
//! pending inbox bytes never pass `subscribers × inbox_bytes_per_socket`, and a socket of
//! another app keeps working meanwhile.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use livewasm_integration_tests::{PhxSocket, TestServer, WAIT, get};
use livewasm_server::ServerConfig;
use serde_json::json;

/// Subscribers of the storm's topic.
const SUBSCRIBERS: u64 = 12;
/// Storm callbacks the attacker sends.
const STORMS: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_storm_keeps_inbox_bytes_under_the_bound_and_other_apps_work() {
    let config = ServerConfig::default();
    let budget = config.inbox_bytes_per_socket as u64;
    let (server, host) = TestServer::start_configured(&["thermostat", "hostile"], config).await;
    let addr = server.addr;

    // Many subscribers, one of them the attacker (a broadcast reaches it too).
    let storm = get(addr, "/hostile/storm").await.unwrap();
    let mut subscribers = Vec::new();
    for _ in 0..SUBSCRIBERS {
        let mut socket = PhxSocket::connect_page(addr, &storm).await.unwrap();
        let (join_ref, reply) = socket
            .join_page(&storm, &server.url("/hostile/storm"))
            .await
            .unwrap();
        assert_eq!(reply["status"], "ok", "{reply}");
        subscribers.push((socket, join_ref));
    }
    assert_eq!(host.pubsub_subscriptions(), SUBSCRIBERS as usize);

    // The host's pending inbox bytes, sampled all along.
    let peak = Arc::new(AtomicU64::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (host, peak, sampling) = (host.clone(), peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::SeqCst) {
                peak.fetch_max(host.pending_inbox_bytes(), Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };

    // The attacker storms; each storm callback sends the most one callback may.
    let topic = storm.topic();
    let (mut attacker, attacker_ref) = subscribers.remove(0);
    let attack = {
        let topic = topic.clone();
        tokio::spawn(async move {
            for _ in 0..STORMS {
                let reply = attacker
                    .event(&attacker_ref, &topic, "click", "storm", json!({}))
                    .await
                    .unwrap();
                assert_eq!(reply["status"], "ok", "{reply}");
            }
            attacker
        })
    };

    // Meanwhile another app's view answers its events.
    let page = get(addr, "/thermostat?tick=off").await.unwrap();
    let mut victim = PhxSocket::connect_page(addr, &page).await.unwrap();
    let (victim_ref, reply) = victim
        .join_page(&page, &server.url("/thermostat?tick=off"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    for _ in 0..20 {
        let reply = victim
            .event(&victim_ref, &page.topic(), "click", "inc", json!({}))
            .await
            .unwrap();
        assert_eq!(reply["status"], "ok", "{reply}");
    }

    let attacker = attack.await.unwrap();
    // Let the subscribers drain what they kept.
    let deadline = tokio::time::Instant::now() + WAIT;
    while host.pending_inbox_bytes() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sampling.store(false, Ordering::SeqCst);
    sampler.await.unwrap();

    let bound = SUBSCRIBERS * budget;
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak > 0, "the storm never reached an inbox");
    assert!(
        peak <= bound,
        "pending inbox bytes reached {peak}, past the bound of {bound}"
    );
    // Each storm sent ~3 MiB to every subscriber, past its 1 MiB budget: drops were counted.
    assert!(host.pubsub_dropped_messages() > 0, "no message was dropped");
    assert_eq!(host.pending_inbox_bytes(), 0, "inboxes drained");
    assert!(server.is_running());

    // Closing the sockets releases their subscriptions.
    drop(attacker);
    drop(subscribers);
    let deadline = tokio::time::Instant::now() + WAIT;
    while host.pubsub_subscriptions() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(host.pubsub_subscriptions(), 0);
}
