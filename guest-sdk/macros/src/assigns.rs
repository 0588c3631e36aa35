//! `#[derive(Assigns)]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields};

pub(crate) fn derive(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let name = &input.ident;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(Assigns)] needs a struct with named fields",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(Assigns)] needs a struct with named fields",
        ));
    };
    if fields.named.len() > 128 {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(Assigns)] tracks at most 128 fields: group some into a nested struct",
        ));
    }
    // Phoenix reserves these assigns too: templates read them from the socket.
    for field in &fields.named {
        if let Some(ident) = &field.ident {
            let name = ident.to_string();
            if crate::expr::SOCKET_NAMES.contains(&name.as_str()) {
                return Err(syn::Error::new_spanned(
                    ident,
                    format!(
                        "`{name}` is a reserved assign (as in Phoenix): templates read the socket's own as @{name}; name this field otherwise"
                    ),
                ));
            }
        }
    }
    let arms = fields.named.iter().enumerate().map(|(i, f)| {
        let field = f
            .ident
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let bit = 1u128 << i;
        quote! { #field => #bit, }
    });
    // Only fields marked `#[on_mount]` deserialize a hook's value: each field type's
    // deserializer costs binary size, which views without hooks should not pay.
    let setters = fields
        .named
        .iter()
        .enumerate()
        .filter(|(_, f)| f.attrs.iter().any(|a| a.path().is_ident("on_mount")))
        .map(|(i, f)| {
            let ident = f.ident.as_ref();
            let field = ident.map(ToString::to_string).unwrap_or_default();
            let ty = &f.ty;
            let bit = 1u128 << i;
            quote! {
                #field => {
                    self.#ident = ::livewasm_sdk::__from_hook::<#ty>(value)?;
                    ::core::option::Option::Some(#bit)
                }
            }
        });
    let count = fields.named.len() as u32;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::livewasm_sdk::Assigns for #name #ty_generics #where_clause {
            const FIELDS: u32 = #count;

            fn __lw_set_json(
                &mut self,
                name: &str,
                value: &::livewasm_sdk::Value,
            ) -> ::core::option::Option<u128> {
                let _ = value;
                match name {
                    #(#setters)*
                    _ => ::core::option::Option::None,
                }
            }

            fn __lw_snapshot(&self) -> ::core::option::Option<::livewasm_sdk::Value> {
                #[allow(unused_imports)]
                use ::livewasm_sdk::hibernate::{__SnapNone as _, __SnapSerde as _};
                (&&::livewasm_sdk::hibernate::__Snap(self)).__lw_snap()
            }

            fn __lw_restore(value: ::livewasm_sdk::Value) -> ::core::option::Option<Self> {
                #[allow(unused_imports)]
                use ::livewasm_sdk::hibernate::{__RestoreNone as _, __RestoreSerde as _};
                (&&::livewasm_sdk::hibernate::__Restore::<Self>(::core::marker::PhantomData))
                    .__lw_restore(value)
            }
        }

        impl #impl_generics #name #ty_generics #where_clause {
            /// The change-tracking bit of field `name` (every bit for an unknown name).
            #[doc(hidden)]
            #[inline(always)]
            pub fn __lw_bit(&self, name: &str) -> u128 {
                match name {
                    #(#arms)*
                    _ => u128::MAX,
                }
            }
        }
    })
}
