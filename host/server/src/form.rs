//! Decoding form events: `application/x-www-form-urlencoded` into nested JSON params, the way
//! Phoenix decodes them (`Plug.Conn.Query.decode`): `user[email]=a` → `{"user":{"email":"a"}}`,
//! `tags[]=a&tags[]=b` → `{"tags":["a","b"]}`. Hostile input is bounded: nesting depth and the
//! number of fields have limits, and breaking one is an error, never a crash.

use serde_json::{Map, Value};

/// Deepest key nesting accepted (`a[b][c]` is 3).
pub const MAX_FORM_DEPTH: usize = 32;
/// Most fields one form event may carry.
pub const MAX_FORM_FIELDS: usize = 10_000;

/// Why a form could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// A key nests deeper than [`MAX_FORM_DEPTH`].
    #[error("form field `{key}` nests deeper than {MAX_FORM_DEPTH} levels")]
    TooDeep {
        /// The key, cut to 80 characters.
        key: String,
    },
    /// More than [`MAX_FORM_FIELDS`] fields.
    #[error("the form has more than {MAX_FORM_FIELDS} fields")]
    TooManyFields,
}

/// Splits `user[address][city]` into `["user", "address", "city"]`; `tags[]` ends in `""`
/// (append to a list). A key whose first `[` is never closed is one literal name. `None` for a
/// key without a name (`=x`, `[a]=x`): such fields are dropped.
fn key_path(key: &str) -> Result<Option<Vec<&str>>, FormError> {
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    if head.is_empty() {
        return Ok(None);
    }
    let mut path = vec![head];
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            if path.len() == 1 {
                return Ok(Some(vec![key]));
            }
            break;
        };
        path.push(&inner[..close]);
        if path.len() > MAX_FORM_DEPTH {
            return Err(FormError::TooDeep {
                key: key.chars().take(80).collect(),
            });
        }
        rest = &inner[close + 1..];
    }
    Ok(Some(path))
}

/// Stores `value` at `path` under `map` (a later value for the same path wins; `[]` appends).
fn insert(map: &mut Map<String, Value>, path: &[&str], value: String) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        map.insert((*first).to_string(), Value::String(value));
        return;
    }
    let slot = map.entry((*first).to_string()).or_insert(Value::Null);
    insert_into(slot, rest, value);
}

fn insert_into(slot: &mut Value, path: &[&str], value: String) {
    let Some((first, rest)) = path.split_first() else {
        *slot = Value::String(value);
        return;
    };
    if first.is_empty() {
        // `name[]`: a list; `name[][x]` is a list of maps, as in Plug.
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        if let Value::Array(list) = slot {
            if rest.is_empty() {
                list.push(Value::String(value));
            } else {
                let mut item = Value::Object(Map::new());
                insert_into(&mut item, rest, value);
                list.push(item);
            }
        }
        return;
    }
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Value::Object(map) = slot {
        let next = map.entry((*first).to_string()).or_insert(Value::Null);
        insert_into(next, rest, value);
    }
}

/// Decodes an urlencoded form into nested params.
pub fn decode_form(encoded: &str) -> Result<Map<String, Value>, FormError> {
    let mut map = Map::new();
    for (count, (key, value)) in form_urlencoded::parse(encoded.as_bytes()).enumerate() {
        if count >= MAX_FORM_FIELDS {
            return Err(FormError::TooManyFields);
        }
        if let Some(path) = key_path(&key)? {
            insert(&mut map, &path, value.into_owned());
        }
    }
    Ok(map)
}

/// `_target` as Phoenix hands it to the view: the key path of the field that changed
/// (`"user[email]"` → `["user","email"]`).
pub fn target_path(target: &str) -> Value {
    match key_path(target) {
        Ok(Some(path)) => Value::Array(
            path.into_iter()
                .map(|s| Value::String(s.to_string()))
                .collect(),
        ),
        _ => Value::String(target.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_nested_params() {
        let m = decode_form("user%5Bname%5D=bob&user%5B_unused_email%5D=&q=a+b%26c").unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"user": {"name": "bob", "_unused_email": ""}, "q": "a b&c"})
        );
        assert!(decode_form("").unwrap().is_empty());
    }

    #[test]
    fn lists_deep_maps_and_overrides() {
        let m = decode_form("tags[]=a&tags[]=b&a[b][c]=1&a[b][d]=2&x=1&x=2&o[]=1&o[k]=v").unwrap();
        assert_eq!(m["tags"], json!(["a", "b"]));
        assert_eq!(m["a"], json!({"b": {"c": "1", "d": "2"}}));
        assert_eq!(m["x"], "2");
        assert_eq!(m["o"], json!({"k": "v"}));
        let m = decode_form("items[][name]=a&items[][name]=b").unwrap();
        assert_eq!(m["items"], json!([{"name": "a"}, {"name": "b"}]));
        // An unclosed bracket stays literal; a nameless field is dropped.
        let m = decode_form("a%5Bb=1&=2&%5Bc%5D=3").unwrap();
        assert_eq!(Value::Object(m), json!({"a[b": "1"}));
    }

    #[test]
    fn hostile_forms_are_errors() {
        let deep = format!("a{}=1", "[x]".repeat(10_000));
        assert!(matches!(decode_form(&deep), Err(FormError::TooDeep { .. })));
        let many = "a=1&".repeat(MAX_FORM_FIELDS + 1);
        assert_eq!(decode_form(&many), Err(FormError::TooManyFields));
        // Not urlencoded at all still decodes to something harmless.
        assert!(decode_form("%%%\u{0}&&==").is_ok());
    }

    #[test]
    fn target_paths() {
        assert_eq!(target_path("user[email]"), json!(["user", "email"]));
        assert_eq!(target_path("q"), json!(["q"]));
    }
}
