//! ProfileLive from the seed's "File Uploads": an avatar (one image, uploaded as soon as it is
//! chosen, with a preview and a progress bar) and up to five documents (uploaded on submit),
//! each with its errors (too large, not accepted, too many files), a cancel button, and a save
//! that consumes the received files.
//!
//! A view has no file system: saving streams each file's bytes from the host
//! ([`UploadedFile`] is `std::io::Read`) and keeps what the page shows: the name, the size and
//! a checksum of the bytes received. The avatar is also kept in the app's blobs
//! (`blobs::put_upload`, the host copies it) and shown on the profile at the path the host
//! serves it at, across page loads and host restarts.
//!
//! The cover photo is a live component with an upload of its own ([`CoverUpload`]: Phoenix's
//! `allow_upload` on a component's socket), its form targeted at the component.

use std::io::Read;

use livewasm_sdk::prelude::*;
use serde::Deserialize;

/// A file saved by `save`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// `avatar` or `documents`.
    pub kind: &'static str,
    /// The name the file had on the client.
    pub name: String,
    /// Bytes received.
    pub size: u64,
    /// FNV-1a 64 of the bytes, in hex.
    pub checksum: String,
}

/// The view's assigns.
#[derive(Assigns, Default)]
pub struct ProfileLive {
    uploaded_files: Vec<Saved>,
    uploading: bool,
    /// Where the saved avatar is served, once there is one.
    avatar_src: Option<String>,
}

/// The blob the avatar is kept in.
const AVATAR_BLOB: &str = "avatar";

/// `cancel-upload`'s `phx-value-ref`.
#[derive(Deserialize)]
struct CancelParams {
    #[serde(rename = "ref")]
    entry_ref: String,
}

/// Streams a received file through FNV-1a 64, counting its bytes.
fn digest(file: &mut UploadedFile) -> std::io::Result<(u64, String)> {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut size = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        for byte in &buf[..n] {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        size += n as u64;
    }
    Ok((size, format!("{hash:016x}")))
}

/// A byte count for people, as the seed's `format_bytes`.
pub fn format_bytes(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.2} KB", bytes as f64 / 1024.0)
    } else {
        format!("{:.2} MB", bytes as f64 / 1024.0 / 1024.0)
    }
}

/// The message shown for an upload error.
pub fn error_to_string(error: &str) -> &'static str {
    match error {
        "too_large" => "File is too large",
        "not_accepted" => "File type not accepted",
        "too_many_files" => "Too many files selected",
        "external_client_failure" => "Upload failed",
        "capacity" => "The server has no room for this file right now",
        _ => "Upload failed",
    }
}

/// The avatar upload: one image, uploaded as soon as it is chosen.
fn avatar_options() -> UploadOptions {
    UploadOptions {
        accept: [".jpg", ".jpeg", ".png", ".webp"]
            .map(String::from)
            .to_vec(),
        max_entries: 1,
        max_file_size: 5_000_000,
        auto_upload: true,
        chunk_size: 64_000,
        ..UploadOptions::default()
    }
}

fn save_all<V>(socket: &mut Socket<V>, kind: &'static str) -> Result<Vec<Saved>> {
    consume_uploaded_entries(socket, kind, |entry, file| {
        if kind == "avatar" {
            let content_type = match entry.client_type.as_str() {
                "" => "application/octet-stream",
                given => given,
            };
            blobs::put_upload(file, AVATAR_BLOB, content_type)?;
        }
        let (size, checksum) = digest(file).map_err(|e| Error::from(e.to_string()))?;
        Ok(Saved {
            kind,
            name: entry.client_name.clone(),
            size,
            checksum,
        })
    })
}

/// The cover photo: a live component that allows its own upload in `mount` (as a Phoenix
/// `LiveComponent` may), inside a form with `phx-target={@myself}`, so the client sends the
/// change, the `allow_upload` preflight and the progress to the component, whose `save`
/// consumes the file.
#[derive(Assigns, Default)]
pub struct CoverUpload {
    /// The last cover saved.
    saved: Option<Saved>,
}

