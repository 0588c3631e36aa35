//! File uploads (`allow_upload`): a view declares its uploads, templates render them with
//! `<.live_file_input>`, the client sends the files to the host in chunks, and the view reads the
//! bytes when it consumes the entries.
//!
//! The view keeps the state ([`Uploads`]: configs and entries, shown by templates through
//! `assigns.upload(name)`); the host runs the client's upload protocol, stores the chunks and
//! tells the view through built-in events (`lv:upload-*`, handled here, never by the view).

use std::any::Any;
use std::sync::Arc;

use serde_json::{Map, Value, json};

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
    /// Upload the files somewhere else, directly from the browser (Phoenix's
    /// `external: &presign_upload/2`): the presign callback gives each entry its
    /// [`ExternalMeta`] at preflight, and the client's uploader of that name sends the file.
    /// `None`: the files come to the host over `lvu:` channels.
    pub external: Option<External>,
}

/// An external upload's presign callback (Phoenix's `presign_upload(entry, socket)`): called
/// once per entry at preflight, with the entry and the socket of the view (or the live
/// component) that allowed the upload; an error refuses the entry with its message as the
/// reason (Phoenix's `{:error, meta}`).
pub type Presign<V> = fn(&UploadEntry, &mut Socket<V>) -> crate::Result<ExternalMeta>;

/// The `external` option of an upload: its presign callback, with the view type erased so
/// that [`UploadOptions`] stays one type.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// #[derive(Assigns, Default)]
/// pub struct Receipts {}
///
/// /// Phoenix's `presign_upload/2`: tell the client where to put the file.
/// fn presign(entry: &UploadEntry, _socket: &mut Socket<Receipts>) -> Result<ExternalMeta> {
///     Ok(ExternalMeta::new("S3")
///         .with("url", "https://bucket.example/")
///         .with("key", format!("receipts/{}", entry.entry_ref)))
/// }
///
/// let options = UploadOptions {
///     external: Some(External::presign(presign)),
///     auto_upload: true,
///     ..UploadOptions::default()
/// };
/// assert!(options.external.is_some());
/// ```
#[derive(Clone)]
pub struct External {
    /// A `Presign<V>` for the `V` that allowed the upload.
    presign: Arc<dyn Any + Send + Sync>,
    /// `V`'s name, for the error when another socket type uses it.
    view: &'static str,
}

impl External {
    /// An external upload presigned by `presign`.
    pub fn presign<V: 'static>(presign: Presign<V>) -> External {
        External {
            presign: Arc::new(presign),
            view: std::any::type_name::<V>(),
        }
    }

    /// The callback, when it was given for sockets of `V`.
    fn for_socket<V: 'static>(&self) -> Result<Presign<V>, String> {
        self.presign
            .downcast_ref::<Presign<V>>()
            .copied()
            .ok_or_else(|| {
                format!(
                    "the external upload's presign takes a socket of {}, not of {}",
                    self.view,
                    std::any::type_name::<V>()
                )
            })
    }
}

impl std::fmt::Debug for External {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("External")
            .field("view", &self.view)
            .finish()
    }
}

impl PartialEq for External {
    fn eq(&self, other: &External) -> bool {
        Arc::ptr_eq(&self.presign, &other.presign)
    }
}

impl Eq for External {}

/// What a presign callback returns for one entry of an external upload (Phoenix's presign
/// `meta`): the name of the client-side uploader that sends the file (a key of the client's
/// `LiveSocket` `uploaders` option, which an app ships as its `LiveSocket.uploaders` client
/// hook) and whatever that uploader needs (a signed URL, form fields …). The preflight reply
/// carries it to the client as `entries: {ref: meta}`; the entry keeps it (`entry.meta`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalMeta {
    uploader: String,
    fields: Map<String, Value>,
}

impl ExternalMeta {
    /// Meta for the client's uploader named `uploader`.
    pub fn new(uploader: impl Into<String>) -> ExternalMeta {
        ExternalMeta {
            uploader: uploader.into(),
            fields: Map::new(),
        }
    }

    /// Adds `key` (the uploader reads `entry.meta[key]`); `uploader` is not a field.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> ExternalMeta {
        let key = key.into();
        if key != "uploader" {
            self.fields.insert(key, value.into());
        }
        self
    }

    /// The client-side uploader's name.
    pub fn uploader(&self) -> &str {
        &self.uploader
    }

    /// The field `key`, if set.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    /// The meta as the client gets it: the fields and `uploader`.
    pub fn to_json(&self) -> Value {
        let mut map = self.fields.clone();
        map.insert("uploader".into(), Value::String(self.uploader.clone()));
        Value::Object(map)
    }
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
            external: None,
        }
    }
}

