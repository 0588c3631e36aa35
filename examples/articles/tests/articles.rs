//! The seed's navigation cases for ArticlesLive through the in-process harness and the real
//! component (`cargo xtask build articles`): patches with live actions, live navigation with
//! flash, redirects, page titles, and the live-session boundary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_test::{HarnessError, RedirectKind, TestHost};
use serde_json::json;

fn host() -> TestHost {
    TestHost::new(&["articles"]).expect("articles component")
}

fn redirect(result: Result<String, HarnessError>) -> livewasm_test::Redirect {
    match result {
        Err(HarnessError::Redirect(redirect)) => redirect,
        other => panic!("expected a redirect, got {other:?}"),
    }
}

#[tokio::test]
async fn index_renders_with_its_title() {
    let host = host();
    let page = host.get("/articles").await.unwrap();
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<title data-default=\"Articles\">Articles</title>"),
        "{}",
        page.body
    );
    let (view, html) = host.live("/articles").await.unwrap();
    assert!(html.contains("<h1>Articles</h1>"), "{html}");
    assert!(html.contains("Hello, Livewasm"));
    assert!(!html.contains("article-modal"));
    assert_eq!(view.page_title().as_deref(), Some("Articles"));
}

#[tokio::test]
async fn patch_link_changes_the_live_action_without_remounting() {
    let (mut view, _) = host().live("/articles").await.unwrap();
    let html = view
        .element("a", Some("New Article"))
        .render_click()
        .unwrap();
    assert_eq!(view.assert_patch().as_deref(), Some("/articles/new"));
    assert!(html.contains("id=\"article-modal\""), "{html}");
    assert!(html.contains("<h1>New Article</h1>"));
    assert_eq!(view.page_title().as_deref(), Some("New Article"));
    assert_eq!(view.url(), "http://localhost/articles/new");

    // Edit: a patch with a path param; the form shows the article.
    let html = view.render_patch("/articles/2/edit").unwrap();
    assert!(html.contains("<h1>Edit Article</h1>"), "{html}");
    assert!(html.contains("value=\"Live navigation\""), "{html}");

    // Cancel patches back to the index: the modal goes.
    let html = view.element("#cancel", None).render_click().unwrap();
    assert!(!html.contains("article-modal"), "{html}");
    assert_eq!(view.page_title().as_deref(), Some("Articles"));
}

