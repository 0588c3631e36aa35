//! Uploads under test, as `Phoenix.LiveViewTest` drives them: [`LiveView::file_input`] picks
//! files for a `<.live_file_input>`, [`LiveView::render_upload_change`] reports them in a form
//! change, [`LiveView::preflight_upload`] runs `allow_upload`, and
//! [`LiveView::render_upload`] joins the entry's `lvu:` channel, sends binary chunks and
//! reports progress, exactly as the official client does.

use std::sync::atomic::{AtomicU64, Ordering};

use livewasm_protocol::frame::Frame;
use scraper::{Html, Selector};
use serde_json::{Value, json};

use super::{LiveView, reply_status};
use crate::HarnessError;

/// Entry refs, unique in the test process (the client counts per page).
static NEXT_ENTRY: AtomicU64 = AtomicU64::new(0);

/// A file to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadFile {
    /// The file's name (`a.png`).
    pub name: String,
    /// Its MIME type (`image/png`; may be empty).
    pub mime: String,
    /// Its bytes.
    pub content: Vec<u8>,
}

impl UploadFile {
    /// A file named `name` of type `mime` holding `content`.
    pub fn new(name: &str, mime: &str, content: impl Into<Vec<u8>>) -> UploadFile {
        UploadFile {
            name: name.into(),
            mime: mime.into(),
            content: content.into(),
        }
    }
}

/// One chosen file and how far it got.
#[derive(Debug, Clone)]
struct Picked {
    entry_ref: String,
    file: UploadFile,
    token: Option<String>,
    /// An external upload's meta from the preflight (instead of a token).
    meta: Option<Value>,
    join_ref: Option<String>,
    sent: usize,
}

/// Files chosen for one upload input (`file_input`).
#[derive(Debug, Clone)]
pub struct Upload {
    upload_ref: String,
    name: String,
    /// The live component the form targets (`phx-target={@myself}`), as the client finds it.
    cid: Option<u32>,
    chunk_size: usize,
    picked: Vec<Picked>,
}

impl Upload {
    /// The upload's ref (the input's `data-phx-upload-ref`).
    pub fn upload_ref(&self) -> &str {
        &self.upload_ref
    }

    /// The input's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The live component whose upload this is: the cid of its form's `phx-target`, which
    /// the client sends with the form change, the `allow_upload` preflight and each
    /// `progress` (Phoenix's `targetComponentID(input.form)`); `None` for the view's own.
    pub fn cid(&self) -> Option<u32> {
        self.cid
    }

    /// The meta an external upload's preflight gave the file named `file_name` (Phoenix's
    /// `entries: {ref: meta}`, read by the client's uploader named in its `uploader`).
    pub fn meta(&self, file_name: &str) -> Option<&Value> {
        self.picked
            .iter()
            .find(|p| p.file.name == file_name)
            .and_then(|p| p.meta.as_ref())
    }

    /// The entry ref given to the file named `file_name`.
    pub fn entry_ref(&self, file_name: &str) -> Option<&str> {
        self.picked
            .iter()
            .find(|p| p.file.name == file_name)
            .map(|p| p.entry_ref.as_str())
    }

    fn entries_json(&self, only: impl Fn(&Picked) -> bool) -> Vec<Value> {
        self.picked
            .iter()
            .filter(|p| only(p))
            .map(|p| {
                json!({
                    "path": self.name,
                    "ref": p.entry_ref,
                    "name": p.file.name,
                    "type": p.file.mime,
                    "size": p.file.content.len(),
                    "last_modified": 1_700_000_000_000u64,
                })
            })
            .collect()
    }
}

