//! `#[derive(Fingerprint)]`: feeds every field of a struct to the hasher, so a keyed `:for`
//! can tell an unchanged loop item from a changed one without rendering it.

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn derive(input: TokenStream) -> syn::Result<TokenStream> {
    let input: syn::DeriveInput = syn::parse2(input)?;
    let name = &input.ident;
    let syn::Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(Fingerprint)] works on structs; implement `Fingerprint` by hand for enums",
        ));
    };
    let fields = data.fields.iter().enumerate().map(|(i, field)| {
        let member = match &field.ident {
            Some(ident) => quote!(#ident),
            None => {
                let index = syn::Index::from(i);
                quote!(#index)
            }
        };
        quote!(::core::hash::Hash::hash(&self.#member, state);)
    });
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::livewasm_sdk::Fingerprint for #name #ty_generics #where_clause {
            fn fingerprint<__H: ::core::hash::Hasher>(&self, state: &mut __H) {
                #(#fields)*
            }
        }
    })
}
