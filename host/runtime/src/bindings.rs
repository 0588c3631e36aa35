//! Host bindings generated from `wit/view.wit`.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "view",
    // Every import may trap: a call past the callback's budget (`capabilities/budget.rs`)
    // ends the callback instead of queueing more.
    imports: { default: trappable },
});
