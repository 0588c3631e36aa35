//! Procedural macros of the Livewasm guest SDK: `#[derive(Assigns)]` (change-tracking bits for
//! a view's fields) and `html!` (a HEEx-like template split into statics and dynamics at compile
//! time, with a change mask per dynamic).

mod assigns;
mod codegen;
mod expr;
mod parse;

use proc_macro::TokenStream;

/// Gives each named field of a view struct a change-tracking bit (at most 128 fields).
#[proc_macro_derive(Assigns)]
pub fn derive_assigns(input: TokenStream) -> TokenStream {
    assigns::derive(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// A HEEx-like template in a string literal:
///
/// ```ignore
/// html!(r#"<h1 class={@class}>Hello {@name}</h1><li :for={item in @items} :key={item.id}>{item.name}</li>"#)
/// ```
///
/// `{expr}` interpolates escaped text, `name={expr}` a dynamic attribute, `@field` reads an
/// assign (and makes the dynamic depend on it), `:if`, `:for` and `:key` shape blocks. Requires a
/// variable `assigns` (a `Tracked` view) in scope.
#[proc_macro]
pub fn html(input: TokenStream) -> TokenStream {
    let literal = match syn::parse::<syn::LitStr>(input) {
        Ok(literal) => literal,
        Err(e) => {
            return syn::Error::new(
                e.span(),
                "html! takes one string literal, e.g. html!(r#\"<p>{@name}</p>\"#)",
            )
            .into_compile_error()
            .into();
        }
    };
    match parse::parse(&literal.value()) {
        Ok(nodes) => codegen::template(&nodes, literal.span())
            .unwrap_or_else(syn::Error::into_compile_error)
            .into(),
        Err(e) => syn::Error::new(literal.span(), e.to_string())
            .into_compile_error()
            .into(),
    }
}