#[tokio::test]
async fn the_form_component_in_the_modal_validates_and_creates() {
    let (mut view, html) = host().live("/articles/new").await.unwrap();
    // The seed's `<.modal on_cancel={JS.patch(~p"/articles")}>`: Escape, a click away and the
    // close button run `data-cancel`, which holds the patch.
    let modal = view.element("#article-modal", None).render().unwrap();
    assert!(modal.contains("data-cancel="), "{modal}");
    assert!(
        modal.contains("[&quot;patch&quot;,{&quot;href&quot;:&quot;/articles&quot;")
            || modal.contains(r#"["patch",{"href":"/articles""#),
        "on_cancel patches to /articles: {modal}"
    );
    // The form is a live component: its events go to it (`phx-target={@myself}`).
    assert!(html.contains("phx-target=\"1\""), "{html}");

    // Typing in the title and clearing it: the component's validation shows the error.
    let html = view
        .form(
            "#article-form",
            json!({"article": {"title": "", "body": "x"}, "_target": "article[title]"}),
        )
        .render_change()
        .unwrap();
    assert!(
        html.contains("Title can&#39;t be blank") || html.contains("Title can't be blank"),
        "{html}"
    );
    // Submitting a blank title keeps the modal open, no patch.
    let html = view
        .form(
            "#article-form",
            json!({"article": {"title": "", "body": "x"}}),
        )
        .render_submit()
        .unwrap();
    assert!(html.contains("id=\"article-modal\""), "{html}");
    assert_eq!(view.assert_patch(), None);

    // A valid one: saved by the component, the parent's flash, list and patch.
    let html = view
        .form(
            "#article-form",
            json!({"article": {"title": "Mine", "body": "Text"}}),
        )
        .render_submit()
        .unwrap();
    assert_eq!(view.assert_patch().as_deref(), Some("/articles/4"));
    assert!(html.contains("Article created!"), "{html}");
    assert!(html.contains("<h2>Mine</h2>"), "the show action: {html}");
    assert!(!html.contains("article-modal"), "{html}");
    assert!(html.contains("id=\"article-4\""), "the list has it: {html}");
    assert_eq!(view.page_title().as_deref(), Some("Mine"));

    // lv:clear-flash removes it; a client patch clears the flash too.
    let html = view.element("#flash-info", None).render_click().unwrap();
    assert!(!html.contains("Article created!"), "{html}");
}

#[tokio::test]
async fn editing_through_the_component_updates_the_list() {
    let host = host();
    let (mut view, html) = host.live("/articles/2/edit").await.unwrap();
    assert!(html.contains("value=\"Live navigation\""), "{html}");
    let html = view
        .form(
            "#article-form",
            json!({"article": {"title": "Live navigation, revised"}}),
        )
        .render_submit()
        .unwrap();
    assert_eq!(view.assert_patch().as_deref(), Some("/articles/2"));
    assert!(html.contains("Article updated"), "{html}");
    assert!(html.contains("Live navigation, revised"), "{html}");
    // In the database: a fresh mount lists it.
    let (_view, html) = host.live("/articles").await.unwrap();
    assert!(html.contains("Live navigation, revised"), "{html}");
}

#[tokio::test]
async fn a_client_patch_clears_the_flash() {
    let (mut view, _) = host().live("/articles/new").await.unwrap();
    let html = view
        .form(
            "#article-form",
            json!({"article": {"title": "Mine", "body": "Text"}}),
        )
        .render_submit()
        .unwrap();
    assert!(html.contains("Article created!"));
    let html = view.render_patch("/articles").unwrap();
    assert!(!html.contains("Article created!"), "{html}");
    assert!(
        html.contains("Mine"),
        "patches keep the view's state: {html}"
    );
}

#[tokio::test]
async fn navigate_link_and_push_navigate_carry_the_flash() {
    let host = host();
    let (mut view, _) = host.live("/articles").await.unwrap();
    // A navigate link is a live redirect to another view of the live session.
    let to = redirect(
        view.element("a[href=\"/articles/1/show\"]", None)
            .render_click(),
    );
    assert_eq!(to.kind, RedirectKind::Live);
    let html = view.follow_live_redirect(&to).unwrap();
    assert!(html.contains("<h1>Hello, Livewasm</h1>"), "{html}");
    assert_eq!(view.page_title().as_deref(), Some("Hello, Livewasm"));

    // push_navigate after a delete: the flash travels in the live redirect.
    let (mut view, _) = host.live("/articles").await.unwrap();
    let to = redirect(view.render_click("delete", json!({"id": "2"})));
    assert_eq!(to.kind, RedirectKind::Live);
    assert_eq!(to.to, "/articles");
    assert_eq!(to.flash_message("info").as_deref(), Some("Article deleted"));
    assert_eq!(view.assert_redirect(), Some(to.clone()));
    let html = view.follow_live_redirect(&to).unwrap();
    assert!(html.contains("Article deleted"), "{html}");

    // follow_redirect through a conn: a fresh page, the flash in the join.
    let mut conn = host.conn();
    let (_view, html) = conn.follow_redirect(&to).await.unwrap();
    assert!(html.contains("Article deleted"), "{html}");
}

#[tokio::test]
async fn a_tampered_flash_token_is_ignored() {
    let host = host();
    let (mut view, _) = host.live("/articles").await.unwrap();
    let mut to = redirect(view.render_click("delete", json!({"id": "1"})));
    let token = to.flash_token.clone().unwrap();
    let (payload, _) = token.split_once('.').unwrap();
    to.flash_token = Some(format!("{payload}.AAAA"));
    let html = view.follow_live_redirect(&to).unwrap();
    assert!(!html.contains("Article deleted"), "{html}");
    assert!(html.contains("<h1>Articles</h1>"));
}

#[tokio::test]
async fn external_redirect() {
    let (mut view, _) = host().live("/articles").await.unwrap();
    let to = redirect(view.element("#export", None).render_click());
    assert_eq!(to.kind, RedirectKind::Full);
    assert_eq!(to.to, "https://example.com/export");
}

#[tokio::test]
async fn navigation_into_another_live_session_is_refused() {
    let (mut view, _) = host().live("/articles").await.unwrap();
    match view.live_redirect("/articles-archive", None) {
        Err(HarnessError::JoinRefused(reason)) => assert_eq!(reason["reason"], "unauthorized"),
        other => panic!("expected unauthorized, got {other:?}"),
    }
    // A patch to another view is turned into a live navigation by the client.
    let (mut view, _) = host().live("/articles").await.unwrap();
    let to = redirect(view.render_patch("/articles/1/show"));
    assert_eq!(to.kind, RedirectKind::Live);
}

#[tokio::test]
async fn a_dead_render_that_patches_away_redirects_with_the_flash() {
    let host = host();
    let mut conn = host.conn();
    let to = match conn.live("/articles/99/edit").await {
        Err(HarnessError::Redirect(to)) => to,
        other => panic!("expected a redirect, got {:?}", other.map(|(_, html)| html)),
    };
    assert_eq!(to.kind, RedirectKind::Full);
    assert_eq!(to.to, "/articles");
    let (_view, html) = conn.follow_redirect(&to).await.unwrap();
    assert!(html.contains("Article not found"), "{html}");
    // The flash cookie is read once.
    assert_eq!(conn.cookie("__phoenix_flash__"), None);
}

#[tokio::test]
async fn a_push_patch_from_handle_info_is_pushed_before_its_diff() {
    let (mut view, _) = host().live("/articles").await.unwrap();
    let html = view.send_info(json!({"show": 3})).unwrap();
    assert_eq!(view.assert_patch().as_deref(), Some("/articles/3"));
    assert_eq!(view.url(), "http://localhost/articles/3");
    assert!(html.contains("<h2>Flash</h2>"), "{html}");
    assert_eq!(view.page_title().as_deref(), Some("Flash"));
}
