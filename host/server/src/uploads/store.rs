//! The upload entries of one view: their tokens, upload channels and received bytes.
//!
//! Owned by the view's channel: when the view leaves or crashes, or the socket closes, this is
//! dropped, which deletes every file and returns every reservation.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use livewasm_runtime::UploadSource;
use rand::RngCore;
use tempfile::NamedTempFile;

use super::space::{Reservation, SpaceError, UploadSpace};

/// The upload channel (`lvu:<entry ref>`) an entry's bytes arrive on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UploadChannel {
    pub(crate) topic: String,
    pub(crate) join_ref: Option<String>,
}

#[derive(Debug)]
struct Stored {
    token: String,
    /// The live component whose upload this is (`None`: the view's own).
    cid: Option<u32>,
    /// An external upload's entry: its bytes go elsewhere, the host only tracks it.
    external: bool,
    size: u64,
    received: u64,
    file: Option<NamedTempFile>,
    channel: Option<UploadChannel>,
    /// How long the entry may stay silent before it is complete.
    timeout: Duration,
    /// When it expires without news; `None` once complete.
    deadline: Option<Instant>,
    _reservation: Reservation,
}

/// Why a chunk was refused: the reply's `reason` (and `limit`), and the entry it was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChunkError {
    pub(crate) reason: &'static str,
    pub(crate) limit: Option<u64>,
    /// `(upload ref, entry ref)` when the chunk belonged to a known entry.
    pub(crate) entry: Option<(String, String)>,
    /// The live component the entry belonged to (`None`: the view, or no known entry).
    pub(crate) cid: Option<u32>,
}

/// The upload entries of one view.
#[derive(Debug)]
pub(crate) struct ViewUploads {
    space: Arc<UploadSpace>,
    tenant: String,
    entries: HashMap<(String, String), Stored>,
    closing: Vec<UploadChannel>,
}

/// [`ViewUploads`] shared between the connection (writes) and the view's instance (reads).
#[derive(Debug, Clone)]
pub(crate) struct SharedUploads(pub(crate) Arc<Mutex<ViewUploads>>);

impl SharedUploads {
    /// No entries yet; `tenant`'s budget pays for them.
    pub(crate) fn new(space: Arc<UploadSpace>, tenant: String) -> SharedUploads {
        SharedUploads(Arc::new(Mutex::new(ViewUploads {
            space,
            tenant,
            entries: HashMap::new(),
            closing: Vec::new(),
        })))
    }

    /// Exclusive access.
    pub(crate) fn lock(&self) -> MutexGuard<'_, ViewUploads> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn token() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl ViewUploads {
    /// Registers a preflighted entry of `size` bytes of the view's upload (`cid` `None`) or
    /// of live component `cid`'s, reserving the space; returns the token its upload channel
    /// must join with. An entry registered again starts over. Until it is complete, an entry
    /// silent for `timeout` (join, chunks) is dropped.
    pub(crate) fn register(
        &mut self,
        upload_ref: &str,
        entry_ref: &str,
        cid: Option<u32>,
        size: u64,
        timeout: Duration,
    ) -> Result<String, SpaceError> {
        let key = (upload_ref.to_string(), entry_ref.to_string());
        self.drop_entry(&key);
        let reservation = self.space.reserve(&self.tenant, size)?;
        let token = token();
        self.entries.insert(
            key,
            Stored {
                token: token.clone(),
                cid,
                external: false,
                size,
                received: 0,
                file: None,
                channel: None,
                timeout,
                deadline: Some(Instant::now() + timeout),
                _reservation: reservation,
            },
        );
        Ok(token)
    }

