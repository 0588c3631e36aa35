//! Join and event payloads: any frame's payload read as `JoinPayload` (leniently) and as
//! `EventPayload`, then the form decoding an event goes through, never panics.

#![no_main]

use libfuzzer_sys::fuzz_target;
use livewasm_protocol::frame::Frame;
use livewasm_protocol::keys::{EventPayload, JoinPayload, cid_of};
use livewasm_server::{decode_form, target_path};
use serde_json::Value;

fn read(payload: Value) {
    // As the server's join: a payload that is not a join payload counts as an empty one.
    let join: JoinPayload = serde_json::from_value(payload.clone()).unwrap_or_default();
    let _ = join.mounts();
    let _ = join.target_url();
    let Ok(event) = serde_json::from_value::<EventPayload>(payload) else {
        return;
    };
    let _ = cid_of(event.cid.as_ref());
    if event.is_form()
        && let Value::String(encoded) = &event.value
        && decode_form(encoded).is_ok()
        && let Some(Value::String(target)) = event.meta.get("_target")
    {
        let _ = target_path(target);
    }
}

fuzz_target!(|data: &[u8]| {
    // The payload straight from JSON …
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        read(value);
    }
    let _ = serde_json::from_slice::<JoinPayload>(data);
    let _ = serde_json::from_slice::<EventPayload>(data);
    // … and inside a whole frame, the way the socket gets it.
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(frame) = Frame::parse(text)
    {
        read(frame.payload);
    }
});
