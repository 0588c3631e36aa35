//! The upload side of a [`Connection`]: `allow_upload` preflights, `lvu:<entry ref>` upload
//! channels joined with the token the preflight gave, binary `chunk` pushes, `progress`
//! events, and the files chosen in a form event. The view keeps its upload state (the SDK's
//! `Uploads`), told through built-in `lv:upload-*` events only the host sends.
//!
//! As in Phoenix, a live component may have uploads of its own: the client then sends the
//! component's `cid` (its form's `phx-target`) with the form change, the `allow_upload`
//! preflight and each `progress`, and the built-in events go to that component
//! (`handle-component-event`). The host remembers each entry's component, so its chunks'
//! failures and timeouts reach the same component, and a `progress` naming another is refused.

use std::sync::Arc;
use std::time::{Duration, Instant};

use livewasm_protocol::frame::Frame;
use serde_json::{Map, Value, json};

use super::Connection;
use super::channel::Channel;
use super::outbound::{close, refuse};
use crate::uploads::binary;
use crate::uploads::{SharedUploads, UploadChannel};

/// Entries one preflight or form event may list.
const MAX_LISTED: usize = 256;
/// Uploads one form event may name.
const MAX_FORM_UPLOADS: usize = 16;
/// Longest ref (upload or entry) accepted from the client.
const MAX_REF: usize = 64;
/// Longest client-side error reason kept.
const MAX_REASON: usize = 64;

/// A reply to a binary push.
fn binary_reply(push: &binary::BinaryPush<'_>, status: &str, response: Value) -> Frame {
    Frame {
        join_ref: Some(push.join_ref.clone()),
        msg_ref: Some(push.msg_ref.clone()),
        topic: push.topic.clone(),
        event: livewasm_protocol::keys::events::REPLY.into(),
        payload: json!({"status": status, "response": response}),
    }
}

fn ref_ok(value: Option<&Value>) -> Option<&str> {
    value
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty() && r.len() <= MAX_REF)
}

/// The entries of a preflight or form event, checked: a list of objects with a short string
/// `ref` and a numeric `size`.
fn listed_entries(value: Option<&Value>) -> Result<Vec<Value>, String> {
    let list = value
        .and_then(Value::as_array)
        .ok_or("`entries` must be a list")?;
    if list.len() > MAX_LISTED {
        return Err(format!("more than {MAX_LISTED} entries"));
    }
    for entry in list {
        if ref_ok(entry.get("ref")).is_none() {
            return Err(format!(
                "every entry needs a `ref` string of 1 to {MAX_REF} bytes"
            ));
        }
        if entry.get("size").and_then(Value::as_u64).is_none() {
            return Err("every entry needs a numeric `size`".into());
        }
    }
    Ok(list.clone())
}

/// The live component a message targets (`cid`), `None` for the view; the error is the
/// refusal's reason.
fn target_cid(payload: &Value) -> Result<Option<u32>, String> {
    livewasm_protocol::keys::cid_of(payload.get("cid")).map_err(|e| format!("malformed cid: {e}"))
}

/// A built-in upload event for the view (`cid` `None`) or for its live component `cid`.
fn upload_call(
    instance: &mut livewasm_runtime::Instance,
    cid: Option<u32>,
    event: &str,
    value: &Value,
) -> Result<Option<Value>, livewasm_runtime::CallError> {
    match cid {
        Some(cid) => instance.handle_component_event(cid, event, value),
        None => instance.handle_event(event, value),
    }
}

impl Connection {
    /// The uploads of a view about to be mounted, readable by its instance.
    pub(super) fn new_view_uploads(&self) -> SharedUploads {
        SharedUploads::new(self.host.upload_space().clone(), self.scope().tenant())
    }

