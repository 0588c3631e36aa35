//! Guest bindings generated from `wit/view.wit` (internal: users go through the SDK).

wit_bindgen::generate!({
    path: "../wit",
    world: "hibernating-view",
    pub_export_macro: true,
    export_macro_name: "__export_view",
    default_bindings_module: "livewasm_sdk::bindings",
    // `sql::Value` is compared in user code and tests.
    additional_derives: [PartialEq],
});
