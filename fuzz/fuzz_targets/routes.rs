//! Route patterns: `Pattern::parse`, `matches` and `same_shape` never panic, a pattern
//! matches its own text, and query strings decode without panicking.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use livewasm_server::fuzzing::{RoutePattern, query_params};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    pattern: &'a str,
    path: &'a str,
    other: &'a str,
    query: Option<&'a str>,
}

fuzz_target!(|input: Input<'_>| {
    let _ = query_params(input.query);
    let Some(pattern) = RoutePattern::parse(input.pattern) else {
        return;
    };
    assert!(
        pattern.matches(input.pattern).is_some(),
        "{:?} does not match its own text",
        input.pattern
    );
    assert!(pattern.same_shape(&pattern));
    if let Some(params) = pattern.matches(input.path) {
        assert!(params.values().all(serde_json::Value::is_string));
    }
    if let Some(other) = RoutePattern::parse(input.other) {
        assert_eq!(pattern.same_shape(&other), other.same_shape(&pattern));
        if pattern.same_shape(&other) {
            assert_eq!(
                pattern.matches(input.path).is_some(),
                other.matches(input.path).is_some()
            );
        }
    }
});
