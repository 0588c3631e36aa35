//! Code generation for a function component call, `<.name attr=… :let={x}>…<:slot>…</:slot></.name>`:
//! compile-time checks of the attribute and slot names against the component's declaration,
//! then a chain of builder calls on the component's `Props`.

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::expr::{expr, pattern};
use crate::parse::{Attr, Element, Node};
use crate::slot::{Fragment, Slot, err, merge, with_bound};

/// The Rust identifier for an attribute or slot name (raw for keywords such as `type`), or
/// `None` when the name is not one (`phx-click`).
pub(crate) fn ident_for(name: &str) -> Option<syn::Ident> {
    if let Ok(ident) = syn::parse_str::<syn::Ident>(name) {
        return Some(ident);
    }
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let reserved = matches!(name, "self" | "Self" | "super" | "crate" | "_");
    (plain && !reserved).then(|| syn::Ident::new_raw(name, Span::call_site()))
}

/// True for an expression naming a place (`@users`, `row`, `f.field`): passed by reference.
pub(crate) fn is_place(tokens: &TokenStream) -> bool {
    matches!(
        syn::parse2::<syn::Expr>(tokens.clone()),
        Ok(syn::Expr::Field(_) | syn::Expr::Path(_) | syn::Expr::Index(_))
    )
}

/// What a call accumulates: builder steps, names for the checks, assigns read.
struct Call {
    steps: Vec<TokenStream>,
    checks: Vec<TokenStream>,
    passed: Vec<String>,
    fields: Vec<String>,
    always: bool,
    /// Renders a slot's content (`codegen::fragment`).
    fragment: Fragment,
}