    /// Registers a preflighted entry of an external upload (Phoenix's `external:`): the
    /// client's own uploader sends its bytes elsewhere, so it has no token, no channel, no
    /// space and no deadline; the host tracks it (its owner, its progress) until it is
    /// consumed or cancelled.
    pub(crate) fn register_external(
        &mut self,
        upload_ref: &str,
        entry_ref: &str,
        cid: Option<u32>,
    ) -> Result<(), SpaceError> {
        let key = (upload_ref.to_string(), entry_ref.to_string());
        self.drop_entry(&key);
        let reservation = self.space.reserve(&self.tenant, 0)?;
        self.entries.insert(
            key,
            Stored {
                token: String::new(),
                cid,
                external: true,
                size: 0,
                received: 0,
                file: None,
                channel: None,
                timeout: Duration::ZERO,
                deadline: None,
                _reservation: reservation,
            },
        );
        Ok(())
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the entry is registered.
    pub(crate) fn contains(&self, upload_ref: &str, entry_ref: &str) -> bool {
        self.entries
            .contains_key(&(upload_ref.to_string(), entry_ref.to_string()))
    }

    /// The owner of a registered entry: `Some(None)` for the view's own upload,
    /// `Some(Some(cid))` for live component `cid`'s, `None` when not registered.
    pub(crate) fn owner(&self, upload_ref: &str, entry_ref: &str) -> Option<Option<u32>> {
        self.entries
            .get(&(upload_ref.to_string(), entry_ref.to_string()))
            .map(|s| s.cid)
    }

    /// Opens the upload channel `topic` (`lvu:<entry ref>`) of the entry `token` names; the
    /// error is the join reply's `reason`.
    pub(crate) fn join(
        &mut self,
        topic: &str,
        join_ref: Option<String>,
        token: &str,
    ) -> Result<(), &'static str> {
        let entry_ref = topic.strip_prefix("lvu:").unwrap_or_default();
        let space = self.space.clone();
        let Some(((_, stored_ref), stored)) = self
            .entries
            .iter_mut()
            .find(|(_, s)| !token.is_empty() && crate::session::secrets_equal(&s.token, token))
        else {
            return Err("invalid_token");
        };
        if stored_ref != entry_ref {
            return Err("invalid_token");
        }
        if stored.channel.is_some() {
            return Err("already_registered");
        }
        if stored.file.is_none() {
            match space.new_file() {
                Ok(file) => stored.file = Some(file),
                Err(error) => {
                    tracing::error!("upload storage: {error}");
                    return Err("writer_error");
                }
            }
        }
        stored.channel = Some(UploadChannel {
            topic: topic.to_string(),
            join_ref,
        });
        stored.deadline = Some(Instant::now() + stored.timeout);
        Ok(())
    }

    fn by_topic(&mut self, topic: &str) -> Option<(&(String, String), &mut Stored)> {
        self.entries
            .iter_mut()
            .find(|(_, s)| s.channel.as_ref().is_some_and(|c| c.topic == topic))
    }

    /// The join ref of upload channel `topic`, when this view holds it.
    pub(crate) fn channel_join_ref(&self, topic: &str) -> Option<Option<String>> {
        self.entries.values().find_map(|s| {
            s.channel
                .as_ref()
                .filter(|c| c.topic == topic)
                .map(|c| c.join_ref.clone())
        })
    }

    /// The client left upload channel `topic`: the entry stays, without a channel.
    pub(crate) fn leave(&mut self, topic: &str) {
        if let Some((_, stored)) = self.by_topic(topic) {
            stored.channel = None;
        }
    }

    /// Appends a chunk to the entry of upload channel `topic`; true once every byte arrived.
    /// An entry that would grow past its announced size is dropped.
    pub(crate) fn chunk(&mut self, topic: &str, data: &[u8]) -> Result<bool, ChunkError> {
        let Some((key, stored)) = self.by_topic(topic) else {
            return Err(ChunkError {
                reason: "unknown_entry",
                limit: None,
                entry: None,
                cid: None,
            });
        };
        let key = key.clone();
        let cid = stored.cid;
        let fail = |reason, limit| ChunkError {
            reason,
            limit,
            entry: Some(key.clone()),
            cid,
        };
        let total = stored.received.saturating_add(data.len() as u64);
        if total > stored.size {
            let limit = stored.size;
            self.drop_entry(&key);
            return Err(fail("file_size_limit_exceeded", Some(limit)));
        }
        let written = stored
            .file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("no file"))
            .and_then(|f| f.as_file_mut().write_all(data));
        if let Err(error) = written {
            tracing::error!("upload storage: {error}");
            self.drop_entry(&key);
            return Err(fail("writer_error", None));
        }
        stored.received = total;
        stored.deadline = (total < stored.size).then(|| Instant::now() + stored.timeout);
        Ok(total == stored.size)
    }

    /// True when every announced byte of the entry arrived, or when it is an external
    /// upload's (its client-side uploader reports its progress).
    pub(crate) fn is_complete(&self, upload_ref: &str, entry_ref: &str) -> bool {
        self.entries
            .get(&(upload_ref.to_string(), entry_ref.to_string()))
            .is_some_and(|s| s.external || (s.file.is_some() && s.received == s.size))
    }

    /// Forgets an entry (consumed, cancelled or failed): deletes its file, returns its space
    /// and closes its upload channel.
    pub(crate) fn release(&mut self, upload_ref: &str, entry_ref: &str) {
        self.drop_entry(&(upload_ref.to_string(), entry_ref.to_string()));
    }

    fn drop_entry(&mut self, key: &(String, String)) {
        if let Some(stored) = self.entries.remove(key)
            && let Some(channel) = stored.channel
        {
            self.closing.push(channel);
        }
    }

    /// Drops the entries silent past their deadline at `now`; returns them as
    /// `(upload ref, entry ref, owning component)`.
    pub(crate) fn expire(&mut self, now: Instant) -> Vec<(String, String, Option<u32>)> {
        let expired: Vec<(String, String, Option<u32>)> = self
            .entries
            .iter()
            .filter(|(_, s)| s.deadline.is_some_and(|d| d <= now))
            .map(|((upload_ref, entry_ref), s)| (upload_ref.clone(), entry_ref.clone(), s.cid))
            .collect();
        for (upload_ref, entry_ref, _) in &expired {
            self.drop_entry(&(upload_ref.clone(), entry_ref.clone()));
        }
        expired
    }

    /// Upload channels to close (`phx_close`) since the last call.
    pub(crate) fn take_closing(&mut self) -> Vec<UploadChannel> {
        std::mem::take(&mut self.closing)
    }
}

