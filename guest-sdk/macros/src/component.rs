//! `#[component]`: a function component with declared, typed attributes and slots, callable
//! from templates as `<.name …>`.
//!
//! Next to the function it emits a module of the same name holding a `Props` builder (one
//! method per attribute and slot), `__render` (calls the function), and the `const fn`s the call
//! site evaluates at compile time to reject unknown attributes or slots and missing required ones.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{FnArg, GenericParam, ItemFn, Pat, Type};

/// HTML global attributes a `#[attr(rest)]` bag takes (besides any name with a `-`).
const GLOBAL: &[&str] = &[
    "id",
    "class",
    "style",
    "title",
    "role",
    "tabindex",
    "hidden",
    "lang",
    "dir",
    "accesskey",
    "autofocus",
    "draggable",
    "spellcheck",
    "translate",
    "inert",
    "popover",
    "autocapitalize",
    "contenteditable",
    "enterkeyhint",
    "inputmode",
    "nonce",
];

enum Fallback {
    /// Required: the call must give it.
    Required,
    /// `Default::default()` (also every `Option<…>` attribute).
    Default,
    /// `#[attr(default = expr)]`.
    Expr(Box<syn::Expr>),
}

enum SlotKind {
    Required,
    Optional,
    Many,
}

enum Kind {
    Attr(Fallback),
    Rest(Vec<String>),
    Slot(SlotKind, Box<Type>),
}

struct Param {
    ident: syn::Ident,
    name: String,
    ty: Type,
    kind: Kind,
}

