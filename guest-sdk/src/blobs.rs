//! Files of the app's own (images, documents), kept by the host across restarts and served
//! back on the app's origin: `put` and `put_upload` return the path to render in an `src` or
//! `href` (it changes when the file does, so browsers may cache it for good). Names are 1 to
//! 200 bytes of ASCII letters, digits and `-_./`, not starting with `/` or `.`, no `..`.
//!
//! ```no_run
//! use livewasm_sdk::prelude::*;
//!
//! #[derive(Assigns, Default)]
//! pub struct Profile {
//!     avatar: Option<String>,
//! }
//!
//! fn handle_event(socket: &mut Socket<Profile>, event: &str, _: &Value) -> Result {
//!     match event {
//!         // An uploaded avatar, copied by the host (up to 10 MiB), not through the view:
//!         "save" => {
//!             let paths = consume_uploaded_entries(socket, "avatar", |entry, file| {
//!                 blobs::put_upload(file, "avatars/me.png", &entry.client_type)
//!             })?;
//!             assign!(socket, avatar = paths.into_iter().next());
//!         }
//!         // Bytes the view made itself (at most 1 MiB):
//!         "note" => {
//!             blobs::put("notes/hello.txt", "text/plain", b"Hello")?;
//!         }
//!         "remove" => {
//!             blobs::delete("avatars/me.png")?;
//!             assign!(socket, avatar = None);
//!         }
//!         _ => {}
//!     }
//!     Ok(())
//! }
//!
//! fn mount(socket: &mut Socket<Profile>, _: &Params, _: &Session) -> Result {
//!     let src = blobs::path("avatars/me.png")?; // Some("/_blobs/<app>/avatars/me.png?v=…")
//!     assign!(socket, avatar = src);
//!     Ok(())
//! }
//!
//! fn render(assigns: &Tracked<'_, Profile>) -> Rendered {
//!     html!(r#"<img :if={@avatar.is_some()} src={@avatar} alt="Avatar">"#)
//! }
//! # let mut socket = Socket::<Profile>::new(true, None);
//! # mount(&mut socket, &Params::default(), &Session::default())?;
//! # handle_event(&mut socket, "save", &json!({}))?;
//! # let _ = render(&Tracked::all(socket.assigns()));
//! # Ok::<(), livewasm_sdk::Error>(())
//! ```

use crate::bindings::livewasm::view::blobs as wit;
use crate::upload::UploadedFile;
use crate::{Error, Result};

/// Stores `bytes` (at most 1 MiB) as `name`, served with `content_type`; the path it is
/// served at.
pub fn put(name: &str, content_type: &str, bytes: &[u8]) -> Result<String> {
    wit::put(name, content_type, bytes).map_err(Error::new)
}

/// Stores an uploaded file (inside `consume_uploaded_entries`) as `name`, served with
/// `content_type`: the host copies its bytes. The path it is served at.
pub fn put_upload(file: &UploadedFile, name: &str, content_type: &str) -> Result<String> {
    wit::put_upload(file.upload_ref(), file.entry_ref(), name, content_type).map_err(Error::new)
}

/// Removes `name`; false when it was absent.
pub fn delete(name: &str) -> Result<bool> {
    wit::delete(name).map_err(Error::new)
}

/// The path `name` is served at, when it exists.
pub fn path(name: &str) -> Result<Option<String>> {
    wit::path(name).map_err(Error::new)
}
