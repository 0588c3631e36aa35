//! Live components over a real WebSocket, with the real `users` example: events targeted at a
//! component by `cid`, a bad target refused without harming the socket, `cids_destroyed`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_integration_tests::{PhxSocket, TestServer, WAIT, get};
use livewasm_protocol::client::ClientRendered;
use serde_json::{Value, json};

/// Sends an `event` with `cid` and waits for its reply.
async fn event_to(
    socket: &mut PhxSocket,
    join_ref: &str,
    topic: &str,
    cid: Value,
    event: &str,
) -> Value {
    let msg_ref = socket
        .push(
            Some(join_ref),
            topic,
            "event",
            json!({"type": "click", "event": event, "value": {"value": ""}, "cid": cid}),
        )
        .await
        .unwrap();
    socket.reply_to(&msg_ref, WAIT).await.unwrap()
}

/// The cid of the card whose root has `id="user-<n>"`, from the join's components map.
fn card_cid(rendered: &Value, user: u32) -> u32 {
    let wanted = format!("user-{user}");
    let components = rendered["c"]
        .as_object()
        .expect("components in the join reply");
    components
        .iter()
        .find(|(_, node)| node["0"].as_str().is_some_and(|id| id.contains(&wanted)))
        .map(|(cid, _)| cid.parse().unwrap())
        .expect("card of the user")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn component_events_route_by_cid_and_bad_cids_are_refused() {
    let server = TestServer::start(&["users"]).await;
    let page = get(server.addr, "/users").await.unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Alice"),
        "the dead render shows the cards"
    );
    let mut socket = PhxSocket::connect_page(server.addr, &page).await.unwrap();
    let (join_ref, reply) = socket
        .join_page(&page, &server.url("/users"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    let rendered = reply["response"]["rendered"].clone();
    let mut client = ClientRendered::new(rendered.clone()).unwrap();
    assert_eq!(client.component_ids().len(), 3, "{rendered}");
    let topic = page.topic();
    let bob = card_cid(&rendered, 2);

    // A targeted event reaches Bob's card only: the diff carries just that component.
    let reply = event_to(&mut socket, &join_ref, &topic, json!(bob), "toggle_expand").await;
    assert_eq!(reply["status"], "ok", "{reply}");
    let diff = reply["response"]["diff"].clone();
    let changed: Vec<&String> = diff["c"]
        .as_object()
        .expect("a component diff")
        .keys()
        .collect();
    assert_eq!(changed, vec![&bob.to_string()], "{diff}");
    client.merge(diff).unwrap();
    assert!(client.to_html().contains("Bio: Writes Elixir."));
    assert!(!client.to_html().contains("Bio: Likes Rust."));

    // The client sends cids as numbers; a string of digits (a DOM attribute) works too.
    let reply = event_to(
        &mut socket,
        &join_ref,
        &topic,
        json!(bob.to_string()),
        "toggle_expand",
    )
    .await;
    assert_eq!(reply["status"], "ok", "{reply}");

    // An unknown cid: a clear error reply, nothing crashes.
    let reply = event_to(&mut socket, &join_ref, &topic, json!(999), "toggle_expand").await;
    assert_eq!(reply["status"], "error", "{reply}");
    assert_eq!(
        reply["response"]["reason"], "no live component with cid 999",
        "{reply}"
    );
    // Not a cid at all.
    let reply = event_to(
        &mut socket,
        &join_ref,
        &topic,
        json!("row-1"),
        "toggle_expand",
    )
    .await;
    assert_eq!(reply["status"], "error", "{reply}");
    assert!(
        reply["response"]["reason"]
            .as_str()
            .unwrap()
            .contains("is not a component id"),
        "{reply}"
    );

    // The socket and the view are still up: heartbeats and events keep working.
    let heartbeat = socket.heartbeat().await.unwrap();
    assert_eq!(heartbeat["status"], "ok");
    let reply = event_to(&mut socket, &join_ref, &topic, json!(bob), "edit").await;
    assert_eq!(reply["status"], "ok", "{reply}");
    client.merge(reply["response"]["diff"].clone()).unwrap();
    assert!(client.to_html().contains("Edit User"));

    // Every card is still on the page: destroying them removes nothing.
    let msg_ref = socket
        .push(
            Some(&join_ref),
            &topic,
            "cids_destroyed",
            json!({"cids": [bob]}),
        )
        .await
        .unwrap();
    let reply = socket.reply_to(&msg_ref, WAIT).await.unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    assert_eq!(reply["response"]["cids"], json!([]), "{reply}");
    let reply = event_to(&mut socket, &join_ref, &topic, json!(bob), "cancel").await;
    assert_eq!(reply["status"], "ok", "{reply}");
}
