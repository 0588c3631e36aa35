//! The template of a new Livewasm view crate, shared by `livewasm new` (a standalone crate
//! anywhere) and `cargo xtask new` (an example in the Livewasm workspace), so the two never
//! drift apart.
//!
//! The crate is a counter view with an `app!` route table (`/<name>`) and a test through the
//! `livewasm-test` harness. The template files live in `templates/`; [`files`] fills them in
//! for a [`Flavor`], [`write`] puts them in a new directory.

use std::path::{Path, PathBuf};

/// The view's source, `src/lib.rs`.
const LIB_RS: &str = include_str!("../templates/lib.rs");
/// The harness test, `tests/<name>.rs`.
const TEST_RS: &str = include_str!("../templates/test.rs");
/// The manifest of an example in the Livewasm workspace.
const CARGO_WORKSPACE: &str = include_str!("../templates/Cargo.workspace.toml");
/// The manifest of a standalone crate.
const CARGO_STANDALONE: &str = include_str!("../templates/Cargo.standalone.toml");
/// A standalone crate's `.cargo/config.toml`: wasm32 stack size, where tests find components.
const CARGO_CONFIG: &str = include_str!("../templates/cargo-config.toml");
/// A standalone crate's README: how to build, serve and test it.
const README: &str = include_str!("../templates/README.md");
/// A standalone crate's `.gitignore`.
const GITIGNORE: &str = include_str!("../templates/gitignore");

/// The longest name accepted: names become DNS labels of app origins in the registry.
pub const MAX_NAME_LEN: usize = 40;

/// Rust keywords and the names Cargo reserves, which no crate may take.
const RESERVED: &[&str] = &[
    "abstract",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "crate",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
    "alloc",
    "core",
    "std",
    "test",
    "proc-macro",
];

/// Why a crate could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The name cannot be a view crate's (see [`validate_name`]).
    #[error("invalid name `{name}`: {reason}")]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The target directory exists already; nothing was written.
    #[error("{} already exists; choose another name or directory", .0.display())]
    Exists(PathBuf),
    /// A file could not be written.
    #[error("writing {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Which kind of crate to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flavor {
    /// A member of the Livewasm workspace (`examples/<name>`): dependencies, lints and profiles
    /// come from the workspace.
    Workspace,
    /// A crate of its own (its own `[workspace]`), with the SDK and the test harness as path
    /// dependencies, a `.cargo/config.toml` and a README on building it.
    Standalone {
        /// The SDK's directory (`guest-sdk/` of a Livewasm checkout).
        sdk: PathBuf,
        /// The test harness's directory (`host/testing/` of the same checkout).
        testing: PathBuf,
    },
}

/// One file of the new crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Its path in the crate's directory.
    pub path: PathBuf,
    /// Its contents.
    pub contents: String,
}

/// Checks that `name` can name a view crate, its app and its route: 1 to 40 characters of
/// lowercase `a-z`, `0-9` and `-`, starting with a letter and not ending with `-` (so it is
/// also a valid app name for the registry), and neither a Rust keyword nor a name Cargo
/// reserves.
pub fn validate_name(name: &str) -> Result<(), ScaffoldError> {
    let reason = if name.is_empty() {
        Some("must not be empty")
    } else if name.len() > MAX_NAME_LEN {
        Some("must be at most 40 characters")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Some("may only contain lowercase letters a-z, digits and '-'")
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("must start with a letter")
    } else if name.ends_with('-') || name.contains("--") {
        Some("must not end with '-' or contain '--'")
    } else if RESERVED.contains(&name) {
        Some("is a Rust keyword or a name Cargo reserves")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ScaffoldError::InvalidName {
            name: name.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// The view's type name: `my-counter` → `MyCounterLive`.
pub fn type_name(name: &str) -> String {
    let mut out: String = name
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    out.push_str("Live");
    out
}

/// The files of crate `name` of `flavor`, filled in. Fails only on an invalid name.
pub fn files(name: &str, flavor: &Flavor) -> Result<Vec<File>, ScaffoldError> {
    validate_name(name)?;
    let type_name = type_name(name);
    let crate_name = name.replace('-', "_");
    let fill = |template: &str| {
        let mut text = template
            .replace("{{name}}", name)
            .replace("{{crate}}", &crate_name)
            .replace("{{Type}}", &type_name);
        if let Flavor::Standalone { sdk, testing } = flavor {
            text = text
                .replace("{{sdk_path}}", &toml_string(&sdk.to_string_lossy()))
                .replace("{{testing_path}}", &toml_string(&testing.to_string_lossy()));
        }
        text
    };
    let file = |path: &str, template: &str| File {
        path: PathBuf::from(path),
        contents: fill(template),
    };
    let test_path = format!("tests/{name}.rs");
    let mut files = vec![file("src/lib.rs", LIB_RS), file(&test_path, TEST_RS)];
    match flavor {
        Flavor::Workspace => files.push(file("Cargo.toml", CARGO_WORKSPACE)),
        Flavor::Standalone { .. } => files.extend([
            file("Cargo.toml", CARGO_STANDALONE),
            file(".cargo/config.toml", CARGO_CONFIG),
            file("README.md", README),
            file(".gitignore", GITIGNORE),
        ]),
    }
    Ok(files)
}

/// Writes `files` into `dir`, which must not exist yet (it is created, parents included).
/// Refuses an existing `dir` without writing anything.
pub fn write(dir: &Path, files: &[File]) -> Result<(), ScaffoldError> {
    if dir.exists() {
        return Err(ScaffoldError::Exists(dir.to_path_buf()));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ScaffoldError::Io { path, source }
    };
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    // `create_dir` (not `_all`): a directory made meanwhile by someone else is refused too.
    std::fs::create_dir(dir).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => ScaffoldError::Exists(dir.to_path_buf()),
        _ => ScaffoldError::Io {
            path: dir.to_path_buf(),
            source,
        },
    })?;
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, &file.contents).map_err(io(&path))?;
    }
    Ok(())
}

