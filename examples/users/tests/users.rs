//! The seed's users page and `UserCardComponent` through the in-process harness and the real
//! users component (`cargo xtask build users`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use livewasm_test::TestHost;
use serde_json::json;

fn host() -> TestHost {
    TestHost::new(&["users"]).expect("users component")
}

#[tokio::test]
async fn dead_and_connected_renders_show_every_card() {
    let host = host();
    let page = host.get("/users").await.unwrap();
    assert_eq!(page.status, 200);
    for name in ["Alice", "Bob", "Carol"] {
        assert!(page.body.contains(name), "{name} in {}", page.body);
    }
    let (view, html) = host.live("/users").await.unwrap();
    assert!(html.contains(r#"id="user-1""#), "{html}");
    assert!(view.has_element("#user-3 h3", Some("Carol")).unwrap());
    // The cards are live components: their root elements carry their cid as the target.
    assert!(html.contains(r#"phx-target=""#), "{html}");
}

#[tokio::test]
async fn live_component_interaction() {
    // The seed's test: target a specific component.
    let (mut view, _html) = host().live("/users").await.unwrap();
    let html = view
        .element("#user-1 button", Some("Edit"))
        .render_click()
        .unwrap();
    assert!(html.contains("Edit User"), "{html}");
    // Only Alice's card is editing.
    assert!(view.has_element("#user-1 form", None).unwrap());
    assert!(!view.has_element("#user-2 form", None).unwrap());
    // The reply carried only that component.
    let diff = view.last_diff().cloned().expect("a diff");
    assert_eq!(diff["c"].as_object().map(|c| c.len()), Some(1), "{diff}");
    assert!(
        diff.get("0").is_none(),
        "the parent did not re-render: {diff}"
    );
}

#[tokio::test]
async fn component_state_is_its_own() {
    let (mut view, _html) = host().live("/users").await.unwrap();
    let html = view
        .element("#user-2 button.expand", Some("More"))
        .render_click()
        .unwrap();
    assert!(html.contains("Bio: Writes Elixir."), "{html}");
    assert!(!html.contains("Bio: Likes Rust."), "{html}");
    assert!(
        view.has_element("#user-2 button.expand", Some("Less"))
            .unwrap()
    );
    assert!(
        view.has_element("#user-1 button.expand", Some("More"))
            .unwrap()
    );
}

#[tokio::test]
async fn saving_tells_the_parent_which_updates_the_card() {
    let (mut view, _html) = host().live("/users").await.unwrap();
    view.element("#user-3 button", Some("Edit"))
        .render_click()
        .unwrap();
    let cid: u32 = {
        let html = view.element("#user-3 form", None).render().unwrap();
        let start = html.find(r#"phx-target=""#).expect("target") + r#"phx-target=""#.len();
        html[start..].split('"').next().unwrap().parse().unwrap()
    };
    let html = view
        .push_event_to(cid, "form", "save", json!("name=Caroline"))
        .unwrap();
    // The card saved the user and shows it, and sent `{saved: …}` to the parent, which shows
    // a notice.
    assert!(html.contains("Saved Caroline"), "{html}");
    assert!(view.has_element("#user-3 h3", Some("Caroline")).unwrap());
    assert!(
        view.has_element("#user-3 small", Some("Saved 1 times"))
            .unwrap()
    );
    assert!(!view.has_element("#user-3 form", None).unwrap());
}

/// The JS commands in the `phx-click` of the element `selector` (decoded).
fn click_js(view: &mut livewasm_test::LiveView, selector: &str) -> serde_json::Value {
    let html = view.element(selector, None).render().unwrap();
    let key = r#"phx-click=""#;
    let start = html.find(key).expect("phx-click") + key.len();
    let raw = html[start..].split('"').next().unwrap();
    serde_json::from_str(&raw.replace("&quot;", "\"")).expect("JS commands are JSON")
}

#[tokio::test]
async fn cancel_is_a_js_push_targeted_at_the_card_itself() {
    let (mut view, _html) = host().live("/users").await.unwrap();
    let alice = cid_in(&mut view, "#user-1");
    view.element("#user-2 button", Some("Edit"))
        .render_click()
        .unwrap();
    view.element("#user-1 button", Some("Edit"))
        .render_click()
        .unwrap();
    // `JS::push("cancel").with_target(@myself)`: Phoenix's `JS.push("cancel", target: @myself)`,
    // the target being the card's cid as a number (the button has no `phx-target` of its own).
    let cancel = click_js(&mut view, "#user-1 button.cancel");
    assert_eq!(
        cancel,
        json!([["push", {"event": "cancel", "target": alice}]])
    );
    assert!(
        !view
            .element("#user-1 button.cancel", None)
            .render()
            .unwrap()
            .contains("phx-target"),
        "the target is in the JS command only"
    );
    // The client sends the push to that cid: only Alice's card stops editing.
    let target = u32::try_from(cancel[0][1]["target"].as_u64().unwrap()).unwrap();
    view.push_event_to(target, "click", "cancel", json!({}))
        .unwrap();
    assert!(!view.has_element("#user-1 form", None).unwrap());
    assert!(view.has_element("#user-1 button.edit", None).unwrap());
    assert!(view.has_element("#user-2 form", None).unwrap());

    // `element(…).render_click()` reads the push's target as the client does: Bob's cancel
    // reaches Bob's card (sent to the view instead, it would fail: the view has no `cancel`).
    view.element("#user-2 button.cancel", None)
        .render_click()
        .unwrap();
    assert!(!view.has_element("#user-2 form", None).unwrap());
    assert!(view.has_element("#user-2 button.edit", None).unwrap());
}

#[tokio::test]
async fn the_parent_updates_components_by_props_and_send_update() {
    let (mut view, html) = host().live("/users").await.unwrap();
    assert!(!html.contains("alice@example.com"));
    // New attributes from the parent reach every card's update.
    let html = view.element("#toggle-emails", None).render_click().unwrap();
    for email in ["alice@example.com", "bob@example.com", "carol@example.com"] {
        assert!(html.contains(email), "{email} in {html}");
    }
    // send_update from the parent: only Bob's card becomes a VIP.
    let html = view
        .element(".slot:nth-child(2) button.vip", None)
        .render_click()
        .unwrap();
    assert!(view.has_element("#user-2.vip .badge", Some("VIP")).unwrap());
    // The card told the parent from its `update` (during the render): that message reaches the
    // parent's handle_info just after the render.
    assert!(!html.contains("User 2 is a VIP"), "{html}");
    let html = view.advance(Duration::from_millis(50)).unwrap();
    assert!(html.contains("User 2 is a VIP"), "{html}");
    assert!(!view.has_element("#user-1.vip", None).unwrap());
}

#[tokio::test]
async fn expanded_details_collapse_after_five_seconds() {
    let (mut view, _html) = host().live("/users").await.unwrap();
    view.element("#user-1 button.expand", Some("More"))
        .render_click()
        .unwrap();
    assert!(view.has_element("#user-1 .details", None).unwrap());
    view.advance(Duration::from_millis(4000)).unwrap();
    assert!(view.has_element("#user-1 .details", None).unwrap());
    // send_update_after fires (`advance` counts from now): the card collapses by itself.
    let html = view.advance(Duration::from_millis(5500)).unwrap();
    assert!(!html.contains("Bio: Likes Rust."), "{html}");
    assert!(
        view.has_element("#user-1 button.expand", Some("More"))
            .unwrap()
    );
}

#[tokio::test]
async fn bad_targets_are_refused_and_the_view_lives_on() {
    let (mut view, _html) = host().live("/users").await.unwrap();
    let refused = view.push_event_to(4242, "click", "edit", json!({}));
    assert!(refused.is_err(), "{refused:?}");
    let message = format!("{:?}", refused.unwrap_err());
    assert!(
        message.contains("no live component with cid 4242"),
        "{message}"
    );
    // Still alive.
    let html = view
        .element("#user-1 button", Some("Edit"))
        .render_click()
        .unwrap();
    assert!(html.contains("Edit User"), "{html}");
}

#[tokio::test]
async fn components_gone_from_the_page_are_destroyed_only_then() {
    let (mut view, _html) = host().live("/users").await.unwrap();
    // Every card is on the page: the server keeps them all.
    assert_eq!(
        view.destroy_components(&[1, 2, 3]).unwrap(),
        Vec::<u32>::new()
    );
    let html = view
        .element("#user-1 button", Some("Edit"))
        .render_click()
        .unwrap();
    assert!(html.contains("Edit User"), "{html}");
}

/// The cid on the `phx-target` of the first targeted element under `selector`.
fn cid_in(view: &mut livewasm_test::LiveView, selector: &str) -> u32 {
    let html = view.element(selector, None).render().unwrap();
    let start = html.find(r#"phx-target=""#).expect("a target") + r#"phx-target=""#.len();
    html[start..].split('"').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_deleted_card_is_destroyed_and_a_new_one_mounts_fresh() {
    let (mut view, _html) = host().live("/users").await.unwrap();
    let alice = cid_in(&mut view, "#user-1");
    let bob = cid_in(&mut view, "#user-2");
    view.element("#user-1 button.expand", None)
        .render_click()
        .unwrap();
    // The parent drops Alice: her card leaves the page (the diff only changes the list).
    let html = view
        .element(".slot:nth-child(1) button.delete", None)
        .render_click()
        .unwrap();
    assert!(!html.contains(r#"id="user-1""#), "{html}");
    assert!(html.contains("Deleted user 1"), "{html}");
    // Until the client reports it, the server keeps it; then only the card off the page goes.
    assert_eq!(view.destroy_components(&[alice, bob]).unwrap(), vec![alice]);
    let refused = view.push_event_to(alice, "click", "toggle_expand", json!({}));
    assert!(
        format!("{refused:?}").contains(&format!("no live component with cid {alice}")),
        "{refused:?}"
    );
    // A new user gets a new card with a new cid; it shares statics with the cards the client
    // holds (`s: -cid`) and starts from mount (collapsed, not editing).
    let html = view.element("#add-user", None).render_click().unwrap();
    assert!(html.contains("Added user 4"), "{html}");
    let diff = view.last_diff().cloned().expect("a diff");
    let (cid, card) = diff["c"]
        .as_object()
        .and_then(|c| c.iter().next())
        .expect("the new card");
    assert!(cid.parse::<u32>().unwrap() > bob, "{diff}");
    assert!(card["s"].as_i64().is_some_and(|s| s < 0), "{diff}");
    assert!(view.has_element("#user-4 h3", Some("User 4")).unwrap());
    assert!(
        view.has_element("#user-4 button.expand", Some("More"))
            .unwrap()
    );
}

#[tokio::test]
async fn additions_renames_and_deletions_are_kept_for_the_next_visitor() {
    let host = host();
    let (mut view, _html) = host.live("/users").await.unwrap();
    view.element("#add-user", None).render_click().unwrap();
    view.element(".slot:nth-child(1) button.delete", None)
        .render_click()
        .unwrap();
    view.element("#user-3 button", Some("Edit"))
        .render_click()
        .unwrap();
    let cid = cid_in(&mut view, "#user-3");
    view.push_event_to(cid, "form", "save", json!("name=Caroline"))
        .unwrap();

    // Another visitor's page (dead render and a new view) reads the same store.
    let page = host.get("/users").await.unwrap();
    assert!(!page.body.contains("Alice"), "{}", page.body);
    assert!(page.body.contains("Caroline"), "{}", page.body);
    let (other, _html) = host.live("/users").await.unwrap();
    assert!(other.has_element("#user-4 h3", Some("User 4")).unwrap());
    assert!(!other.has_element("#user-1", None).unwrap());
    assert!(other.has_element("#user-3 h3", Some("Caroline")).unwrap());
}

/// The seed's "Send Message": the card sends `{open_chat: id}` to its parent, which
/// navigates live to `/chat/:id`.
#[tokio::test]
async fn send_message_opens_the_chat() {
    let (mut view, _html) = host().live("/users").await.unwrap();
    view.element("#user-2 button.expand", Some("More"))
        .render_click()
        .unwrap();
    // The card handles the click; the parent's handle_info navigates.
    let result = view
        .element("#user-2 button.send-message", Some("Send Message"))
        .render_click();
    assert!(
        matches!(result, Err(livewasm_test::HarnessError::Redirect(_))),
        "{result:?}"
    );
    let to = view.assert_redirect().expect("a live redirect");
    assert_eq!(to.kind, livewasm_test::RedirectKind::Live);
    assert_eq!(to.to, "/chat/2");
    let html = view.follow_live_redirect(&to).unwrap();
    assert!(html.contains("<h1>Chat with Bob</h1>"), "{html}");

    let (_view, html) = host().live("/chat/99").await.unwrap();
    assert!(html.contains("No such user."), "{html}");
}

/// A component navigates itself: `push_navigate` on the card's socket.
#[tokio::test]
async fn a_card_navigates_by_itself() {
    let (mut view, _html) = host().live("/users").await.unwrap();
    view.element("#user-3 button.expand", Some("More"))
        .render_click()
        .unwrap();
    let result = view
        .element("#user-3 button.chat-now", Some("Chat now"))
        .render_click();
    let Err(livewasm_test::HarnessError::Redirect(to)) = result else {
        panic!("expected a live redirect: {result:?}")
    };
    assert_eq!(to.kind, livewasm_test::RedirectKind::Live);
    assert_eq!(to.to, "/chat/3");
    let html = view.follow_live_redirect(&to).unwrap();
    assert!(html.contains("<h1>Chat with Carol</h1>"), "{html}");
}

/// Saves `name` on user `id`'s card through its form (the card's own `save` event).
fn rename(view: &mut livewasm_test::LiveView, id: u32, name: &str) -> String {
    let card = format!("#user-{id}");
    view.element(&format!("{card} button.edit"), None)
        .render_click()
        .unwrap();
    let cid = cid_in(view, &card);
    view.push_event_to(cid, "form", "save", json!(format!("name={name}")))
        .unwrap()
}

#[tokio::test]
async fn an_edit_is_in_the_database_for_a_fresh_live_and_the_chat() {
    let host = host();
    let (mut view, _html) = host.live("/users").await.unwrap();
    let html = rename(&mut view, 2, "Robert");
    assert!(html.contains("Saved Robert"), "{html}");
    drop(view);

    // A fresh mount on the same host reads the rows again: the edit is there.
    let (other, html) = host.live("/users").await.unwrap();
    assert!(
        other.has_element("#user-2 h3", Some("Robert")).unwrap(),
        "{html}"
    );
    assert!(!html.contains("Bob"), "{html}");
    let (_chat, html) = host.live("/chat/2").await.unwrap();
    assert!(html.contains("<h1>Chat with Robert</h1>"), "{html}");

    // Each test host has a database of its own, fresh from the migrations: the seed's Bob.
    let (fresh, _html) = TestHost::new(&["users"])
        .expect("users component")
        .live("/users")
        .await
        .unwrap();
    assert!(fresh.has_element("#user-2 h3", Some("Bob")).unwrap());
}

#[tokio::test]
async fn ids_of_deleted_users_are_never_given_again() {
    let host = host();
    let (mut view, _html) = host.live("/users").await.unwrap();
    let html = view.element("#add-user", None).render_click().unwrap();
    assert!(html.contains("Added user 4"), "{html}");
    let html = view
        .element(".slot:nth-child(4) button.delete", None)
        .render_click()
        .unwrap();
    assert!(html.contains("Deleted user 4"), "{html}");
    let html = view.element("#add-user", None).render_click().unwrap();
    assert!(html.contains("Added user 5"), "{html}");
    let (other, _html) = host.live("/users").await.unwrap();
    assert!(!other.has_element("#user-4", None).unwrap());
    assert!(other.has_element("#user-5 h3", Some("User 5")).unwrap());
}

#[tokio::test]
async fn saving_a_user_deleted_on_another_page_drops_its_card() {
    let host = host();
    let (mut first, _html) = host.live("/users").await.unwrap();
    let (mut second, _html) = host.live("/users").await.unwrap();
    second
        .element(".slot:nth-child(2) button.delete", None)
        .render_click()
        .unwrap();
    // The first page still lists Bob; saving his card finds no row to update.
    let html = rename(&mut first, 2, "Robert");
    assert!(html.contains("User 2 was deleted elsewhere"), "{html}");
    assert!(!first.has_element("#user-2", None).unwrap(), "{html}");
    // The save did not bring the user back.
    let (_other, html) = host.live("/users").await.unwrap();
    assert!(!html.contains("Robert"), "{html}");
    assert!(!html.contains(r#"id="user-2""#), "{html}");
}

/// The diff's dynamic strings, concatenated (what the render sent this time).
fn diff_text(view: &livewasm_test::LiveView) -> String {
    view.last_diff().map(|d| d.to_string()).unwrap_or_default()
}

/// The chat's messages are a temporary assign (`temporary_assigns!`): each render sends only
/// the messages added since the last one, and a render for anything else sends none; the
/// page keeps them (`phx-update="append"`, checked in tests/browser/users.test.mjs). The
/// harness shows the host's tree, which holds only the last batch sent, as the view keeps
/// none.
#[tokio::test]
async fn chat_messages_are_sent_once_and_not_kept() {
    let host = host();
    let page = host.get("/chat/2").await.unwrap();
    assert!(
        page.body
            .contains(r#"<li id="message-0">You are now chatting with Bob.</li>"#),
        "{}",
        page.body
    );
    let (mut view, html) = host.live("/chat/2").await.unwrap();
    assert!(html.contains(r#"phx-update="append""#), "{html}");
    assert!(html.contains("You are now chatting with Bob."), "{html}");

    let html = view
        .form("#chat-form", json!({"text": "hello"}))
        .render_submit()
        .unwrap();
    assert!(html.contains(r#"<li id="message-1">hello</li>"#), "{html}");
    assert!(html.contains("Sent 1 messages"), "{html}");
    let diff = diff_text(&view);
    assert!(diff.contains("hello"), "{diff}");
    assert!(
        !diff.contains("chatting with Bob"),
        "the greeting is not sent again: {diff}"
    );

    // The second message: the diff carries it alone (a kept list would carry both).
    view.form("#chat-form", json!({"text": "world"}))
        .render_submit()
        .unwrap();
    let diff = diff_text(&view);
    assert!(diff.contains("world"), "{diff}");
    assert!(!diff.contains("hello"), "{diff}");
    let html = view.render();
    assert!(html.contains(r#"<li id="message-2">world</li>"#), "{html}");
    assert!(
        !html.contains("message-1"),
        "the host's tree drops it: {html}"
    );

    // A render for another assign sends no message at all.
    let html = view
        .form("#chat-form", json!({"text": "typing"}))
        .render_change()
        .unwrap();
    assert!(html.contains("6 characters typed"), "{html}");
    let diff = diff_text(&view);
    assert!(diff.contains("typing"), "{diff}");
    assert!(!diff.contains("world"), "{diff}");
    assert!(!diff.contains("message-"), "{diff}");

    // Blank and oversized messages: nothing sent, the view lives on.
    view.form("#chat-form", json!({"text": "   "}))
        .render_submit()
        .unwrap();
    assert!(view.render().contains("Sent 2 messages"));
    assert!(view.crash_reason().is_none());
}

/// "Leave chat" navigates live with `push_navigate(replace: true)`: the redirect says
/// `replace`, where the card's "Send Message" (a plain `push_navigate`) pushes.
#[tokio::test]
async fn leaving_the_chat_replaces_its_history_entry() {
    let host = host();
    let (mut chat, _) = host.live("/chat/1").await.unwrap();
    let result = chat.element("#leave", None).render_click();
    let Err(livewasm_test::HarnessError::Redirect(to)) = result else {
        panic!("expected a live redirect: {result:?}")
    };
    assert_eq!(to.kind, livewasm_test::RedirectKind::Live);
    assert_eq!(to.to, "/users");
    assert!(to.replace, "{to:?}");
    let html = chat.follow_live_redirect(&to).unwrap();
    assert!(html.contains("<h1>Users</h1>"), "{html}");

    let (mut users, _) = host.live("/users").await.unwrap();
    users
        .element("#user-1 button.expand", None)
        .render_click()
        .unwrap();
    let result = users
        .element("#user-1 button.chat-now", None)
        .render_click();
    let Err(livewasm_test::HarnessError::Redirect(to)) = result else {
        panic!("expected a live redirect: {result:?}")
    };
    assert!(!to.replace, "a plain push_navigate pushes: {to:?}");
}

/// The `sql` calls the users app has made on `host` so far.
async fn sql_calls(host: &TestHost) -> u64 {
    host.capability_calls("users", "sql").await.unwrap()
}

/// Phoenix's `update_many/1`: the parent places a card per user id and the cards load their
/// users themselves, every card of a render together, in ONE query (per-card `update`s would
/// make one query per card; the host's `sql` call counter tells them apart).
#[tokio::test]
async fn the_cards_load_their_users_together_with_update_many() {
    let host = host();
    let before = sql_calls(&host).await;
    let (mut view, _html) = host.live("/users").await.unwrap();
    // The dead render and the connected mount: each lists the ids (one query) and fills the
    // three cards (one query).
    assert_eq!(sql_calls(&host).await - before, 4);
    for (id, name) in [(1, "Alice"), (2, "Bob"), (3, "Carol")] {
        assert!(
            view.has_element(&format!("#user-{id} h3"), Some(name))
                .unwrap(),
            "{name}"
        );
    }

    view.element("#add-user", None).render_click().unwrap();
    view.element("#add-user", None).render_click().unwrap();
    // The parent's new attribute reaches all five cards; their users come in one query.
    let before = sql_calls(&host).await;
    let html = view.element("#toggle-emails", None).render_click().unwrap();
    assert_eq!(
        sql_calls(&host).await - before,
        1,
        "one query for five cards"
    );
    for email in [
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
        "user4@example.com",
        "user5@example.com",
    ] {
        assert!(html.contains(email), "{email} in {html}");
    }
    assert!(view.has_element("#user-5 h3", Some("User 5")).unwrap());

    // A render that places no card (only the notice changes) asks for no user.
    let before = sql_calls(&host).await;
    view.element(".slot:nth-child(2) button.vip", None)
        .render_click()
        .unwrap();
    view.advance(Duration::from_millis(50)).unwrap();
    assert!(view.render().contains("User 2 is a VIP"));
    assert_eq!(sql_calls(&host).await - before, 0);

    // A user deleted on another page: the next batch misses it, and its card asks the parent
    // to drop it.
    let (mut other, _html) = host.live("/users").await.unwrap();
    other
        .element(".slot:nth-child(4) button.delete", None)
        .render_click()
        .unwrap();
    view.element("#toggle-emails", None).render_click().unwrap();
    let html = view.advance(Duration::from_millis(50)).unwrap();
    assert!(html.contains("User 4 was deleted elsewhere"), "{html}");
    assert!(!view.has_element("#user-4", None).unwrap());
    assert!(view.has_element("#user-5 h3", Some("User 5")).unwrap());
}
