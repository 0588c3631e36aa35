//! Form events: `decode_form` and `target_path` never panic on any text, and hostile forms
//! stay within their limits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use livewasm_server::{FormError, MAX_FORM_FIELDS, decode_form, target_path};
use serde_json::Value;

/// Nesting depth of a decoded value.
fn depth(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        Value::Array(list) => 1 + list.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match decode_form(&text) {
        Ok(map) => {
            assert!(map.len() <= MAX_FORM_FIELDS);
            // Keys nest at most MAX_FORM_DEPTH deep; `[]` adds a list level per step.
            assert!(depth(&Value::Object(map)) <= 2 * livewasm_server::MAX_FORM_DEPTH + 1);
        }
        Err(FormError::TooDeep { key }) => assert!(key.chars().count() <= 80),
        Err(FormError::TooManyFields) => {}
    }
    match target_path(&text) {
        Value::Array(path) => assert!(path.iter().all(Value::is_string)),
        Value::String(_) => {}
        other => panic!("target_path gave {other}"),
    }
});
