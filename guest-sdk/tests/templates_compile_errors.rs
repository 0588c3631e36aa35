//! Compile-fail golden tests: a component call with an unknown attribute or slot, or without a
//! required attribute or slot, and a template parse error, each fail with a message naming the
//! component, the attribute and what to do (and the template line and column); an assigns
//! struct with a field named like one of Phoenix's reserved assigns (`live_action` …); a `p!`
//! path no route of the app matches; a `pipe_through` naming a pipeline `app!` does not declare.

#[test]
fn component_calls_are_checked_at_compile_time() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
