//! File uploads (`allow_upload`): a view declares its uploads, templates render them with
//! `<.live_file_input>`, the client sends the files to the host in chunks, and the view reads the
//! bytes when it consumes the entries.
//!
//! The view keeps the state ([`Uploads`]: configs and entries, shown by templates through
//! `assigns.upload(name)`); the host runs the client's upload protocol, stores the chunks and
//! tells the view through built-in events (`lv:upload-*`, handled here, never by the view).

use serde_json::{Value, json};

use crate::components::{UploadConfig, UploadEntry};
use crate::{LiveView, Socket};

/// Upload-level error: more files chosen than `max_entries`.
pub const TOO_MANY_FILES: &str = "too_many_files";
/// Entry error: the file is larger than `max_file_size`.
pub const TOO_LARGE: &str = "too_large";
/// Entry error: the file's extension or type is not in `accept`.
pub const NOT_ACCEPTED: &str = "not_accepted";

/// How an upload behaves (`allow_upload`'s options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOptions {
    /// Accepted extensions (`.jpg`) or MIME types (`image/png`, `image/*`); empty accepts any.
    pub accept: Vec<String>,
    /// At most this many files at once.
    pub max_entries: usize,
    /// Largest file, in bytes (the host may cap it lower).
    pub max_file_size: u64,
    /// Upload as soon as files are chosen, rather than on submit.
    pub auto_upload: bool,
    /// Bytes per chunk the client sends.
    pub chunk_size: u32,
    /// Milliseconds the host waits for the next chunk.
    pub chunk_timeout_ms: u32,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            accept: Vec::new(),
            max_entries: 1,
            max_file_size: 8_000_000,
            auto_upload: false,
            chunk_size: 64_000,
            chunk_timeout_ms: 10_000,
        }
    }
}

/// The uploads of a view, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uploads {
    configs: Vec<(UploadConfig, u32)>,
}

impl Uploads {
    /// True when no upload was ever allowed (a view with uploads does not hibernate).
    pub(crate) fn none_allowed(&self) -> bool {
        self.configs.is_empty()
    }
}

/// What `assigns.upload(name)` shows for a name never allowed.
static NO_UPLOAD: UploadConfig = UploadConfig {
    name: String::new(),
    upload_ref: String::new(),
    accept: Vec::new(),
    max_entries: 0,
    auto_upload: false,
    max_file_size: 0,
    chunk_size: 0,
    errors: Vec::new(),
    entries: Vec::new(),
};

impl Uploads {
    /// No uploads.
    pub const fn new() -> Uploads {
        Uploads {
            configs: Vec::new(),
        }
    }

    /// The upload named `name` (an empty one when it was never allowed).
    pub fn get(&self, name: &str) -> &UploadConfig {
        self.configs
            .iter()
            .map(|(c, _)| c)
            .find(|c| c.name == name)
            .unwrap_or(&NO_UPLOAD)
    }

    /// Every upload, in the order they were allowed.
    pub fn iter(&self) -> impl Iterator<Item = &UploadConfig> {
        self.configs.iter().map(|(c, _)| c)
    }

    fn by_name(&mut self, name: &str) -> Option<&mut UploadConfig> {
        self.configs
            .iter_mut()
            .map(|(c, _)| c)
            .find(|c| c.name == name)
    }

    fn by_ref(&mut self, upload_ref: &str) -> Option<(&mut UploadConfig, u32)> {
        self.configs
            .iter_mut()
            .find(|(c, _)| c.upload_ref == upload_ref)
            .map(|(c, timeout)| (c, *timeout))
    }
}