impl LiveComponent for CoverUpload {
    type Props = ();

    fn mount(socket: &mut ComponentSocket<Self>) -> Result {
        allow_upload(
            socket,
            "cover",
            UploadOptions {
                accept: [".jpg", ".jpeg", ".png", ".webp"]
                    .map(String::from)
                    .to_vec(),
                max_entries: 1,
                max_file_size: 5_000_000,
                ..UploadOptions::default()
            },
        );
        Ok(())
    }

    fn update(_socket: &mut ComponentSocket<Self>, _props: ()) -> Result {
        Ok(())
    }

    fn handle_event(socket: &mut ComponentSocket<Self>, event: &str, value: &Value) -> Result {
        match event {
            "validate" => Ok(()),
            "cancel" => {
                let params: CancelParams = serde_json::from_value(value.clone())
                    .map_err(|e| Error::from(format!("cancel: {e}")))?;
                cancel_upload(socket, "cover", &params.entry_ref);
                Ok(())
            }
            "save" => {
                if let Some(file) = save_all(socket, "cover")?.into_iter().next() {
                    assign!(socket, saved = Some(file));
                }
                Ok(())
            }
            other => Err(format!("unknown event `{other}`").into()),
        }
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        let cover = assigns.upload("cover");
        html!(
            r#"<section class="cover-upload">
  <h3>Cover photo</h3>
  <form id="cover-form" phx-change="validate" phx-submit="save" phx-target={@myself}>
    <.live_file_input upload={cover} />
    <ul>
      <li :for={entry in cover.entries.iter()} class="cover-entry">{entry.client_name.as_str()} {entry.progress}%<button type="button" phx-click="cancel" phx-value-ref={entry.entry_ref.as_str()} phx-target={@myself}>Cancel</button><span :for={err in upload_entry_errors(cover, entry).iter()} class="error">{error_to_string(err)}</span></li>
    </ul>
    <button type="submit">Save cover</button>
  </form>
  <p :for={file in @saved.iter()} class="cover-saved" data-size={file.size} data-checksum={file.checksum.as_str()}>{file.name.as_str()}</p>
</section>"#
        )
    }
}

impl LiveView for ProfileLive {
    fn mount(socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        allow_upload(socket, "avatar", avatar_options());
        allow_upload(
            socket,
            "documents",
            UploadOptions {
                accept: [".pdf", ".doc", ".docx"].map(String::from).to_vec(),
                max_entries: 5,
                max_file_size: 10_000_000,
                ..UploadOptions::default()
            },
        );
        socket.page_title("Uploads");
        assign!(socket, avatar_src = blobs::path(AVATAR_BLOB)?);
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
        match event {
            "validate" => Ok(()),
            "cancel-upload" => {
                let params: CancelParams = serde_json::from_value(value.clone())
                    .map_err(|e| Error::from(format!("cancel-upload: {e}")))?;
                if !cancel_upload(socket, "avatar", &params.entry_ref) {
                    cancel_upload(socket, "documents", &params.entry_ref);
                }
                Ok(())
            }
            "save" => {
                let mut saved = save_all(socket, "avatar")?;
                saved.extend(save_all(socket, "documents")?);
                if !saved.is_empty() {
                    update!(socket, uploaded_files, |files| files.extend(saved));
                    assign!(socket, avatar_src = blobs::path(AVATAR_BLOB)?);
                    socket.put_flash("info", "Files uploaded successfully!");
                }
                Ok(())
            }
            other => Err(format!("unknown event `{other}`").into()),
        }
    }

