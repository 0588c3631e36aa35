//! `cargo xtask new NAME`: a new example view crate, `examples/NAME/`, from the template that
//! `livewasm new` uses too (`livewasm-scaffold`), added to the workspace's `members`.
//!
//! `build` and `dev` find examples by looking in `examples/`, so the new crate is built and
//! served with the others from then on.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use livewasm_scaffold::Flavor;

use crate::guest;
use crate::process::root;

/// Makes `examples/NAME` in this workspace and prints what to do next.
pub fn run(name: &str) -> Result<()> {
    let dir = create(&root(), name)?;
    let shown = dir
        .strip_prefix(root())
        .unwrap_or(&dir)
        .display()
        .to_string();
    println!(
        "Created {shown}/ (Cargo.toml, src/lib.rs, tests/{name}.rs) and added it to the \
         workspace members."
    );
    let steps = [
        (
            format!("cargo xtask build {name}"),
            format!("the component: target/components/{name}.wasm"),
        ),
        (
            format!("cargo test -p {name}"),
            "its tests (once the component is built)".to_string(),
        ),
        (
            "cargo xtask dev".to_string(),
            format!("serves it with the other examples: http://127.0.0.1:4000/{name}"),
        ),
    ];
    let width = steps
        .iter()
        .map(|(command, _)| command.len())
        .max()
        .unwrap_or(0);
    println!("\nNext:");
    for (command, what) in &steps {
        println!("  {command:<width$}  # {what}");
    }
    println!("(A `cargo xtask dev` already running picks it up once restarted.)");
    Ok(())
}

/// Writes the crate into `root/examples/NAME` and adds it to `root/Cargo.toml`'s members;
/// returns its directory. Refuses an invalid name, an existing directory and a name another
/// package or guest of the workspace has, before writing anything.
fn create(root: &Path, name: &str) -> Result<PathBuf> {
    livewasm_scaffold::validate_name(name)?;
    let dir = root.join("examples").join(name);
    if dir.exists() {
        bail!("{} already exists; choose another name", dir.display());
    }
    if root.join("tests/fixtures").join(name).exists() {
        bail!("`{name}` is a test fixture's component name; choose another name");
    }
    let manifest_path = root.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    let members = members(&manifest)?;
    for member in &members {
        let text =
            std::fs::read_to_string(root.join(member).join("Cargo.toml")).unwrap_or_default();
        if guest::package_name(&text).as_deref() == Some(name) {
            bail!(
                "the workspace has a package named `{name}` already ({member}); choose another name"
            );
        }
    }
    let updated = add_member(&manifest, &format!("examples/{name}"))?;
    let files = livewasm_scaffold::files(name, &Flavor::Workspace)?;
    livewasm_scaffold::write(&dir, &files)?;
    if let Err(error) = std::fs::write(&manifest_path, updated) {
        // Leave no crate behind that the workspace does not know.
        let _ = std::fs::remove_dir_all(&dir);
        return Err(error).with_context(|| format!("writing {}", manifest_path.display()));
    }
    Ok(dir)
}

/// The lines of the workspace's multi-line `members = [ … ]` list: the index of the
/// `members = [` line and of its closing `]`.
fn members_span(manifest: &str) -> Result<(usize, usize)> {
    let lines: Vec<&str> = manifest.lines().collect();
    let start = lines
        .iter()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix("members")
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .context("the workspace Cargo.toml has no `members` list")?;
    if !lines[start].trim_end().ends_with('[') {
        bail!(
            "the workspace's `members` list is not written one entry a line; add the crate to \
             it by hand"
        );
    }
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.trim_start().starts_with(']'))
        .map(|offset| start + 1 + offset)
        .context("the workspace's `members` list has no closing `]`")?;
    Ok((start, end))
}

/// The entries of the workspace's `members` list.
fn members(manifest: &str) -> Result<Vec<String>> {
    let (start, end) = members_span(manifest)?;
    Ok(manifest
        .lines()
        .take(end)
        .skip(start + 1)
        .filter_map(|l| {
            let entry = l.trim().trim_end_matches(',').trim();
            entry
                .strip_prefix('"')
                .and_then(|e| e.strip_suffix('"'))
                .map(str::to_string)
        })
        .collect())
}

