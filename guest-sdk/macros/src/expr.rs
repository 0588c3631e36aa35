//! Template expressions: `@field` becomes `assigns.field` (and the socket's own names,
//! [`SOCKET_NAMES`], their accessors), and the fields read are collected.

use proc_macro2::TokenStream;

/// An expression ready for code generation.
pub(crate) struct Expr {
    /// The Rust expression, `@field` rewritten.
    pub(crate) tokens: TokenStream,
    /// The assigns it reads through `@`.
    pub(crate) fields: Vec<String>,
}

/// The names `@` reads from the socket rather than from the view's fields, as Phoenix's
/// reserved assigns: `@live_action` (the route's action), `@flash`, `@uploads` (with
/// `@uploads.avatar` for one upload) and `@myself` (a live component's target). `#[derive(Assigns)]` refuses fields of these names; a
/// slot reading one is evaluated on every render (the host sends it only when it changed).
pub(crate) const SOCKET_NAMES: &[&str] = &["live_action", "flash", "uploads", "myself"];

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

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "false", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where", "while",
    // Primitive types (`sum::<usize>()`, `as u32`): never variables.
    "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64",
    "i128", "isize", "f32", "f64",
];

/// SDK functions that only depend on their arguments (so calling them reads nothing else).
const PURE: &[&str] = &[
    "class_list",
    "render_slot",
    "row_fn",
    "raw",
    "safe_url",
    "show_modal",
    "hide_modal",
];

/// The names a pattern binds (`(i, x)` → i, x; `User { id, .. }` → id).
pub(crate) fn bindings(pattern: &TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    collect_idents(pattern.clone(), &mut out, false);
    out
}

/// The lowercase identifiers of `tokens` that stand alone (not after `.` or `::`, not a macro,
/// not a keyword): the variables an expression may read. With `calls`, the heads of function
/// calls and paths (`now()`, `time::now()`) count too, except the [`PURE`] SDK helpers: a
/// function may read state the template cannot see.
fn collect_idents(tokens: TokenStream, out: &mut Vec<String>, calls: bool) {
    use proc_macro2::{Delimiter, TokenTree};
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let punct =
        |j: usize, c: char| matches!(trees.get(j), Some(TokenTree::Punct(p)) if p.as_char() == c);
    for (i, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Group(group) => collect_idents(group.stream(), out, calls),
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                let after_dot = i > 0
                    && (punct(i - 1, '.')
                        || punct(i - 1, '\'')
                        || (i > 1 && punct(i - 1, ':') && punct(i - 2, ':')));
                let path_head = punct(i + 1, ':') && punct(i + 2, ':');
                let label = punct(i + 1, ':') && !path_head;
                let call = matches!(trees.get(i + 1), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis);
                let upper = name.starts_with(|c: char| c.is_uppercase());
                if after_dot
                    || upper
                    || punct(i + 1, '!')
                    || label
                    || name == "_"
                    || KEYWORDS.contains(&name.as_str())
                {
                    continue;
                }
                if call || path_head {
                    if calls && !PURE.contains(&name.as_str()) {
                        out.push(name);
                    }
                } else {
                    out.push(name);
                }
            }
            _ => {}
        }
    }
}

/// True when `tokens` reads a variable (not a function) other than `bound` ones and the
/// `assigns` that `@field` stands for: a local of the render function, which may change
/// without any assign changing.
pub(crate) fn reads_local(tokens: &TokenStream, bound: &[String]) -> bool {
    let mut names = Vec::new();
    collect_idents(tokens.clone(), &mut names, false);
    let mut inner = Vec::new();
    inner_bindings(tokens.clone(), &mut inner);
    names
        .iter()
        .any(|n| n != "assigns" && !bound.contains(n) && !inner.contains(n))
}

