//! Procedural macros of the Livewasm guest SDK: `#[derive(Assigns)]` (change-tracking bits for
//! a view's fields) and `html!` (a HEEx-like template split into statics and dynamics at compile
//! time, with a change mask per dynamic).

mod assigns;
mod call;
mod codegen;
mod component;
mod expr;
mod fingerprint;
mod live_call;
mod parse;
mod place;
mod slot;
mod verified_path;

use proc_macro::TokenStream;

/// A path of the app, checked at compile time against the paths `app!` declares (its routes
/// and HTTP handlers), as Phoenix's verified routes (`~p"/articles/#{id}/edit"`) are:
/// `p!("/articles/{id}/edit")` gives `"/articles/7/edit"` for `id = 7`, each `{expr}`
/// percent-encoded; a path no route matches does not compile. The query (`?page={n}`) is
/// not checked. Use it in the crate that invokes `app!` (at its root). See
/// `livewasm_sdk::verified_path`.
#[proc_macro]
pub fn p(input: TokenStream) -> TokenStream {
    verified_path::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Gives each named field of a view struct a change-tracking bit (at most 128 fields); a field
/// marked `#[on_mount]` takes the value a live session's `on_mount` hook assigns under its name.
#[proc_macro_derive(Assigns, attributes(on_mount))]
pub fn derive_assigns(input: TokenStream) -> TokenStream {
    assigns::derive(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Implements `Fingerprint` for a struct by hashing every field (through `Hash`): a keyed
/// `:for` over such items renders again only the entries whose item changed. Every field's
/// `Hash` must cover what the template shows (the standard types' do).
#[proc_macro_derive(Fingerprint)]
pub fn derive_fingerprint(input: TokenStream) -> TokenStream {
    fingerprint::derive(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// A HEEx-like template in a string literal:
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// #[derive(Clone, PartialEq)]
/// pub struct Item {
///     id: u32,
///     name: String,
/// }
///
/// #[derive(Assigns, Default)]
/// pub struct Shop {
///     class: String,
///     name: String,
///     items: Vec<Item>,
/// }
///
/// fn render(assigns: &Tracked<'_, Shop>) -> Rendered {
///     html!(r#"<h1 class={@class}>Hello {@name}</h1><li :for={item in @items} :key={item.id}>{&item.name}</li>"#)
/// }
///
/// let shop = Shop {
///     class: "big".into(),
///     name: "<Ada>".into(),
///     items: vec![Item { id: 1, name: "tea".into() }, Item { id: 2, name: "jam".into() }],
/// };
/// assert_eq!(
///     render(&Tracked::all(&shop)).to_html(),
///     r#"<h1 class="big">Hello &lt;Ada&gt;</h1><li>tea</li><li>jam</li>"#
/// );
/// ```
///
/// `{expr}` interpolates escaped text (or a nested `Rendered`), `name={expr}` a dynamic
/// attribute, `<div {attrs}>` spreads an `Attrs` bag, `@field` reads an assign (and makes the
/// dynamic depend on it), `:if`, `:for` and `:key` shape blocks. `<.name attr=…>…</.name>` calls a
/// `#[component]` function, with `<:slot …>` entries and `:let={pattern}`. A template that uses
/// `@` needs a variable `assigns` (a `Tracked` view) in scope; one without `@` works in any
/// function.
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
    let _expanding = place::enter(&literal);
    match parse::parse(&literal.value()) {
        Ok(nodes) => codegen::template(&nodes, literal.span())
            .unwrap_or_else(syn::Error::into_compile_error)
            .into(),
        Err(e) => syn::Error::new(literal.span(), e.to_string())
            .into_compile_error()
            .into(),
    }
}

/// A function component, called from templates as `<.name attr=…>…</.name>`.
///
/// Every parameter is an attribute or a slot, named as the parameter:
/// * a plain parameter is a required attribute; an `Option<…>` one is optional (default `None`);
///   `#[attr(default)]` defaults it with `Default::default()`, `#[attr(default = expr)]` with `expr`;
/// * `#[attr(rest)] rest: Attrs` collects global attributes (`id`, `class`, `phx-*`, `data-*`,
///   `aria-*` …, plus `#[attr(rest, include = "href method")]`) for `<root {rest}>`;
/// * `#[slot]` marks a slot: `Slot<'a, A>` required, `Option<Slot<'a, A>>` optional,
///   `Vec<Slot<'a, A>>` repeated; `inner_block` is the content between the tags; `A` is what
///   `render_slot` passes to `:let`.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// #[component]
/// pub fn card<'a>(title: String, #[slot] inner_block: Slot<'a>, #[slot] footer: Option<Slot<'a>>) -> Rendered {
///     html!(r#"<div class="card"><h2>{title}</h2>{render_slot(&inner_block, ())}{render_slot(&footer, ())}</div>"#)
/// }
///
/// # fn main() {
/// let page = html!(r#"<.card title="Tea">Hot<:footer><small>2 €</small></:footer></.card>"#);
/// assert_eq!(
///     page.to_html(),
///     r#"<div class="card"><h2>Tea</h2>Hot<small>2 €</small></div>"#
/// );
/// # }
/// ```
///
/// A call with an unknown attribute or slot, or without a required one, does not compile.
#[proc_macro_attribute]
pub fn component(attr: TokenStream, item: TokenStream) -> TokenStream {
    component::expand(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
