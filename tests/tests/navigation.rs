//! Live navigation over a real WebSocket, the way the official client does it (`phx_leave`,
//! then `phx_join` on the same topic with `redirect`): allowed inside the page's live session,
//! refused with `unauthorized` (the client then loads the page over HTTP) into another one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_integration_tests::{PhxSocket, TestServer, WAIT, get};
use livewasm_protocol::client::ClientRendered;
use serde_json::{Value, json};

/// Leaves the page's view and joins `to` in its place with the page's tokens.
async fn navigate(
    socket: &mut PhxSocket,
    page: &livewasm_integration_tests::Page,
    join_ref: &str,
    server: &TestServer,
    to: &str,
    flash: Option<&str>,
) -> (String, Value) {
    let leave = socket
        .push(Some(join_ref), &page.topic(), "phx_leave", json!({}))
        .await
        .unwrap();
    let reply = socket.reply_to(&leave, WAIT).await.unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    let mut payload = json!({
        "redirect": server.url(to),
        "params": {"_csrf_token": page.csrf, "_mounts": 0, "_mount_attempts": 0,
                   "_live_referer": server.url("/articles")},
        "session": page.session,
        "static": page.static_token,
        "sticky": false,
    });
    if let Some(flash) = flash {
        payload["flash"] = json!(flash);
    }
    socket.join(&page.topic(), payload).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_navigation_stays_inside_the_live_session() {
    let server = TestServer::start(&["articles"]).await;
    let page = get(server.addr, "/articles").await.unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    let mut socket = PhxSocket::connect_page(server.addr, &page).await.unwrap();
    let (join_ref, reply) = socket
        .join_page(&page, &server.url("/articles"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");

    // Same live session, another view: mounted under the same topic.
    let (join_ref, reply) = navigate(
        &mut socket,
        &page,
        &join_ref,
        &server,
        "/articles/2/show",
        None,
    )
    .await;
    assert_eq!(reply["status"], "ok", "{reply}");
    let html = ClientRendered::new(reply["response"]["rendered"].clone())
        .unwrap()
        .to_html();
    assert!(html.contains("<h1>Live navigation</h1>"), "{html}");
    // The new route's container attributes replace the page's.
    assert_eq!(
        reply["response"]["container"],
        json!(["div", {"class": "article-page"}]),
        "{reply}"
    );

    // Another live session: refused, the client falls back to a full page load.
    let (_, reply) = navigate(
        &mut socket,
        &page,
        &join_ref,
        &server,
        "/articles-archive",
        None,
    )
    .await;
    assert_eq!(reply["status"], "error", "{reply}");
    assert_eq!(reply["response"]["reason"], "unauthorized", "{reply}");

    // The page itself does load over HTTP.
    let archive = get(server.addr, "/articles-archive").await.unwrap();
    assert_eq!(archive.status, 200);
    assert!(archive.body.contains("Archive"));
    assert!(
        archive.body.contains("<main id=\"")
            && archive
                .body
                .contains(" class=\"archive\" data-kind=\"archive\" data-phx-main "),
        "the route's container: {}",
        archive.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_navigate_replies_with_a_signed_flash_that_the_next_join_shows() {
    let server = TestServer::start(&["articles"]).await;
    let page = get(server.addr, "/articles").await.unwrap();
    let mut socket = PhxSocket::connect_page(server.addr, &page).await.unwrap();
    let (join_ref, _) = socket
        .join_page(&page, &server.url("/articles"))
        .await
        .unwrap();
    let reply = socket
        .event(
            &join_ref,
            &page.topic(),
            "click",
            "delete",
            json!({"id": "1"}),
        )
        .await
        .unwrap();
    let redirect = &reply["response"]["live_redirect"];
    assert_eq!(redirect["to"], "/articles", "{reply}");
    assert_eq!(redirect["kind"], "push");
    let flash = redirect["flash"]
        .as_str()
        .expect("a flash token")
        .to_string();

    let (join_ref, reply) = navigate(
        &mut socket,
        &page,
        &join_ref,
        &server,
        "/articles",
        Some(&flash),
    )
    .await;
    assert_eq!(reply["status"], "ok", "{reply}");
    let html = ClientRendered::new(reply["response"]["rendered"].clone())
        .unwrap()
        .to_html();
    assert!(html.contains("Article deleted"), "{html}");

    // A forged flash token is ignored, the join still succeeds.
    let (_, reply) = navigate(
        &mut socket,
        &page,
        &join_ref,
        &server,
        "/articles",
        Some("eyJmbGFzaCI6eyJpbmZvIjoiaGkifX0.AAAA"),
    )
    .await;
    assert_eq!(reply["status"], "ok", "{reply}");
    let html = ClientRendered::new(reply["response"]["rendered"].clone())
        .unwrap()
        .to_html();
    assert!(!html.contains("flash-info"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_patch_to_another_view_is_answered_link_redirect() {
    let server = TestServer::start(&["articles"]).await;
    let page = get(server.addr, "/articles").await.unwrap();
    let mut socket = PhxSocket::connect_page(server.addr, &page).await.unwrap();
    let (join_ref, _) = socket
        .join_page(&page, &server.url("/articles"))
        .await
        .unwrap();
    let patch = socket
        .push(
            Some(&join_ref),
            &page.topic(),
            "live_patch",
            json!({"url": server.url("/articles/2/edit")}),
        )
        .await
        .unwrap();
    let reply = socket.reply_to(&patch, WAIT).await.unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    assert!(
        reply["response"]["diff"]
            .to_string()
            .contains("Edit Article")
    );

    let patch = socket
        .push(
            Some(&join_ref),
            &page.topic(),
            "live_patch",
            json!({"url": server.url("/articles-archive")}),
        )
        .await
        .unwrap();
    let reply = socket.reply_to(&patch, WAIT).await.unwrap();
    assert_eq!(reply["response"]["link_redirect"], true, "{reply}");
}
