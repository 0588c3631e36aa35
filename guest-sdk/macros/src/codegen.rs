//! Code generation: statics become a `static Template`, dynamics become expressions guarded by
//! the change mask of the assigns they read.

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::expr::{expr, pattern};
use crate::parse::{Attr, Element, Node};
use crate::slot::{Slot, always, err, merge, reads_socket, with_bound};

/// Statics and dynamics of one template being generated.
#[derive(Default)]
struct Level {
    statics: Vec<String>,
    current: String,
    slots: Vec<Slot>,
}

impl Level {
    fn push_slot(&mut self, slot: Slot) {
        self.statics.push(std::mem::take(&mut self.current));
        self.slots.push(slot);
    }

    fn finish(mut self) -> (Vec<String>, Vec<Slot>) {
        self.statics.push(self.current);
        (self.statics, self.slots)
    }
}

/// The whole `html!` expansion.
pub(crate) fn template(nodes: &[Node], span: Span) -> syn::Result<TokenStream> {
    let nodes = trim(nodes);
    let root = matches!(nodes.as_slice(), [Node::Element(e)] if e.if_expr.is_none() && e.for_expr.is_none() && e.component().is_none() && e.slot().is_none());
    let mut level = Level::default();
    for node in &nodes {
        emit(&mut level, node, span)?;
    }
    let (statics, slots) = level.finish();
    let template = template_static(&statics, root);
    let uses_assigns = slots.iter().any(|slot| !slot.fields.is_empty());
    let dynamics = slots.into_iter().map(|slot| {
        let code = slot.code;
        if slot.always || slot.fields.is_empty() || reads_socket(&slot.fields) {
            code
        } else {
            let bits = slot.fields.iter().map(|f| quote!(assigns.__lw_bit(#f)));
            quote! {
                if __lw_changed & (0u128 #(| #bits)*) != 0 { #code } else { ::livewasm_sdk::Dyn::Unchanged }
            }
        }
    });
    // Without `@`, the template needs no `assigns`: it renders in any function.
    let changed = uses_assigns.then(|| quote!(let __lw_changed: u128 = assigns.__changed();));
    Ok(quote! {{
        #template
        #changed
        ::livewasm_sdk::Rendered::new(&__LW_TEMPLATE, ::std::vec![#(#dynamics),*])
    }})
}

/// Trims whitespace at the start and end of the template.
pub(crate) fn trim(nodes: &[Node]) -> Vec<Node> {
    let mut nodes = nodes.to_vec();
    if let Some(Node::Text(text)) = nodes.first_mut() {
        *text = text.trim_start().to_string();
    }
    if let Some(Node::Text(text)) = nodes.last_mut() {
        *text = text.trim_end().to_string();
    }
    nodes.retain(|n| !matches!(n, Node::Text(t) if t.is_empty()));
    nodes
}

fn template_static(statics: &[String], root: bool) -> TokenStream {
    let id = fingerprint(statics, root);
    quote! {
        static __LW_TEMPLATE: ::livewasm_sdk::Template = ::livewasm_sdk::Template {
            id: #id,
            statics: &[#(#statics),*],
            root: #root,
        };
    }
}

/// A keyed comprehension's site: its template, entry code, pattern and key, plus a counter of
/// the comprehensions this compilation expanded (two identical ones still differ).
fn site_id(
    template: &TokenStream,
    dynamics: &TokenStream,
    pattern: &str,
    key: Option<&str>,
) -> u64 {
    static EXPANDED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let count = EXPANDED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    fingerprint(
        &[
            template.to_string(),
            dynamics.to_string(),
            pattern.to_string(),
            key.unwrap_or_default().to_string(),
            count.to_string(),
        ],
        false,
    )
}

/// FNV-1a over the statics, separated, with their count and the root flag.
fn fingerprint(statics: &[String], root: bool) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(&(statics.len() as u64).to_le_bytes());
    feed(&[u8::from(root)]);
    for s in statics {
        feed(s.as_bytes());
        feed(&[0xff]);
    }
    hash
}

fn emit(level: &mut Level, node: &Node, span: Span) -> syn::Result<()> {
    match node {
        Node::Text(text) => level.current.push_str(text),
        Node::Expr(text) => {
            let e = expr(text).map_err(|m| err(span, m))?;
            let tokens = e.tokens;
            level.push_slot(Slot {
                always: always(&e.fields, &tokens),
                // A place is read by reference; a computed value (a slot's output …) moves.
                code: if crate::call::is_place(&tokens) {
                    quote!(::livewasm_sdk::__dyn(&(#tokens)))
                } else {
                    quote!({
                        #[allow(unused_imports)]
                        use ::livewasm_sdk::{__ViaMove as _, __ViaRef as _};
                        (::livewasm_sdk::__Val(#tokens)).__lw_dyn()
                    })
                },
                fields: e.fields,
            });
        }
        Node::Element(element)
            if crate::live_call::is_live_component(element)
                && element.for_expr.is_none()
                && element.if_expr.is_none() =>
        {
            level.push_slot(crate::live_call::live_component(element, span)?);
        }
        Node::Element(element)
            if element.component().is_some() && !crate::live_call::is_live_component(element) =>
        {
            level.push_slot(crate::call::call(element, span, fragment)?);
        }
        Node::Element(element) if element.slot().is_some() => {
            return Err(err(
                span,
                format!(
                    "{}: <{}> must be directly inside a component call such as <.table>",
                    crate::place::describe(element.line, element.column),
                    element.name
                ),
            ));
        }
        Node::Element(element) if element.for_expr.is_some() => {
            level.push_slot(comprehension(element, span)?);
        }
        Node::Element(element) if element.if_expr.is_some() => {
            level.push_slot(conditional(element, span)?);
        }
        Node::Element(element) => emit_element(level, element, span)?,
    }
    Ok(())
}

/// Writes an element inline into `level`.
fn emit_element(level: &mut Level, element: &Element, span: Span) -> syn::Result<()> {
    level.current.push('<');
    level.current.push_str(&element.name);
    for attr in &element.attrs {
        match attr {
            Attr::Static { name, value: None } => {
                level.current.push(' ');
                level.current.push_str(name);
            }
            Attr::Static {
                name,
                value: Some(value),
            } => {
                level.current.push(' ');
                level.current.push_str(name);
                level.current.push_str("=\"");
                level.current.push_str(&value.replace('"', "&quot;"));
                level.current.push('"');
            }
            Attr::Dynamic { name, expr: text } => {
                let e = expr(text).map_err(|m| err(span, format!("attribute {name}: {m}")))?;
                let tokens = e.tokens;
                level.push_slot(Slot {
                    always: always(&e.fields, &tokens),
                    code: quote!(::livewasm_sdk::Dyn::attr(#name, &(#tokens))),
                    fields: e.fields,
                });
            }
            Attr::Spread { expr: text } => {
                let e = expr(text).map_err(|m| err(span, format!("spread {{{text}}}: {m}")))?;
                let tokens = e.tokens;
                level.push_slot(Slot {
                    always: always(&e.fields, &tokens),
                    code: quote!(::livewasm_sdk::Dyn::spread(&(#tokens))),
                    fields: e.fields,
                });
            }
        }
    }
    if element.self_closed && !element.void {
        level.current.push_str("/>");
        return Ok(());
    }
    level.current.push('>');
    if element.void {
        return Ok(());
    }
    for child in &element.children {
        emit(level, child, span)?;
    }
    level.current.push_str("</");
    level.current.push_str(&element.name);
    level.current.push('>');
    Ok(())
}

/// A nested template for one element (without its special attributes), rendered in full.
fn nested(element: &Element, span: Span) -> syn::Result<Nested> {
    let plain = Element {
        if_expr: None,
        for_expr: None,
        key_expr: None,
        let_pattern: None,
        ..element.clone()
    };
    let mut level = Level::default();
    let live = crate::live_call::is_live_component(&plain);
    if live {
        // Phoenix's shape: the entry (or the branch) is the component alone.
        level.push_slot(crate::live_call::live_component(&plain, span)?);
    } else {
        emit_element(&mut level, &plain, span)?;
    }
    let (statics, slots) = level.finish();
    let template = template_static(&statics, !live);
    let mut fields = Vec::new();
    let mut always = false;
    let codes: Vec<TokenStream> = slots
        .into_iter()
        .map(|slot| {
            merge(&mut fields, slot.fields);
            always |= slot.always;
            slot.code
        })
        .collect();
    Ok(Nested {
        template,
        dynamics: quote!(::std::vec![#(#codes),*]),
        fields,
        always,
    })
}

/// A nested template being generated (see [`nested`]).
struct Nested {
    /// The `static` of its template.
    template: TokenStream,
    /// An expression building its dynamics.
    dynamics: TokenStream,
    /// Assigns read anywhere in it.
    fields: Vec<String>,
    /// True when something in it must always render.
    always: bool,
}

fn conditional(element: &Element, span: Span) -> syn::Result<Slot> {
    let condition_text = element.if_expr.as_deref().unwrap_or("true");
    let condition = expr(condition_text).map_err(|m| err(span, format!(":if: {m}")))?;
    let Nested {
        template,
        dynamics,
        mut fields,
        always,
        ..
    } = nested(element, span)?;
    let cond = condition.tokens;
    let always = always || self::always(&condition.fields, &cond);
    merge(&mut fields, condition.fields);
    Ok(Slot {
        code: quote! {{
            #template
            if #cond {
                ::livewasm_sdk::Dyn::Node(::livewasm_sdk::Rendered::new(&__LW_TEMPLATE, #dynamics))
            } else {
                ::livewasm_sdk::Dyn::empty()
            }
        }},
        fields,
        always,
    })
}

fn comprehension(element: &Element, span: Span) -> syn::Result<Slot> {
    let (pattern_text, source_text) = element.for_expr.clone().unwrap_or_default();
    let pat = pattern(&pattern_text).map_err(|m| err(span, format!(":for: {m}")))?;
    let source = expr(&source_text).map_err(|m| err(span, format!(":for: {m}")))?;
    // Inside a `:let` slot or another `:for`, entries may read names bound there, which are
    // neither assigns nor the item: such a comprehension never keeps entries.
    let nested_in_bindings = crate::slot::in_bindings();
    let Nested {
        template,
        dynamics,
        mut fields,
        mut always,
    } = with_bound(&pat, || nested(element, span))?;
    // What the entries read, before the source, key and filter join in.
    let entry_fields = fields.clone();
    let entry_always = always;
    let site = site_id(
        &template,
        &dynamics,
        &pattern_text,
        element.key_expr.as_deref(),
    );
    merge(&mut fields, source.fields.clone());
    // A plain place (`@items`, `items`) is iterated by reference, like HEEx does.
    let parsed: Option<syn::Expr> = syn::parse2(source.tokens.clone()).ok();
    let source_tokens = source.tokens;
    let iter = match parsed {
        Some(syn::Expr::Field(_) | syn::Expr::Path(_)) => quote!(&(#source_tokens)),
        _ => quote!(#source_tokens),
    };
    if source.fields.is_empty() {
        always = true;
    }
    let key = match &element.key_expr {
        Some(text) => {
            let k = expr(text).map_err(|m| err(span, format!(":key: {m}")))?;
            merge(&mut fields, k.fields);
            let tokens = k.tokens;
            quote!(::livewasm_sdk::__key(&(#tokens)))
        }
        None => quote!(::core::option::Option::None),
    };
    // A keyed comprehension whose entries read only their item and assigns may send an entry
    // unchanged without evaluating it (guest-sdk/src/keep.rs).
    let keyed = element.key_expr.is_some() && !entry_always && !nested_in_bindings;
    let filter = match &element.if_expr {
        Some(text) => {
            let c = expr(text).map_err(|m| err(span, format!(":if: {m}")))?;
            merge(&mut fields, c.fields);
            c.tokens
        }
        None => quote!(true),
    };
    let body = if keyed {
        let outer = if entry_fields.is_empty() {
            quote!(true)
        } else {
            let bits = entry_fields.iter().map(|f| quote!(assigns.__lw_bit(#f)));
            quote!(::livewasm_sdk::__outer_unchanged(assigns.__changed(), 0u128 #(| #bits)*))
        };
        quote! {
            let mut __lw_keep = ::livewasm_sdk::__Keep::begin(#site, __lw_stream.is_none() && #outer);
            let mut __lw_entries = ::std::vec::Vec::new();
            {
                let __lw_scope = ::livewasm_sdk::__EntriesScope::enter();
                for __lw_item in __lw_source {
                    let __lw_fp = {
                        #[allow(unused_imports)]
                        use ::livewasm_sdk::{__FpNone as _, __FpSome as _};
                        (&::livewasm_sdk::__Fp(&__lw_item)).__lw_fp()
                    };
                    let #pat = __lw_item;
                    if #filter {
                        let __lw_key = #key;
                        if __lw_keep.keeps(&__lw_key, __lw_fp) {
                            __lw_entries.push(::livewasm_sdk::Entry::__kept(__lw_key, __lw_fp));
                        } else {
                            __lw_entries.push(::livewasm_sdk::Entry::__tracked(__lw_key, #dynamics, __lw_fp));
                        }
                    }
                }
                drop(__lw_scope);
            }
            __lw_keep.finish(&__LW_TEMPLATE, __lw_entries, __lw_stream)
        }
    } else {
        quote! {
            let mut __lw_entries = ::std::vec::Vec::new();
            {
                let __lw_scope = ::livewasm_sdk::__EntriesScope::enter();
                for #pat in __lw_source {
                    if #filter {
                        __lw_entries.push(::livewasm_sdk::Entry::new(#key, #dynamics));
                    }
                }
                drop(__lw_scope);
            }
            ::livewasm_sdk::__for_list(&__LW_TEMPLATE, __lw_entries, __lw_stream)
        }
    };
    Ok(Slot {
        code: quote! {{
            #template
            // Streams (S): a `:for` over a `Stream` carries the stream's operations, taken
            // before iterating; any other source gives `None` (autoref specialization in
            // guest-sdk/src/stream.rs). `match` keeps the source's temporaries alive.
            match #iter {
                __lw_source => {
                    let __lw_stream = {
                        #[allow(unused_imports)]
                        use ::livewasm_sdk::{__PlainSource as _, __StreamSource as _};
                        (&::livewasm_sdk::__ForSource(&__lw_source)).__lw_stream_ops()
                    };
                    #body
                }
            }
        }},
        fields,
        always,
    })
}

/// A nested template for a list of nodes (a slot's content), rendered in full: an expression
/// producing a `Rendered`, the assigns it reads, and whether it must always render.
pub(crate) fn fragment(
    nodes: &[Node],
    span: Span,
) -> syn::Result<(TokenStream, Vec<String>, bool)> {
    let nodes = trim(nodes);
    let root = matches!(nodes.as_slice(), [Node::Element(e)] if e.if_expr.is_none() && e.for_expr.is_none() && e.component().is_none());
    let mut level = Level::default();
    for node in &nodes {
        emit(&mut level, node, span)?;
    }
    let (statics, slots) = level.finish();
    let template = template_static(&statics, root);
    let mut fields = Vec::new();
    let mut always = false;
    let codes: Vec<TokenStream> = slots
        .into_iter()
        .map(|slot| {
            merge(&mut fields, slot.fields);
            always |= slot.always;
            slot.code
        })
        .collect();
    Ok((
        quote! {{
            #template
            ::livewasm_sdk::Rendered::new(&__LW_TEMPLATE, ::std::vec![#(#codes),*])
        }},
        fields,
        always,
    ))
}