    /// Handles one binary frame: an upload `chunk` on an `lvu:` channel.
    pub fn handle_binary(&mut self, bytes: &[u8]) -> Vec<Frame> {
        let mut out = Vec::new();
        let push = match binary::decode(bytes) {
            Ok(push) => push,
            Err(error) => {
                tracing::debug!("malformed binary frame: {error}");
                out.push(Frame::push(
                    None,
                    "phoenix",
                    livewasm_protocol::keys::events::ERROR,
                    json!({"reason": error.to_string()}),
                ));
                return out;
            }
        };
        if !push.topic.starts_with("lvu:") {
            out.push(binary_reply(
                &push,
                "error",
                refuse("binary frames are only accepted on upload channels (lvu:*)"),
            ));
            return out;
        }
        if push.event != "chunk" {
            let reason = format!("unknown upload event `{}`", push.event);
            out.push(binary_reply(&push, "error", refuse(&reason)));
            return out;
        }
        let holder = self.channels.iter().find_map(|(topic, channel)| {
            channel
                .uploads
                .lock()
                .channel_join_ref(&push.topic)
                .map(|join_ref| (topic.clone(), join_ref))
        });
        let Some((lv_topic, join_ref)) = holder else {
            out.push(binary_reply(&push, "error", refuse("unmatched topic")));
            return out;
        };
        if join_ref.as_deref() != Some(push.join_ref.as_str()) {
            out.push(binary_reply(&push, "error", refuse("unmatched topic")));
            return out;
        }
        let Some(channel) = self.channels.get_mut(&lv_topic) else {
            return out;
        };
        let written = channel.uploads.lock().chunk(&push.topic, push.data);
        match written {
            Ok(_) => {
                channel.metrics.upload_bytes.inc_by(push.data.len() as u64);
                out.push(binary_reply(&push, "ok", json!({})));
            }
            Err(error) => {
                let mut response = json!({"reason": error.reason});
                if let (Some(limit), Some(map)) = (error.limit, response.as_object_mut()) {
                    map.insert("limit".into(), json!(limit));
                }
                out.push(binary_reply(&push, "error", response));
                if let Some((upload_ref, entry_ref)) = error.entry {
                    self.tell_entry_error(
                        &lv_topic,
                        (&upload_ref, &entry_ref, error.cid),
                        error.reason,
                        &mut out,
                    );
                }
            }
        }
        self.flush_upload_closes(&mut out);
        out
    }

    /// Records an entry's failure (`lv:upload-error`) in its view or in the live component
    /// that owns it (`(upload ref, entry ref, cid)`), and pushes the diff.
    fn tell_entry_error(
        &mut self,
        lv_topic: &str,
        (upload_ref, entry_ref, cid): (&str, &str, Option<u32>),
        reason: &str,
        out: &mut Vec<Frame>,
    ) {
        let value = json!({"ref": upload_ref, "entry_ref": entry_ref, "reason": reason});
        if let Some(cid) = cid
            && !self
                .channels
                .get(lv_topic)
                .is_some_and(|c| c.instance.has_component(cid))
        {
            // The component is gone, and its uploads with it.
            return;
        }
        if let Some(step) = self.run(lv_topic, out, |instance| {
            upload_call(instance, cid, "lv:upload-error", &value)
        }) {
            step.push_to(lv_topic, out);
        }
    }

    /// `phx_join` on `lvu:<entry ref>` with the preflight's token.
    pub(super) fn join_upload(&mut self, frame: &Frame, out: &mut Vec<Frame>) {
        let token = frame
            .payload
            .get("token")
            .and_then(Value::as_str)
            .unwrap_or_default();
        for channel in self.channels.values() {
            match channel
                .uploads
                .lock()
                .join(&frame.topic, frame.join_ref.clone(), token)
            {
                Ok(()) => {
                    out.push(frame.reply("ok", json!({})));
                    return;
                }
                Err("invalid_token") => continue,
                Err(reason) => {
                    out.push(frame.reply("error", refuse(reason)));
                    return;
                }
            }
        }
        out.push(frame.reply("error", refuse("invalid_token")));
    }

