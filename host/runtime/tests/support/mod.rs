//! What the runtime's guest tests share: loading a built component.

use livewasm_runtime::{App, Runtime};

/// Loads component `name` from `LIVEWASM_COMPONENTS` (default `target/components`, which
/// `cargo xtask build` writes).
pub fn load(runtime: &Runtime, name: &str) -> App {
    let dir = std::env::var_os("LIVEWASM_COMPONENTS").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/components"),
        std::path::PathBuf::from,
    );
    let path = dir.join(format!("{name}.wasm"));
    let wasm = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{path:?}: {e} — build it with `cargo xtask build {name}`"));
    runtime
        .load_app(&wasm)
        .unwrap_or_else(|e| panic!("loading {name}: {e}"))
}
