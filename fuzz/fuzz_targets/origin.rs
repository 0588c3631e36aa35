//! The origin classifier: `host_name`, `port` and `classify` never panic on any `Host`
//! header or base domain, and an app origin names a tenant and an app, both plain labels.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use livewasm_server::fuzzing::{OriginKind, classify_origin, host_name, host_port};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    header: &'a str,
    base: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    let name = host_name(input.header);
    assert!(!name.ends_with('.'), "{name}");
    let _ = host_port(input.header);
    for base in [input.base, "localhost", "apps.example.com"] {
        match classify_origin(&name, base) {
            OriginKind::App(tenant, app) => {
                for label in [&tenant, &app] {
                    assert!(
                        !label.is_empty() && !label.contains('.'),
                        "{name} on {base}"
                    );
                }
            }
            OriginKind::Api | OriginKind::Unknown | OriginKind::Other => {}
        }
        let _ = classify_origin(input.header, base);
    }
});
