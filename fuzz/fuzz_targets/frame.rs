//! Phoenix channels V2 text frames: `Frame::parse_limited` never panics, and a frame it
//! accepts encodes to text that parses back to the same frame.

#![no_main]

use libfuzzer_sys::fuzz_target;
use livewasm_protocol::frame::Frame;
use serde_json::Value;

/// The server's limit is configurable; a small one makes `TooLarge` reachable too.
const LIMIT: usize = 2048;

/// `a` and `b` are the same JSON, numbers within an ulp or so: serde_json (without its
/// `float_roundtrip` feature) may read a float printed from another one ulp away.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => {
                x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
            }
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Frame::parse_limited(text, LIMIT) {
        Ok(frame) => {
            assert!(frame.payload.is_object());
            let again = Frame::parse(&frame.encode()).expect("an encoded frame parses");
            assert_eq!(
                (&again.join_ref, &again.msg_ref, &again.topic, &again.event),
                (&frame.join_ref, &frame.msg_ref, &frame.topic, &frame.event)
            );
            assert!(
                same_json(&again.payload, &frame.payload),
                "{again:?} != {frame:?}"
            );
            let _ = frame.reply("ok", Value::Null).encode();
        }
        Err(e) => {
            let _ = e.to_string();
            let _ = e.reply_target();
        }
    }
});
