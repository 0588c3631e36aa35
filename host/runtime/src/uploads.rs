//! The `uploads` capability: a view reads the bytes of a received upload entry from the
//! server's store and releases entries it consumed or cancelled.

use std::sync::Arc;

use crate::bindings::livewasm::view::uploads;
use crate::host_state::HostState;

/// Most bytes one `uploads.read` call returns.
pub const MAX_UPLOAD_READ: usize = 1 << 20;
/// Most entries one callback may release.
const MAX_RELEASES: usize = 1024;
/// Longest upload or entry ref accepted from a guest.
const MAX_REF: usize = 256;

/// Where an instance's `uploads.read` finds the bytes: the server's store of received files.
pub trait UploadSource: Send + Sync {
    /// Up to `max` bytes of a completely received entry from `offset`; empty past the end.
    fn read(
        &self,
        upload_ref: &str,
        entry_ref: &str,
        offset: u64,
        max: usize,
    ) -> Result<Vec<u8>, String>;
}

impl HostState {
    /// Gives the instance access to its uploads' bytes.
    pub(crate) fn set_upload_source(&mut self, source: Arc<dyn UploadSource>) {
        self.upload_source = Some(source);
    }
}

impl uploads::Host for HostState {
    fn read(
        &mut self,
        upload_ref: String,
        entry_ref: String,
        offset: u64,
        max: u32,
    ) -> Result<Vec<u8>, String> {
        let Some(source) = &self.upload_source else {
            return Err("this view has no uploads".into());
        };
        let max = usize::try_from(max)
            .unwrap_or(MAX_UPLOAD_READ)
            .min(MAX_UPLOAD_READ);
        source.read(&upload_ref, &entry_ref, offset, max)
    }

    fn release(&mut self, upload_ref: String, entry_ref: String) {
        if upload_ref.len() > MAX_REF
            || entry_ref.len() > MAX_REF
            || self.effects.released_uploads.len() >= MAX_RELEASES
        {
            tracing::warn!(target: "livewasm::guest", app = %self.app_name, "upload release dropped: ref too long or too many releases");
            return;
        }
        self.effects.released_uploads.push((upload_ref, entry_ref));
    }
}
