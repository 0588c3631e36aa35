//! The `uploads` capability: a view reads the bytes of a received upload entry from the
//! server's store ([`UploadSource`]) and releases entries it consumed or cancelled.

use std::sync::Arc;

use crate::bindings::livewasm::view::uploads;
use crate::capabilities::budget::Budget;

/// Most bytes one `uploads.read` call returns.
pub const MAX_UPLOAD_READ: usize = 1 << 20;
/// Most releases kept until the server takes them.
pub const MAX_RELEASES: usize = 256;
/// Longest upload or entry ref accepted from a guest, in bytes.
pub const MAX_REF: usize = 256;

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

/// Where the bytes are (set by the server for connected views), and the entries released
/// since they were last taken.
pub(crate) struct UploadsState {
    app: Arc<str>,
    budget: Budget,
    source: Option<Arc<dyn UploadSource>>,
    released: Vec<(String, String)>,
}

impl UploadsState {
    /// The upload source, kept while the view hibernates.
    pub(crate) fn kept(self) -> Option<Arc<dyn UploadSource>> {
        self.source
    }

    /// Takes over the upload source a hibernated view kept ([`Self::kept`]).
    pub(crate) fn carry(&mut self, source: Option<Arc<dyn UploadSource>>) {
        self.source = source;
    }

    /// No uploads yet; drops are logged under `app`; calls charge `budget`.
    pub(crate) fn new(app: Arc<str>, budget: Budget) -> UploadsState {
        UploadsState {
            app,
            budget,
            source: None,
            released: Vec::new(),
        }
    }

    /// Gives the instance access to its uploads' bytes.
    pub(crate) fn set_source(&mut self, source: Arc<dyn UploadSource>) {
        self.source = Some(source);
    }

    /// The `(upload ref, entry ref)` pairs released since the last call, in order.
    pub(crate) fn take_released(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.released)
    }
}

impl uploads::Host for UploadsState {
    fn read(
        &mut self,
        upload_ref: String,
        entry_ref: String,
        offset: u64,
        max: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, String>> {
        self.budget
            .call("uploads.read", upload_ref.len() + entry_ref.len())?;
        let Some(source) = &self.source else {
            return Ok(Err("this view has no uploads".into()));
        };
        let max = usize::try_from(max)
            .unwrap_or(MAX_UPLOAD_READ)
            .min(MAX_UPLOAD_READ);
        let read = source.read(&upload_ref, &entry_ref, offset, max);
        if let Ok(bytes) = &read {
            self.budget.produced(bytes.len());
        }
        Ok(read)
    }

    fn release(&mut self, upload_ref: String, entry_ref: String) -> wasmtime::Result<()> {
        self.budget
            .command("uploads.release", upload_ref.len() + entry_ref.len())?;
        if upload_ref.len() > MAX_REF
            || entry_ref.len() > MAX_REF
            || self.released.len() >= MAX_RELEASES
        {
            tracing::warn!(target: "livewasm::guest", app = %self.app, "upload release dropped: ref too long or too many releases");
            return Ok(());
        }
        self.released.push((upload_ref, entry_ref));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uploads::Host as _;

    /// Bytes `0..len` for every entry.
    struct Counting(usize);

    impl UploadSource for Counting {
        fn read(&self, _: &str, _: &str, offset: u64, max: usize) -> Result<Vec<u8>, String> {
            let start = usize::try_from(offset)
                .map_err(|e| e.to_string())?
                .min(self.0);
            Ok((start..self.0.min(start + max)).map(|b| b as u8).collect())
        }
    }

    #[test]
    fn reads_are_capped_and_releases_bounded() {
        let mut state = UploadsState::new(Arc::from("test"), Budget::default());
        assert!(
            state
                .read("u".into(), "e".into(), 0, 10)
                .expect("budget")
                .is_err()
        );
        state.set_source(Arc::new(Counting(3 << 20)));
        let bytes = state
            .read("u".into(), "e".into(), 0, u32::MAX)
            .expect("budget")
            .expect("read");
        assert_eq!(bytes.len(), MAX_UPLOAD_READ);
        state.release("u".into(), "e".into()).expect("budget");
        state
            .release("x".repeat(MAX_REF + 1), "e".into())
            .expect("budget");
        assert_eq!(state.take_released(), vec![("u".into(), "e".into())]);
        for n in 0..MAX_RELEASES + 5 {
            state.release("u".into(), n.to_string()).expect("budget");
        }
        assert_eq!(state.take_released().len(), MAX_RELEASES);
    }
}
