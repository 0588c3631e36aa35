//! {{name}} through the in-process harness and its built component (see the README or
//! `cargo xtask build {{name}}`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_test::{LiveView, TestHost};
use serde_json::json;

/// The app's component, `{{name}}.wasm`.
const APP: &str = "{{name}}";
/// The view's route.
const PATH: &str = "/{{name}}";

fn host() -> TestHost {
    TestHost::new(&[APP]).expect("the component (build it first)")
}

/// Whether `html` shows `count`.
fn shows(html: &str, count: i64) -> bool {
    html.contains(&format!("<span class=\"count\">{count}</span>"))
}

/// Clicks the button labelled `label`; returns the view's HTML after it.
fn click(view: &mut LiveView, label: &str) -> String {
    view.element("button", Some(label)).render_click().unwrap()
}

#[tokio::test]
async fn the_page_renders_the_count() {
    let page = host().get(&format!("{PATH}?count=3")).await.unwrap();
    assert_eq!(page.status, 200);
    assert!(shows(&page.body, 3), "{}", page.body);
}

#[tokio::test]
async fn the_buttons_change_the_count() {
    let (mut view, html) = host().live(PATH).await.unwrap();
    assert!(shows(&html, 0), "{html}");

    let html = click(&mut view, "+");
    assert!(shows(&html, 1), "{html}");
    let html = view.render_click("inc", json!({})).unwrap();
    assert!(shows(&html, 2), "{html}");
    let html = click(&mut view, "-");
    assert!(shows(&html, 1), "{html}");
    let html = click(&mut view, "Reset");
    assert!(shows(&html, 0), "{html}");
}