/// Declares an upload (`allow_upload`): templates render it with
/// `<.live_file_input upload={assigns.upload("avatar")} />`. Allowing a name again replaces its
/// options and keeps its entries.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// #[derive(Assigns, Default)]
/// pub struct Profile {}
///
/// impl LiveView for Profile {
///     fn mount(socket: &mut Socket<Self>, _: &Params, _: &Session) -> Result {
///         allow_upload(socket, "avatar", UploadOptions {
///             accept: vec![".png".into(), "image/jpeg".into()],
///             max_entries: 1,
///             max_file_size: 5_000_000,
///             auto_upload: true,
///             ..UploadOptions::default()
///         });
///         Ok(())
///     }
///
///     fn render(assigns: &Tracked<'_, Self>) -> Rendered {
///         let avatar = assigns.upload("avatar");
///         html!(r#"<form id="avatar-form" phx-change="validate" phx-submit="save">
///   <.live_file_input upload={avatar} />
///   <div :for={entry in avatar.entries.iter()}>
///     <.live_img_preview entry={entry} width="64" />
///     {entry.client_name} {entry.progress}%
///     <p :for={error in upload_entry_errors(avatar, entry).iter()} class="error">{error}</p>
///   </div>
///   <p :for={error in upload_errors(avatar).iter()} class="error">{error}</p>
/// </form>"#)
///     }
/// }
///
/// let mut socket = Socket::<Profile>::new(true, None);
/// Profile::mount(&mut socket, &Params::default(), &Session::default())?;
/// let avatar = socket.uploads().get("avatar");
/// assert_eq!(avatar.accept, [".png", "image/jpeg"]);
/// let input = html!(r#"<.live_file_input upload={avatar} />"#).to_html();
/// assert!(input.contains(r#"name="avatar" accept=".png,image/jpeg""#));
/// # Ok::<(), livewasm_sdk::Error>(())
/// ```
pub fn allow_upload<V>(socket: &mut Socket<V>, name: &str, options: UploadOptions) {
    let uploads = socket.__uploads_mut();
    let config = UploadConfig {
        name: name.to_string(),
        upload_ref: format!("phx-upload-{name}"),
        accept: options.accept,
        max_entries: options.max_entries.max(1),
        auto_upload: options.auto_upload,
        max_file_size: options.max_file_size,
        chunk_size: options.chunk_size.max(1),
        errors: Vec::new(),
        entries: Vec::new(),
    };
    match uploads.configs.iter_mut().find(|(c, _)| c.name == name) {
        Some((existing, timeout)) => {
            let entries = std::mem::take(&mut existing.entries);
            *existing = config;
            existing.entries = entries;
            *timeout = options.chunk_timeout_ms;
            revalidate(existing);
        }
        None => uploads
            .configs
            .push((config, options.chunk_timeout_ms.max(1))),
    }
}

/// Removes an entry (`cancel_upload`, e.g. from a "cancel" button's `phx-value-ref`): the
/// client stops sending it and the host deletes what it received. False when unknown.
pub fn cancel_upload<V>(socket: &mut Socket<V>, name: &str, entry_ref: &str) -> bool {
    let Some(config) = socket.__uploads_mut().by_name(name) else {
        return false;
    };
    let Some(index) = config.entries.iter().position(|e| e.entry_ref == entry_ref) else {
        return false;
    };
    let entry = config.entries.remove(index);
    revalidate(config);
    release(&entry);
    true
}

/// The upload-level errors of an upload (`upload_errors(@uploads.avatar)`), e.g.
/// `too_many_files`.
pub fn upload_errors(config: &UploadConfig) -> &[String] {
    &config.errors
}

/// The errors of one entry (`upload_errors(@uploads.avatar, entry)`): `too_large`,
/// `not_accepted`, or a failure while receiving it.
pub fn upload_entry_errors<'a>(config: &UploadConfig, entry: &'a UploadEntry) -> &'a [String] {
    let _ = config;
    &entry.errors
}

/// The entries of an upload that are completely received, and those still in progress
/// (`uploaded_entries`).
pub fn uploaded_entries<'a, V>(
    socket: &'a Socket<V>,
    name: &str,
) -> (Vec<&'a UploadEntry>, Vec<&'a UploadEntry>) {
    socket
        .uploads()
        .get(name)
        .entries
        .iter()
        .filter(|e| e.errors.is_empty())
        .partition(|e| e.done)
}

/// A received file, read from the host in chunks (`std::io::Read`); the bytes never sit in
/// the view's memory unless it keeps them.
#[derive(Debug)]
pub struct UploadedFile {
    upload_ref: String,
    entry_ref: String,
    size: u64,
    offset: u64,
}

/// Bytes asked from the host per read.
const READ_CHUNK: u32 = 64 * 1024;

