//! `livewasm new`: the standalone view crate it writes, its refusals, and that the crate
//! builds (`cargo check`, host target) against this checkout's SDK.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// This checkout's root.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn livewasm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_livewasm"))
        .args(args)
        .output()
        .expect("running livewasm")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Makes crate `name` in a fresh temp dir; returns the dir (kept while the handle lives).
fn scaffold(name: &str) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join(name);
    let dir_arg = dir.to_string_lossy().into_owned();
    let output = livewasm(&["new", name, "--path", &dir_arg]);
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert!(text(&output.stdout).contains("cargo test"));
    (temp, dir)
}

#[test]
fn new_writes_a_standalone_crate_and_refuses_to_overwrite() {
    let (_temp, dir) = scaffold("hello-view");
    let manifest = read(&dir.join("Cargo.toml"));
    assert!(manifest.contains("name = \"hello-view\""), "{manifest}");
    assert!(manifest.contains("\n[workspace]\n"), "{manifest}");
    assert!(
        manifest.contains("crate-type = [\"cdylib\", \"rlib\"]"),
        "{manifest}"
    );
    let sdk = std::fs::canonicalize(repo_root().join("guest-sdk")).expect("the SDK");
    assert!(
        manifest.contains(&format!(
            "livewasm-sdk = {{ path = \"{}\" }}",
            sdk.display()
        )),
        "{manifest}"
    );
    let lib = read(&dir.join("src/lib.rs"));
    assert!(lib.contains("pub struct HelloViewLive"), "{lib}");
    assert!(lib.contains("html!("), "{lib}");
    assert!(lib.contains("\"/hello-view\" => HelloViewLive;"), "{lib}");
    let test = read(&dir.join("tests/hello-view.rs"));
    assert!(test.contains("const APP: &str = \"hello-view\";"), "{test}");
    let readme = read(&dir.join("README.md"));
    assert!(
        readme.contains("--target wasm32-unknown-unknown"),
        "{readme}"
    );
    assert!(readme.contains("release/hello_view.wasm"), "{readme}");
    assert!(read(&dir.join(".cargo/config.toml")).contains("LIVEWASM_COMPONENTS"));
    assert!(dir.join(".gitignore").is_file());

    // Again into the same directory: refused, nothing touched.
    std::fs::write(dir.join("src/lib.rs"), "// mine").expect("edit");
    let again = livewasm(&["new", "hello-view", "--path", &dir.to_string_lossy()]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("already exists"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(read(&dir.join("src/lib.rs")), "// mine");
}

#[test]
fn new_refuses_bad_names_and_a_missing_sdk() {
    let temp = tempfile::tempdir().expect("temp dir");
    for bad in ["Hello", "hello_view", "1st", "fn", "a/b"] {
        let path = temp.path().join("x").to_string_lossy().into_owned();
        let output = livewasm(&["new", bad, "--path", &path]);
        assert!(!output.status.success(), "{bad}");
        assert!(
            text(&output.stderr).contains("invalid name"),
            "{bad}: {}",
            text(&output.stderr)
        );
        assert!(!temp.path().join("x").exists(), "{bad}");
    }
    let path = temp.path().join("y").to_string_lossy().into_owned();
    let missing = temp.path().join("no-sdk").to_string_lossy().into_owned();
    let output = livewasm(&["new", "y", "--path", &path, "--sdk-path", &missing]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("--sdk-path"),
        "{}",
        text(&output.stderr)
    );
    assert!(!temp.path().join("y").exists());
}

/// The generated crate builds for the host against this checkout's SDK. Offline, with the
/// workspace's lock file, so it needs neither the network nor versions this tree never built.
#[test]
fn the_new_crate_checks() {
    let (_temp, dir) = scaffold("checked-view");
    std::fs::copy(repo_root().join("Cargo.lock"), dir.join("Cargo.lock")).expect("lock file");
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["check", "--offline", "--quiet", "--lib"])
        .current_dir(&dir)
        // A target dir of its own, kept between runs: the check compiles the SDK.
        .env(
            "CARGO_TARGET_DIR",
            repo_root().join("target/scaffold-check"),
        )
        .output()
        .expect("running cargo");
    assert!(
        output.status.success(),
        "cargo check failed:\n{}",
        text(&output.stderr)
    );
}
