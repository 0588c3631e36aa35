//! Template expressions: `@field` becomes `assigns.field`, and the fields read are collected.

use proc_macro2::TokenStream;

/// An expression ready for code generation.
pub(crate) struct Expr {
    /// The Rust expression, `@field` rewritten.
    pub(crate) tokens: TokenStream,
    /// The assigns it reads through `@`.
    pub(crate) fields: Vec<String>,
}

/// Rewrites `@field` and parses the result as a Rust expression.
pub(crate) fn expr(text: &str) -> Result<Expr, String> {
    let (rust, fields) = rewrite(text);
    let parsed: syn::Expr =
        syn::parse_str(&rust).map_err(|e| format!("`{text}` is not a Rust expression: {e}"))?;
    Ok(Expr {
        tokens: quote::quote!(#parsed),
        fields,
    })
}

/// Rewrites `@field` and parses the result as a pattern (for `:for`).
pub(crate) fn pattern(text: &str) -> Result<TokenStream, String> {
    let parsed = syn::parse::Parser::parse_str(syn::Pat::parse_single, text)
        .map_err(|e| format!("`{text}` is not a Rust pattern: {e}"))?;
    Ok(quote::quote!(#parsed))
}

fn rewrite(text: &str) -> (String, Vec<String>) {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut fields = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            // Copy a string literal untouched.
            out.push(c);
            i += 1;
            while i < chars.len() {
                out.push(chars[i]);
                if chars[i] == '\\' && i + 1 < chars.len() {
                    out.push(chars[i + 1]);
                    i += 2;
                    continue;
                }
                i += 1;
                if chars[i - 1] == '"' {
                    break;
                }
            }
            continue;
        }
        if c == '\'' && i + 2 < chars.len() && (chars[i + 2] == '\'' || chars[i + 1] == '\\') {
            // A char literal such as '@' or '\n'.
            let end = (i + 1..chars.len()).find(|&j| chars[j] == '\'' && j > i + 1);
            if let Some(end) = end {
                out.extend(&chars[i..=end]);
                i = end + 1;
                continue;
            }
        }
        if c == '@'
            && chars
                .get(i + 1)
                .is_some_and(|n| n.is_alphabetic() || *n == '_')
        {
            let start = i + 1;
            let mut end = start;
            while end < chars.len() && (chars[end].is_alphanumeric() || chars[end] == '_') {
                end += 1;
            }
            let field: String = chars[start..end].iter().collect();
            out.push_str("assigns.");
            out.push_str(&field);
            if !fields.contains(&field) {
                fields.push(field);
            }
            i = end;
            continue;
        }
        out.push(c);
        i += 1;
    }
    (out, fields)
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn rewrites_fields_but_not_strings() {
        let (rust, fields) = rewrite(r#"format!("@{}", @name) + &@name + &@count.to_string()"#);
        assert_eq!(
            rust,
            r#"format!("@{}", assigns.name) + &assigns.name + &assigns.count.to_string()"#
        );
        assert_eq!(fields, vec!["name".to_string(), "count".to_string()]);
        let (rust, _) = rewrite("x == '@'");
        assert_eq!(rust, "x == '@'");
    }
}