/// The uploads of a view, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uploads {
    configs: Vec<(UploadConfig, u32, Option<External>)>,
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
            .map(|(c, _, _)| c)
            .find(|c| c.name == name)
            .unwrap_or(&NO_UPLOAD)
    }

    /// Every upload, in the order they were allowed.
    pub fn iter(&self) -> impl Iterator<Item = &UploadConfig> {
        self.configs.iter().map(|(c, _, _)| c)
    }

    fn by_name(&mut self, name: &str) -> Option<&mut UploadConfig> {
        self.configs
            .iter_mut()
            .map(|(c, _, _)| c)
            .find(|c| c.name == name)
    }

    fn by_ref(&mut self, upload_ref: &str) -> Option<(&mut UploadConfig, u32)> {
        self.configs
            .iter_mut()
            .find(|(c, _, _)| c.upload_ref == upload_ref)
            .map(|(c, timeout, _)| (c, *timeout))
    }

    /// The external option of the upload `upload_ref` names.
    fn external(&self, upload_ref: &str) -> Option<External> {
        self.configs
            .iter()
            .find(|(c, _, _)| c.upload_ref == upload_ref)
            .and_then(|(_, _, external)| external.clone())
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
    // A live component's uploads have refs of their own, apart from the view's and the other
    // components' (Phoenix gives every upload a unique ref), so the host's store of the page's
    // entries never mixes them up.
    let upload_ref = match socket.component_target() {
        Some(crate::Myself(cid)) => format!("phx-c{cid}-upload-{name}"),
        None => format!("phx-upload-{name}"),
    };
    let uploads = socket.__uploads_mut();
    let config = UploadConfig {
        name: name.to_string(),
        upload_ref,
        accept: options.accept,
        max_entries: options.max_entries.max(1),
        auto_upload: options.auto_upload,
        max_file_size: options.max_file_size,
        chunk_size: options.chunk_size.max(1),
        errors: Vec::new(),
        entries: Vec::new(),
    };
    match uploads.configs.iter_mut().find(|(c, _, _)| c.name == name) {
        Some((existing, timeout, external)) => {
            let entries = std::mem::take(&mut existing.entries);
            *existing = config;
            existing.entries = entries;
            *timeout = options.chunk_timeout_ms;
            *external = options.external;
            revalidate(existing);
        }
        None => uploads
            .configs
            .push((config, options.chunk_timeout_ms.max(1), options.external)),
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
/// An external upload's entries (see [`External`]) are complete once their client-side
/// uploader reported 100 %; as in Phoenix, `f` then gets the presign's meta (`entry.meta`)
/// and the file is empty, since its bytes went to the external service.
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
            // An external entry's bytes went elsewhere: the host holds none.
            size: if entry.meta.is_some() {
                0
            } else {
                entry.client_size
            },
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
            meta: None,
        });
    }
    revalidate(config);
}

/// What a built-in upload event asks of its caller.
enum Outcome {
    /// Answer the host with this.
    Reply(Option<Value>),
    /// An entry's progress changed: run the view's (or component's) `handle_progress`.
    Progress(String, UploadEntry),
}

/// Handles the host's built-in upload events on a view's own socket; `None` for any other
/// event. Progress runs [`LiveView::handle_progress`].
pub(crate) fn handle_host_event<V: LiveView>(
    socket: &mut Socket<V>,
    event: &str,
    value: &Value,
) -> Option<Result<Option<Value>, String>> {
    Some(match host_event(socket, event, value)? {
        Ok(Outcome::Reply(reply)) => Ok(reply),
        Ok(Outcome::Progress(name, entry)) => V::handle_progress(socket, &name, &entry)
            .map(|()| None)
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    })
}

/// [`handle_host_event`] for a live component's uploads (the host sends them to its cid);
/// progress runs [`crate::LiveComponent::handle_progress`].
pub(crate) fn handle_component_host_event<C: crate::LiveComponent>(
    socket: &mut crate::ComponentSocket<C>,
    event: &str,
    value: &Value,
) -> Option<Result<Option<Value>, String>> {
    Some(match host_event(socket, event, value)? {
        Ok(Outcome::Reply(reply)) => Ok(reply),
        Ok(Outcome::Progress(name, entry)) => C::handle_progress(socket, &name, &entry)
            .map(|()| None)
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    })
}

