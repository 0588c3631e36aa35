//! What the profiling examples share: a built component loaded into a runtime, and the
//! connected mount of its first route.

use livewasm_runtime::{App, MountRequest, Runtime, RuntimeConfig};
use serde_json::json;

/// Component `name` (from `$LIVEWASM_COMPONENTS`, else `target/components`) loaded into a
/// runtime made with `config`; the runtime, the app, and the connected mount request of its
/// first route (`?house=3&tick=off`, the thermostat's quiet page).
pub fn load(name: &str, config: RuntimeConfig) -> (Runtime, App, MountRequest) {
    let dir = std::env::var_os("LIVEWASM_COMPONENTS").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/components"),
        std::path::PathBuf::from,
    );
    let wasm = std::fs::read(dir.join(format!("{name}.wasm"))).expect("built component");
    let runtime = Runtime::new(config).expect("runtime");
    let app = runtime.load_app(&wasm).expect("load");
    let route = app.manifest().routes[0].clone();
    let request = MountRequest {
        view: route.view.clone(),
        action: route.action.clone(),
        params: json!({"house": "3", "tick": "off"}),
        session: json!({}),
        url: format!("http://localhost{}?house=3&tick=off", route.path),
        connected: true,
        live_session: route.live_session.clone(),
        flash: json!({}),
    };
    (runtime, app, request)
}
