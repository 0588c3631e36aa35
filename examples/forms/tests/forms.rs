//! FormLive's event bindings through the in-process harness and the real component
//! (`cargo xtask build forms`): the payloads are built from the page's HTML as the official
//! client builds them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_test::{HarnessError, LiveView, TestHost};
use serde_json::json;

async fn live() -> (LiveView, String) {
    TestHost::new(&["forms"])
        .expect("forms component")
        .live("/form")
        .await
        .unwrap()
}

#[tokio::test]
async fn click_with_values_deletes_the_user() {
    let (mut view, html) = live().await;
    assert!(html.contains("Delete Ada"), "{html}");
    // phx-value-id="42" and phx-value-confirm="true" arrive as text and parse into typed params.
    let html = view.element("#delete", None).render_click().unwrap();
    assert!(html.contains("User 42 deleted successfully"), "{html}");
    assert!(!view.has_element("#delete", None).unwrap());
    // Wrong types are a clear error (the view crashes and the client would remount it).
    let (mut view, _) = live().await;
    let error = view
        .render_click("delete", json!({"id": "forty-two", "confirm": "true"}))
        .expect_err("id is not a number");
    assert!(matches!(error, HarnessError::Crashed(_)), "{error}");
}

#[tokio::test]
async fn dropdown_opens_and_click_away_closes_it() {
    let (mut view, _) = live().await;
    let html = view.element("#menu", None).render_click().unwrap();
    assert!(html.contains("Item 1"), "{html}");
    let html = view.element("#dropdown", None).render_click_away().unwrap();
    assert!(!html.contains("Item 1"), "{html}");
}

