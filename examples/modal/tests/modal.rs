//! ModalLive through the in-process harness and the real component (`cargo xtask build modal`):
//! the JS commands rendered into its attributes, the events they push, the server closing
//! `#modal` with a push event, and the `.modal` opened by a patch and closed by a save.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_test::{LiveView, TestHost};
use serde_json::{Value, json};

async fn live(path: &str) -> (LiveView, String) {
    TestHost::new(&["modal"])
        .expect("modal component")
        .live(path)
        .await
        .unwrap()
}

/// The JS commands in attribute `attr` of the element with id `id` (decoded).
fn js_of(html: &str, id: &str, attr: &str) -> Value {
    let start = html.find(&format!("id=\"{id}\"")).expect("element");
    let tag_end = start + html[start..].find('>').expect("tag end");
    let tag = &html[start..tag_end];
    let key = format!(" {attr}=\"");
    let at = tag.find(&key).expect("attribute") + key.len();
    let raw = &tag[at..at + tag[at..].find('"').expect("closing quote")];
    let text = raw
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&text).expect("JS commands are JSON")
}

#[tokio::test]
async fn the_page_carries_the_seed_js_commands() {
    let (_view, html) = live("/modal").await;
    let open = js_of(&html, "open-modal", "phx-click");
    assert_eq!(open[0][0], "show");
    assert_eq!(open[0][1]["to"], "#modal");
    assert_eq!(open[1][1]["to"], "#modal-content");
    let save = js_of(&html, "save-note", "phx-click");
    assert_eq!(
        save[0],
        json!(["push", {"event": "save", "value": {"note": "Remember the milk"}}])
    );
    assert_eq!(
        save[1],
        json!(["add_class", {"to": "#note-form", "names": ["saving"]}])
    );
    assert_eq!(
        save[2],
        json!(["set_attr", {"to": "#save-note", "attr": ["disabled", "true"]}])
    );
    assert_eq!(
        save[3],
        json!(["transition", {"to": "#modal", "transition": [["fade-out"], [], []]}])
    );
    let hide = js_of(&html, "modal", "data-hide");
    assert_eq!(hide[0][0], "hide");
    assert_eq!(js_of(&html, "modal", "phx-window-keydown"), hide);
    assert!(html.contains("phx-key=\"escape\""), "{html}");
    let toggle = js_of(&html, "toggle-dropdown", "phx-click");
    assert_eq!(toggle[0][0], "toggle");
    assert_eq!(toggle[0][1]["outs"][2], json!(["opacity-0", "scale-95"]));
    assert_eq!(
        toggle[1],
        json!(["toggle_attr", {"to": "#toggle-dropdown", "attr": ["aria-expanded", "true", "false"]}])
    );
    let enable = js_of(&html, "enable-form", "phx-click");
    assert_eq!(
        enable[1],
        json!(["remove_attr", {"to": "#submit-btn", "attr": "disabled"}])
    );
    let copy = js_of(&html, "copy", "phx-click");
    assert_eq!(copy[0][1]["event"], "my_app:copy");
    // The seed's `JS.push("update", value: …, loading: ".spinner", page_loading: true)`: the
    // client puts the loading class on `.spinner` and signals page loading while the push is
    // in flight (tests/browser/modal.test.mjs).
    assert_eq!(
        js_of(&html, "update", "phx-click"),
        json!([["push", {"event": "update", "value": {"key": "value"}, "loading": ".spinner", "page_loading": true}]])
    );
    // The edit modal is not rendered on the index.
    assert!(!html.contains("edit-modal"), "{html}");
}

#[tokio::test]
async fn save_pushes_its_value_and_the_server_closes_the_modal() {
    let (mut view, _) = live("/modal").await;
    let html = view
        .push_event("click", "save", json!({"note": "Remember the milk"}))
        .unwrap();
    assert!(html.contains("Notes saved: 1 Remember the milk"), "{html}");
    assert_eq!(
        view.take_push_events(),
        [(
            "js-exec".to_string(),
            json!({"to": "#modal", "attr": "data-hide"})
        )]
    );
    let html = view
        .push_event("click", "update", json!({"key": "value"}))
        .unwrap();
    assert!(html.contains("Last update: value"), "{html}");
}

#[tokio::test]
async fn the_core_modal_opens_on_patch_and_closes_after_a_save() {
    let (mut view, _) = live("/modal").await;
    let html = view.element("#edit-name", None).render_click().unwrap();
    assert!(html.contains("id=\"edit-modal\""), "{html}");
    // Shown when mounted, cancel patches back, and the focus stays inside.
    let mounted = js_of(&html, "edit-modal", "phx-mounted");
    assert_eq!(mounted[0], json!(["show", {"to": "#edit-modal"}]));
    let cancel = js_of(&html, "edit-modal", "data-cancel");
    assert!(
        cancel
            .as_array()
            .unwrap()
            .iter()
            .any(|op| op == &json!(["patch", {"href": "/modal"}])),
        "{cancel}"
    );
    assert!(html.contains("id=\"edit-modal-container\""), "{html}");
    assert!(html.contains("phx-hook=\"Phoenix.FocusWrap\""), "{html}");

    // A blank name keeps the modal open with an error.
    let html = view
        .form("#name-form", json!({"user": {"name": "  "}}))
        .render_submit()
        .unwrap();
    assert!(
        html.contains("Name can&#39;t be blank.") || html.contains("Name can't be blank."),
        "{html}"
    );
    assert!(html.contains("id=\"edit-modal\""), "{html}");

    let html = view
        .form("#name-form", json!({"user": {"name": "Grace"}}))
        .render_submit()
        .unwrap();
    assert!(html.contains("Name: Grace"), "{html}");
    assert!(html.contains("Name saved."), "{html}");
    assert!(!html.contains("id=\"edit-modal\""), "closed: {html}");
    assert_eq!(view.assert_patch().as_deref(), Some("/modal/edit"));
    assert_eq!(view.assert_patch().as_deref(), Some("/modal"));
}
