//! What the code generators share: a dynamic slot being generated ([`Slot`]), the names bound
//! by enclosing `:for`/`:let` patterns ([`with_bound`]) and what they decide (whether an
//! expression must render every time), and the error and merge helpers. Component calls
//! (`call.rs`, `live_call.rs`) and templates (`codegen.rs`) build on it; a call renders its
//! slots' content through the [`Fragment`] it is handed, so it never reaches back into
//! `codegen.rs`.

use proc_macro2::{Span, TokenStream};

use std::cell::RefCell;

use crate::expr::{bindings, reads_local, reads_unbound};
use crate::parse::Node;

thread_local! {
    /// The names bound by the enclosing `:for` and `:let` patterns while generating their body.
    static BOUND: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// True inside the body of a `:for` or `:let` (some name is bound).
pub(crate) fn in_bindings() -> bool {
    BOUND.with(|b| !b.borrow().is_empty())
}

/// Runs `f` with the names of `pattern` bound.
pub(crate) fn with_bound<R>(pattern: &TokenStream, f: impl FnOnce() -> R) -> R {
    let names = bindings(pattern);
    let count = names.len();
    BOUND.with(|b| b.borrow_mut().extend(names));
    let out = f();
    BOUND.with(|b| {
        let mut b = b.borrow_mut();
        let keep = b.len() - count;
        b.truncate(keep);
    });
    out
}

/// True when an expression reading no assign must still be re-evaluated every render: it
/// reads a variable that is not bound by an enclosing `:for`/`:let` (a local of the caller).
pub(crate) fn volatile(tokens: &TokenStream) -> bool {
    BOUND.with(|b| reads_unbound(tokens, &b.borrow()))
}
/// True when an expression must be evaluated on every render: it reads no assign and may read
/// something else (a local, a function), or it reads a local next to its assigns (`{f(@a, x)}`
/// must follow `x` too). Function calls next to assigns are taken to depend on their arguments.
/// So does one reading the socket's own names (`@flash`, `@live_action`: no change bit).
pub(crate) fn always(fields: &[String], tokens: &TokenStream) -> bool {
    (fields.is_empty() && volatile(tokens))
        || reads_socket(fields)
        || BOUND.with(|b| reads_local(tokens, &b.borrow()))
}

/// True when `fields` name one of the socket's own names ([`crate::expr::SOCKET_NAMES`]),
/// which have no change bit.
pub(crate) fn reads_socket(fields: &[String]) -> bool {
    fields
        .iter()
        .any(|f| crate::expr::SOCKET_NAMES.contains(&f.as_str()))
}

/// One dynamic slot being generated.
pub(crate) struct Slot {
    /// Expression producing a `::livewasm_sdk::Dyn`.
    pub(crate) code: TokenStream,
    /// Assigns read (through `@`) anywhere in the slot.
    pub(crate) fields: Vec<String>,
    /// True when something in the slot reads no assign at all and must always render.
    pub(crate) always: bool,
}

/// A compile error at `span`.
pub(crate) fn err(span: Span, message: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(span, message.to_string())
}

/// Adds to `into` the names of `from` it does not hold yet.
pub(crate) fn merge(into: &mut Vec<String>, from: Vec<String>) {
    for f in from {
        if !into.contains(&f) {
            into.push(f);
        }
    }
}

/// Renders a list of nodes (a slot's content) as a nested template: the expression producing
/// its `Rendered`, the assigns it reads, and whether it must always render.
pub(crate) type Fragment = fn(&[Node], Span) -> syn::Result<(TokenStream, Vec<String>, bool)>;
