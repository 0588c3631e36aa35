//! `p!("/articles/{id}/edit")`: a path of the app, checked at compile time against the paths
//! `app!` declares (see `livewasm_sdk::verified_path`), with its `{expr}` interpolations
//! percent-encoded.

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

/// A piece of a `p!` literal.
enum Piece {
    /// Text copied as written.
    Text(String),
    /// An interpolated expression, encoded.
    Value(syn::Expr),
}

/// Splits the literal into text and `{expr}` pieces (`{{` and `}}` are braces).
fn pieces(lit: &LitStr) -> syn::Result<Vec<Piece>> {
    let text = lit.value();
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                current.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                current.push('}');
            }
            '{' => {
                let mut inner = String::new();
                let mut depth = 1;
                for c in chars.by_ref() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 {
                        break;
                    }
                    inner.push(c);
                }
                if depth != 0 {
                    return Err(syn::Error::new(lit.span(), "p!: a `{` is never closed"));
                }
                let expr = syn::parse_str::<syn::Expr>(&inner)
                    .map_err(|e| syn::Error::new(lit.span(), format!("p!: `{{{inner}}}`: {e}")))?;
                if !current.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut current)));
                }
                pieces.push(Piece::Value(expr));
            }
            '}' => {
                return Err(syn::Error::new(
                    lit.span(),
                    "p!: a `}` without its `{` (write `}}` for a brace)",
                ));
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        pieces.push(Piece::Text(current));
    }
    Ok(pieces)
}

/// The path part of the literal (before `?` or `#`) with each segment holding an
/// interpolation written `:`, as `__check` takes it.
fn shape(pieces: &[Piece]) -> String {
    const HOLE: char = '\u{0}';
    let mut path = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => match text.find(['?', '#']) {
                Some(end) => {
                    path.push_str(&text[..end]);
                    break;
                }
                None => path.push_str(text),
            },
            Piece::Value(_) => path.push(HOLE),
        }
    }
    path.split('/')
        .map(|segment| if segment.contains(HOLE) { ":" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

/// The expansion of `p!(literal)`.
pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let lit: LitStr = syn::parse2(input).map_err(|e| {
        syn::Error::new(
            e.span(),
            "p! takes a path literal: p!(\"/articles/{id}/edit\")",
        )
    })?;
    let pieces = pieces(&lit)?;
    if !lit.value().starts_with('/') {
        return Err(syn::Error::new(
            lit.span(),
            "p!: a path of the app starts with `/`",
        ));
    }
    let shape = shape(&pieces);
    let pushes = pieces.iter().map(|piece| match piece {
        Piece::Text(text) => quote!(__lw_path.push_str(#text);),
        Piece::Value(expr) => quote!(
            ::livewasm_sdk::verified_path::__push_encoded(&mut __lw_path, &(#expr));
        ),
    });
    Ok(quote!({
        const _: () =
            ::livewasm_sdk::verified_path::__check(crate::__LIVEWASM_PATHS, #shape);
        let mut __lw_path = ::std::string::String::new();
        #(#pushes)*
        __lw_path
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape_of(text: &str) -> String {
        let lit = LitStr::new(text, proc_macro2::Span::call_site());
        shape(&pieces(&lit).expect("pieces"))
    }

    #[test]
    fn shapes_put_a_colon_for_each_interpolated_segment() {
        assert_eq!(shape_of("/articles/{id}/edit"), "/articles/:/edit");
        assert_eq!(shape_of("/files/{name}.txt"), "/files/:");
        assert_eq!(shape_of("/articles?page={n}&x=1"), "/articles");
        assert_eq!(shape_of("/a/{x}#top"), "/a/:");
        assert_eq!(shape_of("/braces/{{x}}"), "/braces/{x}");
    }

    #[test]
    fn bad_literals_are_refused() {
        for bad in ["/a/{x", "/a/}", "/a/{1 +}"] {
            let lit = LitStr::new(bad, proc_macro2::Span::call_site());
            assert!(pieces(&lit).is_err(), "{bad}");
        }
        assert!(expand(quote!("articles")).is_err());
        assert!(expand(quote!(42)).is_err());
    }
}