/// `manifest` with `member` added to its `members` list after the last `examples/` entry (or
/// last of all), indented like its neighbours; every other byte is kept.
fn add_member(manifest: &str, member: &str) -> Result<String> {
    if members(manifest)?.iter().any(|m| m == member) {
        bail!("`{member}` is a workspace member already");
    }
    let (start, end) = members_span(manifest)?;
    let lines: Vec<&str> = manifest.split_inclusive('\n').collect();
    let entries = start + 1..end;
    let is_entry = |i: &usize| lines[*i].trim_start().starts_with('"');
    let after = entries
        .clone()
        .rev()
        .find(|i| is_entry(i) && lines[*i].trim_start().starts_with("\"examples/"))
        .or_else(|| entries.clone().rev().find(is_entry));
    let indent = after.map_or("    ", |i| {
        let line = lines[i];
        &line[..line.len() - line.trim_start().len()]
    });
    let insert_at = after.map_or(end, |i| i + 1);
    let mut out = String::with_capacity(manifest.len() + member.len() + 8);
    for (i, line) in lines.iter().enumerate() {
        if i == insert_at {
            out.push_str(&format!("{indent}\"{member}\",\n"));
        }
        // The entry before the new one needs its comma.
        if Some(i) == after && !line.trim_end().ends_with(',') {
            let body = line.trim_end();
            out.push_str(body);
            out.push(',');
            out.push_str(&line[body.len()..]);
        } else {
            out.push_str(line);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "[workspace]\nresolver = \"3\"\nmembers = [\n    \"host/cli\",\n    \
\"examples/thermostat\",\n    \"examples/articles\",\n    \"tests\",\n    \"xtask\",\n]\n\n\
[workspace.package]\nversion = \"0.1.0\"\n";

    #[test]
    fn a_member_goes_after_the_last_example() {
        let updated = add_member(MANIFEST, "examples/counter").expect("added");
        assert_eq!(
            updated,
            MANIFEST.replace(
                "    \"examples/articles\",\n",
                "    \"examples/articles\",\n    \"examples/counter\",\n"
            )
        );
        assert!(add_member(&updated, "examples/counter").is_err());
        assert_eq!(
            members(&updated).expect("members"),
            [
                "host/cli",
                "examples/thermostat",
                "examples/articles",
                "examples/counter",
                "tests",
                "xtask"
            ]
        );
        // No example yet, and a last entry without its comma.
        let bare = "[workspace]\nmembers = [\n  \"xtask\"\n]\n";
        assert_eq!(
            add_member(bare, "examples/counter").expect("added"),
            "[workspace]\nmembers = [\n  \"xtask\",\n  \"examples/counter\",\n]\n"
        );
        assert!(add_member("[workspace]\nmembers = [\"xtask\"]\n", "examples/x").is_err());
        assert!(add_member("[package]\nname = \"x\"\n", "examples/x").is_err());
    }

    #[test]
    fn new_writes_the_example_and_refuses_what_exists() {
        let temp = tempfile::tempdir().expect("temp dir");
        let root = temp.path();
        std::fs::write(root.join("Cargo.toml"), MANIFEST).expect("manifest");
        std::fs::create_dir_all(root.join("xtask")).expect("xtask dir");
        std::fs::write(
            root.join("xtask/Cargo.toml"),
            "[package]\nname = \"xtask\"\n",
        )
        .expect("xtask manifest");

        let dir = create(root, "my-counter").expect("created");
        assert_eq!(dir, root.join("examples/my-counter"));
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).expect("lib.rs");
        assert!(lib.contains("\"/my-counter\" => MyCounterLive;"), "{lib}");
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
        assert!(
            manifest.contains("livewasm-sdk.workspace = true"),
            "{manifest}"
        );
        assert!(dir.join("tests/my-counter.rs").is_file());
        let workspace = std::fs::read_to_string(root.join("Cargo.toml")).expect("workspace");
        assert!(
            workspace.contains("    \"examples/my-counter\",\n"),
            "{workspace}"
        );

        let refused = |name: &str| create(root, name).expect_err(name).to_string();
        assert!(refused("my-counter").contains("already exists"));
        assert!(refused("My_Counter").contains("invalid name"));
        assert!(refused("xtask").contains("package named `xtask`"));
        // Nothing changed by the refusals.
        let after = std::fs::read_to_string(root.join("Cargo.toml")).expect("workspace");
        assert_eq!(after, workspace);
        assert!(!root.join("examples/xtask").exists());
    }
}