impl UploadedFile {
    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The upload this file came with (the `allow_upload` name's ref).
    pub(crate) fn upload_ref(&self) -> &str {
        &self.upload_ref
    }

    /// The file's entry in its upload.
    pub(crate) fn entry_ref(&self) -> &str {
        &self.entry_ref
    }

    /// Reads the whole file, refusing files larger than `max` bytes.
    pub fn read_to_vec(&mut self, max: usize) -> std::io::Result<Vec<u8>> {
        if self.size > max as u64 {
            return Err(std::io::Error::other(format!(
                "the file has {} bytes, more than {max}",
                self.size
            )));
        }
        let mut out = Vec::with_capacity(self.size as usize);
        std::io::Read::read_to_end(self, &mut out)?;
        Ok(out)
    }
}

impl std::io::Read for UploadedFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() || self.offset >= self.size {
            return Ok(0);
        }
        let want = buf.len().min(READ_CHUNK as usize) as u32;
        let bytes = crate::bindings::livewasm::view::uploads::read(
            &self.upload_ref,
            &self.entry_ref,
            self.offset,
            want,
        )
        .map_err(std::io::Error::other)?;
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        self.offset += n as u64;
        Ok(n)
    }
}

/// Consumes the completely received entries of upload `name` (`consume_uploaded_entries`):
/// `f` gets each entry and its file, then the entry is removed and the host deletes its
/// bytes. Entries still in progress or with errors stay. Stops at the first error (the entries
/// consumed before it are gone). Reading the files is a host call: it runs inside a view.
///
/// ```no_run
/// use livewasm_sdk::prelude::*;
///
/// #[derive(Assigns, Default)]
/// pub struct Profile {
///     avatar_url: Option<String>,
///     notes: Vec<String>,
/// }
///
/// fn handle_event(socket: &mut Socket<Profile>, event: &str, value: &Value) -> Result {
///     match event {
///         "validate" => {}
///         "cancel" => {
///             cancel_upload(socket, "avatar", value["ref"].as_str().unwrap_or_default());
///         }
///         "save" => {
///             // Let the host copy the image into the app's files…
///             let urls = consume_uploaded_entries(socket, "avatar", |entry, file| {
///                 let name = format!("avatars/{}", entry.client_name);
///                 blobs::put_upload(file, &name, &entry.client_type)
///             })?;
///             assign!(socket, avatar_url = urls.into_iter().next());
///             // …or read small files into memory.
///             let notes = consume_uploaded_entries(socket, "notes", |_entry, file| {
///                 let bytes = file.read_to_vec(64 * 1024).map_err(|e| Error::new(e.to_string()))?;
///                 Ok(String::from_utf8_lossy(&bytes).into_owned())
///             })?;
///             update!(socket, notes, |all| all.extend(notes));
///         }
///         _ => return Err(format!("unknown event `{event}`").into()),
///     }
///     Ok(())
/// }
/// # let mut socket = Socket::<Profile>::new(true, None);
/// # handle_event(&mut socket, "save", &json!({}))?;
/// # Ok::<(), livewasm_sdk::Error>(())
/// ```
pub fn consume_uploaded_entries<V, T>(
    socket: &mut Socket<V>,
    name: &str,
    mut f: impl FnMut(&UploadEntry, &mut UploadedFile) -> crate::Result<T>,
) -> crate::Result<Vec<T>> {
    let done: Vec<UploadEntry> = uploaded_entries(socket, name)
        .0
        .into_iter()
        .cloned()
        .collect();
    let mut out = Vec::with_capacity(done.len());
    for entry in done {
        let mut file = UploadedFile {
            upload_ref: entry.upload_ref.clone(),
            entry_ref: entry.entry_ref.clone(),
            size: entry.client_size,
            offset: 0,
        };
        let result = f(&entry, &mut file);
        if let Some(config) = socket.__uploads_mut().by_name(name) {
            config.entries.retain(|e| e.entry_ref != entry.entry_ref);
            revalidate(config);
        }
        release(&entry);
        out.push(result?);
    }
    Ok(out)
}

fn release(entry: &UploadEntry) {
    crate::bindings::livewasm::view::uploads::release(&entry.upload_ref, &entry.entry_ref);
}

/// True when `entry`'s name or type matches one of `accept`.
fn accepted(accept: &[String], entry: &UploadEntry) -> bool {
    if accept.is_empty() {
        return true;
    }
    let name = entry.client_name.to_ascii_lowercase();
    let mime = entry.client_type.to_ascii_lowercase();
    accept.iter().any(|pattern| {
        let pattern = pattern.trim().to_ascii_lowercase();
        if pattern.starts_with('.') {
            name.ends_with(&pattern)
        } else if let Some(family) = pattern.strip_suffix("/*") {
            mime.split('/').next() == Some(family) && mime.contains('/')
        } else {
            !mime.is_empty() && mime == pattern
        }
    })
}

