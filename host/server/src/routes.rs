//! Route patterns such as `/articles/:id/edit`.

use serde_json::{Map, Value};

/// A parsed route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

impl Pattern {
    /// Parses `/a/:b/c`; None when it does not start with `/` or has an empty `:` name.
    pub(crate) fn parse(path: &str) -> Option<Pattern> {
        let rest = path.strip_prefix('/')?;
        let mut segments = Vec::new();
        for part in rest.split('/').filter(|s| !s.is_empty()) {
            match part.strip_prefix(':') {
                Some("") => return None,
                Some(name) => segments.push(Segment::Param(name.to_string())),
                None => segments.push(Segment::Literal(part.to_string())),
            }
        }
        Some(Pattern { segments })
    }

    /// Matches a request path; returns the path params.
    pub(crate) fn matches(&self, path: &str) -> Option<Map<String, Value>> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = Map::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            match segment {
                Segment::Literal(lit) if lit == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => {
                    let decoded = percent_decode(part);
                    params.insert(name.clone(), Value::String(decoded));
                }
            }
        }
        Some(params)
    }

    /// True when both patterns match exactly the same paths.
    pub(crate) fn same_shape(&self, other: &Pattern) -> bool {
        self.segments.len() == other.segments.len()
            && self
                .segments
                .iter()
                .zip(&other.segments)
                .all(|(a, b)| match (a, b) {
                    (Segment::Literal(x), Segment::Literal(y)) => x == y,
                    (Segment::Param(_), Segment::Param(_)) => true,
                    _ => false,
                })
    }
}

fn percent_decode(text: &str) -> String {
    form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Query params of a URL query string, as a JSON object of strings (last value wins).
pub(crate) fn query_params(query: Option<&str>) -> Map<String, Value> {
    let mut params = Map::new();
    if let Some(query) = query {
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            params.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_param_segments() {
        let p = Pattern::parse("/articles/:id/edit").unwrap();
        let params = p.matches("/articles/42/edit").unwrap();
        assert_eq!(params["id"], "42");
        assert!(p.matches("/articles/42").is_none());
        assert!(p.matches("/posts/42/edit").is_none());
        assert_eq!(
            Pattern::parse("/a/b%20c")
                .unwrap()
                .matches("/a/b%20c")
                .map(|m| m.len()),
            Some(0)
        );
        assert_eq!(
            Pattern::parse("/u/:name")
                .unwrap()
                .matches("/u/a%20b")
                .unwrap()["name"],
            "a b"
        );
        assert!(Pattern::parse("nope").is_none());
        assert!(Pattern::parse("/a/:").is_none());
        assert!(Pattern::parse("/").unwrap().matches("/").is_some());
        assert!(
            Pattern::parse("/a/:x")
                .unwrap()
                .same_shape(&Pattern::parse("/a/:y").unwrap())
        );
    }

    #[test]
    fn query_strings() {
        let q = query_params(Some("house=1&name=a+b&x=%26"));
        assert_eq!(q["house"], "1");
        assert_eq!(q["name"], "a b");
        assert_eq!(q["x"], "&");
    }
}