    /// `phx_leave` on an `lvu:` topic: the entry stays (until consumed or cancelled).
    pub(super) fn leave_upload(&mut self, frame: &Frame, out: &mut Vec<Frame>) {
        let mut left = None;
        for channel in self.channels.values() {
            let mut uploads = channel.uploads.lock();
            if let Some(join_ref) = uploads.channel_join_ref(&frame.topic) {
                uploads.leave(&frame.topic);
                left = Some(join_ref);
                break;
            }
        }
        out.push(frame.reply("ok", json!({})));
        if let Some(join_ref) = left {
            out.push(close(join_ref, &frame.topic));
        }
    }

    /// Drops entries silent past their chunk timeout (the view records a `timeout` error),
    /// then sends `phx_close` for every upload channel a view released (consumed, cancelled,
    /// failed, expired).
    pub(super) fn flush_upload_closes(&mut self, out: &mut Vec<Frame>) {
        let now = Instant::now();
        let expired: Vec<(String, String, String, Option<u32>)> =
            self.channels
                .iter()
                .flat_map(|(topic, channel)| {
                    channel.uploads.lock().expire(now).into_iter().map(
                        |(upload_ref, entry_ref, cid)| (topic.clone(), upload_ref, entry_ref, cid),
                    )
                })
                .collect();
        for (topic, upload_ref, entry_ref, cid) in expired {
            tracing::debug!(topic, entry_ref, "upload entry timed out");
            self.tell_entry_error(&topic, (&upload_ref, &entry_ref, cid), "timeout", out);
        }
        for channel in self.channels.values() {
            for UploadChannel { topic, join_ref } in channel.uploads.lock().take_closing() {
                out.push(close(join_ref, &topic));
            }
        }
    }

