//! Host bindings generated from `wit/view.wit`.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "view",
});
