//! Where the template being expanded sits in its source file, so an error can name the exact
//! `file:line:column` of a mistake (the compiler's own `-->` can only point at the whole string
//! literal: stable proc macros cannot point inside one).

use std::cell::RefCell;

/// The template's first character in its source file.
#[derive(Debug, Clone, PartialEq)]
struct Origin {
    /// The file, as the compiler names it (e.g. `src/lib.rs`).
    file: String,
    /// 1-based line of the template's first character.
    line: usize,
    /// 1-based column of the template's first character.
    column: usize,
}

thread_local! {
    /// The template `html!` is expanding on this thread, when its position is known.
    static ORIGIN: RefCell<Option<Origin>> = const { RefCell::new(None) };
}

/// Clears the template's position when the expansion ends.
pub(crate) struct Expanding(());

impl Drop for Expanding {
    fn drop(&mut self) {
        ORIGIN.with(|origin| origin.borrow_mut().take());
    }
}

/// Records where `literal` (the template) starts, for [`describe`], until the returned guard
/// drops. The position is left unknown outside a macro expansion and for a string with escapes
/// (`"\n"`), whose text does not map one to one onto the file's.
pub(crate) fn enter(literal: &syn::LitStr) -> Expanding {
    let origin = proc_macro::is_available()
        .then(|| {
            let span = literal.span().unwrap();
            origin(
                &literal.token().to_string(),
                span.file(),
                span.line(),
                span.column(),
            )
        })
        .flatten();
    ORIGIN.with(|slot| *slot.borrow_mut() = origin);
    Expanding(())
}

/// The template's origin, given the literal's source text (`r#"…"#`, `"…"`) and where that
/// text starts.
fn origin(source: &str, file: String, line: usize, column: usize) -> Option<Origin> {
    let quote = source.find('"')?;
    let raw = source.starts_with('r');
    if !raw && source.contains('\\') {
        return None;
    }
    Some(Origin {
        file,
        line,
        column: column + quote + 1,
    })
}

/// `template line L, column C`, followed by the place in the file when it is known:
/// `template line 3, column 15 (src/lib.rs:38:15)`.
pub(crate) fn describe(line: usize, column: usize) -> String {
    let in_file = ORIGIN.with(|origin| {
        origin.borrow().as_ref().map(|origin| {
            let column = if line == 1 {
                origin.column + column - 1
            } else {
                column
            };
            format!(" ({}:{}:{column})", origin.file, origin.line + line - 1)
        })
    });
    format!(
        "template line {line}, column {column}{}",
        in_file.unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(source: &str, line: usize, column: usize) -> Option<Origin> {
        origin(source, "src/lib.rs".into(), line, column)
    }

    #[test]
    fn the_template_starts_after_the_opening_quote() {
        assert_eq!(at(r###"r#"<p>"#"###, 10, 5).map(|o| o.column), Some(8));
        assert_eq!(at(r#""<p>""#, 10, 5).map(|o| o.column), Some(6));
        assert_eq!(at(r###"r##"<p>"##"###, 10, 5).map(|o| o.column), Some(9));
        // Escapes: the template's columns are not the file's.
        assert_eq!(at(r#""<p>\n</p>""#, 10, 5), None);
        assert_eq!(at(r###"r#"<p>\n</p>"#"###, 10, 5).map(|o| o.line), Some(10));
    }

    #[test]
    fn errors_name_the_place_in_the_file() {
        assert_eq!(describe(3, 15), "template line 3, column 15");
        ORIGIN.with(|o| *o.borrow_mut() = at(r###"r#"<p>"#"###, 36, 13));
        assert_eq!(
            describe(3, 15),
            "template line 3, column 15 (src/lib.rs:38:15)"
        );
        assert_eq!(
            describe(1, 4),
            "template line 1, column 4 (src/lib.rs:36:19)"
        );
        drop(Expanding(()));
        assert_eq!(describe(1, 4), "template line 1, column 4");
    }
}