impl UploadSource for SharedUploads {
    fn read(
        &self,
        upload_ref: &str,
        entry_ref: &str,
        offset: u64,
        max: usize,
    ) -> Result<Vec<u8>, String> {
        let uploads = self.lock();
        let stored = uploads
            .entries
            .get(&(upload_ref.to_string(), entry_ref.to_string()))
            .ok_or_else(|| format!("no upload entry `{entry_ref}` in `{upload_ref}`"))?;
        let file = match &stored.file {
            Some(file) if stored.received == stored.size => file,
            _ => {
                return Err(format!(
                    "upload entry `{entry_ref}` is not completely received"
                ));
            }
        };
        if offset >= stored.size {
            return Ok(Vec::new());
        }
        let read = || -> std::io::Result<Vec<u8>> {
            let mut f = file.reopen()?;
            f.seek(SeekFrom::Start(offset))?;
            let mut out = Vec::new();
            f.take(max as u64).read_to_end(&mut out)?;
            Ok(out)
        };
        read().map_err(|e| format!("reading upload entry `{entry_ref}`: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uploads::space::UploadLimits;

    fn view() -> SharedUploads {
        SharedUploads::new(UploadSpace::new(UploadLimits::default()), "t".into())
    }

    #[test]
    fn an_entry_is_joined_written_read_and_released() {
        let uploads = view();
        let token = uploads
            .lock()
            .register("phx-a", "0", None, 5, Duration::from_secs(10))
            .expect("space");
        assert_eq!(
            uploads.lock().join("lvu:1", None, &token),
            Err("invalid_token")
        );
        assert_eq!(
            uploads.lock().join("lvu:0", None, "nope"),
            Err("invalid_token")
        );
        uploads
            .lock()
            .join("lvu:0", Some("9".into()), &token)
            .expect("joins");
        assert_eq!(
            uploads.lock().join("lvu:0", None, &token),
            Err("already_registered")
        );
        assert!(
            uploads.read("phx-a", "0", 0, 10).is_err(),
            "not complete yet"
        );
        assert_eq!(uploads.lock().chunk("lvu:0", b"hel"), Ok(false));
        assert_eq!(uploads.lock().chunk("lvu:0", b"lo"), Ok(true));
        assert_eq!(uploads.read("phx-a", "0", 0, 3).expect("read"), b"hel");
        assert_eq!(uploads.read("phx-a", "0", 3, 10).expect("read"), b"lo");
        assert_eq!(uploads.read("phx-a", "0", 5, 10).expect("read"), b"");
        uploads.lock().release("phx-a", "0");
        assert_eq!(
            uploads.lock().take_closing(),
            vec![UploadChannel {
                topic: "lvu:0".into(),
                join_ref: Some("9".into())
            }]
        );
        assert!(uploads.read("phx-a", "0", 0, 3).is_err());
    }

    #[test]
    fn a_silent_entry_expires_and_a_complete_one_does_not() {
        let uploads = view();
        let second = Duration::from_secs(1);
        let token = uploads
            .lock()
            .register("phx-a", "0", None, 2, second)
            .expect("space");
        uploads
            .lock()
            .register("phx-a", "1", None, 2, second)
            .expect("space");
        uploads.lock().join("lvu:0", None, &token).expect("joins");
        assert_eq!(uploads.lock().chunk("lvu:0", b"ab"), Ok(true));
        let later = Instant::now() + Duration::from_secs(5);
        assert_eq!(
            uploads.lock().expire(later),
            vec![("phx-a".to_string(), "1".to_string(), None)]
        );
        assert!(uploads.lock().is_complete("phx-a", "0"));
        assert!(!uploads.lock().contains("phx-a", "1"));
    }

    #[test]
    fn a_chunk_past_the_announced_size_drops_the_entry() {
        let uploads = view();
        let token = uploads
            .lock()
            .register("phx-a", "0", None, 2, Duration::from_secs(10))
            .expect("space");
        uploads.lock().join("lvu:0", None, &token).expect("joins");
        let error = uploads.lock().chunk("lvu:0", b"abc").expect_err("too big");
        assert_eq!(error.reason, "file_size_limit_exceeded");
        assert_eq!(error.limit, Some(2));
        assert!(!uploads.lock().contains("phx-a", "0"));
        assert_eq!(
            uploads
                .lock()
                .chunk("lvu:0", b"a")
                .expect_err("gone")
                .reason,
            "unknown_entry"
        );
    }
}