    fn handle_progress(
        socket: &mut Socket<Self>,
        name: &str,
        entry: &livewasm_sdk::components::UploadEntry,
    ) -> Result {
        if name == "avatar" {
            assign!(socket, uploading = !entry.done);
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        let avatar = assigns.upload("avatar");
        let documents = assigns.upload("documents");
        html!(
            r#"<div class="upload-container">
  <.flash_group flash={assigns.flash()} />
  <form id="upload-form" phx-submit="save" phx-change="validate">
    <section class="avatar-upload" phx-drop-target={avatar.upload_ref.as_str()}>
      <h3>Profile Picture</h3>
      <img :if={@avatar_src.is_some()} id="current-avatar" src={@avatar_src.clone().unwrap_or_default()} width="96" alt="Your avatar">
      <.live_file_input upload={avatar} class="file-input" />
      <article :for={entry in avatar.entries.iter()} :key={entry.entry_ref.clone()} class="upload-entry" id={format!("avatar-{}", entry.entry_ref)}>
        <figure>
          <.live_img_preview entry={entry} width="200" />
          <figcaption>{entry.client_name.as_str()}</figcaption>
        </figure>
        <div class="progress-container">
          <progress value={entry.progress} max="100">{entry.progress}%</progress>
          <span class="percent">{entry.progress}%</span>
        </div>
        <p :if={entry.done} class="uploaded">{entry.client_name.as_str()} uploaded</p>
        <button type="button" phx-click="cancel-upload" phx-value-ref={entry.entry_ref.as_str()} aria-label="cancel">Cancel</button>
        <div :for={err in upload_entry_errors(avatar, entry).iter()} class="error">{error_to_string(err)}</div>
      </article>
      <div :for={err in upload_errors(avatar).iter()} class="error">{error_to_string(err)}</div>
    </section>
    <section class="documents-upload" phx-drop-target={documents.upload_ref.as_str()}>
      <h3>Documents (up to 5 files)</h3>
      <.live_file_input upload={documents} />
      <ul>
        <li :for={entry in documents.entries.iter()} :key={entry.entry_ref.clone()} class="document" id={format!("document-{}", entry.entry_ref)}>
          <span class="name">{entry.client_name.as_str()}</span> - {format_bytes(entry.client_size)}
          <span class="percent">{entry.progress}%</span>
          <button type="button" phx-click="cancel-upload" phx-value-ref={entry.entry_ref.as_str()}>Remove</button>
          <span :for={err in upload_entry_errors(documents, entry).iter()} class="error">{error_to_string(err)}</span>
        </li>
      </ul>
      <div :for={err in upload_errors(documents).iter()} class="error">{error_to_string(err)}</div>
    </section>
    <button type="submit" disabled={@uploading}>Upload All</button>
  </form>
  <.live_component module={CoverUpload} id="cover" />
  <section :if={!@uploaded_files.is_empty()} class="uploaded-files">
    <h3>Uploaded Files</h3>
    <ul>
      <li :for={file in @uploaded_files.iter()} class="saved" data-kind={file.kind} data-size={file.size} data-checksum={file.checksum.as_str()}>{file.name.as_str()} ({format_bytes(file.size)})</li>
    </ul>
  </section>
</div>"#
        )
    }
}

/// A one-step avatar change: the avatar uploads as soon as it is chosen and, once every byte
/// has arrived, `handle_progress` saves it and sends the browser back to the profile with a
/// flash (`push_navigate` from `handle_progress`, as a Phoenix view may do).
#[derive(Assigns, Default)]
pub struct AvatarLive {
    percent: u8,
}

impl LiveView for AvatarLive {
    fn mount(socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        allow_upload(socket, "avatar", avatar_options());
        socket.page_title("New avatar");
        Ok(())
    }

    fn handle_event(_socket: &mut Socket<Self>, event: &str, _value: &Value) -> Result {
        match event {
            "validate" => Ok(()),
            other => Err(format!("unknown event `{other}`").into()),
        }
    }

