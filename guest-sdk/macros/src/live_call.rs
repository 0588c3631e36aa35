//! Code generation for `<.live_component module={Card} id={…} attr={…} />`, Phoenix's way of
//! placing a live component in a template: `live_component::<Card>(id, props)`, where the
//! props are either `props={value}` or built from the other attributes as the fields of the
//! component's `Props` struct (none: `Props::default()`). With `:for`, each entry is just the
//! component, as in Phoenix (statics `["", ""]`).

use proc_macro2::Span;
use quote::quote;

use crate::call::ident_for;
use crate::expr::expr;
use crate::parse::{Attr, Element, Node};
use crate::slot::{Slot, always, err, merge};

/// True for `<.live_component …>`.
pub(crate) fn is_live_component(element: &Element) -> bool {
    element.component() == Some("live_component")
}

/// The call as a dynamic slot (without its `:for`/`:if`, which the caller handles).
pub(crate) fn live_component(element: &Element, span: Span) -> syn::Result<Slot> {
    let at = crate::place::describe(element.line, element.column);
    let fail = |message: String| err(span, format!("{at}: <.live_component>: {message}"));
    let mut module = None;
    let mut id = None;
    let mut props = None;
    let mut inits = Vec::new();
    let mut fields = Vec::new();
    let mut is_always = false;
    for attr in &element.attrs {
        // A static value is a string literal: converted into a props field's type.
        let (name, tokens, literal) = match attr {
            Attr::Dynamic { name, expr: text } => {
                let e = expr(text).map_err(|m| fail(format!("attribute {name}: {m}")))?;
                is_always |= always(&e.fields, &e.tokens);
                merge(&mut fields, e.fields);
                (name, e.tokens, false)
            }
            Attr::Static {
                name,
                value: Some(value),
            } if name != "module" => (name, quote!(#value), true),
            Attr::Static { name, value: None } if name != "module" => (name, quote!(true), false),
            Attr::Static { .. } => {
                return Err(fail(
                    "module takes the component's type: module={MyComponent}".into(),
                ));
            }
            Attr::Spread { .. } => {
                return Err(fail(
                    "takes no spread attributes: pass the component's props".into(),
                ));
            }
        };
        match name.as_str() {
            "module" => module = Some(tokens),
            "id" => id = Some(tokens),
            "props" => props = Some(tokens),
            other => {
                let ident = ident_for(other).ok_or_else(|| {
                    fail(format!(
                        "`{other}` is not a field name of the component's Props"
                    ))
                })?;
                if literal {
                    inits.push(quote!(#ident: ::core::convert::Into::into(#tokens)));
                } else {
                    inits.push(quote!(#ident: #tokens));
                }
            }
        }
    }
    let has_content = element
        .children
        .iter()
        .any(|n| !matches!(n, Node::Text(t) if t.trim().is_empty()));
    if has_content {
        return Err(fail(
            "takes no inner content (a live component renders itself)".into(),
        ));
    }
    let module = module.ok_or_else(|| fail("needs module={MyComponent}".into()))?;
    let id = id.ok_or_else(|| fail("needs an id, unique among this component's".into()))?;
    let props = match (props, inits.is_empty()) {
        (Some(_), false) => {
            return Err(fail(
                "takes either props={…} or the props' fields as attributes, not both".into(),
            ));
        }
        (Some(props), true) => props,
        (None, true) => quote!(::core::default::Default::default()),
        (None, false) => quote!({
            type __LwProps = <#module as ::livewasm_sdk::LiveComponent>::Props;
            __LwProps { #(#inits),* }
        }),
    };
    Ok(Slot {
        code: quote!({
            #[allow(unused_imports)]
            use ::livewasm_sdk::{__ViaMove as _, __ViaRef as _};
            (::livewasm_sdk::__Val(::livewasm_sdk::live_component::<#module>(#id, #props)))
                .__lw_dyn()
        }),
        fields,
        always: is_always,
    })
}