    /// `allow_upload`: the view (or the live component `cid` names, whose upload it is)
    /// validates the entries, the host registers those it allows (within its own limits) and
    /// answers with a token per entry.
    pub(super) fn allow_upload(&mut self, frame: Frame, out: &mut Vec<Frame>) {
        let payload = &frame.payload;
        let cid = match target_cid(payload) {
            Ok(cid) => cid,
            Err(reason) => {
                out.push(frame.reply("error", refuse(&reason)));
                return;
            }
        };
        let Some(upload_ref) = ref_ok(payload.get("ref")).map(str::to_string) else {
            out.push(frame.reply("error", refuse("allow_upload needs a `ref`")));
            return;
        };
        let entries = match listed_entries(payload.get("entries")) {
            Ok(entries) => entries,
            Err(reason) => {
                out.push(frame.reply(
                    "error",
                    refuse(&format!("malformed allow_upload: {reason}")),
                ));
                return;
            }
        };
        let topic = frame.topic.clone();
        let limits = self.host.upload_space().limits().clone();
        let Some(channel) = self.channels.get_mut(&topic) else {
            return;
        };
        if let Some(cid) = cid
            && !channel.instance.has_component(cid)
        {
            out.push(frame.reply(
                "error",
                refuse(&format!("no live component with cid {cid}")),
            ));
            return;
        }
        let asked = json!({"ref": upload_ref, "entries": entries});
        let answer = match channel
            .live()
            .and_then(|instance| upload_call(instance, cid, "lv:upload-preflight", &asked))
        {
            Ok(answer) => answer.unwrap_or_default(),
            Err(error) => return self.crash(&topic, &error, out),
        };
        if answer.get("unknown_upload").is_some() {
            out.push(frame.reply("error", refuse("no upload with this ref")));
            return;
        }
        let mut config = answer.get("config").cloned().unwrap_or_else(|| json!({}));
        // A chunk travels in one WebSocket message: keep it under the frame limit.
        let max_chunk = self
            .host
            .config()
            .max_frame_bytes
            .saturating_sub(1024)
            .max(1) as u64;
        if let Some(map) = config.as_object_mut()
            && map
                .get("chunk_size")
                .and_then(Value::as_u64)
                .is_none_or(|size| size > max_chunk)
        {
            map.insert("chunk_size".into(), json!(max_chunk.min(64_000)));
        }
        let timeout = config
            .get("chunk_timeout")
            .and_then(Value::as_u64)
            .map(Duration::from_millis)
            .unwrap_or(limits.max_chunk_timeout)
            .min(limits.max_chunk_timeout);
        let mut response = json!({"ref": upload_ref, "config": config});
        let mut host_errors = Vec::new();
        if let Some(refused) = answer.get("error") {
            if let Some(map) = response.as_object_mut() {
                map.insert("error".into(), refused.clone());
            }
        } else {
            let mut errors = answer
                .get("errors")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let mut tokens = Map::new();
            let allowed = answer
                .get("allowed")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for entry in allowed {
                let (Some(entry_ref), Some(size)) = (
                    entry.get("ref").and_then(Value::as_str),
                    entry.get("size").and_then(Value::as_u64),
                ) else {
                    continue;
                };
                let mut uploads = channel.uploads.lock();
                // An external upload (Phoenix's `external:`): the reply carries the presign's
                // meta for the client's uploader instead of a token, as Phoenix's
                // `external_preflight` does.
                if let Some(meta) = entry.get("external").filter(|m| m.is_object()) {
                    let outcome = if !uploads.contains(&upload_ref, entry_ref)
                        && uploads.len() >= limits.max_entries_per_view
                    {
                        Err("too_many_files")
                    } else {
                        uploads
                            .register_external(&upload_ref, entry_ref, cid)
                            .map_err(|_| "capacity")
                    };
                    match outcome {
                        Ok(()) => {
                            tokens.insert(entry_ref.to_string(), meta.clone());
                        }
                        Err(reason) => {
                            errors.insert(entry_ref.to_string(), json!([reason]));
                            host_errors.push((entry_ref.to_string(), reason));
                        }
                    }
                    continue;
                }
                let outcome = if size > limits.max_file_bytes {
                    Err("too_large")
                } else if !uploads.contains(&upload_ref, entry_ref)
                    && uploads.len() >= limits.max_entries_per_view
                {
                    Err("too_many_files")
                } else {
                    uploads
                        .register(&upload_ref, entry_ref, cid, size, timeout)
                        .map_err(|e| {
                            tracing::info!("upload refused: {e}");
                            "capacity"
                        })
                };
                match outcome {
                    Ok(token) => {
                        tokens.insert(entry_ref.to_string(), Value::String(token));
                    }
                    Err(reason) => {
                        errors.insert(entry_ref.to_string(), json!([reason]));
                        host_errors.push((entry_ref.to_string(), reason));
                    }
                }
            }
            if let Some(map) = response.as_object_mut() {
                map.insert("entries".into(), Value::Object(tokens));
                map.insert("errors".into(), Value::Object(errors));
            }
        }
        // The view shows the host's refusals like its own; the preflight and those go
        // through the pipeline together.
        let step = self.run(&topic, out, |instance| {
            for (entry_ref, reason) in &host_errors {
                let value = json!({"ref": upload_ref, "entry_ref": entry_ref, "reason": reason});
                upload_call(instance, cid, "lv:upload-error", &value)?;
            }
            Ok(None)
        });
        if let (Some(step), Some(map)) = (step, response.as_object_mut()) {
            map.extend(step.into_response());
            out.push(frame.reply("ok", response));
        }
    }

