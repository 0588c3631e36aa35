//! Parsing the template text into elements, text and `{expr}` interpolations.

use std::fmt;

/// Elements that never have children or a closing tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// A parse error with its position in the template.
#[derive(Debug)]
pub(crate) struct ParseError {
    line: usize,
    column: usize,
    message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            crate::place::describe(self.line, self.column),
            self.message
        )
    }
}

/// One node of the template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// Literal text (or a comment, or a doctype), kept as written.
    Text(String),
    /// `{expr}`.
    Expr(String),
    /// An element.
    Element(Element),
}

/// An attribute.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Attr {
    /// `name="value"`, `name='value'` or a bare `name`.
    Static { name: String, value: Option<String> },
    /// `name={expr}`.
    Dynamic { name: String, expr: String },
    /// `{expr}` in a tag: spread attributes.
    Spread { expr: String },
}

/// An element with its special attributes taken apart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) attrs: Vec<Attr>,
    pub(crate) children: Vec<Node>,
    pub(crate) void: bool,
    pub(crate) self_closed: bool,
    pub(crate) if_expr: Option<String>,
    pub(crate) for_expr: Option<(String, String)>,
    pub(crate) key_expr: Option<String>,
    /// `:let={pattern}` (component calls and slot entries).
    pub(crate) let_pattern: Option<String>,
    /// Where the tag starts in the template (1-based line and column).
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl Element {
    /// `<.name>` / `<.module::name>`: a function component call (the path after the dot).
    pub(crate) fn component(&self) -> Option<&str> {
        self.name.strip_prefix('.')
    }

    /// `<:name>`: a slot entry of the enclosing component call.
    pub(crate) fn slot(&self) -> Option<&str> {
        self.name.strip_prefix(':')
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

/// Parses a whole template.
pub(crate) fn parse(source: &str) -> Result<Vec<Node>, ParseError> {
    let mut parser = Parser {
        chars: source.chars().collect(),
        pos: 0,
    };
    let nodes = parser.nodes(None)?;
    Ok(nodes)
}

impl Parser {
    fn error_at(&self, pos: usize, message: impl Into<String>) -> ParseError {
        let mut line = 1;
        let mut column = 1;
        for &c in &self.chars[..pos.min(self.chars.len())] {
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        ParseError {
            line,
            column,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn starts_with(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(i, c)| self.chars.get(self.pos + i) == Some(&c))
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Nodes until the closing tag of `parent` (or the end of the template).
    fn nodes(&mut self, parent: Option<(&str, usize)>) -> Result<Vec<Node>, ParseError> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        loop {
            let Some(c) = self.peek() else {
                if let Some((name, at)) = parent {
                    return Err(
                        self.error_at(at, format!("<{name}> is never closed: add </{name}>"))
                    );
                }
                break;
            };
            if self.starts_with("<!--") {
                let start = self.pos;
                match self.find("-->") {
                    Some(end) => {
                        text.extend(&self.chars[start..end + 3]);
                        self.pos = end + 3;
                    }
                    None => return Err(self.error_at(start, "comment is never closed with -->")),
                }
            } else if self.starts_with("</") {
                let at = self.pos;
                self.pos += 2;
                let name = self.name();
                self.skip_ws();
                if self.peek() != Some('>') {
                    return Err(self.error_at(at, format!("closing tag </{name} needs a `>`")));
                }
                self.pos += 1;
                match parent {
                    Some((open, _)) if open == name => break,
                    Some((open, open_at)) => {
                        let (line, column) = {
                            let e = self.error_at(open_at, "");
                            (e.line, e.column)
                        };
                        return Err(self.error_at(
                            at,
                            format!(
                                "</{name}> does not match <{open}> opened at line {line}, column {column}"
                            ),
                        ));
                    }
                    None => {
                        return Err(self.error_at(at, format!("</{name}> closes nothing")));
                    }
                }
            } else if self.starts_with("<!") {
                let start = self.pos;
                match self.find(">") {
                    Some(end) => {
                        text.extend(&self.chars[start..=end]);
                        self.pos = end + 1;
                    }
                    None => return Err(self.error_at(start, "<! … is never closed with >")),
                }
            } else if c == '<'
                && self
                    .chars
                    .get(self.pos + 1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '.' | ':'))
            {
                if !text.is_empty() {
                    nodes.push(Node::Text(std::mem::take(&mut text)));
                }
                nodes.push(Node::Element(self.element()?));
            } else if c == '{' {
                if !text.is_empty() {
                    nodes.push(Node::Text(std::mem::take(&mut text)));
                }
                nodes.push(Node::Expr(self.braced()?));
            } else if c == '}' {
                return Err(self.error_at(self.pos, "unmatched `}` in text (write &#125;)"));
            } else {
                text.push(c);
                self.pos += 1;
            }
        }
        if !text.is_empty() {
            nodes.push(Node::Text(text));
        }
        Ok(nodes)
    }

    fn find(&self, needle: &str) -> Option<usize> {
        let needle: Vec<char> = needle.chars().collect();
        (self.pos..self.chars.len()).find(|&i| self.chars[i..].starts_with(&needle))
    }

    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | ':' | '.' | '@') {
                name.push(c);
                self.pos += 1;
            } else {
                break;
            }
        }
        name
    }

    /// `{ … }` with nested braces and string literals; returns the inside.
    fn braced(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut depth = 1;
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        let trimmed = out.trim();
                        if trimmed.is_empty() {
                            return Err(
                                self.error_at(start, "empty `{}`: put an expression inside")
                            );
                        }
                        return Ok(trimmed.to_string());
                    }
                }
                '"' => {
                    out.push(c);
                    while let Some(s) = self.peek() {
                        self.pos += 1;
                        out.push(s);
                        if s == '\\' {
                            if let Some(next) = self.peek() {
                                self.pos += 1;
                                out.push(next);
                            }
                        } else if s == '"' {
                            break;
                        }
                    }
                    continue;
                }
                _ => {}
            }
            out.push(c);
        }
        Err(self.error_at(start, "`{` is never closed: add `}`"))
    }

    fn element(&mut self) -> Result<Element, ParseError> {
        let at = self.pos;
        self.pos += 1;
        let name = self.name();
        let (line, column) = {
            let e = self.error_at(at, "");
            (e.line, e.column)
        };
        if matches!(name.as_str(), "." | ":") {
            return Err(self.error_at(
                at,
                format!("<{name} needs a name, e.g. <.button> or <:col>"),
            ));
        }
        let mut element = Element {
            void: VOID.contains(&name.to_ascii_lowercase().as_str()),
            name,
            attrs: Vec::new(),
            children: Vec::new(),
            self_closed: false,
            if_expr: None,
            for_expr: None,
            key_expr: None,
            let_pattern: None,
            line,
            column,
        };
        loop {
            self.skip_ws();
            match self.peek() {
                None => {
                    return Err(
                        self.error_at(at, format!("<{} is never finished with `>`", element.name))
                    );
                }
                Some('>') => {
                    self.pos += 1;
                    break;
                }
                Some('/') if self.chars.get(self.pos + 1) == Some(&'>') => {
                    self.pos += 2;
                    element.self_closed = true;
                    return Ok(element);
                }
                Some(_) => self.attribute(&mut element)?,
            }
        }
        if element.void {
            return Ok(element);
        }
        let lower = element.name.to_ascii_lowercase();
        if lower == "script" || lower == "style" {
            let close = format!("</{}", element.name);
            let start = self.pos;
            let Some(end) = self.find(&close) else {
                return Err(self.error_at(
                    at,
                    format!("<{0}> is never closed: add </{0}>", element.name),
                ));
            };
            element
                .children
                .push(Node::Text(self.chars[start..end].iter().collect()));
            self.pos = end;
            let name = element.name.clone();
            self.nodes(Some((&name, at)))?;
            return Ok(element);
        }
        let name = element.name.clone();
        element.children = self.nodes(Some((&name, at)))?;
        Ok(element)
    }

    fn attribute(&mut self, element: &mut Element) -> Result<(), ParseError> {
        let at = self.pos;
        if self.peek() == Some('{') {
            let expr = self.braced()?;
            element.attrs.push(Attr::Spread { expr });
            return Ok(());
        }
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace()
                || matches!(c, '=' | '>' | '"' | '\'' | '{' | '}')
                || (c == '/' && self.chars.get(self.pos + 1) == Some(&'>'))
            {
                break;
            }
            name.push(c);
            self.pos += 1;
        }
        if name.is_empty() {
            return Err(self.error_at(
                at,
                format!(
                    "unexpected `{}` in <{}>",
                    self.peek().unwrap_or(' '),
                    element.name
                ),
            ));
        }
        self.skip_ws();
        if self.peek() != Some('=') {
            if name.starts_with(':') {
                return Err(self.error_at(at, format!("{name} needs a value: {name}={{…}}")));
            }
            element.attrs.push(Attr::Static { name, value: None });
            return Ok(());
        }
        self.pos += 1;
        self.skip_ws();
        match self.peek() {
            Some(q @ ('"' | '\'')) => {
                self.pos += 1;
                let start = self.pos;
                while self.peek().is_some_and(|c| c != q) {
                    self.pos += 1;
                }
                if self.peek().is_none() {
                    return Err(
                        self.error_at(at, format!("the value of {name} is never closed with {q}"))
                    );
                }
                let value: String = self.chars[start..self.pos].iter().collect();
                self.pos += 1;
                if name.starts_with(':') {
                    return Err(
                        self.error_at(at, format!("{name} takes an expression: {name}={{…}}"))
                    );
                }
                element.attrs.push(Attr::Static {
                    name,
                    value: Some(value),
                });
            }
            Some('{') => {
                let expr = self.braced()?;
                match name.as_str() {
                    ":if" => element.if_expr = Some(expr),
                    ":key" => element.key_expr = Some(expr),
                    ":let" => element.let_pattern = Some(expr),
                    ":for" => {
                        let Some((pattern, source)) = split_for(&expr) else {
                            return Err(self.error_at(
                                at,
                                ":for needs `pattern in expression`, e.g. :for={item in @items}",
                            ));
                        };
                        element.for_expr = Some((pattern, source));
                    }
                    other if other.starts_with(':') => {
                        return Err(self.error_at(
                            at,
                            format!(
                                "unknown special attribute {other}: use :if, :for, :key or :let"
                            ),
                        ));
                    }
                    _ => element.attrs.push(Attr::Dynamic { name, expr }),
                }
            }
            _ => {
                return Err(self.error_at(
                    at,
                    format!("{name}= needs a quoted value or {{expression}}"),
                ));
            }
        }
        Ok(())
    }
}