/// The lifetime and argument type of `Slot<'a, A>` (`()` when `A` is left out).
fn slot_parts(ty: &Type) -> syn::Result<(TokenStream, TokenStream)> {
    let bad = || {
        syn::Error::new_spanned(
            ty,
            "#[slot] parameters are Slot<'a, A>, Option<Slot<'a, A>> or Vec<Slot<'a, A>> (A = what :let binds, () for nothing)",
        )
    };
    let Type::Path(path) = ty else {
        return Err(bad());
    };
    let last = path.path.segments.last().ok_or_else(bad)?;
    if last.ident != "Slot" {
        return Err(bad());
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return Err(syn::Error::new_spanned(
            ty,
            "a slot needs a lifetime: Slot<'a> (declare 'a on the component: fn name<'a>(…))",
        ));
    };
    let mut lifetime = None;
    let mut arg = quote!(());
    for a in &args.args {
        match a {
            syn::GenericArgument::Lifetime(l) => lifetime = Some(quote!(#l)),
            syn::GenericArgument::Type(t) => arg = quote!(#t),
            _ => return Err(bad()),
        }
    }
    let lifetime = lifetime.ok_or_else(|| {
        syn::Error::new_spanned(
            ty,
            "a slot needs a lifetime: Slot<'a> (declare 'a on the component: fn name<'a>(…))",
        )
    })?;
    Ok((lifetime, arg))
}

/// The generic argument of `Option<…>` or `Vec<…>` when `ty` is one.
fn wrapped<'t>(ty: &'t Type, wrapper: &str) -> Option<&'t Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

fn params(item: &mut ItemFn) -> syn::Result<Vec<Param>> {
    let mut out = Vec::new();
    for arg in &mut item.sig.inputs {
        let FnArg::Typed(typed) = arg else {
            return Err(syn::Error::new_spanned(
                arg,
                "#[component] functions take no `self`",
            ));
        };
        let Pat::Ident(pat) = &*typed.pat else {
            return Err(syn::Error::new_spanned(
                &typed.pat,
                "#[component] parameters must be plain names: they are the attribute names",
            ));
        };
        let ident = pat.ident.clone();
        let name = ident.to_string().trim_start_matches("r#").to_string();
        let ty = (*typed.ty).clone();
        let mut kind = None;
        let mut kept = Vec::new();
        for attr in typed.attrs.drain(..) {
            if attr.path().is_ident("slot") {
                let slot = if let Some(inner) = wrapped(&ty, "Option") {
                    Kind::Slot(SlotKind::Optional, Box::new(inner.clone()))
                } else if let Some(inner) = wrapped(&ty, "Vec") {
                    Kind::Slot(SlotKind::Many, Box::new(inner.clone()))
                } else {
                    Kind::Slot(SlotKind::Required, Box::new(ty.clone()))
                };
                kind = Some(slot);
            } else if attr.path().is_ident("attr") {
                let mut default = Fallback::Required;
                let mut rest = None;
                if !matches!(attr.meta, syn::Meta::Path(_)) {
                    attr.parse_nested_meta(|meta| {
                        if meta.path.is_ident("default") {
                            default = if meta.input.peek(syn::Token![=]) {
                                Fallback::Expr(Box::new(meta.value()?.parse()?))
                            } else {
                                Fallback::Default
                            };
                            Ok(())
                        } else if meta.path.is_ident("rest") {
                            rest.get_or_insert_with(Vec::new);
                            Ok(())
                        } else if meta.path.is_ident("include") {
                            let names: syn::LitStr = meta.value()?.parse()?;
                            rest.get_or_insert_with(Vec::new)
                                .extend(names.value().split_whitespace().map(String::from));
                            Ok(())
                        } else {
                            Err(meta.error(
                                "#[attr(…)] takes `default`, `default = expr`, `rest` or `include = \"name …\"`",
                            ))
                        }
                    })?;
                }
                kind = Some(match rest {
                    Some(include) => Kind::Rest(include),
                    None => Kind::Attr(default),
                });
            } else {
                kept.push(attr);
            }
        }
        typed.attrs = kept;
        let kind = kind.unwrap_or_else(|| {
            if wrapped(&ty, "Option").is_some() {
                Kind::Attr(Fallback::Default)
            } else {
                Kind::Attr(Fallback::Required)
            }
        });
        let kind = match kind {
            Kind::Attr(Fallback::Required) if wrapped(&ty, "Option").is_some() => {
                Kind::Attr(Fallback::Default)
            }
            other => other,
        };
        out.push(Param {
            ident,
            name,
            ty,
            kind,
        });
    }
    Ok(out)
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    if !attr.is_empty() {
        return Err(syn::Error::new_spanned(
            attr,
            "#[component] takes no arguments: declare attributes as parameters",
        ));
    }
    let mut item: ItemFn = syn::parse2(item)?;
    let params = params(&mut item)?;
    // A component takes one parameter per attribute and names the lifetime its Props need.
    item.attrs
        .push(syn::parse_quote!(#[allow(clippy::too_many_arguments, clippy::needless_lifetimes)]));
    let name = item.sig.ident.clone();
    let label = format!("<.{name}>");
    let vis = &item.vis;
    let generics = &item.sig.generics;
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let markers = generics.params.iter().filter_map(|p| match p {
        GenericParam::Lifetime(l) => {
            let l = &l.lifetime;
            Some(quote!(&#l ()))
        }
        GenericParam::Type(t) => {
            let t = &t.ident;
            Some(quote!(fn() -> #t))
        }
        GenericParam::Const(_) => None,
    });

    let mut fields = Vec::new();
    let mut inits = Vec::new();
    let mut setters = Vec::new();
    let mut args = Vec::new();
    let mut attr_names = Vec::new();
    let mut slot_names = Vec::new();
    let mut required = Vec::new();
    let mut rest_accepts = None;
    for param in &params {
        let Param {
            ident,
            name: pname,
            ty,
            kind,
        } = param;
        match kind {
            Kind::Attr(default) => {
                attr_names.push(pname.clone());
                fields.push(quote!(#ident: ::core::option::Option<#ty>));
                inits.push(quote!(#ident: ::core::option::Option::None));
                setters.push(quote! {
                    pub fn #ident(mut self, value: impl ::livewasm_sdk::components::IntoProp<#ty>) -> Self {
                        self.#ident = ::core::option::Option::Some(value.into_prop());
                        self
                    }
                });
                let message = format!(
                    "{label} needs the attribute `{pname}`: add {pname}=\"…\" or {pname}={{…}} to the call"
                );
                args.push(match default {
                    Fallback::Required => {
                        required.push(quote! {
                            if !::livewasm_sdk::components::__contains(passed, #pname) { ::core::panic!("{}", #message) }
                        });
                        quote!(match self.#ident {
                            ::core::option::Option::Some(value) => value,
                            ::core::option::Option::None => ::core::panic!("{}", #message),
                        })
                    }
                    Fallback::Default => quote!(self.#ident.unwrap_or_default()),
                    Fallback::Expr(e) => quote!(self.#ident.unwrap_or_else(|| #e)),
                });
            }
            Kind::Rest(include) => {
                let mut accepted: Vec<String> = GLOBAL.iter().map(|s| s.to_string()).collect();
                accepted.extend(include.iter().cloned());
                rest_accepts = Some(accepted.clone());
                fields.push(quote!(#ident: #ty));
                inits.push(quote!(#ident: ::core::default::Default::default()));
                args.push(quote!(self.#ident));
                setters.push(quote! {
                    pub fn __rest(mut self, name: &str, value: &(impl ::livewasm_sdk::ToAttrVal + ?Sized)) -> Self {
                        let _ = self.#ident.set(name, value);
                        self
                    }
                    pub fn __spread(mut self, attrs: &::livewasm_sdk::Attrs) -> Self {
                        for (name, value) in attrs.iter() {
                            let _ = self.#ident.set(name, value);
                        }
                        self
                    }
                });
                for global in &accepted {
                    if params.iter().any(|p| &p.name == global) {
                        continue;
                    }
                    if let Some(method) = crate::call::ident_for(global) {
                        setters.push(quote! {
                            pub fn #method(self, value: impl ::livewasm_sdk::ToAttrVal) -> Self {
                                self.__rest(#global, &value)
                            }
                        });
                    }
                }
            }
            Kind::Slot(slot_kind, inner) => {
                slot_names.push(pname.clone());
                let (lifetime, arg) = slot_parts(inner)?;
                match slot_kind {
                    SlotKind::Many => {
                        fields.push(quote!(#ident: #ty));
                        inits.push(quote!(#ident: ::std::vec::Vec::new()));
                        setters.push(quote! {
                            pub fn #ident(
                                mut self,
                                attrs: ::livewasm_sdk::Attrs,
                                content: impl Fn(#arg) -> ::livewasm_sdk::Rendered + #lifetime,
                            ) -> Self {
                                self.#ident.push(::livewasm_sdk::components::Slot::new(attrs, content));
                                self
                            }
                        });
                        args.push(quote!(self.#ident));
                    }
                    SlotKind::Optional | SlotKind::Required => {
                        fields.push(quote!(#ident: ::core::option::Option<#inner>));
                        inits.push(quote!(#ident: ::core::option::Option::None));
                        setters.push(quote! {
                            pub fn #ident(
                                mut self,
                                attrs: ::livewasm_sdk::Attrs,
                                content: impl Fn(#arg) -> ::livewasm_sdk::Rendered + #lifetime,
                            ) -> Self {
                                self.#ident = ::core::option::Option::Some(
                                    ::livewasm_sdk::components::Slot::new(attrs, content),
                                );
                                self
                            }
                        });
                        if matches!(slot_kind, SlotKind::Optional) {
                            args.push(quote!(self.#ident));
                        } else {
                            let message = if pname == "inner_block" {
                                format!(
                                    "{label} needs inner content: put it between {label} and </.{name}>"
                                )
                            } else {
                                format!(
                                    "{label} needs a <:{pname}> slot: add <:{pname}>…</:{pname}> inside the call"
                                )
                            };
                            required.push(quote! {
                                if !::livewasm_sdk::components::__contains(passed, #pname) { ::core::panic!("{}", #message) }
                            });
                            args.push(quote!(match self.#ident {
                                ::core::option::Option::Some(slot) => slot,
                                ::core::option::Option::None => ::core::panic!("{}", #message),
                            }));
                        }
                    }
                }
            }
        }
    }
    let has_rest = rest_accepts.is_some();
    let rest_names = rest_accepts.unwrap_or_default();
    let rest_check = if has_rest {
        quote!(|| ::livewasm_sdk::components::__rest_accepts(name, &[#(#rest_names),*]))
    } else {
        quote!()
    };
    let props_doc = format!("The attributes and slots of {label}, as its call sites set them.");
    let module_doc = format!("Call support for the function component {label}.");
    let struct_ident = format_ident!("Props");

    Ok(quote! {
        #item

        #[doc = #module_doc]
        #[doc(hidden)]
        #[allow(non_camel_case_types, non_snake_case, unused_imports, missing_docs, private_interfaces, private_bounds, clippy::all)]
        #vis mod #name {
            use super::*;

            #[doc = #props_doc]
            pub struct #struct_ident #generics #where_clause {
                #(#fields,)*
                __lw_marker: ::core::marker::PhantomData<(#(#markers,)*)>,
            }

            impl #impl_generics #struct_ident #ty_generics #where_clause {
                /// No attribute set yet.
                pub fn __new() -> Self {
                    #struct_ident {
                        #(#inits,)*
                        __lw_marker: ::core::marker::PhantomData,
                    }
                }

                #(#setters)*

                /// Applies `set` when `condition` holds (a slot entry with `:if`).
                pub fn __when(self, condition: bool, set: impl FnOnce(Self) -> Self) -> Self {
                    if condition { set(self) } else { self }
                }

                /// Calls the component.
                pub fn __render(self) -> ::livewasm_sdk::Rendered {
                    super::#name(#(#args),*)
                }
            }

            /// True for the attribute names the component takes.
            pub const fn __accepts(name: &str) -> bool {
                false #(|| ::livewasm_sdk::components::__str_eq(name, #attr_names))* #rest_check
            }

            /// True for the slot names the component takes (`inner_block` for content).
            pub const fn __accepts_slot(name: &str) -> bool {
                false #(|| ::livewasm_sdk::components::__str_eq(name, #slot_names))*
            }

            /// True when the component spreads a `rest` bag.
            pub const __HAS_REST: bool = #has_rest;

            /// Fails compilation when a required attribute or slot is missing from `passed`.
            pub const fn __require(passed: &[&str]) {
                let _ = passed;
                #(#required)*
            }
        }
    })
}
