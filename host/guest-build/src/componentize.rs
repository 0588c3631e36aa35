//! Turning a compiled core module into a component.

use crate::BuildError;

/// Turns a core module built with the SDK (it carries its component type in a custom
/// section) into a validated component.
///
/// # Errors
/// [`BuildError::Componentize`] when the module carries no component type (it was not built
/// with `livewasm-sdk`) or the encoding fails.
pub fn componentize(core: &[u8]) -> Result<Vec<u8>, BuildError> {
    let mut encoder = wit_component::ComponentEncoder::default()
        .module(core)
        .map_err(|e| {
            BuildError::Componentize(format!(
                "the module carries no component type (was it built with the SDK?): {e:#}"
            ))
        })?
        .validate(true);
    let component = encoder
        .encode()
        .map_err(|e| BuildError::Componentize(format!("{e:#}")))?;
    if component.is_empty() {
        return Err(BuildError::Componentize("empty component".into()));
    }
    Ok(component)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_core_module_becomes_a_component_and_garbage_is_refused_clearly() {
        // The smallest valid core module (magic, version 1): a component with nothing in it.
        let component = componentize(b"\0asm\x01\0\0\0").expect("a component");
        assert_eq!(&component[..8], b"\0asm\x0d\x00\x01\x00");
        let error = componentize(b"not wasm").expect_err("not a module");
        assert!(matches!(error, BuildError::Componentize(_)), "{error}");
        assert!(error.to_string().contains("built with the SDK"), "{error}");
    }
}
