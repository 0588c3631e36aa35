//! Checked paths: [`p!`](crate::p) builds a path of the app, checked at compile time against the
//! paths `app!` declares (its routes and HTTP handlers), as Phoenix's verified routes (`~p`)
//! are checked against the router. A path no route matches is a compile error; interpolated
//! values are percent-encoded.
//!
//! ```
//! use livewasm_sdk::prelude::*;
//!
//! # #[derive(Assigns, Default)] pub struct Articles {}
//! # impl LiveView for Articles {
//! #     fn mount(_: &mut Socket<Self>, _: &Params, _: &Session) -> Result { Ok(()) }
//! #     fn render(_: &Tracked<'_, Self>) -> Rendered { html!("<p>Articles</p>") }
//! # }
//! livewasm_sdk::app! {
//!     name: "articles",
//!     routes: {
//!         "/articles" => Articles;
//!         "/articles/:id/edit" => Articles, action: "edit";
//!     },
//! }
//!
//! fn main() {
//!     let id = 7;
//!     assert_eq!(p!("/articles/{id}/edit"), "/articles/7/edit");
//!     // Segments and query values are encoded; the query is not checked.
//!     let (name, tab) = ("a b/c", "x&y");
//!     assert_eq!(p!("/articles/{name}/edit?tab={tab}"), "/articles/a%20b%2Fc/edit?tab=x%26y");
//!     assert_eq!(p!("/articles"), "/articles");
//!     // p!("/article") would not compile: no route of the app matches it.
//! }
//! ```
//!
//! `app!` is invoked at the crate's root (it declares the paths there), as in every app.

use std::fmt::{Display, Write as _};

/// Panics (at compile time, in a `const`) unless one of `paths` (route patterns such as
/// `/articles/:id/edit`) matches `shape`, the path part of a `p!` literal with each segment
/// holding an interpolation written `:`.
#[doc(hidden)]
pub const fn __check(paths: &[&str], shape: &str) {
    let mut i = 0;
    while i < paths.len() {
        if matches(paths[i].as_bytes(), shape.as_bytes()) {
            return;
        }
        i += 1;
    }
    panic!("p!: no route of this app matches this path (app! declares the routes)");
}

/// The next non-empty segment of `path` at or after `from`: `(start, end)`, or `None`.
const fn segment(path: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut start = from;
    while start < path.len() && path[start] == b'/' {
        start += 1;
    }
    if start >= path.len() {
        return None;
    }
    let mut end = start;
    while end < path.len() && path[end] != b'/' {
        end += 1;
    }
    Some((start, end))
}

/// True when the route pattern `route` matches every path of `shape`: same segments, a literal
/// equal to a literal, a `:param` of the route taking a literal or an interpolation.
const fn matches(route: &[u8], shape: &[u8]) -> bool {
    let (mut r, mut s) = (0, 0);
    loop {
        match (segment(route, r), segment(shape, s)) {
            (None, None) => return true,
            (Some((rs, re)), Some((ss, se))) => {
                let param = route[rs] == b':';
                let interpolated = shape[ss] == b':';
                if !param && (interpolated || !same(route, rs, re, shape, ss, se)) {
                    return false;
                }
                r = re;
                s = se;
            }
            _ => return false,
        }
    }
}

/// True when the two strings are equal (in a `const fn`).
pub(crate) const fn same_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    same(a, 0, a.len(), b, 0, b.len())
}

/// True when route pattern `route` matches the concrete path `path`.
pub(crate) fn route_matches(route: &str, path: &str) -> bool {
    // A concrete path holds no `:` holes, but a segment may start with `:`: never a hole here.
    let path = path.replace("/:", "/%3A");
    matches(route.as_bytes(), path.as_bytes())
}

/// True when `a[a0..a1]` equals `b[b0..b1]`.
const fn same(a: &[u8], a0: usize, a1: usize, b: &[u8], b0: usize, b1: usize) -> bool {
    if a1 - a0 != b1 - b0 {
        return false;
    }
    let mut i = 0;
    while i < a1 - a0 {
        if a[a0 + i] != b[b0 + i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Appends `value` percent-encoded (everything but `A-Z a-z 0-9 - . _ ~`), for a path segment
/// or a query value.
#[doc(hidden)]
pub fn __push_encoded(out: &mut String, value: &dyn Display) {
    let text = value.to_string();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATHS: &[&str] = &[
        "/articles",
        "/articles/new",
        "/articles/:id/edit",
        "/auth/log_in",
    ];

    fn any(shape: &str) -> bool {
        PATHS
            .iter()
            .any(|p| matches(p.as_bytes(), shape.as_bytes()))
    }

    #[test]
    fn shapes_match_routes_segment_by_segment() {
        assert!(any("/articles"));
        assert!(any("/articles/"));
        assert!(any("/articles/new"));
        assert!(any("/articles/:/edit"));
        assert!(any("/articles/12/edit"), "a literal fills a param");
        assert!(any("/auth/log_in"));
        assert!(!any("/article"));
        assert!(
            !any("/articles/:"),
            "an interpolation never matches a literal"
        );
        assert!(!any("/articles/:/edit/more"));
        assert!(!any("/"));
        __check(PATHS, "/articles/:/edit");
    }

    #[test]
    #[should_panic(expected = "no route of this app matches")]
    fn an_unknown_path_panics() {
        __check(PATHS, "/nope");
    }

    #[test]
    fn values_are_percent_encoded() {
        let mut out = String::new();
        __push_encoded(&mut out, &"a b/c?d&é");
        assert_eq!(out, "a%20b%2Fc%3Fd%26%C3%A9");
    }
}