/// `text` as a TOML basic string, quotes included.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["counter", "my-counter", "a", "v2", "x-1-y"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Counter",
            "my_counter",
            "1st",
            "-a",
            "a-",
            "a--b",
            "a b",
            "a/b",
            "../x",
            "fn",
            "test",
            "self",
            "std",
        ] {
            assert!(
                matches!(validate_name(bad), Err(ScaffoldError::InvalidName { .. })),
                "{bad}"
            );
        }
        assert!(validate_name(&"a".repeat(41)).is_err());
        assert_eq!(type_name("my-counter"), "MyCounterLive");
        assert_eq!(type_name("v2"), "V2Live");
    }

    fn standalone() -> Flavor {
        Flavor::Standalone {
            sdk: PathBuf::from("/src/live \"wasm\"/guest-sdk"),
            testing: PathBuf::from(r"C:\lw\host\testing"),
        }
    }

    #[test]
    fn every_placeholder_is_filled() {
        for flavor in [Flavor::Workspace, standalone()] {
            for file in files("my-counter", &flavor).expect("files") {
                assert!(
                    !file.contents.contains("{{"),
                    "{}: {}",
                    file.path.display(),
                    file.contents
                );
            }
        }
    }

    #[test]
    fn the_two_flavors() {
        let workspace = files("my-counter", &Flavor::Workspace).expect("files");
        let paths: Vec<_> = workspace.iter().map(|f| f.path.clone()).collect();
        assert_eq!(
            paths,
            ["src/lib.rs", "tests/my-counter.rs", "Cargo.toml"].map(PathBuf::from)
        );
        let lib = &workspace[0].contents;
        assert!(lib.contains("pub struct MyCounterLive"), "{lib}");
        assert!(lib.contains("\"/my-counter\" => MyCounterLive;"), "{lib}");
        assert!(lib.contains("name: \"my-counter\","), "{lib}");
        assert!(
            workspace[1]
                .contents
                .contains("const APP: &str = \"my-counter\";")
        );
        assert!(
            workspace[2]
                .contents
                .contains("livewasm-sdk.workspace = true")
        );
        assert!(!workspace[2].contents.contains("[workspace]"));

        let standalone = files("my-counter", &standalone()).expect("files");
        let manifest = &standalone[2];
        assert_eq!(manifest.path, PathBuf::from("Cargo.toml"));
        assert!(
            manifest.contents.contains("\n[workspace]\n"),
            "{}",
            manifest.contents
        );
        assert!(
            manifest
                .contents
                .contains("crate-type = [\"cdylib\", \"rlib\"]")
        );
        assert!(
            manifest
                .contents
                .contains(r#"livewasm-sdk = { path = "/src/live \"wasm\"/guest-sdk" }"#),
            "{}",
            manifest.contents
        );
        assert!(
            manifest
                .contents
                .contains(r#"livewasm-test = { path = "C:\\lw\\host\\testing" }"#),
            "{}",
            manifest.contents
        );
        let readme = standalone
            .iter()
            .find(|f| f.path == Path::new("README.md"))
            .expect("a README");
        assert!(readme.contents.contains("release/my_counter.wasm"));
        assert!(
            readme
                .contents
                .contains("target/components/my-counter.wasm")
        );
        assert!(
            standalone
                .iter()
                .any(|f| f.path == Path::new(".cargo/config.toml"))
        );
        assert!(files("My Counter", &Flavor::Workspace).is_err());
    }

    #[test]
    fn write_refuses_an_existing_directory() {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().join("nested/counter");
        let made = files("counter", &Flavor::Workspace).expect("files");
        write(&dir, &made).expect("write");
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).expect("lib.rs");
        assert_eq!(lib, made[0].contents);
        assert!(dir.join("tests/counter.rs").is_file());
        std::fs::write(dir.join("src/lib.rs"), "edited").expect("edit");
        assert!(matches!(
            write(&dir, &made),
            Err(ScaffoldError::Exists(path)) if path == dir
        ));
        let kept = std::fs::read_to_string(dir.join("src/lib.rs")).expect("lib.rs");
        assert_eq!(kept, "edited");
    }
}
