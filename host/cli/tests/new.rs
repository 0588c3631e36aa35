//! `livewasm new` and `livewasm build`: the standalone view crate `new` writes, its refusals,
//! and that `build` makes a component of it (against this checkout's SDK) that the host serves.

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
    assert!(readme.contains("livewasm build"), "{readme}");
    assert!(
        readme.contains("target/components/hello-view.wasm"),
        "{readme}"
    );
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

/// `GET path` on a loopback port; the whole answer (status line, headers, body), or `None`
/// while nothing listens.
fn get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

/// A `livewasm serve --app` child, killed when dropped.
struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// The generated crate goes through `livewasm build` (wasm32, then a component) and the host
/// serves the component: its page renders the count its URL asks for. Offline, with the
/// workspace's lock file, compiling in the target dir `cargo xtask build` fills (the SDK's
/// dependencies are built there already).
#[test]
fn the_new_crate_builds_into_a_component_the_host_serves() {
    let (_temp, dir) = scaffold("built-view");
    std::fs::copy(repo_root().join("Cargo.lock"), dir.join("Cargo.lock")).expect("lock file");
    let output = Command::new(env!("CARGO_BIN_EXE_livewasm"))
        .args(["build", "--path"])
        .arg(&dir)
        .env("CARGO_TARGET_DIR", repo_root().join("target/guest"))
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .expect("running livewasm build");
    assert!(
        output.status.success(),
        "livewasm build failed:\n{}",
        text(&output.stderr)
    );
    let component = dir.join("target/components/built-view.wasm");
    assert!(
        text(&output.stdout).contains(&component.display().to_string()),
        "{}",
        text(&output.stdout)
    );
    let bytes = std::fs::read(&component).expect("the component");
    // A component's preamble: `\0asm`, version 0x0d, layer 1 (a core module has layer 0).
    assert_eq!(&bytes[..8], b"\0asm\x0d\x00\x01\x00");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let _host = Served(
        Command::new(env!("CARGO_BIN_EXE_livewasm"))
            .args([
                "serve",
                "--no-cache",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .arg("--app")
            .arg(&component)
            .env("LIVEWASM_SECRET_KEY", "ab".repeat(32))
            .env("RUST_LOG", "warn")
            .env_remove("DATABASE_URL")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start livewasm serve"),
    );
    let started = std::time::Instant::now();
    let page = loop {
        if let Some(answer) = get(port, "/built-view?count=5") {
            break answer;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "livewasm serve did not answer"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        page.contains("Count: <span class=\"count\">5</span>"),
        "{page}"
    );
}

#[test]
fn build_refuses_a_directory_without_a_crate() {
    let temp = tempfile::tempdir().expect("temp dir");
    let output = livewasm(&["build", "--path", &temp.path().to_string_lossy()]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("not a view crate"),
        "{}",
        text(&output.stderr)
    );
    let missing = temp.path().join("nowhere").to_string_lossy().into_owned();
    let output = livewasm(&["build", "--path", &missing]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("no view crate at"),
        "{}",
        text(&output.stderr)
    );
}
