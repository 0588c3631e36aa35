//! Signed view tokens: `tokens::peek`/`verify` and `ViewClaims::peek`/`verify` never panic
//! on any token; a token signed from any JSON object verifies with its key and no other.

#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use livewasm_server::fuzzing::{
    token_peek, token_sign, token_verify, view_claims_peek, view_claims_verify,
};
use serde_json::Value;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    key: &'a [u8],
    /// A token as a client may send it.
    token: &'a str,
    /// JSON that, when an object, is signed into a real token.
    payload: &'a str,
    /// Where to damage the signed token, and with which byte.
    flip: Option<(u16, u8)>,
}

const MAX_AGE: Duration = Duration::from_secs(3600);

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

fn all(key: &[u8], token: &str) {
    let _ = token_peek(token);
    let _ = token_verify(key, token, MAX_AGE);
    let _ = token_verify(key, token, Duration::ZERO);
    let _ = view_claims_peek(token);
    let _ = view_claims_verify(key, token, MAX_AGE, true);
    let _ = view_claims_verify(key, token, MAX_AGE, false);
}

fuzz_target!(|input: Input<'_>| {
    all(input.key, input.token);
    let Ok(Value::Object(data)) = serde_json::from_str::<Value>(input.payload) else {
        return;
    };
    let token = token_sign(input.key, data.clone());
    let back = token_verify(input.key, &token, MAX_AGE).expect("a fresh token verifies");
    for (k, v) in &data {
        if k != "v" && k != "iat" {
            assert!(back.get(k).is_some_and(|b| same_json(b, v)), "{k}: {v}");
        }
    }
    let peeked = token_peek(&token).expect("a signed token peeks");
    assert!(same_json(&Value::Object(peeked), &Value::Object(back)));
    let mut other = input.key.to_vec();
    other.push(1);
    assert!(token_verify(&other, &token, MAX_AGE).is_err());
    all(input.key, &token);
    if let Some((at, byte)) = input.flip {
        let mut bytes = token.into_bytes();
        let at = usize::from(at) % bytes.len();
        bytes[at] = byte;
        let damaged = String::from_utf8_lossy(&bytes).into_owned();
        all(input.key, &damaged);
    }
});