/// The whole call as a dynamic slot; `fragment` renders the content of its slots.
pub(crate) fn call(element: &Element, span: Span, fragment: Fragment) -> syn::Result<Slot> {
    let path_text = element.component().unwrap_or_default();
    let at = crate::place::describe(element.line, element.column);
    let path: syn::Path = syn::parse_str(path_text).map_err(|_| {
        err(
            span,
            format!(
                "{at}: <.{path_text}> does not name a component: write <.name> or <.module::name>"
            ),
        )
    })?;
    let fn_name = path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default();
    let label = format!("<.{path_text}>");
    let mut call = Call {
        steps: Vec::new(),
        checks: Vec::new(),
        passed: Vec::new(),
        fields: Vec::new(),
        always: false,
        fragment,
    };

    for attr in &element.attrs {
        match attr {
            Attr::Spread { expr: text } => {
                let e = expr(text).map_err(|m| err(span, format!("{at}: spread: {m}")))?;
                let tokens = e.tokens;
                call.note(e.fields, &tokens);
                let message = format!(
                    "{at}: {label} takes no spread attributes: declare a `#[attr(rest)] rest: Attrs` parameter on #[component] fn {fn_name}"
                );
                call.checks.push(quote! {
                    if !#path::__HAS_REST { ::core::panic!("{}", #message) }
                });
                call.steps.push(quote!(.__spread(&(#tokens))));
            }
            Attr::Static { name, value } => {
                let value = match value {
                    Some(v) => quote!(#v),
                    None => quote!(true),
                };
                call.attribute(&path, &label, &fn_name, &at, name, value, false);
            }
            Attr::Dynamic { name, expr: text } => {
                let e =
                    expr(text).map_err(|m| err(span, format!("{at}: attribute {name}: {m}")))?;
                let tokens = e.tokens;
                if crate::slot::always(&e.fields, &tokens) {
                    call.always = true;
                }
                merge(&mut call.fields, e.fields);
                let place = is_place(&tokens);
                call.attribute(&path, &label, &fn_name, &at, name, tokens, place);
            }
        }
    }

    // Slot entries, then everything else as the inner block.
    let mut inner = Vec::new();
    for child in &element.children {
        match child {
            Node::Element(slot) if slot.slot().is_some() => {
                call.slot(&path, &label, &fn_name, slot, span)?
            }
            // Text around slot entries joins up, so the edges of the content trim cleanly.
            Node::Text(text) => match inner.last_mut() {
                Some(Node::Text(before)) => before.push_str(text),
                _ => inner.push(child.clone()),
            },
            other => inner.push(other.clone()),
        }
    }
    let has_inner = inner
        .iter()
        .any(|n| !matches!(n, Node::Text(t) if t.trim().is_empty()));
    if has_inner || element.let_pattern.is_some() {
        let pat = match &element.let_pattern {
            Some(text) => pattern(text).map_err(|m| err(span, format!("{at}: :let: {m}")))?,
            None => quote!(_),
        };
        let (body, fields, always) = with_bound(&pat, || fragment(&inner, span))?;
        call.always |= always;
        merge(&mut call.fields, fields);
        let message = format!(
            "{at}: {label} takes no inner content: remove it, or declare a `#[slot] inner_block: Slot<'a>` parameter on #[component] fn {fn_name}"
        );
        call.checks.push(quote! {
            if !#path::__accepts_slot("inner_block") { ::core::panic!("{}", #message) }
        });
        call.passed.push("inner_block".into());
        call.steps.push(quote! {
            .inner_block(::livewasm_sdk::Attrs::new(), |#pat| #body)
        });
    }

    let Call {
        steps,
        checks,
        passed,
        fields,
        always,
        ..
    } = call;
    let mut code = quote! {{
        const _: () = {
            #(#checks)*
            #path::__require(&[#(#passed),*]);
        };
        ::livewasm_sdk::Dyn::Node(#path::Props::__new() #(#steps)* .__render())
    }};
    let mut fields = fields;
    // A call reading no assign and no local never changes: it does not force its parent to
    // re-render (at the top level it is simply evaluated every time).
    let mut always = always;
    if let (Some(text), None) = (&element.if_expr, &element.for_expr) {
        let c = expr(text).map_err(|m| err(span, format!("{at}: :if: {m}")))?;
        if c.fields.is_empty() {
            always = true;
        }
        merge(&mut fields, c.fields);
        let cond = c.tokens;
        code = quote!(if #cond { #code } else { ::livewasm_sdk::Dyn::empty() });
    }

    if let Some((pattern_text, source_text)) = &element.for_expr {
        let pat = pattern(pattern_text).map_err(|m| err(span, format!("{at}: :for: {m}")))?;
        let source = expr(source_text).map_err(|m| err(span, format!("{at}: :for: {m}")))?;
        if source.fields.is_empty() {
            always = true;
        }
        merge(&mut fields, source.fields);
        let source_tokens = source.tokens;
        let iter = if is_place(&source_tokens) {
            quote!(&(#source_tokens))
        } else {
            quote!(#source_tokens)
        };
        let filter = match &element.if_expr {
            Some(text) => {
                let c = expr(text).map_err(|m| err(span, format!("{at}: :if: {m}")))?;
                merge(&mut fields, c.fields);
                c.tokens
            }
            None => quote!(true),
        };
        code = quote! {{
            let mut __lw_parts = ::std::vec::Vec::new();
            for #pat in #iter {
                if #filter {
                    if let ::livewasm_sdk::Dyn::Node(__lw_node) = #code {
                        __lw_parts.push(__lw_node);
                    }
                }
            }
            ::livewasm_sdk::Dyn::Node(::livewasm_sdk::Rendered::join(__lw_parts))
        }};
    }
    Ok(Slot {
        code,
        fields,
        always,
    })
}

impl Call {
    fn note(&mut self, fields: Vec<String>, tokens: &TokenStream) {
        if crate::slot::always(&fields, tokens) {
            self.always = true;
        }
        merge(&mut self.fields, fields);
    }

    #[allow(clippy::too_many_arguments)]
    fn attribute(
        &mut self,
        path: &syn::Path,
        label: &str,
        fn_name: &str,
        at: &str,
        name: &str,
        value: TokenStream,
        place: bool,
    ) {
        let message = if ident_for(name).is_some() {
            format!(
                "{at}: {label} has no attribute `{name}`: remove it, or declare `{name}` as a parameter of #[component] fn {fn_name}"
            )
        } else {
            format!(
                "{at}: {label} has no attribute `{name}`: remove it, or declare a `#[attr(rest)] rest: Attrs` parameter on #[component] fn {fn_name} and spread it with {{rest}}"
            )
        };
        self.checks.push(quote! {
            if !#path::__accepts(#name) { ::core::panic!("{}", #message) }
        });
        self.passed.push(name.to_string());
        let value = if place { quote!(&(#value)) } else { value };
        match ident_for(name) {
            Some(ident) => self.steps.push(quote!(.#ident(#value))),
            None => self.steps.push(quote!(.__rest(#name, &(#value)))),
        }
    }

    fn slot(
        &mut self,
        path: &syn::Path,
        label: &str,
        fn_name: &str,
        slot: &Element,
        span: Span,
    ) -> syn::Result<()> {
        let name = slot.slot().unwrap_or_default();
        let at = crate::place::describe(slot.line, slot.column);
        let Some(ident) = ident_for(name) else {
            return Err(err(
                span,
                format!("{at}: <:{name}> is not a valid slot name"),
            ));
        };
        if slot.for_expr.is_some() {
            return Err(err(
                span,
                format!("{at}: <:{name}> cannot take :for; put the loop in the component"),
            ));
        }
        let message = format!(
            "{at}: {label} has no slot <:{name}>: remove it, or declare a `#[slot] {name}` parameter on #[component] fn {fn_name}"
        );
        self.checks.push(quote! {
            if !#path::__accepts_slot(#name) { ::core::panic!("{}", #message) }
        });
        if slot.if_expr.is_none() {
            self.passed.push(name.to_string());
        }
        let mut attrs = Vec::new();
        for attr in &slot.attrs {
            match attr {
                Attr::Static { name, value } => {
                    let value = match value {
                        Some(v) => quote!(#v),
                        None => quote!(true),
                    };
                    attrs.push(quote!(::livewasm_sdk::components::__slot_attr(&mut __lw_attrs, #name, &(#value));));
                }
                Attr::Dynamic { name, expr: text } => {
                    let e = expr(text)
                        .map_err(|m| err(span, format!("{at}: attribute {name}: {m}")))?;
                    let tokens = e.tokens;
                    self.note(e.fields, &tokens);
                    attrs.push(quote!(::livewasm_sdk::components::__slot_attr(&mut __lw_attrs, #name, &(#tokens));));
                }
                Attr::Spread { .. } => {
                    return Err(err(
                        span,
                        format!("{at}: <:{name}> cannot take spread attributes"),
                    ));
                }
            }
        }
        let pat = match &slot.let_pattern {
            Some(text) => pattern(text).map_err(|m| err(span, format!("{at}: :let: {m}")))?,
            None => quote!(_),
        };
        let (body, fields, always) = with_bound(&pat, || (self.fragment)(&slot.children, span))?;
        self.always |= always;
        merge(&mut self.fields, fields);
        let value = quote! {
            {
                #[allow(unused_mut)]
                let mut __lw_attrs = ::livewasm_sdk::Attrs::new();
                #(#attrs)*
                __lw_attrs
            },
            |#pat| #body
        };
        match &slot.if_expr {
            None => self.steps.push(quote!(.#ident(#value))),
            Some(text) => {
                let c = expr(text).map_err(|m| err(span, format!("{at}: :if: {m}")))?;
                self.note(c.fields, &c.tokens);
                let cond = c.tokens;
                self.steps
                    .push(quote!(.__when(#cond, |__lw_p| __lw_p.#ident(#value))));
            }
        }
        Ok(())
    }
}
