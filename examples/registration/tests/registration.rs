//! The seed's "Testing LiveViews" form cases against UserRegistrationLive, through the in-process
//! harness and the real component (`cargo xtask build registration`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_test::{HarnessError, TestHost};
use serde_json::json;

fn host() -> TestHost {
    TestHost::new(&["registration"]).expect("registration component")
}

const EMAIL_ERROR: &str = "must have the @ sign and no spaces";

#[tokio::test]
async fn mount_shows_an_empty_form_without_errors() {
    let host = host();
    let page = host.get("/users/register").await.unwrap();
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Register for an account"),
        "{}",
        page.body
    );
    let (view, html) = host.live("/users/register").await.unwrap();
    assert!(html.contains(r#"id="registration_form""#), "{html}");
    assert!(!view.has_element(".error", None).unwrap(), "{html}");
    assert_eq!(view.page_title().as_deref(), Some("Register"));
}

#[tokio::test]
async fn validation_shows_errors_only_on_touched_fields() {
    let (mut view, _) = host().live("/users/register").await.unwrap();
    // The user typed only the email: the untouched password fields show nothing.
    let html = view
        .form("#registration_form", json!({"user": {"email": "invalid"}}))
        .render_change()
        .unwrap();
    assert!(html.contains(EMAIL_ERROR), "{html}");
    assert!(
        view.has_element(r#".error[data-for="email"]"#, None)
            .unwrap()
    );
    assert!(
        !view
            .has_element(r#".error[data-for="password"]"#, None)
            .unwrap(),
        "{html}"
    );
    assert!(
        !view
            .has_element(r#".error[data-for="terms"]"#, None)
            .unwrap(),
        "{html}"
    );
    // The value stays as typed.
    assert!(html.contains(r#"value="invalid""#), "{html}");

    // Now the password too, too short and not confirmed.
    let html = view
        .form(
            "#registration_form",
            json!({"user": {"email": "ada@example.com", "password": "short",
                             "password_confirmation": "other"}}),
        )
        .render_change()
        .unwrap();
    assert!(!html.contains(EMAIL_ERROR), "{html}");
    assert!(html.contains("should be at least 8 characters"), "{html}");
    assert!(html.contains("does not match confirmation"), "{html}");
    assert!(
        !html.contains("must be accepted"),
        "terms untouched: {html}"
    );
    // The typed values are rendered back (the client keeps non-focused inputs in sync with them).
    assert!(html.contains(r#"value="short""#), "{html}");

    // A custom check.
    let html = view
        .form(
            "#registration_form",
            json!({"user": {"email": "taken@example.com"}}),
        )
        .render_change()
        .unwrap();
    assert!(html.contains("has already been taken"), "{html}");
}

#[tokio::test]
async fn submitting_invalid_params_shows_every_error() {
    let (mut view, _) = host().live("/users/register").await.unwrap();
    let html = view
        .form(
            "#registration_form",
            json!({"user": {"email": "ada@example.com"}}),
        )
        .render_submit()
        .unwrap();
    assert!(
        html.contains("can&#39;t be blank") || html.contains("can't be blank"),
        "{html}"
    );
    assert!(html.contains("must be accepted"), "{html}");
    assert!(!html.contains("phx-trigger-action"), "{html}");
}

#[tokio::test]
async fn a_valid_submit_triggers_the_http_post() {
    let (mut view, _) = host().live("/users/register").await.unwrap();
    let html = view
        .form(
            "#registration_form",
            json!({"user": {"email": "ada@example.com", "password": "correct horse",
                             "password_confirmation": "correct horse", "terms": "true"}}),
        )
        .submitter("button[name=save]")
        .render_submit()
        .unwrap();
    assert!(html.contains("phx-trigger-action"), "{html}");
    assert!(
        html.contains("Account created for ada@example.com"),
        "{html}"
    );
    assert!(!view.has_element(".error", None).unwrap(), "{html}");
}

#[tokio::test]
async fn the_recovery_event_restores_typed_values() {
    let (mut view, _) = host().live("/users/register").await.unwrap();
    // What the client sends after a reconnect: the old form's values to `phx-auto-recover`.
    let html = view
        .render_change("recover_registration", json!({"user": {"email": "ada@"}}))
        .unwrap();
    assert!(html.contains("Your entries were restored"), "{html}");
    assert!(html.contains(r#"value="ada@""#), "{html}");
    assert!(html.contains(EMAIL_ERROR), "{html}");
}

#[tokio::test]
async fn form_test_data_must_name_real_fields() {
    let (mut view, _) = host().live("/users/register").await.unwrap();
    let error = view
        .form("#registration_form", json!({"user": {"emial": "x"}}))
        .render_change()
        .expect_err("typo");
    assert!(matches!(error, HarnessError::NoFormField { .. }), "{error}");
    let error = view
        .form("#nope", json!({}))
        .render_submit()
        .expect_err("no such form");
    assert!(
        matches!(error, HarnessError::Element { found: 0, .. }),
        "{error}"
    );
}

#[tokio::test]
async fn the_log_in_page_welcomes_a_new_account() {
    let (_view, html) = host()
        .live("/users/log_in?_action=registered")
        .await
        .unwrap();
    assert!(html.contains("Account created successfully"), "{html}");
}

#[tokio::test]
async fn trigger_action_posts_over_http_and_signs_in() {
    let host = host();
    let page = host.get("/users/register").await.unwrap();
    let cookies = page.cookies.clone();
    assert!(!cookies.is_empty(), "the page sets the session cookie");
    let (mut view, _) = host
        .live_with_cookies("/users/register", &cookies)
        .await
        .unwrap();
    let data = json!({"user": {"email": "ada@example.com", "password": "correct horse",
                               "password_confirmation": "correct horse", "terms": "true"}});
    // Before a valid save the form does not trigger.
    let error = view
        .form("#registration_form", data.clone())
        .trigger_action()
        .expect_err("not triggered yet");
    assert!(
        matches!(error, HarnessError::NoBinding("phx-trigger-action")),
        "{error}"
    );
    view.form("#registration_form", data.clone())
        .render_submit()
        .unwrap();
    let post = view
        .form("#registration_form", data)
        .trigger_action()
        .unwrap();
    assert_eq!(post.method, "POST");
    assert_eq!(post.action, "/users/log_in?_action=registered");
    assert!(
        post.fields.iter().any(|(k, _)| k == "_csrf_token"),
        "{post:?}"
    );
    let response = host
        .post_form(&post.action, &post.pairs(), &cookies)
        .await
        .unwrap();
    assert_eq!(response.status, 302, "{}", response.body);
    assert_eq!(
        response.location.as_deref(),
        Some("/users/log_in?_action=registered")
    );
    // The redirect target shows the signed-in user from the new session cookie.
    let mut session = cookies.clone();
    session.retain(|c| {
        !response
            .cookies
            .iter()
            .any(|n| n.split('=').next() == c.split('=').next())
    });
    session.extend(response.cookies.iter().cloned());
    let (_view, html) = host
        .live_with_cookies("/users/log_in?_action=registered", &session)
        .await
        .unwrap();
    assert!(html.contains("Signed in as ada@example.com"), "{html}");
    assert!(html.contains("Account created successfully"), "{html}");

    // Without the CSRF token the post is refused.
    let refused = host
        .post_form(
            "/users/log_in",
            &[("user[email]", "ada@example.com")],
            &cookies,
        )
        .await
        .unwrap();
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn a_registered_email_is_taken_for_every_later_visitor() {
    let host = host();
    let signup = json!({"user": {"email": "Grace@example.com", "password": "correct horse",
                                 "password_confirmation": "correct horse", "terms": "true"}});
    let (mut first, _) = host.live("/users/register").await.unwrap();
    let html = first
        .form("#registration_form", signup.clone())
        .submitter("button[name=save]")
        .render_submit()
        .unwrap();
    assert!(
        html.contains("Account created for Grace@example.com"),
        "{html}"
    );

    // Another visitor, another view of the same app: the email (in any case) is taken, as they
    // type and on submit.
    let (mut second, _) = host.live("/users/register").await.unwrap();
    let html = second
        .form(
            "#registration_form",
            json!({"user": {"email": "grace@EXAMPLE.com"}}),
        )
        .render_change()
        .unwrap();
    assert!(html.contains("has already been taken"), "{html}");
    let html = second
        .form("#registration_form", signup)
        .submitter("button[name=save]")
        .render_submit()
        .unwrap();
    assert!(html.contains("has already been taken"), "{html}");
    assert!(!html.contains("Account created"), "{html}");
}

/// A complete, valid sign-up for `email`.
fn signup(email: &str) -> serde_json::Value {
    json!({"user": {"email": email, "password": "correct horse",
                    "password_confirmation": "correct horse", "terms": "true"}})
}

#[tokio::test]
async fn the_seeded_email_is_refused_by_the_unique_index_on_submit() {
    let (mut view, _) = host().live("/users/register").await.unwrap();
    // A valid form: the insert runs, the unique index refuses it (in any case), and the
    // refusal is the email's error.
    let html = view
        .form("#registration_form", signup("Taken@Example.com"))
        .submitter("button[name=save]")
        .render_submit()
        .unwrap();
    assert!(
        view.has_element(
            r#".error[data-for="email"]"#,
            Some("has already been taken")
        )
        .unwrap(),
        "{html}"
    );
    assert!(!html.contains("phx-trigger-action"), "{html}");
    assert!(!html.contains("Account created"), "{html}");

    // The same view registers another email.
    let html = view
        .form("#registration_form", signup("new@example.com"))
        .submitter("button[name=save]")
        .render_submit()
        .unwrap();
    assert!(
        html.contains("Account created for new@example.com"),
        "{html}"
    );
    assert!(!view.has_element(".error", None).unwrap(), "{html}");
}

#[tokio::test]
async fn an_invalid_submit_shows_the_taken_email_with_the_other_errors() {
    let (mut view, _) = host().live("/users/register").await.unwrap();
    let html = view
        .form(
            "#registration_form",
            json!({"user": {"email": "taken@example.com"}}),
        )
        .render_submit()
        .unwrap();
    assert!(html.contains("has already been taken"), "{html}");
    assert!(html.contains("must be accepted"), "{html}");
}

#[tokio::test]
async fn registrations_are_kept_in_the_hosts_database() {
    let host = host();
    let (mut view, _) = host.live("/users/register").await.unwrap();
    let html = view
        .form("#registration_form", signup("lin@example.com"))
        .submitter("button[name=save]")
        .render_submit()
        .unwrap();
    assert!(
        html.contains("Account created for lin@example.com"),
        "{html}"
    );
    drop(view);

    // A fresh mount on the same host: taken as it is typed and on submit.
    let (mut again, _) = host.live("/users/register").await.unwrap();
    let html = again
        .form(
            "#registration_form",
            json!({"user": {"email": "LIN@example.com"}}),
        )
        .render_change()
        .unwrap();
    assert!(html.contains("has already been taken"), "{html}");
    let html = again
        .form("#registration_form", signup("lin@example.com"))
        .submitter("button[name=save]")
        .render_submit()
        .unwrap();
    assert!(html.contains("has already been taken"), "{html}");
    assert!(!html.contains("Account created"), "{html}");

    // Another test host has a database of its own, fresh from the migrations.
    let (mut elsewhere, _) = TestHost::new(&["registration"])
        .expect("registration component")
        .live("/users/register")
        .await
        .unwrap();
    let html = elsewhere
        .form("#registration_form", signup("lin@example.com"))
        .submitter("button[name=save]")
        .render_submit()
        .unwrap();
    assert!(
        html.contains("Account created for lin@example.com"),
        "{html}"
    );
}