/// The names an expression binds itself: closure parameters (`|x| …`), `let`/`for` patterns
/// and match arms (`Some(v) => …`).
fn inner_bindings(tokens: TokenStream, out: &mut Vec<String>) {
    use proc_macro2::TokenTree;
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let is =
        |t: Option<&TokenTree>, c: char| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c);
    let word = |t: Option<&TokenTree>, w: &str| matches!(t, Some(TokenTree::Ident(i)) if i == w);
    let pattern = |from: usize, to: usize, out: &mut Vec<String>| {
        let slice: TokenStream = trees[from..to].iter().cloned().collect();
        collect_idents(slice, out, false);
    };
    // Where the current match arm (or statement) started.
    let mut arm_start = 0;
    let mut i = 0;
    while i < trees.len() {
        let tree = &trees[i];
        if let TokenTree::Group(group) = tree {
            inner_bindings(group.stream(), out);
        }
        let closure_start = is(Some(tree), '|')
            && (i == 0
                || is(trees.get(i - 1), ',')
                || is(trees.get(i - 1), '=')
                || word(trees.get(i - 1), "move"));
        if closure_start {
            let end = (i + 1..trees.len()).find(|&j| is(trees.get(j), '|'));
            if let Some(end) = end {
                pattern(i + 1, end, out);
                i = end + 1;
                continue;
            }
        }
        if word(Some(tree), "let") {
            let end = (i + 1..trees.len()).find(|&j| {
                is(trees.get(j), '=') && !is(trees.get(j + 1), '=') && !is(trees.get(j + 1), '>')
            });
            if let Some(end) = end {
                pattern(i + 1, end, out);
            }
        }
        if word(Some(tree), "for")
            && let Some(end) = (i + 1..trees.len()).find(|&j| word(trees.get(j), "in"))
        {
            pattern(i + 1, end, out);
        }
        if is(Some(tree), '=') && is(trees.get(i + 1), '>') {
            pattern(arm_start, i, out);
        }
        if is(Some(tree), ',') || is(Some(tree), ';') {
            arm_start = i + 1;
        }
        if matches!(tree, TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Brace) {
            arm_start = i + 1;
        }
        i += 1;
    }
}

/// True when `tokens` may read a variable other than `bound` ones (a local of the render
/// function): such an expression must be re-evaluated on every render.
pub(crate) fn reads_unbound(tokens: &TokenStream, bound: &[String]) -> bool {
    let mut names = Vec::new();
    collect_idents(tokens.clone(), &mut names, true);
    names.iter().any(|n| !bound.contains(n))
}

/// When the string literal `body` is the template of a nested `html!` (what precedes it,
/// `before`, ends in `html!(`), adds the assigns it reads to `fields`: the nested template is
/// evaluated with the slot, so the slot must follow them too.
fn template_fields(before: &str, body: &str, fields: &mut Vec<String>) {
    let head = before.trim_end();
    let head = head
        .strip_suffix(['(', '{', '['])
        .unwrap_or(head)
        .trim_end();
    if !head.ends_with("html!") {
        return;
    }
    for field in rewrite(body).1 {
        if !fields.contains(&field) {
            fields.push(field);
        }
    }
}

