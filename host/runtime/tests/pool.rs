//! One instance takes one slot: a component declaring more linear memories (or core
//! instances) than one instance may have is refused when it is loaded, and every guest this
//! repository builds fits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_runtime::{
    MAX_CORE_INSTANCES_PER_COMPONENT, MAX_MEMORIES_PER_COMPONENT, Runtime, RuntimeConfig,
    RuntimeError,
};
use wasm_encoder::{
    Component, InstanceSection, MemorySection, MemoryType, Module, ModuleArg, ModuleSection,
};

fn runtime() -> Runtime {
    Runtime::new(RuntimeConfig {
        max_instances: 4,
        ..RuntimeConfig::default()
    })
    .unwrap()
}

/// A component instantiating `instances` copies of a core module with `memories` memories.
fn component(memories: u32, instances: u32) -> Vec<u8> {
    let mut module = Module::new();
    let mut section = MemorySection::new();
    for _ in 0..memories {
        section.memory(MemoryType {
            minimum: 1,
            maximum: Some(1),
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
    }
    module.section(&section);
    let mut component = Component::new();
    component.section(&ModuleSection(&module));
    let mut section = InstanceSection::new();
    for _ in 0..instances {
        section.instantiate(0, Vec::<(&str, ModuleArg)>::new());
    }
    component.section(&section);
    component.finish()
}

fn refusal(wasm: &[u8]) -> String {
    match runtime().load_app(wasm) {
        Err(RuntimeError::Compile(message)) => message,
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("loaded"),
    }
}

#[test]
fn a_component_with_two_memories_is_refused_at_load() {
    assert_eq!(MAX_MEMORIES_PER_COMPONENT, 1);
    let message = refusal(&component(2, 1));
    assert!(message.contains("memor"), "{message}");
    // Two instances of a one-memory module: two memories as well.
    let message = refusal(&component(1, 2));
    assert!(message.contains("memor"), "{message}");
}

#[test]
fn a_component_with_too_many_core_instances_is_refused_at_load() {
    let message = refusal(&component(0, MAX_CORE_INSTANCES_PER_COMPONENT + 1));
    assert!(message.contains("instance"), "{message}");
}

#[test]
fn every_built_guest_fits_one_slot() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/components");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("no components built: run `cargo xtask build`");
        return;
    };
    let runtime = runtime();
    for entry in entries {
        let path = entry.unwrap().path();
        // A fixture built to be refused at load (an asset past the size limit).
        if path.file_stem().is_some_and(|stem| stem == "big-assets") {
            continue;
        }
        let wasm = std::fs::read(&path).unwrap();
        if let Err(error) = runtime.load_app(&wasm) {
            panic!("{}: {error}", path.display());
        }
    }
}