    /// `progress`: an entry's upload progress (an integer percent, or `{"error": reason}`).
    /// 100 counts only once the host holds every byte.
    pub(super) fn upload_progress(&mut self, frame: Frame, out: &mut Vec<Frame>) {
        let payload = &frame.payload;
        let cid = match target_cid(payload) {
            Ok(cid) => cid,
            Err(reason) => {
                out.push(frame.reply("error", refuse(&reason)));
                return;
            }
        };
        let (Some(upload_ref), Some(entry_ref)) = (
            ref_ok(payload.get("ref")).map(str::to_string),
            ref_ok(payload.get("entry_ref")).map(str::to_string),
        ) else {
            out.push(frame.reply("error", refuse("progress needs `ref` and `entry_ref`")));
            return;
        };
        let topic = frame.topic.clone();
        let Some(channel) = self.channels.get_mut(&topic) else {
            return;
        };
        // An entry is reported by the one it belongs to: the view, or its live component.
        let owner = channel.uploads.lock().owner(&upload_ref, &entry_ref);
        if owner.is_some_and(|owner| owner != cid) {
            out.push(frame.reply("error", refuse("the entry belongs to another target")));
            return;
        }
        let (event, value) = match payload.get("progress") {
            Some(Value::Number(n)) => match n.as_u64().filter(|p| *p <= 100) {
                Some(progress) => {
                    let uploads = channel.uploads.lock();
                    if !uploads.contains(&upload_ref, &entry_ref) {
                        // Consumed, cancelled or never preflighted: nothing to track.
                        drop(uploads);
                        out.push(frame.reply("ok", json!({})));
                        return;
                    }
                    if progress == 100 && !uploads.is_complete(&upload_ref, &entry_ref) {
                        drop(uploads);
                        out.push(
                            frame.reply("error", refuse("progress 100 before every byte arrived")),
                        );
                        return;
                    }
                    if progress == 100 {
                        channel.metrics.upload_entries.inc();
                    }
                    (
                        "lv:upload-progress",
                        json!({"ref": upload_ref, "entry_ref": entry_ref, "progress": progress}),
                    )
                }
                None => {
                    out.push(frame.reply("error", refuse("progress must be 0 to 100")));
                    return;
                }
            },
            Some(Value::Object(failure)) => {
                let mut reason = failure
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("failed")
                    .to_string();
                reason.truncate(
                    (0..=MAX_REASON.min(reason.len()))
                        .rev()
                        .find(|i| reason.is_char_boundary(*i))
                        .unwrap_or(0),
                );
                channel.uploads.lock().release(&upload_ref, &entry_ref);
                (
                    "lv:upload-error",
                    json!({"ref": upload_ref, "entry_ref": entry_ref, "reason": reason}),
                )
            }
            _ => {
                out.push(frame.reply("error", refuse("malformed progress")));
                return;
            }
        };
        // Through the pipeline like any callback: a `push_navigate` in `handle_progress`
        // reaches the client in this reply.
        if let Some(step) = self.run(&topic, out, |instance| {
            upload_call(instance, cid, event, &value)
        }) {
            out.push(step.reply_to(&frame));
        }
    }
}

/// The files a form event lists (`uploads`: upload ref → entries) reach the view, or the
/// live component the event targets (`cid`, checked by the caller), before the event itself;
/// malformed lists are skipped.
pub(super) fn put_form_entries(
    channel: &mut Channel,
    payload: &Value,
) -> Result<(), livewasm_runtime::CallError> {
    let Some(uploads) = payload.get("uploads").and_then(Value::as_object) else {
        return Ok(());
    };
    let Ok(cid) = target_cid(payload) else {
        return Ok(());
    };
    for (upload_ref, entries) in uploads.iter().take(MAX_FORM_UPLOADS) {
        if upload_ref.is_empty() || upload_ref.len() > MAX_REF {
            continue;
        }
        let Ok(entries) = listed_entries(Some(entries)) else {
            tracing::debug!("form event: malformed uploads of `{upload_ref}` skipped");
            continue;
        };
        let value = json!({"ref": upload_ref, "entries": entries});
        upload_call(channel.live()?, cid, "lv:upload-entries", &value)?;
    }
    Ok(())
}

/// The view's instance reads its uploads' bytes from `uploads`.
pub(super) fn attach(instance: &mut livewasm_runtime::Instance, uploads: &SharedUploads) {
    instance.set_upload_source(Arc::new(uploads.clone()));
}