    fn handle_progress(
        socket: &mut Socket<Self>,
        name: &str,
        entry: &livewasm_sdk::components::UploadEntry,
    ) -> Result {
        assign!(socket, percent = entry.progress);
        if name == "avatar" && entry.done {
            let saved = save_all(socket, "avatar")?;
            if let Some(file) = saved.first() {
                socket.put_flash(
                    "info",
                    format!("Avatar {} saved ({})", file.name, format_bytes(file.size)),
                );
            }
            socket.push_navigate("/uploads");
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        let avatar = assigns.upload("avatar");
        html!(
            r#"<form id="avatar-form" phx-change="validate">
  <.live_file_input upload={avatar} class="file-input" />
  <progress value={@percent} max="100">{@percent}%</progress>
</form>"#
        )
    }
}

/// Reports uploaded directly from the browser to another service (Phoenix's external
/// uploads: `allow_upload(:report, external: &presign_upload/2)`). The presign callback
/// gives each entry the meta the client's `Direct` uploader needs; the host never sees the
/// bytes, and `save` consumes the entries, each with its meta.
#[derive(Assigns, Default)]
pub struct DirectUploadLive {
    /// The keys the reports were stored under.
    stored: Vec<String>,
    /// The `client_tag` the `metadata` click function added to the last `ping`.
    tag: String,
    /// How many pings arrived (each one patches the tag's element).
    pings: u32,
}

/// Phoenix's `presign_upload(entry, socket)`: where the `Direct` uploader puts the file.
fn presign_report(
    entry: &UploadEntry,
    _socket: &mut Socket<DirectUploadLive>,
) -> Result<ExternalMeta> {
    if entry.client_name.contains('/') {
        return Err("a report's name may not hold `/`".into());
    }
    Ok(ExternalMeta::new("Direct")
        .with("key", format!("reports/{}", entry.client_name))
        .with("max_bytes", entry.client_size))
}

impl LiveView for DirectUploadLive {
    fn mount(socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        allow_upload(
            socket,
            "report",
            UploadOptions {
                accept: vec![".pdf".into(), ".txt".into()],
                max_entries: 2,
                max_file_size: 1_000_000,
                external: Some(External::presign(presign_report)),
                ..UploadOptions::default()
            },
        );
        socket.page_title("Direct uploads");
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
        match event {
            "validate" => Ok(()),
            "ping" => {
                let tag = value
                    .get("client_tag")
                    .and_then(Value::as_str)
                    .unwrap_or("missing")
                    .to_string();
                let pings = socket.assigns().pings + 1;
                assign!(socket, tag = tag, pings = pings);
                Ok(())
            }
            "save" => {
                let keys = consume_uploaded_entries(socket, "report", |entry, _file| {
                    let key = entry
                        .meta
                        .as_ref()
                        .and_then(|meta| meta.get("key"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    Ok(key)
                })?;
                update!(socket, stored, |stored| stored.extend(keys));
                Ok(())
            }
            other => Err(format!("unknown event `{other}`").into()),
        }
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        let report = assigns.upload("report");
        html!(
            r#"<form id="report-form" phx-change="validate" phx-submit="save">
  <.live_file_input upload={report} />
  <ul>
    <li :for={entry in report.entries.iter()} class="report-entry">{entry.client_name.as_str()} {entry.progress}%<span :for={err in upload_entry_errors(report, entry).iter()} class="error">{err.as_str()}</span></li>
  </ul>
  <button type="submit">Save reports</button>
  <p :for={key in @stored.iter()} class="stored">{key.as_str()}</p>
  <button type="button" id="ping" phx-click="ping" data-tag="from-metadata">Ping</button>
  <p class="tag">{@tag.as_str()} (ping {@pings})</p>
</form>"#
        )
    }
}

livewasm_sdk::app! {
    name: "uploads",
    routes: {
        "/uploads" => ProfileLive, live_session: "profile";
        // The seed's upload test opens the same view at `/profile`.
        "/profile" => ProfileLive, live_session: "profile";
        "/uploads/avatar" => AvatarLive, live_session: "profile";
        "/uploads/direct" => DirectUploadLive, live_session: "profile";
    },
    // The client LiveSocket's options (Phoenix's `new LiveSocket(.., {uploaders, metadata,
    // dom})`).
    hooks: {
        "LiveSocket.uploaders" => include_str!("../js/uploaders.js");
        "LiveSocket.metadata" => include_str!("../js/metadata.js");
        "LiveSocket.dom" => include_str!("../js/dom.js");
    }
}