impl LiveView {
    /// Chooses `files` for the file input named `name` inside `form_selector` (nothing is sent
    /// yet): `file_input(view, "#form", :avatar, [...])`.
    pub fn file_input(
        &mut self,
        form_selector: &str,
        name: &str,
        files: Vec<UploadFile>,
    ) -> Result<Upload, HarnessError> {
        let html = Html::parse_fragment(&self.render());
        let selector = Selector::parse(&format!(r#"{form_selector} input[type="file"]"#))
            .map_err(|e| HarnessError::Merge(format!("bad selector {form_selector}: {e}")))?;
        let input = html
            .select(&selector)
            .find(|el| el.value().attr("name") == Some(name))
            .ok_or(HarnessError::Page(
                "a live file input with that name in the form",
            ))?;
        let upload_ref = input
            .value()
            .attr("data-phx-upload-ref")
            .ok_or(HarnessError::Page("data-phx-upload-ref on the file input"))?
            .to_string();
        let form = Selector::parse(form_selector)
            .map_err(|e| HarnessError::Merge(format!("bad selector {form_selector}: {e}")))?;
        let cid = html
            .select(&form)
            .next()
            .and_then(|form| form.value().attr("phx-target"))
            .and_then(|target| target.parse::<u32>().ok());
        Ok(Upload {
            upload_ref,
            name: name.to_string(),
            cid,
            chunk_size: 64_000,
            picked: files
                .into_iter()
                .map(|file| Picked {
                    entry_ref: NEXT_ENTRY.fetch_add(1, Ordering::Relaxed).to_string(),
                    file,
                    token: None,
                    meta: None,
                    join_ref: None,
                    sent: 0,
                })
                .collect(),
        })
    }

    /// The form change the client sends when files are chosen: `event` (the form's
    /// `phx-change`) with the files under `uploads`; returns the HTML.
    pub fn render_upload_change(
        &mut self,
        upload: &Upload,
        event: &str,
    ) -> Result<String, HarnessError> {
        let uploads = json!({ upload.upload_ref.clone(): upload.entries_json(|_| true) });
        let mut payload = json!({
            "type": "form",
            "event": event,
            "value": "",
            "meta": {"_target": upload.name},
            "uploads": uploads,
        });
        if let (Some(cid), Some(map)) = (upload.cid, payload.as_object_mut()) {
            map.insert("cid".into(), Value::from(cid));
        }
        self.push_payload(payload)
    }

    /// `allow_upload` for the files not preflighted yet; returns the reply's response (its
    /// `entries` hold the tokens of the allowed files, `errors`/`error` the refusals).
    pub fn preflight_upload(&mut self, upload: &mut Upload) -> Result<Value, HarnessError> {
        let entries = upload.entries_json(|p| p.token.is_none() && p.meta.is_none());
        let response = self.push_raw(
            "allow_upload",
            json!({"ref": upload.upload_ref, "entries": entries, "cid": upload.cid}),
        )?;
        if let Some(size) = response
            .get("config")
            .and_then(|c| c.get("chunk_size"))
            .and_then(Value::as_u64)
        {
            upload.chunk_size = usize::try_from(size).unwrap_or(64_000).max(1);
        }
        if let Some(tokens) = response.get("entries").and_then(Value::as_object) {
            for picked in &mut upload.picked {
                match tokens.get(&picked.entry_ref) {
                    Some(Value::String(token)) => picked.token = Some(token.clone()),
                    Some(meta @ Value::Object(_)) => picked.meta = Some(meta.clone()),
                    _ => {}
                }
            }
        }
        Ok(response)
    }

    /// Sends file `file_name` up to `percent` of its bytes (preflighting and joining its upload
    /// channel first when needed), then the client's `progress` event; returns the HTML. For
    /// an external upload (its preflight gave a meta, not a token) only the progress is sent,
    /// as the client's uploader reports it. A
    /// refused preflight, join or chunk is [`HarnessError::PushRefused`].
    pub fn render_upload(
        &mut self,
        upload: &mut Upload,
        file_name: &str,
        percent: u8,
    ) -> Result<String, HarnessError> {
        let index = upload
            .picked
            .iter()
            .position(|p| p.file.name == file_name)
            .ok_or(HarnessError::Page("a chosen file with that name"))?;
        let unsent = |p: &Picked| p.token.is_none() && p.meta.is_none();
        if unsent(&upload.picked[index]) {
            let response = self.preflight_upload(upload)?;
            if unsent(&upload.picked[index]) {
                return Err(HarnessError::PushRefused(response));
            }
        }
        if upload.picked[index].meta.is_some() {
            // An external upload: the client's uploader sends the bytes elsewhere and only
            // reports its progress (`entry.progress(percent)`), as here.
            let entry_ref = upload.picked[index].entry_ref.clone();
            self.push_raw(
                "progress",
                json!({"event": null, "ref": upload.upload_ref, "entry_ref": entry_ref, "progress": percent.min(100), "cid": upload.cid}),
            )?;
            return Ok(self.render());
        }
        let chunk_size = upload.chunk_size;
        let picked = &mut upload.picked[index];
        let topic = format!("lvu:{}", picked.entry_ref);
        if picked.join_ref.is_none() {
            let join_ref = self.fresh_ref();
            let frame = Frame {
                join_ref: Some(join_ref.clone()),
                msg_ref: Some(join_ref.clone()),
                topic: topic.clone(),
                event: "phx_join".into(),
                payload: json!({"token": picked.token}),
            };
            let frames = self.connection.handle_text(&frame.encode());
            let reply = self.absorb(frames, &join_ref)?;
            if reply_status(&reply).0 != "ok" {
                return Err(HarnessError::PushRefused(reply));
            }
            picked.join_ref = Some(join_ref);
        }
        let join_ref = picked.join_ref.clone().unwrap_or_default();
        let size = picked.file.content.len();
        let target = size * usize::from(percent.min(100)) / 100;
        while picked.sent < target {
            let end = (picked.sent + chunk_size).min(target);
            let msg_ref = self.fresh_ref();
            let bytes = livewasm_server::encode_binary(
                &join_ref,
                &msg_ref,
                &topic,
                "chunk",
                &picked.file.content[picked.sent..end],
            );
            let frames = self.connection.handle_binary(&bytes);
            let reply = self.absorb(frames, &msg_ref)?;
            if reply_status(&reply).0 != "ok" {
                return Err(HarnessError::PushRefused(reply));
            }
            picked.sent = end;
        }
        let progress = (picked.sent * 100).checked_div(size).unwrap_or(100);
        let entry_ref = picked.entry_ref.clone();
        self.push_raw(
            "progress",
            json!({"event": null, "ref": upload.upload_ref, "entry_ref": entry_ref, "progress": progress, "cid": upload.cid}),
        )?;
        Ok(self.render())
    }

    /// Pushes any `event` (`allow_upload`, `progress` …) with `payload` on the view's topic,
    /// as a hostile or buggy client might; merges a `diff` in the reply and returns the
    /// response.
    pub fn push_raw(&mut self, event: &str, payload: Value) -> Result<Value, HarnessError> {
        let msg_ref = self.fresh_ref();
        let frame = Frame {
            join_ref: Some(self.join_ref.clone()),
            msg_ref: Some(msg_ref.clone()),
            topic: self.topic.clone(),
            event: event.into(),
            payload,
        };
        let frames = self.connection.handle_text(&frame.encode());
        let reply = self.absorb(frames, &msg_ref)?;
        match reply_status(&reply) {
            ("ok", response) => {
                let response = response.clone();
                self.last_diff = response.get("diff").cloned();
                if let Some(diff) = response.get("diff") {
                    self.merge(diff.clone())?;
                }
                // A reply may send the client elsewhere, as after any event.
                self.navigation(&response)?;
                Ok(response)
            }
            (_, response) => Err(HarnessError::PushRefused(response.clone())),
        }
    }
}
