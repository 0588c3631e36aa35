//! Binary upload frames: `decode_binary` never panics, and what it decodes encodes back to
//! the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use livewasm_server::{decode_binary, encode_binary};

fuzz_target!(|data: &[u8]| {
    if let Ok(push) = decode_binary(data) {
        let bytes = encode_binary(
            &push.join_ref,
            &push.msg_ref,
            &push.topic,
            &push.event,
            push.data,
        );
        assert_eq!(bytes, data);
    }
});
