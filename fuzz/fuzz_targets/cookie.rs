//! The session cookie: `socket_session`, `cookie_value` and the flash reader never panic on
//! any `Cookie` header or CSRF token, and a session signed for a site opens there with its
//! CSRF token only.

#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use livewasm_server::fuzzing::{cookie_value, session_set_cookie, socket_session, verify_flash};
use serde_json::{Map, Value};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    secret: &'a [u8],
    site: Option<(&'a str, &'a str)>,
    header: &'a str,
    csrf: Option<&'a str>,
    /// The CSRF token of a session signed for the site.
    session_csrf: &'a str,
    /// Another session field.
    extra: Option<(&'a str, &'a str)>,
}

const MAX_AGE: Duration = Duration::from_secs(3600);

fuzz_target!(|input: Input<'_>| {
    let _ = cookie_value(input.header, "_livewasm_session");
    let _ = cookie_value(input.header, input.session_csrf);
    let _ = socket_session(
        input.secret,
        input.site,
        MAX_AGE,
        Some(input.header),
        input.csrf,
    );
    let _ = verify_flash(input.secret, input.site, input.header);

    let mut session = Map::new();
    if let Some((k, v)) = input.extra {
        session.insert(k.to_string(), Value::String(v.to_string()));
    }
    session.insert(
        "_csrf_token".into(),
        Value::String(input.session_csrf.to_string()),
    );
    let set_cookie = session_set_cookie(input.secret, input.site, &session);
    let pair = set_cookie.split(';').next().unwrap_or_default();
    let opened = socket_session(
        input.secret,
        input.site,
        MAX_AGE,
        Some(pair),
        Some(input.session_csrf),
    )
    .expect("a session signed for the site opens with its CSRF token");
    assert_eq!(
        opened.get("_csrf_token").and_then(Value::as_str),
        Some(input.session_csrf)
    );
    if input.csrf != Some(input.session_csrf) {
        assert!(
            socket_session(input.secret, input.site, MAX_AGE, Some(pair), input.csrf).is_none()
        );
    }
    // After the fuzzed header's own cookies, the first `_livewasm_session` wins.
    let header = format!("{}; {pair}", input.header);
    let _ = socket_session(input.secret, input.site, MAX_AGE, Some(&header), input.csrf);
});