#[tokio::test]
async fn form_change_and_submit() {
    let (mut view, _) = live().await;
    let html = view
        .form("#profile-form", json!({"profile": {"email": "invalid"}}))
        .render_change()
        .unwrap();
    assert!(
        html.contains("must have the @ sign and no spaces"),
        "{html}"
    );
    assert!(
        html.contains(r#"<span id="changed">profile.email</span>"#),
        "{html}"
    );
    // An explicit `_target`, as `render_change(form, %{"_target" => …})` gives.
    let html = view
        .form(
            "#profile-form",
            json!({"_target": "profile[search]", "profile": {"email": "invalid", "search": "x"}}),
        )
        .render_change()
        .unwrap();
    assert!(
        html.contains(r#"<span id="changed">profile.search</span>"#),
        "{html}"
    );
    let html = view
        .form(
            "#profile-form",
            json!({"profile": {"email": "ada@example.com", "search": "x"}}),
        )
        .render_submit()
        .unwrap();
    assert!(html.contains("Saved ada@example.com"), "{html}");
    assert!(!html.contains("must have the @ sign"), "{html}");
    // The submitter's name=value joins the params.
    let html = view
        .form(
            "#profile-form",
            json!({"profile": {"email": "bob@example.com"}}),
        )
        .submitter("#save-draft")
        .render_submit()
        .unwrap();
    assert!(html.contains("Draft saved for bob@example.com"), "{html}");
    // A submit with a bad email keeps the form and shows the error.
    let html = view
        .form("#profile-form", json!({"profile": {"email": "nope"}}))
        .render_submit()
        .unwrap();
    assert!(
        html.contains("must have the @ sign and no spaces"),
        "{html}"
    );
}

#[tokio::test]
async fn throttled_counter_and_window_keys() {
    let (mut view, _) = live().await;
    let html = view.element("#increment", None).render_click().unwrap();
    assert!(html.contains(r#"<span id="count">1</span>"#), "{html}");
    view.element("#game", None)
        .render_keydown("ArrowRight")
        .unwrap();
    view.element("#game", None)
        .render_keydown("ArrowRight")
        .unwrap();
    let html = view
        .element("#game", None)
        .render_keydown("ArrowUp")
        .unwrap();
    assert!(
        html.contains(r#"<span id="position">2,-1</span>"#),
        "{html}"
    );
    let html = view.element("#game", None).render_keyup("ArrowUp").unwrap();
    assert!(html.contains("keyup ArrowUp"), "{html}");
    // Other keys move nothing.
    let html = view.render_keydown("keydown", json!({"key": "a"})).unwrap();
    assert!(
        html.contains(r#"<span id="position">2,-1</span>"#),
        "{html}"
    );
}

#[tokio::test]
async fn search_on_enter() {
    let (mut view, _) = live().await;
    let html = view
        .render_keyup("search", json!({"key": "Enter", "value": "phoenix"}))
        .unwrap();
    assert!(html.contains("Searched for phoenix"), "{html}");
}

#[tokio::test]
async fn focus_and_blur() {
    let (mut view, _) = live().await;
    let html = view.element("#focus-email", None).render_focus().unwrap();
    assert!(html.contains("Focused: email"), "{html}");
    let html = view.element("#focus-email", None).render_blur().unwrap();
    assert!(html.contains("Blurred: email"), "{html}");
    let html = view
        .render_focus("field_focused", json!({"field": "name"}))
        .unwrap();
    assert!(html.contains("Focused: name"), "{html}");
    let error = view
        .element("#menu", None)
        .render_blur()
        .expect_err("no phx-blur");
    assert!(
        matches!(error, HarnessError::NoBinding("phx-blur")),
        "{error}"
    );
}

#[tokio::test]
async fn hook_event_gets_a_reply() {
    let host = TestHost::new(&["forms"]).expect("forms component");
    // The page loads the app's hook script (deferred, before the bundle); it registers the hook.
    let page = host.get("/form").await.unwrap().body;
    let src = page
        .split("<script defer src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a script before the bundle");
    assert!(src.starts_with("/assets/hooks/"), "{src}");
    assert!(
        page.find(src) < page.find("/assets/livewasm.js"),
        "the hooks load before the client bundle"
    );
    assert!(!page.contains("<script>"), "no inline script: {page}");
    let script = host.get(src).await.unwrap();
    assert_eq!(script.status, 200);
    let script = script.body;
    assert!(script.contains("hooks[\"CustomHook\"]"), "{script}");
    assert!(script.contains("pushEvent(\"custom_event\""), "{script}");
    let missing = host.get("/assets/hooks/0000000000000000.js").await.unwrap();
    assert_eq!(missing.status, 404, "an unknown hook script is not served");

    let (mut view, _) = host.live("/form").await.unwrap();
    let html = view
        .render_hook("custom_event", json!({"data": "value"}))
        .unwrap();
    assert!(html.contains("Event received: value"), "{html}");
    assert_eq!(view.last_reply(), Some(&json!({"echo": "value"})));
}

/// The seed's "form validation and submission" test as written, at `/users/new`.
#[tokio::test]
async fn the_seeds_form_validation_and_submission() {
    let (mut view, _) = TestHost::new(&["forms"])
        .expect("forms component")
        .live("/users/new")
        .await
        .unwrap();
    let html = view
        .form("#user-form", json!({"user": {"email": "invalid"}}))
        .render_change()
        .unwrap();
    assert!(html.contains("must have the @ sign"), "{html}");
    let html = view
        .form(
            "#user-form",
            json!({"user": {"email": "test@example.com", "name": "Test"}}),
        )
        .render_submit()
        .unwrap();
    assert!(html.contains("User created successfully"), "{html}");
    assert!(
        html.contains(r#"<p id="created">Created Test</p>"#),
        "{html}"
    );
    // Without a name: not created, the error shown.
    let html = view
        .form(
            "#user-form",
            json!({"user": {"email": "a@b.c", "name": ""}}),
        )
        .render_submit()
        .unwrap();
    assert!(
        html.contains(r#"<p class="error" data-for="name">can&#39;t be blank</p>"#),
        "{html}"
    );
    assert!(!html.contains("Created a@b.c"), "{html}");
}

/// The seed's "client hooks" test as written, at `/interactive`.
#[tokio::test]
async fn the_seeds_client_hooks_test() {
    let (mut view, _) = TestHost::new(&["forms"])
        .expect("forms component")
        .live("/interactive")
        .await
        .unwrap();
    let html = view
        .render_hook("custom_event", json!({"data": "value"}))
        .unwrap();
    assert!(html.contains("Event received"), "{html}");
}
