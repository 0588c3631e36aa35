//! HTTP caching shared by what the host serves for apps (assets, blobs): the `Cache-Control`
//! of a content-addressed URL and the `If-None-Match` test.

use axum::http::{HeaderMap, header};

/// `Cache-Control` of a URL that names its content: it never changes.
pub(crate) const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// True when the request's `If-None-Match` lists `etag` (a quoted strong tag) or is `*`:
/// the client holds the current bytes (304). Compared weakly, as RFC 9110 asks of this header.
pub(crate) fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn if_none_match_lists_and_weak_tags_match() {
        assert!(if_none_match(&with("\"a\""), "\"a\""));
        assert!(if_none_match(&with("\"x\" , W/\"a\""), "\"a\""));
        assert!(if_none_match(&with("*"), "\"a\""));
        assert!(!if_none_match(&with("\"b\""), "\"a\""));
        assert!(!if_none_match(&with("a"), "\"a\""));
        assert!(!if_none_match(&HeaderMap::new(), "\"a\""));
    }
}