fn rewrite(text: &str) -> (String, Vec<String>) {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut fields = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        // A raw string literal (`r"…"`, `r#"…"#`), copied untouched.
        if c == 'r' && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')) {
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            if chars.get(i + 1 + hashes) == Some(&'"') {
                let open = i + 2 + hashes;
                let close = (open..chars.len()).find(|&j| {
                    chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#'))
                });
                let end = close.map_or(chars.len(), |j| j + 1 + hashes);
                let body: String = chars[open..close.unwrap_or(chars.len())].iter().collect();
                template_fields(&out, &body, &mut fields);
                out.extend(&chars[i..end]);
                i = end;
                continue;
            }
        }
        if c == '"' {
            // Copy a string literal untouched.
            let start = i + 1;
            let prefix = out.clone();
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
            let body: String = chars[start..i.saturating_sub(1).max(start)]
                .iter()
                .collect();
            template_fields(&prefix, &body, &mut fields);
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
            i = end;
            match field.as_str() {
                "live_action" => out.push_str("assigns.live_action()"),
                "flash" => out.push_str("assigns.flash()"),
                "myself" => out.push_str("assigns.myself()"),
                "uploads" => {
                    // `@uploads.avatar`: the upload named `avatar`.
                    let name_end = (i + 1..chars.len())
                        .find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_'))
                        .unwrap_or(chars.len());
                    if chars.get(i) == Some(&'.')
                        && name_end > i + 1
                        && chars.get(name_end) != Some(&'(')
                        && chars[i + 1].is_alphabetic()
                    {
                        let name: String = chars[i + 1..name_end].iter().collect();
                        out.push_str(&format!("assigns.upload(\"{name}\")"));
                        i = name_end;
                    } else {
                        out.push_str("assigns.uploads()");
                    }
                }
                _ => {
                    out.push_str("assigns.");
                    out.push_str(&field);
                }
            }
            if !fields.contains(&field) {
                fields.push(field);
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    (out, fields)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn socket_names_read_the_socket() {
        let (rust, fields) = rewrite(
            r#"@live_action == "new" && !@flash.is_empty() && @uploads.avatar.entries.len() + @uploads.len() > 0"#,
        );
        assert_eq!(
            rust,
            r#"assigns.live_action() == "new" && !assigns.flash().is_empty() && assigns.upload("avatar").entries.len() + assigns.uploads().len() > 0"#
        );
        assert_eq!(fields, vec!["live_action", "flash", "uploads"]);
    }

    #[test]
    fn nested_templates_count_their_assigns() {
        let text = r##"if @editing { html!(r#"<input type="text" value={@name}>"#) } else { html!("<b>{@label}</b>") }"##;
        let (rust, fields) = rewrite(text);
        assert_eq!(
            rust,
            r##"if assigns.editing { html!(r#"<input type="text" value={@name}>"#) } else { html!("<b>{@label}</b>") }"##
        );
        assert_eq!(fields, vec!["editing", "name", "label"]);
        // Other strings are not templates.
        let (_, fields) = rewrite(r#"format!("{}@{}", @user, "x@host")"#);
        assert_eq!(fields, vec!["user"]);
    }

    #[test]
    fn locals_next_to_assigns() {
        let reads = |e: &str| reads_local(&e.parse().unwrap(), &["row".to_string()]);
        assert!(reads("wrap(assigns.flip, list)"));
        assert!(reads("assigns.a + offset"));
        assert!(!reads("assigns.a + row.b"));
        assert!(!reads("fmt(assigns.a)"));
        assert!(!reads("match assigns.a { Some(v) => v, None => 0 }"));
        assert!(!reads(
            "assigns.items.iter().map(|i| i.len()).sum::<usize>()"
        ));
        assert!(!reads("if let Some(x) = assigns.a { x } else { 0 }"));
        assert!(reads("match assigns.a { Some(v) => v + k, None => 0 }"));
        assert!(reads("assigns.items.iter().map(|i| i.len() + k).count()"));
    }

    #[test]
    fn bound_names_and_locals() {
        let pat: TokenStream = "(i, User { id, name: n })".parse().unwrap();
        assert_eq!(bindings(&pat), vec!["i", "id", "n"]);
        let bound = bindings(&pat);
        let e: TokenStream = "format!(\"{}\", n.len()) + &i.to_string() + X::Y"
            .parse()
            .unwrap();
        assert!(!reads_unbound(&e, &bound));
        let e: TokenStream = "n + local".parse().unwrap();
        assert!(reads_unbound(&e, &bound));
        // Functions may read what the template cannot see; SDK helpers and methods do not.
        for volatile in ["now()", "crate::time::now()", "format!(\"{}\", clock())"] {
            let e: TokenStream = volatile.parse().unwrap();
            assert!(reads_unbound(&e, &bound), "{volatile}");
        }
        for stable in [
            "class_list([Some(\"a\"), n.then_some(\"b\")])",
            "n.len().max(i)",
            "JS::push(\"x\")",
            "User { id: i }",
        ] {
            let e: TokenStream = stable.parse().unwrap();
            assert!(!reads_unbound(&e, &bound), "{stable}");
        }
    }
}
