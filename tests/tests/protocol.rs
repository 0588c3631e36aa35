//! The host driven over a real WebSocket on loopback, with real guest components, the way the
//! official Phoenix LiveView client drives it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use livewasm_integration_tests::{Page, PhxSocket, TestServer, WAIT, get};
use livewasm_protocol::client::ClientRendered;
use serde_json::{Value, json};

/// Loads the thermostat page and joins its view; returns the socket, page, join ref and client model.
async fn joined_thermostat(server: &TestServer) -> (PhxSocket, Page, String, ClientRendered) {
    let page = get(server.addr, "/thermostat?house=7").await.unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    let mut socket = PhxSocket::connect_page(server.addr, &page).await.unwrap();
    let (join_ref, reply) = socket
        .join_page(&page, &server.url("/thermostat?house=7"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    let rendered = ClientRendered::new(reply["response"]["rendered"].clone()).unwrap();
    (socket, page, join_ref, rendered)
}

fn status(reply: &Value) -> &str {
    reply["status"].as_str().unwrap_or("")
}

fn reason(reply: &Value) -> &str {
    reply["response"]["reason"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_render_carries_tokens_and_first_html() {
    let server = TestServer::start(&["thermostat"]).await;
    let page = get(server.addr, "/thermostat?house=7").await.unwrap();
    assert_eq!(page.status, 200);
    assert!(page.csrf.is_some(), "csrf meta missing");
    assert!(
        page.session.is_some() && page.id.is_some(),
        "container missing"
    );
    assert!(page.body.contains("/assets/livewasm.js"));
    assert!(page.body.contains("House 7"), "{}", page.body);
    assert!(page.body.contains("Temperature: 70°F"));

    let missing = get(server.addr, "/no/such/page").await.unwrap();
    assert_eq!(missing.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_then_event_replies_with_only_the_changed_dynamics() {
    let server = TestServer::start(&["thermostat"]).await;
    let (mut socket, page, join_ref, mut client) = joined_thermostat(&server).await;
    let joined_html = client.to_html();
    assert!(joined_html.contains("House 7 - 70°F"), "{joined_html}");
    assert!(joined_html.contains("User: guest"));

    let reply = socket
        .event(
            &join_ref,
            &page.topic(),
            "click",
            "inc",
            json!({"value": ""}),
        )
        .await
        .unwrap();
    assert_eq!(status(&reply), "ok", "{reply}");
    let diff = reply["response"]["diff"].clone();
    let text = diff.to_string();
    assert!(text.contains("71"), "{text}");
    assert!(
        !text.contains("\"s\""),
        "a diff of changed text must not resend statics: {text}"
    );
    assert!(
        !text.contains("House"),
        "statics leaked into the diff: {text}"
    );
    assert!(
        text.len() < 120,
        "diff too large ({} bytes): {text}",
        text.len()
    );
    client.merge(diff).unwrap();
    assert!(client.to_html().contains("House 7 - 71°F"));

    // ArrowUp through the window keyup binding; other keys change nothing and still get a reply.
    let reply = socket
        .event(
            &join_ref,
            &page.topic(),
            "keyup",
            "update_temp",
            json!({"key": "ArrowUp"}),
        )
        .await
        .unwrap();
    client.merge(reply["response"]["diff"].clone()).unwrap();
    assert!(client.to_html().contains("Temperature: 72°F"));
    let reply = socket
        .event(
            &join_ref,
            &page.topic(),
            "keyup",
            "update_temp",
            json!({"key": "a"}),
        )
        .await
        .unwrap();
    assert_eq!(status(&reply), "ok");
    assert!(reply["response"].get("diff").is_none(), "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_is_answered() {
    let server = TestServer::start(&["thermostat"]).await;
    let mut socket = PhxSocket::connect(server.addr, None, None).await.unwrap();
    let reply = socket.heartbeat().await.unwrap();
    assert_eq!(reply, json!({"status": "ok", "response": {}}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tick_pushes_a_diff_with_the_new_time() {
    let server = TestServer::start(&["thermostat"]).await;
    let (mut socket, page, join_ref, mut client) = joined_thermostat(&server).await;
    let before = client.to_html();
    let frame = socket
        .wait_push(&page.topic(), "diff", Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(
        frame[0].as_str(),
        Some(join_ref.as_str()),
        "push must echo the join ref"
    );
    assert!(frame[1].is_null(), "a push has no ref");
    client.merge(frame[4].clone()).unwrap();
    let after = client.to_html();
    assert_ne!(before, after, "the tick must change the last-update time");
    assert!(after.contains("House 7 - 70°F"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_refused() {
    let server = TestServer::start(&["thermostat"]).await;
    let page = get(server.addr, "/thermostat").await.unwrap();
    let url = server.url("/thermostat");
    let mut socket = PhxSocket::connect_page(server.addr, &page).await.unwrap();

    // Tampered session token.
    let mut tampered = page.session.clone().unwrap();
    tampered.insert(tampered.len() / 2, 'x');
    let (_, reply) = socket
        .join(
            &page.topic(),
            json!({"url": url, "params": {}, "session": tampered, "static": null}),
        )
        .await
        .unwrap();
    assert_eq!(
        (status(&reply), reason(&reply)),
        ("error", "stale"),
        "{reply}"
    );

    // Missing session token.
    let (_, reply) = socket
        .join(&page.topic(), json!({"url": url, "params": {}}))
        .await
        .unwrap();
    assert_eq!(
        (status(&reply), reason(&reply)),
        ("error", "stale"),
        "{reply}"
    );

    // A valid token on another topic.
    let (_, reply) = socket
        .join(
            "lv:phx-someone-else",
            json!({"url": url, "params": {}, "session": page.session, "static": page.static_token}),
        )
        .await
        .unwrap();
    assert_eq!(
        (status(&reply), reason(&reply)),
        ("error", "unauthorized"),
        "{reply}"
    );

    // The URL of a view the token was not issued for.
    let (_, reply) = socket
        .join(
            &page.topic(),
            json!({"url": server.url("/elsewhere"), "params": {}, "session": page.session}),
        )
        .await
        .unwrap();
    assert_eq!(
        (status(&reply), reason(&reply)),
        ("error", "unauthorized"),
        "{reply}"
    );

    // Still usable afterwards.
    let (_, reply) = socket.join_page(&page, &url).await.unwrap();
    assert_eq!(status(&reply), "ok", "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_without_csrf_or_cookie_gets_stale_joins() {
    let server = TestServer::start(&["thermostat"]).await;
    let page = get(server.addr, "/thermostat").await.unwrap();
    let url = server.url("/thermostat");
    let mut no_csrf = PhxSocket::connect(server.addr, None, Some(&page.cookie_header()))
        .await
        .unwrap();
    let (_, reply) = no_csrf.join_page(&page, &url).await.unwrap();
    assert_eq!(
        (status(&reply), reason(&reply)),
        ("error", "stale"),
        "{reply}"
    );

    let mut no_cookie = PhxSocket::connect(server.addr, page.csrf.as_deref(), None)
        .await
        .unwrap();
    let (_, reply) = no_cookie.join_page(&page, &url).await.unwrap();
    assert_eq!(
        (status(&reply), reason(&reply)),
        ("error", "stale"),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leave_and_unmatched_topics() {
    let server = TestServer::start(&["thermostat"]).await;
    let (mut socket, page, join_ref, _) = joined_thermostat(&server).await;
    let topic = page.topic();

    let msg_ref = socket
        .push(Some(&join_ref), &topic, "phx_leave", json!({}))
        .await
        .unwrap();
    let reply = socket.reply_to(&msg_ref, WAIT).await.unwrap();
    assert_eq!(status(&reply), "ok");
    let close = socket.wait_push(&topic, "phx_close", WAIT).await.unwrap();
    assert_eq!(close[0].as_str(), Some(join_ref.as_str()));

    // Events after leaving hit an unmatched topic.
    let reply = socket
        .event(&join_ref, &topic, "click", "inc", json!({}))
        .await
        .unwrap();
    assert_eq!(
        (status(&reply), reason(&reply)),
        ("error", "unmatched topic"),
        "{reply}"
    );
    let reply = socket.join("room:lobby", json!({})).await.unwrap().1;
    assert_eq!(
        (status(&reply), reason(&reply)),
        ("error", "unmatched topic"),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejoining_a_joined_topic_closes_the_old_channel_first() {
    let server = TestServer::start(&["thermostat"]).await;
    let (mut socket, page, old_join_ref, _) = joined_thermostat(&server).await;
    let topic = page.topic();
    let (new_join_ref, reply) = socket
        .join_page(&page, &server.url("/thermostat?house=7"))
        .await
        .unwrap();
    assert_eq!(status(&reply), "ok");
    let close = socket
        .wait_for(WAIT, "phx_close of the old join", |f| {
            f[3] == "phx_close" && f[0].as_str() == Some(old_join_ref.as_str())
        })
        .await
        .unwrap();
    assert_eq!(close[2], topic.as_str());
    let reply = socket
        .event(&new_join_ref, &topic, "click", "inc", json!({}))
        .await
        .unwrap();
    assert_eq!(status(&reply), "ok", "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_get_clear_errors_and_the_socket_survives() {
    let server = TestServer::start(&["thermostat"]).await;
    let (mut socket, page, join_ref, _) = joined_thermostat(&server).await;
    let topic = page.topic();

    for garbage in [
        "not json at all",
        "{\"an\":\"object\"}",
        "[1,2,3]",
        "[null,\"5\",\"phoenix\"]",
    ] {
        socket.send_text(garbage).await.unwrap();
        let err = socket
            .wait_for(WAIT, "error for malformed frame", |f| {
                f[3] == "phx_error" || f[4]["status"] == "error"
            })
            .await
            .unwrap();
        let text = err.to_string();
        assert!(
            text.contains("malformed") || text.contains("frame"),
            "unclear error: {text}"
        );
    }
    // A well-formed frame whose payload is not an object, with a ref to reply to.
    socket
        .send_text(&json!([join_ref, "900", topic, "event", "nope"]).to_string())
        .await
        .unwrap();
    let reply = socket.reply_to("900", WAIT).await.unwrap();
    assert_eq!(status(&reply), "error", "{reply}");
    // An event payload of the wrong shape.
    socket
        .send_text(&json!([join_ref, "901", topic, "event", {"event": 5}]).to_string())
        .await
        .unwrap();
    let reply = socket.reply_to("901", WAIT).await.unwrap();
    assert_eq!(status(&reply), "error", "{reply}");

    // The connection and the view still work.
    assert_eq!(status(&socket.heartbeat().await.unwrap()), "ok");
    let reply = socket
        .event(&join_ref, &topic, "click", "inc", json!({}))
        .await
        .unwrap();
    assert_eq!(status(&reply), "ok", "{reply}");
    assert!(server.is_running());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_form_events_get_clear_errors_and_the_view_keeps_working() {
    let server = TestServer::start(&["thermostat"]).await;
    let (mut socket, page, join_ref, _) = joined_thermostat(&server).await;
    let topic = page.topic();
    let deep = format!("a{}=1", "%5Bx%5D".repeat(10_000));
    let many = "a=1&".repeat(10_001);
    for (value, expected) in [
        (json!(deep), "nests deeper than 32 levels"),
        (json!(many), "more than 10000 fields"),
        (json!({"not": "urlencoded"}), "must be an urlencoded string"),
    ] {
        let reply = socket
            .event(&join_ref, &topic, "form", "inc", value)
            .await
            .unwrap();
        assert_eq!(status(&reply), "error", "{reply}");
        assert!(reason(&reply).contains(expected), "{reply}");
    }
    // A well-formed form event still reaches the view, and so do clicks.
    let reply = socket
        .event(
            &join_ref,
            &topic,
            "form",
            "inc",
            json!("user%5Bname%5D=x&tags%5B%5D=a"),
        )
        .await
        .unwrap();
    assert_eq!(status(&reply), "ok", "{reply}");
    let reply = socket
        .event(&join_ref, &topic, "click", "inc", json!({}))
        .await
        .unwrap();
    assert_eq!(status(&reply), "ok", "{reply}");
    assert!(server.is_running());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_closes_only_that_socket() {
    let server = TestServer::start(&["thermostat"]).await;
    let (mut other, other_page, other_ref, _) = joined_thermostat(&server).await;
    let (mut socket, _, _, _) = joined_thermostat(&server).await;
    let huge = format!(
        "[null,\"1\",\"phoenix\",\"heartbeat\",{{\"x\":\"{}\"}}]",
        "a".repeat(3 << 20)
    );
    let _ = socket.send_text(&huge).await;
    socket.wait_closed(WAIT).await.unwrap();
    let reply = other
        .event(&other_ref, &other_page.topic(), "click", "inc", json!({}))
        .await
        .unwrap();
    assert_eq!(status(&reply), "ok", "{reply}");
}

/// Joins the hostile fixture's view.
async fn joined_hostile(server: &TestServer) -> (PhxSocket, Page, String) {
    let page = get(server.addr, "/hostile").await.unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    let mut socket = PhxSocket::connect_page(server.addr, &page).await.unwrap();
    let (join_ref, reply) = socket
        .join_page(&page, &server.url("/hostile"))
        .await
        .unwrap();
    assert_eq!(status(&reply), "ok", "{reply}");
    (socket, page, join_ref)
}

/// Sends `event` to the hostile view and expects `phx_error` for that join, then a fresh rejoin.
async fn crash_and_recover(server: &TestServer, event: &str) -> Duration {
    let (mut socket, page, join_ref) = joined_hostile(server).await;
    let topic = page.topic();
    let reply = socket
        .event(&join_ref, &topic, "click", "ok", json!({}))
        .await
        .unwrap();
    assert_eq!(reply["response"]["diff"]["0"], "1", "{reply}");

    let started = Instant::now();
    socket
        .push(
            Some(&join_ref),
            &topic,
            "event",
            json!({"type": "click", "event": event, "value": {}}),
        )
        .await
        .unwrap();
    let error = socket.wait_push(&topic, "phx_error", WAIT).await.unwrap();
    let took = started.elapsed();
    assert_eq!(error[0].as_str(), Some(join_ref.as_str()));
    assert!(error[4].is_object());

    // The client rejoins (`_mounts` ≥ 1) and gets a fresh mount: the count starts over.
    let (rejoin_ref, reply) = socket
        .join(
            &topic,
            json!({"url": server.url("/hostile"), "params": {"_mounts": 1},
                   "session": page.session, "static": page.static_token}),
        )
        .await
        .unwrap();
    assert_eq!(status(&reply), "ok", "{reply}");
    let reply = socket
        .event(&rejoin_ref, &topic, "click", "ok", json!({}))
        .await
        .unwrap();
    assert_eq!(
        reply["response"]["diff"]["0"], "1",
        "fresh state expected: {reply}"
    );
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_sends_phx_error_and_a_rejoin_mounts_fresh() {
    let server = TestServer::start(&["hostile"]).await;
    crash_and_recover(&server, "trap").await;
    crash_and_recover(&server, "error").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_exhaustion_is_contained() {
    let server = TestServer::start(&["hostile"]).await;
    crash_and_recover(&server, "oom").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_is_stopped_while_another_socket_keeps_working() {
    let server = TestServer::start(&["thermostat", "hostile"]).await;
    let (mut good, good_page, good_ref, _) = joined_thermostat(&server).await;
    let good_topic = good_page.topic();

    let looping = {
        let addr = server.addr;
        let url = server.url("/hostile");
        tokio::spawn(async move {
            let page = get(addr, "/hostile").await.unwrap();
            let mut socket = PhxSocket::connect_page(addr, &page).await.unwrap();
            let (join_ref, _) = socket.join_page(&page, &url).await.unwrap();
            let started = Instant::now();
            socket
                .push_click(&join_ref, &page.topic(), "loop")
                .await
                .unwrap();
            let error = socket.wait_push(&page.topic(), "phx_error", WAIT).await;
            (error.is_ok(), started.elapsed())
        })
    };

    // Meanwhile the other socket's events keep being answered.
    let mut answered = 0;
    while !looping.is_finished() {
        let reply = good
            .event(&good_ref, &good_topic, "click", "inc", json!({}))
            .await
            .unwrap();
        assert_eq!(status(&reply), "ok", "{reply}");
        answered += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (errored, took) = looping.await.unwrap();
    assert!(errored, "the looping view must get phx_error");
    assert!(
        took < Duration::from_secs(5),
        "loop stopped only after {took:?}"
    );
    assert!(
        answered >= 1,
        "the other socket got no answer while the loop ran"
    );
    assert_eq!(status(&good.heartbeat().await.unwrap()), "ok");
    assert!(server.is_running());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_mount_that_traps_is_a_join_error() {
    let server = TestServer::start(&["hostile"]).await;
    // The view renders fine over HTTP and panics only in its connected mount.
    let page = get(server.addr, "/hostile/mount-trap").await.unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    let mut socket = PhxSocket::connect_page(server.addr, &page).await.unwrap();
    let (_, reply) = socket
        .join_page(&page, &server.url("/hostile/mount-trap"))
        .await
        .unwrap();
    assert_eq!(
        (status(&reply), reason(&reply)),
        ("error", "join crashed"),
        "{reply}"
    );
    assert_eq!(status(&socket.heartbeat().await.unwrap()), "ok");
}