/// Recomputes entry errors from the options and the upload-level `too_many_files`.
fn revalidate(config: &mut UploadConfig) {
    for entry in &mut config.entries {
        entry.errors.retain(|e| e != TOO_LARGE && e != NOT_ACCEPTED);
        if entry.client_size > config.max_file_size {
            entry.errors.insert(0, TOO_LARGE.into());
        }
        if !accepted(&config.accept, entry) {
            entry.errors.insert(0, NOT_ACCEPTED.into());
        }
    }
    config.errors.retain(|e| e != TOO_MANY_FILES);
    if config.entries.len() > config.max_entries {
        config.errors.push(TOO_MANY_FILES.into());
    }
}

/// Longest client-chosen string kept (names, types, refs).
const MAX_TEXT: usize = 1024;

fn text(value: &Value, key: &str) -> String {
    let mut s = value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if s.len() > MAX_TEXT {
        let mut cut = MAX_TEXT;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// Adds the client's entries that are new to `config` (by ref), then revalidates.
fn put_entries(config: &mut UploadConfig, entries: &[Value]) {
    for e in entries {
        let entry_ref = text(e, "ref");
        if entry_ref.is_empty() || config.entries.iter().any(|x| x.entry_ref == entry_ref) {
            continue;
        }
        config.entries.push(UploadEntry {
            upload_ref: config.upload_ref.clone(),
            entry_ref,
            client_name: text(e, "name"),
            client_size: e.get("size").and_then(Value::as_u64).unwrap_or(0),
            client_type: text(e, "type"),
            client_last_modified: e.get("last_modified").and_then(Value::as_u64),
            progress: 0,
            preflighted: false,
            done: false,
            errors: Vec::new(),
        });
    }
    revalidate(config);
}

/// Handles the host's built-in upload events; `None` for any other event.
pub(crate) fn handle_host_event<V: LiveView>(
    socket: &mut Socket<V>,
    event: &str,
    value: &Value,
) -> Option<Result<Option<Value>, String>> {
    let upload_ref = value.get("ref").and_then(Value::as_str).unwrap_or_default();
    let result = match event {
        "lv:upload-entries" => entries_event(socket, upload_ref, value),
        "lv:upload-preflight" => preflight_event(socket, upload_ref, value),
        "lv:upload-progress" => progress_event(socket, upload_ref, value),
        "lv:upload-error" => error_event(socket, upload_ref, value),
        _ => return None,
    };
    Some(result)
}

/// The answer to a built-in upload event naming an upload this view does not have: the host
/// refuses the client's message, the view lives on.
fn unknown(upload_ref: &str) -> Value {
    json!({ "unknown_upload": upload_ref })
}

fn entries_event<V>(
    socket: &mut Socket<V>,
    upload_ref: &str,
    value: &Value,
) -> Result<Option<Value>, String> {
    let Some((config, _)) = socket.__uploads_mut().by_ref(upload_ref) else {
        return Ok(Some(unknown(upload_ref)));
    };
    let listed: Vec<Value> = value
        .get("entries")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // The client lists every file it still tracks: entries it dropped (and never
    // preflighted) are gone.
    let refs: Vec<String> = listed.iter().map(|e| text(e, "ref")).collect();
    config
        .entries
        .retain(|e| e.preflighted || refs.contains(&e.entry_ref));
    put_entries(config, &listed);
    Ok(None)
}

fn preflight_event<V>(
    socket: &mut Socket<V>,
    upload_ref: &str,
    value: &Value,
) -> Result<Option<Value>, String> {
    let Some((config, chunk_timeout)) = socket.__uploads_mut().by_ref(upload_ref) else {
        return Ok(Some(unknown(upload_ref)));
    };
    let listed: Vec<Value> = value
        .get("entries")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    put_entries(config, &listed);
    let limits = json!({
        "max_file_size": config.max_file_size,
        "max_entries": config.max_entries,
        "chunk_size": config.chunk_size,
        "chunk_timeout": chunk_timeout,
    });
    if config.errors.iter().any(|e| e == TOO_MANY_FILES) {
        let refused: Vec<Value> = listed
            .iter()
            .map(|e| json!([text(e, "ref"), TOO_MANY_FILES]))
            .collect();
        return Ok(Some(json!({"config": limits, "error": refused})));
    }
    let mut allowed = Vec::new();
    let mut errors = serde_json::Map::new();
    for e in &listed {
        let entry_ref = text(e, "ref");
        let Some(entry) = config.entries.iter_mut().find(|x| x.entry_ref == entry_ref) else {
            continue;
        };
        if entry.errors.is_empty() {
            entry.preflighted = true;
            allowed.push(json!({"ref": entry.entry_ref, "size": entry.client_size}));
        } else {
            errors.insert(entry.entry_ref.clone(), json!(entry.errors));
        }
    }
    Ok(Some(
        json!({"config": limits, "allowed": allowed, "errors": errors}),
    ))
}

fn progress_event<V: LiveView>(
    socket: &mut Socket<V>,
    upload_ref: &str,
    value: &Value,
) -> Result<Option<Value>, String> {
    let entry_ref = text(value, "entry_ref");
    let progress = value
        .get("progress")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .min(100) as u8;
    let Some((config, _)) = socket.__uploads_mut().by_ref(upload_ref) else {
        return Ok(Some(unknown(upload_ref)));
    };
    let name = config.name.clone();
    let Some(entry) = config.entries.iter_mut().find(|e| e.entry_ref == entry_ref) else {
        // Cancelled meanwhile: nothing to track.
        return Ok(None);
    };
    entry.progress = entry.progress.max(progress);
    entry.done = entry.progress == 100;
    let entry = entry.clone();
    V::handle_progress(socket, &name, &entry).map_err(|e| e.to_string())?;
    Ok(None)
}

fn error_event<V>(
    socket: &mut Socket<V>,
    upload_ref: &str,
    value: &Value,
) -> Result<Option<Value>, String> {
    let entry_ref = text(value, "entry_ref");
    let reason = text(value, "reason");
    let Some((config, _)) = socket.__uploads_mut().by_ref(upload_ref) else {
        return Ok(Some(unknown(upload_ref)));
    };
    if let Some(entry) = config.entries.iter_mut().find(|e| e.entry_ref == entry_ref)
        && !entry.errors.contains(&reason)
    {
        entry.errors.push(reason);
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(accept: &[&str], max_entries: usize, max_file_size: u64) -> UploadConfig {
        UploadConfig {
            name: "avatar".into(),
            upload_ref: "phx-upload-avatar".into(),
            accept: accept.iter().map(|s| s.to_string()).collect(),
            max_entries,
            max_file_size,
            ..UploadConfig::default()
        }
    }

    fn file(r: &str, name: &str, ty: &str, size: u64) -> Value {
        json!({"ref": r, "name": name, "type": ty, "size": size})
    }

    #[test]
    fn entries_are_validated_against_the_options() {
        let mut c = config(&[".png", "image/jpeg"], 2, 100);
        put_entries(
            &mut c,
            &[
                file("0", "a.PNG", "image/png", 10),
                file("1", "b.png", "image/png", 101),
                file("2", "c.txt", "text/plain", 1),
            ],
        );
        assert_eq!(c.entries[0].errors, Vec::<String>::new());
        assert_eq!(c.entries[1].errors, vec![TOO_LARGE.to_string()]);
        assert_eq!(c.entries[2].errors, vec![NOT_ACCEPTED.to_string()]);
        assert_eq!(c.errors, vec![TOO_MANY_FILES.to_string()]);
        // The same refs again add nothing.
        put_entries(&mut c, &[file("0", "a.png", "image/png", 10)]);
        assert_eq!(c.entries.len(), 3);
        c.entries.truncate(2);
        revalidate(&mut c);
        assert!(c.errors.is_empty());
    }

    #[test]
    fn accept_matches_extensions_and_mime_types() {
        let entry = |name: &str, ty: &str| UploadEntry {
            client_name: name.into(),
            client_type: ty.into(),
            ..UploadEntry::default()
        };
        let accept = vec!["image/*".to_string()];
        assert!(accepted(&accept, &entry("x.bin", "image/webp")));
        assert!(!accepted(&accept, &entry("x.png", "")));
        assert!(accepted(&[], &entry("x", "")));
        let accept = vec![".pdf".to_string()];
        assert!(accepted(&accept, &entry("report.PDF", "")));
        assert!(!accepted(&accept, &entry("report.pdf.exe", "")));
    }
}
