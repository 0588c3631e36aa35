//! Decoding form events: `application/x-www-form-urlencoded` into a JSON object.

use serde_json::{Map, Value};

/// Decodes an urlencoded form into a flat JSON object of strings (a repeated key keeps its last
/// value). Nested `user[email]` decoding is left to the view for now.
pub fn decode_form(encoded: &str) -> Map<String, Value> {
    let mut map = Map::new();
    for (key, value) in form_urlencoded::parse(encoded.as_bytes()) {
        map.insert(key.into_owned(), Value::String(value.into_owned()));
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_pairs() {
        let m = decode_form("user%5Bname%5D=bob&user%5B_unused_email%5D=&q=a+b%26c");
        assert_eq!(m["user[name]"], "bob");
        assert_eq!(m["user[_unused_email]"], "");
        assert_eq!(m["q"], "a b&c");
        assert!(decode_form("").is_empty());
    }
}
