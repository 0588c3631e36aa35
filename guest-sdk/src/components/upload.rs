//! `<.live_file_input>` and `<.live_img_preview>`: the markup the client's upload code reads,
//! from the render-side state of an upload ([`UploadConfig`], [`UploadEntry`]).

use crate::html::Attrs;
use crate::render::Rendered;
use crate::{component, html};

/// One file of an upload, as the page shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadEntry {
    /// The ref of the upload it belongs to (`phx-…`).
    pub upload_ref: String,
    /// The entry ref the client chose (`"0"`, `"1"` …).
    pub entry_ref: String,
    /// The file name on the client.
    pub client_name: String,
    /// The file size the client announced, in bytes.
    pub client_size: u64,
    /// The MIME type the client announced (may be empty).
    pub client_type: String,
    /// The file's last modification on the client (ms since the epoch), when known.
    pub client_last_modified: Option<u64>,
    /// Upload progress, 0–100.
    pub progress: u8,
    /// True once preflighted (allowed to upload).
    pub preflighted: bool,
    /// True once fully received.
    pub done: bool,
    /// Why the entry is refused (`too_large`, `not_accepted` …); empty when valid.
    pub errors: Vec<String>,
    /// For an external upload ([`crate::External`]), what the presign callback returned for
    /// this entry once preflighted (Phoenix's `entry` meta, the `meta` that
    /// `consume_uploaded_entries` hands an external entry); `None` for the host's uploads.
    pub meta: Option<crate::ExternalMeta>,
}

/// An upload as `allow_upload` configured it, with its current entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadConfig {
    /// The upload's name (the input's `name`, e.g. `avatar`).
    pub name: String,
    /// The upload's ref (the input's id), unique in the page.
    pub upload_ref: String,
    /// Accepted extensions or MIME types (`.jpg`, `image/*`); empty for any file.
    pub accept: Vec<String>,
    /// At most this many files.
    pub max_entries: usize,
    /// True to upload as soon as files are chosen.
    pub auto_upload: bool,
    /// Largest accepted file, in bytes.
    pub max_file_size: u64,
    /// Bytes per chunk the client sends.
    pub chunk_size: u32,
    /// Upload-level errors (`too_many_files`); entry errors are on the entries.
    pub errors: Vec<String>,
    /// The entries the server knows.
    pub entries: Vec<UploadEntry>,
}

fn refs(entries: &[UploadEntry], keep: impl Fn(&UploadEntry) -> bool) -> String {
    entries
        .iter()
        .filter(|e| keep(e))
        .map(|e| e.entry_ref.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The file input of an upload, with the refs of its entries (re-rendered on every change).
#[component]
pub fn live_file_input<'a>(upload: &'a UploadConfig, #[attr(rest)] rest: Attrs) -> Rendered {
    let accept = (!upload.accept.is_empty()).then(|| upload.accept.join(","));
    let active = refs(&upload.entries, |_| true);
    let done = refs(&upload.entries, |e| e.done);
    let preflighted = refs(&upload.entries, |e| e.preflighted);
    let errors = refs(&upload.entries, |e| !e.errors.is_empty());
    html!(
        r#"<input id={upload.upload_ref.as_str()} type="file" name={upload.name.as_str()} accept={accept} multiple={upload.max_entries > 1} data-phx-hook="Phoenix.LiveFileUpload" data-phx-update="ignore" data-phx-upload-ref={upload.upload_ref.as_str()} data-phx-active-refs={active} data-phx-done-refs={done} data-phx-preflighted-refs={preflighted} data-phx-error-refs={errors} data-phx-auto-upload={upload.auto_upload} {rest}>"#
    )
}

/// A preview of an image entry, drawn by the client from the chosen file.
#[component]
pub fn live_img_preview<'a>(
    entry: &'a UploadEntry,
    #[attr(rest, include = "width height alt")] rest: Attrs,
) -> Rendered {
    html!(
        r#"<img id={format!("phx-preview-{}", entry.entry_ref)} data-phx-upload-ref={entry.upload_ref.as_str()} data-phx-entry-ref={entry.entry_ref.as_str()} data-phx-hook="Phoenix.LiveImgPreview" data-phx-update="ignore" {rest}>"#
    )
}