/// Splits `pat in expr` at the first top-level ` in `.
fn split_for(text: &str) -> Option<(String, String)> {
    let mut depth = 0i32;
    let bytes = text.as_bytes();
    for i in 0..bytes.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b' ' if depth == 0 && text[i..].starts_with(" in ") => {
                return Some((
                    text[..i].trim().to_string(),
                    text[i + 4..].trim().to_string(),
                ));
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_elements_text_and_expressions() {
        let nodes =
            parse(r#"<div id="a" class={@c}><p :if={@on}>Hi {@name}!</p><br></div>"#).unwrap();
        let Node::Element(div) = &nodes[0] else {
            panic!()
        };
        assert_eq!(div.name, "div");
        assert_eq!(div.attrs.len(), 2);
        let Node::Element(p) = &div.children[0] else {
            panic!()
        };
        assert_eq!(p.if_expr.as_deref(), Some("@on"));
        assert_eq!(
            p.children,
            vec![
                Node::Text("Hi ".into()),
                Node::Expr("@name".into()),
                Node::Text("!".into())
            ]
        );
        let Node::Element(br) = &div.children[1] else {
            panic!()
        };
        assert!(br.void);
    }

    #[test]
    fn for_splits_pattern_and_source() {
        let nodes =
            parse(r#"<li :for={(i, x) in @items.iter().enumerate()} :key={x.id}>{x.name}</li>"#)
                .unwrap();
        let Node::Element(li) = &nodes[0] else {
            panic!()
        };
        assert_eq!(
            li.for_expr,
            Some(("(i, x)".into(), "@items.iter().enumerate()".into()))
        );
        assert_eq!(li.key_expr.as_deref(), Some("x.id"));
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = parse("<div>\n  <p>text</div>").unwrap_err().to_string();
        assert!(
            e.contains("line 2") && e.contains("</div> does not match <p>"),
            "{e}"
        );
        let e = parse("<div><span>").unwrap_err().to_string();
        assert!(e.contains("never closed"), "{e}");
        let e = parse("<p>{@x</p>").unwrap_err().to_string();
        assert!(e.contains("`{` is never closed"), "{e}");
        let e = parse(r#"<p :for={x}>"#).unwrap_err().to_string();
        assert!(e.contains(":for needs"), "{e}");
        let e = parse(r#"<p :when={x}></p>"#).unwrap_err().to_string();
        assert!(e.contains("unknown special attribute"), "{e}");
    }
}
