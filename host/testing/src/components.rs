//! Finding the guest components that `cargo xtask build` produced.

use std::path::PathBuf;

use crate::HarnessError;

/// The directory holding built components: `$LIVEWASM_COMPONENTS`, else the workspace's
/// `target/components`.
fn components_dir() -> PathBuf {
    match std::env::var_os("LIVEWASM_COMPONENTS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/components"),
    }
}

/// The path of the built component for guest crate `name`, or an error telling how to build it.
pub fn component_path(name: &str) -> Result<PathBuf, HarnessError> {
    let path = components_dir().join(format!("{name}.wasm"));
    if path.is_file() {
        Ok(path)
    } else {
        Err(HarnessError::MissingComponent {
            name: name.to_string(),
            path,
        })
    }
}
