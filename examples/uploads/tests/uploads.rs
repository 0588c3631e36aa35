//! ProfileLive's uploads through the in-process harness and the real component
//! (`cargo xtask build uploads`): files are chosen, preflighted, sent in binary chunks over
//! `lvu:` channels and consumed, as the official client does it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_test::{HarnessError, LiveView, TestHost, UploadFile};
use serde_json::json;

async fn live() -> (TestHost, LiveView) {
    let host = TestHost::new(&["uploads"]).expect("uploads component");
    let (view, _) = host.live("/uploads").await.unwrap();
    (host, view)
}

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

fn fnv(data: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in data {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[tokio::test]
async fn the_dead_render_has_both_inputs() {
    let host = TestHost::new(&["uploads"]).expect("uploads component");
    let page = host.get("/uploads").await.unwrap();
    let body = &page.body;
    assert!(body.contains(r#"name="avatar""#), "{body}");
    assert!(body.contains(r#"accept=".jpg,.jpeg,.png,.webp""#), "{body}");
    assert!(body.contains(r#"name="documents""#), "{body}");
    assert!(body.contains("data-phx-auto-upload"), "{body}");
}

#[tokio::test]
async fn an_avatar_uploads_with_progress_and_is_saved_intact() {
    let (host, mut view) = live().await;
    let content = bytes(150_000);
    let mut avatar = view
        .file_input(
            "#upload-form",
            "avatar",
            vec![UploadFile::new("me.png", "image/png", content.clone())],
        )
        .unwrap();
    let entry = avatar.entry_ref("me.png").unwrap().to_string();
    let html = view.render_upload_change(&avatar, "validate").unwrap();
    assert!(html.contains("me.png"), "{html}");
    assert!(
        html.contains(&format!(r#"data-phx-active-refs="{entry}""#)),
        "{html}"
    );

    let html = view.render_upload(&mut avatar, "me.png", 50).unwrap();
    assert!(
        html.contains(r#"<span class="percent">50%</span>"#),
        "{html}"
    );
    assert!(
        html.contains(&format!(r#"data-phx-preflighted-refs="{entry}""#)),
        "{html}"
    );
    // handle_progress: the submit button waits for the avatar.
    assert!(
        view.has_element("button[type=submit][disabled]", None)
            .unwrap()
    );
    assert!(host.host().upload_bytes_reserved() >= content.len() as u64);

    let html = view.render_upload(&mut avatar, "me.png", 100).unwrap();
    assert!(
        html.contains(r#"<span class="percent">100%</span>"#),
        "{html}"
    );
    assert!(
        html.contains(&format!(r#"data-phx-done-refs="{entry}""#)),
        "{html}"
    );
    assert!(
        !view
            .has_element("button[type=submit][disabled]", None)
            .unwrap()
    );

    let html = view.push_form("save", "", json!({})).unwrap();
    assert!(html.contains("Files uploaded successfully!"), "{html}");
    let saved = format!(
        r#"data-kind="avatar" data-size="{}" data-checksum="{}""#,
        content.len(),
        fnv(&content)
    );
    assert!(html.contains(&saved), "{html}");
    // Consumed: the entry is gone and the host freed its space and file.
    assert!(!view.has_element(".upload-entry", None).unwrap());
    assert_eq!(host.host().upload_bytes_reserved(), 0);
    let dir = host.host().upload_dir().expect("the temp area was used");
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 0);
}

#[tokio::test]
async fn documents_upload_on_submit_and_save_several() {
    let (_host, mut view) = live().await;
    let a = bytes(70_000);
    let b = b"%PDF-1.4 tiny".to_vec();
    let mut docs = view
        .file_input(
            "#upload-form",
            "documents",
            vec![
                UploadFile::new("a.pdf", "application/pdf", a.clone()),
                UploadFile::new("b.docx", "", b.clone()),
            ],
        )
        .unwrap();
    let html = view.render_upload_change(&docs, "validate").unwrap();
    assert!(html.contains("a.pdf"), "{html}");
    assert!(html.contains("68.36 KB"), "{html}");
    view.render_upload(&mut docs, "a.pdf", 100).unwrap();
    view.render_upload(&mut docs, "b.docx", 100).unwrap();
    let html = view.push_form("save", "", json!({})).unwrap();
    assert!(
        html.contains(&format!(
            r#"data-size="{}" data-checksum="{}""#,
            a.len(),
            fnv(&a)
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            r#"data-size="{}" data-checksum="{}""#,
            b.len(),
            fnv(&b)
        )),
        "{html}"
    );
    assert!(!view.has_element(".document", None).unwrap());
}

#[tokio::test]
async fn errors_too_large_not_accepted_and_too_many_files() {
    let (_host, mut view) = live().await;
    let mut big = view
        .file_input(
            "#upload-form",
            "avatar",
            vec![UploadFile::new("big.png", "image/png", bytes(5_000_001))],
        )
        .unwrap();
    let html = view.render_upload_change(&big, "validate").unwrap();
    assert!(html.contains("File is too large"), "{html}");
    let entry = big.entry_ref("big.png").unwrap().to_string();
    assert!(
        html.contains(&format!(r#"data-phx-error-refs="{entry}""#)),
        "{html}"
    );
    // The preflight refuses it: no token, no bytes accepted.
    let error = view
        .render_upload(&mut big, "big.png", 100)
        .expect_err("refused");
    assert!(matches!(error, HarnessError::PushRefused(_)), "{error}");
    view.render_click("cancel-upload", json!({"ref": entry}))
        .unwrap();

    let txt = view
        .file_input(
            "#upload-form",
            "documents",
            vec![UploadFile::new("notes.txt", "text/plain", b"hi".to_vec())],
        )
        .unwrap();
    let html = view.render_upload_change(&txt, "validate").unwrap();
    assert!(html.contains("File type not accepted"), "{html}");

    let (_host, mut view) = live().await;
    let six = (0..6)
        .map(|i| UploadFile::new(&format!("{i}.pdf"), "application/pdf", b"x".to_vec()))
        .collect();
    let mut six = view.file_input("#upload-form", "documents", six).unwrap();
    let html = view.render_upload_change(&six, "validate").unwrap();
    assert!(html.contains("Too many files selected"), "{html}");
    let response = view.preflight_upload(&mut six).unwrap();
    assert_eq!(response["error"][0][1], "too_many_files", "{response}");
    assert!(response.get("entries").is_none(), "{response}");
}

#[tokio::test]
async fn cancel_drops_the_entry_and_its_bytes() {
    let (host, mut view) = live().await;
    let mut docs = view
        .file_input(
            "#upload-form",
            "documents",
            vec![UploadFile::new("a.pdf", "application/pdf", bytes(200_000))],
        )
        .unwrap();
    view.render_upload_change(&docs, "validate").unwrap();
    view.render_upload(&mut docs, "a.pdf", 40).unwrap();
    assert!(host.host().upload_bytes_reserved() > 0);
    let entry = docs.entry_ref("a.pdf").unwrap().to_string();
    // The documents input names its entries in `data-phx-active-refs` (the client uploads
    // those): the entry before the cancel, none after it. The avatar's input, with no entry,
    // says `data-phx-active-refs=""` all along, so the check is on the documents input only.
    let active = |refs: &str| format!(r#"input[name="documents"][data-phx-active-refs="{refs}"]"#);
    assert!(
        view.has_element(&active(&entry), None).unwrap(),
        "{}",
        view.render()
    );
    let html = view
        .render_click("cancel-upload", json!({"ref": entry}))
        .unwrap();
    assert!(!html.contains("a.pdf"), "{html}");
    assert!(view.has_element(&active(""), None).unwrap(), "{html}");
    assert_eq!(host.host().upload_bytes_reserved(), 0);
    // The upload channel is closed: more chunks are refused.
    let error = view
        .render_upload(&mut docs, "a.pdf", 100)
        .expect_err("cancelled");
    assert!(matches!(error, HarnessError::PushRefused(_)), "{error}");
}

#[tokio::test]
async fn progress_100_needs_every_byte() {
    let (_host, mut view) = live().await;
    let mut docs = view
        .file_input(
            "#upload-form",
            "documents",
            vec![UploadFile::new("a.pdf", "application/pdf", bytes(1000))],
        )
        .unwrap();
    view.render_upload_change(&docs, "validate").unwrap();
    view.render_upload(&mut docs, "a.pdf", 10).unwrap();
    let entry = docs.entry_ref("a.pdf").unwrap().to_string();
    // A client claiming 100% with 10% of the bytes sent is refused; the entry is not done.
    let error = view
        .push_raw(
            "progress",
            json!({"event": null, "ref": docs.upload_ref(), "entry_ref": entry, "progress": 100}),
        )
        .expect_err("not every byte arrived");
    assert!(error.to_string().contains("before every byte"), "{error}");
    let html = view.render();
    assert!(
        html.contains(r#"<span class="percent">10%</span>"#),
        "{html}"
    );
    assert!(
        !html.contains(&format!(r#"data-phx-done-refs="{entry}""#)),
        "{html}"
    );
    // Nothing to consume yet.
    let html = view.push_form("save", "", json!({})).unwrap();
    assert!(!html.contains("uploaded-files"), "{html}");
    assert!(html.contains("a.pdf"), "{html}");
}

#[tokio::test]
async fn handle_progress_may_navigate_once_the_avatar_is_saved() {
    let host = TestHost::new(&["uploads"]).expect("uploads component");
    let (mut view, _) = host.live("/uploads/avatar").await.unwrap();
    let content = bytes(100_000);
    let mut avatar = view
        .file_input(
            "#avatar-form",
            "avatar",
            vec![UploadFile::new("me.png", "image/png", content.clone())],
        )
        .unwrap();
    view.render_upload_change(&avatar, "validate").unwrap();
    let html = view.render_upload(&mut avatar, "me.png", 40).unwrap();
    assert!(html.contains(r#"<progress value="40""#), "{html}");

    // The last progress event saves the file and `push_navigate`s: the reply carries the
    // live redirect, with the flash the view put.
    let redirect = match view.render_upload(&mut avatar, "me.png", 100) {
        Err(HarnessError::Redirect(redirect)) => redirect,
        other => panic!("expected a live redirect from handle_progress, got {other:?}"),
    };
    assert_eq!(redirect.to, "/uploads");
    assert_eq!(redirect.kind, livewasm_test::RedirectKind::Live);
    assert_eq!(host.host().upload_bytes_reserved(), 0);
    let html = view.follow_live_redirect(&redirect).unwrap();
    assert!(html.contains("Avatar me.png saved (97.66 KB)"), "{html}");
    assert!(html.contains(r#"id="upload-form""#), "{html}");
}

/// The `src` of `#current-avatar` in `html`.
fn avatar_src(html: &str) -> Option<String> {
    let at = html.find(r#"id="current-avatar""#)?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>')?];
    let src = tag.split(r#"src=""#).nth(1)?;
    Some(src[..src.find('"')?].to_string())
}

#[tokio::test]
async fn a_saved_avatar_is_kept_in_the_apps_blobs_and_served_back() {
    let (host, mut view) = live().await;
    assert!(!view.has_element("#current-avatar", None).unwrap());
    let content: Vec<u8> = (0..20_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut avatar = view
        .file_input(
            "#upload-form",
            "avatar",
            vec![UploadFile::new("me.png", "image/png", content.clone())],
        )
        .unwrap();
    view.render_upload_change(&avatar, "validate").unwrap();
    view.render_upload(&mut avatar, "me.png", 100).unwrap();
    let html = view.push_form("save", "", json!({})).unwrap();
    let src = avatar_src(&html).unwrap_or_else(|| panic!("no avatar shown: {html}"));
    assert!(src.starts_with("/_blobs/uploads/avatar?v="), "{src}");

    // Served back on the app's site, byte for byte.
    let served = host.get(&src).await.unwrap();
    assert_eq!(served.status, 200);
    assert_eq!(served.body.as_bytes(), content.as_slice());
    assert_eq!(host.get("/_blobs/uploads/nope").await.unwrap().status, 404);
    assert_eq!(host.get("/_blobs/uploads/../x").await.unwrap().status, 404);
    // A fresh page of the app shows it too.
    let page = host.get("/uploads").await.unwrap();
    assert_eq!(avatar_src(&page.body).as_deref(), Some(src.as_str()));
}

/// The seed's "file upload" test as written, at the seed's path (`/profile`).
#[tokio::test]
async fn the_seeds_file_upload_test() {
    let host = TestHost::new(&["uploads"]).expect("uploads component");
    let (mut view, _) = host.live("/profile").await.unwrap();
    let content = bytes(1_396);
    let mut image = view
        .file_input(
            "#upload-form",
            "avatar",
            vec![UploadFile::new("myfile.jpeg", "image/jpeg", content)],
        )
        .unwrap();
    let html = view.render_upload(&mut image, "myfile.jpeg", 100).unwrap();
    assert!(html.contains("myfile.jpeg uploaded"), "{html}");
}

/// The cover live component allows its own upload (Phoenix: `allow_upload` on a component's
/// socket): its input is inside a form with `phx-target={@myself}`, so the change, the
/// `allow_upload` preflight and the progress carry its cid, and its `save` consumes the file.
#[tokio::test]
async fn a_live_component_uploads_and_consumes_its_own_file() {
    let (host, mut view) = live().await;
    let content = bytes(90_000);
    let mut cover = view
        .file_input(
            "#cover-form",
            "cover",
            vec![UploadFile::new("cover.png", "image/png", content.clone())],
        )
        .unwrap();
    let cid = cover.cid().expect("the cover form targets its component");
    // The component's ref is its own, apart from the view's uploads.
    assert_ne!(cover.upload_ref(), "phx-upload-avatar");
    let html = view.render_upload_change(&cover, "validate").unwrap();
    assert!(
        html.contains(r#"<li class="cover-entry">cover.png"#),
        "{html}"
    );

    let response = view.preflight_upload(&mut cover).unwrap();
    let entry = cover.entry_ref("cover.png").unwrap().to_string();
    assert!(response["entries"][&entry].is_string(), "{response}");
    let html = view.render_upload(&mut cover, "cover.png", 100).unwrap();
    assert!(html.contains("cover.png 100%"), "{html}");
    // The view's own uploads saw nothing.
    assert!(!view.has_element(".upload-entry", None).unwrap());

    let html = view.push_form_to(Some(cid), "save", "", json!({})).unwrap();
    let saved = format!(
        r#"data-size="{}" data-checksum="{}">cover.png"#,
        content.len(),
        fnv(&content)
    );
    assert!(html.contains(&saved), "{html}");
    assert!(!html.contains("cover-entry"), "{html}");
    assert_eq!(host.host().upload_bytes_reserved(), 0);

    // The view's upload refs are refused when targeted at the component, and the other way.
    let refused = view
        .push_raw(
            "allow_upload",
            json!({"ref": "phx-upload-avatar", "cid": cid,
                   "entries": [{"ref": "x1", "name": "a.png", "type": "image/png", "size": 3}]}),
        )
        .expect_err("not the component's upload");
    assert!(matches!(refused, HarnessError::PushRefused(_)), "{refused}");
}

/// An external upload (Phoenix's `external: &presign_upload/2`): the preflight reply carries
/// the presign's meta per entry (`entries: {ref: meta}` with its `uploader`), the client's
/// uploader reports progress, and `save` consumes the entry with its meta.
#[tokio::test]
async fn an_external_upload_gets_its_meta_and_is_consumed_with_it() {
    let host = TestHost::new(&["uploads"]).expect("uploads component");
    let (mut view, _) = host.live("/uploads/direct").await.unwrap();
    let mut report = view
        .file_input(
            "#report-form",
            "report",
            vec![UploadFile::new("q3.pdf", "application/pdf", bytes(5_000))],
        )
        .unwrap();
    view.render_upload_change(&report, "validate").unwrap();
    let response = view.preflight_upload(&mut report).unwrap();
    let entry = report.entry_ref("q3.pdf").unwrap().to_string();
    assert_eq!(
        response["entries"][&entry],
        json!({"uploader": "Direct", "key": "reports/q3.pdf", "max_bytes": 5000}),
        "{response}"
    );
    assert_eq!(response["ref"], report.upload_ref(), "{response}");
    assert!(response["config"]["max_entries"].is_number(), "{response}");
    assert_eq!(report.meta("q3.pdf").unwrap()["uploader"], "Direct");
    // No bytes reach the host: progress alone completes the entry.
    let html = view.render_upload(&mut report, "q3.pdf", 100).unwrap();
    assert!(html.contains("q3.pdf 100%"), "{html}");
    assert_eq!(host.host().upload_bytes_reserved(), 0);
    let html = view.push_form("save", "", json!({})).unwrap();
    assert!(
        html.contains(r#"<p class="stored">reports/q3.pdf</p>"#),
        "{html}"
    );
    assert!(!html.contains("report-entry"), "{html}");
}