fn host_event<V: 'static>(
    socket: &mut Socket<V>,
    event: &str,
    value: &Value,
) -> Option<Result<Outcome, String>> {
    let upload_ref = value.get("ref").and_then(Value::as_str).unwrap_or_default();
    let result = match event {
        "lv:upload-entries" => entries_event(socket, upload_ref, value).map(Outcome::Reply),
        "lv:upload-preflight" => preflight_event(socket, upload_ref, value).map(Outcome::Reply),
        "lv:upload-progress" => progress_event(socket, upload_ref, value),
        "lv:upload-error" => error_event(socket, upload_ref, value).map(Outcome::Reply),
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

fn preflight_event<V: 'static>(
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
    let mut ready = Vec::new();
    for e in &listed {
        let entry_ref = text(e, "ref");
        let Some(entry) = config.entries.iter_mut().find(|x| x.entry_ref == entry_ref) else {
            continue;
        };
        if entry.errors.is_empty() {
            ready.push(entry.clone());
        } else {
            errors.insert(entry.entry_ref.clone(), json!(entry.errors));
        }
    }
    let auto_upload = config.auto_upload;
    let Some(external) = socket.uploads().external(upload_ref) else {
        // The host's own upload channels: the host gives each allowed entry its token.
        for entry in ready {
            mark_preflighted(socket, upload_ref, &entry.entry_ref, None);
            allowed.push(json!({"ref": entry.entry_ref, "size": entry.client_size}));
        }
        return Ok(Some(
            json!({"config": limits, "allowed": allowed, "errors": errors}),
        ));
    };
    // External (Phoenix's `external_preflight`): the presign callback gives each entry the
    // meta its client-side uploader needs; the host passes it on instead of a token.
    let presign = external.for_socket::<V>()?;
    for entry in ready {
        match presign(&entry, socket) {
            Ok(meta) => {
                let json = meta.to_json();
                mark_preflighted(socket, upload_ref, &entry.entry_ref, Some(meta));
                allowed.push(
                    json!({"ref": entry.entry_ref, "size": entry.client_size, "external": json}),
                );
            }
            Err(error) => {
                let reason = error.to_string();
                if let Some((config, _)) = socket.__uploads_mut().by_ref(upload_ref)
                    && let Some(e) = config
                        .entries
                        .iter_mut()
                        .find(|e| e.entry_ref == entry.entry_ref)
                    && !e.errors.contains(&reason)
                {
                    e.errors.push(reason.clone());
                }
                if !auto_upload {
                    // Phoenix refuses the whole preflight of a form's upload.
                    return Ok(Some(
                        json!({"config": limits, "error": [[entry.entry_ref, reason]]}),
                    ));
                }
                errors.insert(entry.entry_ref.clone(), json!([reason]));
            }
        }
    }
    Ok(Some(
        json!({"config": limits, "allowed": allowed, "errors": errors}),
    ))
}

/// Marks an entry allowed to upload, keeping an external upload's meta.
fn mark_preflighted<V>(
    socket: &mut Socket<V>,
    upload_ref: &str,
    entry_ref: &str,
    meta: Option<ExternalMeta>,
) {
    if let Some((config, _)) = socket.__uploads_mut().by_ref(upload_ref)
        && let Some(entry) = config.entries.iter_mut().find(|e| e.entry_ref == entry_ref)
    {
        entry.preflighted = true;
        entry.meta = meta;
    }
}

fn progress_event<V>(
    socket: &mut Socket<V>,
    upload_ref: &str,
    value: &Value,
) -> Result<Outcome, String> {
    let entry_ref = text(value, "entry_ref");
    let progress = value
        .get("progress")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .min(100) as u8;
    let Some((config, _)) = socket.__uploads_mut().by_ref(upload_ref) else {
        return Ok(Outcome::Reply(Some(unknown(upload_ref))));
    };
    let name = config.name.clone();
    let Some(entry) = config.entries.iter_mut().find(|e| e.entry_ref == entry_ref) else {
        // Cancelled meanwhile: nothing to track.
        return Ok(Outcome::Reply(None));
    };
    entry.progress = entry.progress.max(progress);
    entry.done = entry.progress == 100;
    Ok(Outcome::Progress(name, entry.clone()))
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
