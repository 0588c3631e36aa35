//! `cargo xtask test`: everything CI runs, installing what is missing.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};

use crate::dev;
use crate::guest;
use crate::platform::{Cli, TempDir};
use crate::process::{cargo_once, root, status, step};
use crate::server::{self, Server};
use crate::services;
use crate::toolchain;

/// Runs every suite; `browser` adds the Chromium tests.
pub fn run(browser: bool) -> Result<()> {
    let started = Instant::now();
    step("cargo fmt --check", || {
        status(
            Command::new("cargo")
                .current_dir(root())
                .args(["fmt", "--all", "--", "--check"]),
        )
        .context("code is not formatted: run `cargo fmt --all`")
    })?;
    let toolchain = step("guest toolchain", toolchain::resolve)?;
    step("build guests", || {
        guest::build(&toolchain, &guest::discover()?)
    })?;
    step("client bundle is current", client_bundle)?;
    step("dashboard chart hook is current", dashboard_hook_bundle)?;
    step("kubernetes manifests", || {
        status(
            Command::new("bash")
                .current_dir(root())
                .arg("deploy/k8s/validate.sh"),
        )
        .context("deploy/k8s: the manifests do not validate")
    })?;
    step("cargo clippy", || {
        status(cargo_once().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    let postgres = step("postgres for the registry tests", services::postgres)?;
    let nats = step("nats for the cluster tests", services::nats)?;
    let workspace_tests = || {
        let mut cmd = cargo_once();
        cmd.args(["test", "--workspace"])
            .env("LIVEWASM_COMPONENTS", guest::components_dir())
            .env("LIVEWASM_TEST_DATABASE_URL", &postgres.url)
            .env("LIVEWASM_TEST_NATS_URL", &nats.url);
        cmd
    };
    let tested = step("cargo test (SQLite, Postgres and NATS)", || {
        status(&mut workspace_tests())
    });
    let tested = tested.and_then(|()| {
        step("example tests with the apps' SQL in Postgres", || {
            examples_on_postgres(workspace_tests(), &postgres.url)
        })
    });
    drop(postgres);
    drop(nats);
    tested?;
    step(
        &format!("fuzz targets ({FUZZ_SECONDS} s each, two at a time)"),
        fuzz_briefly,
    )?;
    step(
        "diff conformance with the official client",
        diff_conformance,
    )?;
    step("bench smoke run", || crate::bench::run(true))?;
    if browser {
        step("chromium", ensure_chromium)?;
        step("browser tests", browser_tests)?;
        step(
            "first view: livewasm new, the dev loop, edits in Chromium",
            first_view,
        )?;
    }
    println!(
        "\nxtask test: every step passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The tests of every example declaring SQL migrations run again, their harness hosts keeping
/// the apps' SQL in the Postgres at `url` (`LIVEWASM_TEST_APP_SQL=postgres`) instead of in
/// memory: the same tests pass on both backends.
///
/// `workspace_tests` is the `cargo test --workspace` command the step before ran. Asked again
/// with `--no-run`, it names the test executables it built, and this runs those of the SQL
/// examples. `cargo test -p articles …` would instead unify features over those packages alone
/// and build wasmtime and the host a second time (gigabytes, and once a full disk in CI).
fn examples_on_postgres(mut workspace_tests: Command, url: &str) -> Result<()> {
    let manifests: Vec<std::path::PathBuf> = sql_examples()?
        .iter()
        .map(|name| canonical(root().join("examples").join(name).join("Cargo.toml")))
        .collect();
    if manifests.is_empty() {
        return Ok(());
    }
    let built = workspace_tests
        .args(["--no-run", "--message-format=json-render-diagnostics"])
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("listing the workspace's test executables")?;
    if !built.status.success() {
        bail!(
            "`cargo test --workspace --no-run` failed ({})",
            built.status
        );
    }
    let executables = test_executables(&String::from_utf8_lossy(&built.stdout), &manifests);
    if executables.len() < manifests.len() {
        bail!(
            "cargo named {} test executables for the {} SQL examples",
            executables.len(),
            manifests.len()
        );
    }
    for (executable, dir) in executables {
        println!("  {} (in {})", executable.display(), dir.display());
        status(
            Command::new(&executable)
                .current_dir(&dir)
                .env("LIVEWASM_COMPONENTS", guest::components_dir())
                .env("LIVEWASM_TEST_DATABASE_URL", url)
                .env(APP_SQL_ENV, "postgres"),
        )?;
    }
    Ok(())
}

/// `path` with its symbolic links resolved, or as it is when it cannot be.
fn canonical(path: std::path::PathBuf) -> std::path::PathBuf {
    std::fs::canonicalize(&path).unwrap_or(path)
}

/// The examples whose sources declare SQL migrations (`migrations:` in `app!`).
fn sql_examples() -> Result<Vec<String>> {
    let mut names = Vec::new();
    for guest in guest::discover()?.into_iter().filter(|g| g.example) {
        let lib = root().join("examples").join(&guest.name).join("src");
        let declares = std::fs::read_dir(&lib)
            .map(|entries| {
                entries.filter_map(|e| e.ok()).any(|e| {
                    std::fs::read_to_string(e.path()).is_ok_and(|text| text.contains("migrations:"))
                })
            })
            .unwrap_or(false);
        if declares {
            names.push(guest.name);
        }
    }
    Ok(names)
}

/// From cargo's JSON messages, the test executables of the packages whose manifests are
/// `manifests`, each with its package's directory (where `cargo test` runs it).
fn test_executables(
    messages: &str,
    manifests: &[std::path::PathBuf],
) -> Vec<(std::path::PathBuf, std::path::PathBuf)> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["profile"]["test"] == true)
        .filter_map(|m| {
            let executable = m["executable"].as_str()?;
            let manifest = canonical(std::path::PathBuf::from(m["manifest_path"].as_str()?));
            if !manifests.contains(&manifest) {
                return None;
            }
            let dir = manifest.parent()?.to_path_buf();
            Some((std::path::PathBuf::from(executable), dir))
        })
        .collect()
}

/// The harness's switch to Postgres (`livewasm_test::APP_SQL_ENV`; xtask does not link the
/// harness).
const APP_SQL_ENV: &str = "LIVEWASM_TEST_APP_SQL";

/// How long `cargo xtask test` runs each fuzz target (`cargo xtask fuzz` runs them long).
const FUZZ_SECONDS: u64 = 8;

/// Every fuzz target for [`FUZZ_SECONDS`], two at a time (one per core): no crash on what they
/// find in that time.
fn fuzz_briefly() -> Result<()> {
    crate::fuzz::run(&crate::fuzz::Options {
        seconds: FUZZ_SECONDS,
        targets: Vec::new(),
        jobs: 2,
        sanitizer: "none".into(),
    })
}

/// `npm ci` in `dir` (needs package-lock.json).
pub fn npm_ci(dir: &Path) -> Result<()> {
    status(Command::new("npm").current_dir(dir).args([
        "ci",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
    ]))
    .with_context(|| format!("npm ci in {}", dir.display()))
}

/// Rebuilds `client-js/dist/livewasm.js` and fails if the committed file was stale.
fn client_bundle() -> Result<()> {
    let dir = root().join("client-js");
    let bundle = dir.join("dist/livewasm.js");
    let before = std::fs::read(&bundle).unwrap_or_default();
    npm_ci(&dir)?;
    status(
        Command::new("npm")
            .current_dir(&dir)
            .args(["run", "--silent", "build"]),
    )?;
    let after = std::fs::read(&bundle)?;
    if before != after {
        bail!(
            "client-js/dist/livewasm.js was stale; it has been rebuilt: commit it (the host embeds it)"
        );
    }
    println!(
        "  client-js/dist/livewasm.js: {} bytes, current",
        after.len()
    );
    Ok(())
}

/// Rebuilds the operator dashboard's chart hook (uPlot bundled by esbuild into
/// `examples/operator-dashboard/hooks/charts.js`, and uPlot's stylesheet copied to its assets)
/// and fails if the committed files were stale: the component ships them (`include_str!`).
fn dashboard_hook_bundle() -> Result<()> {
    let app = root().join("examples/operator-dashboard");
    let outputs = [app.join("hooks/charts.js"), app.join("assets/uplot.css")];
    let before: Vec<Vec<u8>> = outputs
        .iter()
        .map(|path| std::fs::read(path).unwrap_or_default())
        .collect();
    let dir = app.join("hooks");
    npm_ci(&dir)?;
    status(
        Command::new("npm")
            .current_dir(&dir)
            .args(["run", "--silent", "build"]),
    )?;
    for (path, before) in outputs.iter().zip(&before) {
        let after = std::fs::read(path)?;
        if *before != after {
            bail!(
                "{} was stale; it has been rebuilt: commit it and rebuild the dashboard \
                 (`cargo xtask build operator-dashboard`)",
                path.display()
            );
        }
        println!("  {}: {} bytes, current", path.display(), after.len());
    }
    Ok(())
}

/// Writes the diff engine's conformance cases and has the official client's merge code check
/// them (client-js's node_modules is installed by the bundle step).
fn diff_conformance() -> Result<()> {
    let dir = root().join("target/conformance");
    std::fs::create_dir_all(&dir)?;
    let cases = dir.join("cases.json");
    status(
        cargo_once()
            .args([
                "run",
                "--quiet",
                "-p",
                "livewasm-protocol",
                "--example",
                "conformance_cases",
                "--",
            ])
            .arg(&cases),
    )?;
    status(
        Command::new("node")
            .current_dir(root())
            .arg("tests/conformance/check.mjs")
            .arg(&cases),
    )
    .context("the official client disagrees with our diffs")
}

/// Installs Debian's Chromium when it is missing.
fn ensure_chromium() -> Result<()> {
    let chromium = Path::new("/usr/bin/chromium");
    if chromium.exists() {
        println!("  {} present", chromium.display());
        return Ok(());
    }
    let root_user =
        crate::process::output(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0");
    if !root_user {
        bail!(
            "Chromium is missing: install it with `sudo apt-get install chromium` (or run as root)"
        );
    }
    status(Command::new("apt-get").arg("update"))?;
    status(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Starts the host with the examples and runs `node --test` in tests/browser.
fn browser_tests() -> Result<()> {
    let dir = root().join("tests/browser");
    npm_ci(&dir)?;
    let examples: Vec<_> = guest::discover()?
        .into_iter()
        .filter(|g| g.example)
        .map(|g| guest::components_dir().join(format!("{}.wasm", g.name)))
        .collect();
    let binary = server::build_host(false)?;
    let server = Server::start(&binary, "127.0.0.1:0", &examples, &[])?;
    println!("  host at {}", server.url);
    let platform = Platform::start(&binary)?;
    println!("  platform host at {}", platform.server.url);
    status(
        Command::new("node")
            .current_dir(&dir)
            .args(["--test", "--test-concurrency=1"])
            .env("LIVEWASM_URL", &server.url)
            .env("LIVEWASM_PLATFORM_URL", &platform.server.url)
            .env("LIVEWASM_PLATFORM_TOKEN", &platform.token)
            .env("LIVEWASM_BIN", &binary)
            .env("LIVEWASM_COMPONENTS", guest::components_dir()),
    )
    .context("browser tests failed (screenshots in target/browser/)")
}

/// [`first_view`] alone (`cargo xtask first-view`), with what it needs installed.
pub fn first_view_alone() -> Result<()> {
    step("chromium", ensure_chromium)?;
    npm_ci(&root().join("tests/browser"))?;
    step(
        "first view: livewasm new, the dev loop, edits in Chromium",
        first_view,
    )
}

/// A new user's first minutes, for real: `livewasm new counter` in a temporary directory,
/// served by the dev loop (`cargo xtask dev --crate`, on a thread of this process), while
/// `tests/browser/first_view.test.mjs` edits its template in Chromium and prints how long an
/// edit takes to show, then breaks and fixes the template under the error overlay. The crate
/// gets the checkout's `Cargo.lock`, so it builds with the dependencies `target/guest` already
/// holds and asks no registry.
fn first_view() -> Result<()> {
    let binary = server::build_host(false)?;
    let dir = TempDir::new("first-view")?;
    let krate = dir.0.join("counter");
    status(
        Command::new(&binary)
            .args(["new", "counter", "--path"])
            .arg(&krate)
            .arg("--sdk-path")
            .arg(root().join("guest-sdk")),
    )?;
    std::fs::copy(root().join("Cargo.lock"), krate.join("Cargo.lock"))
        .context("copying Cargo.lock into the new crate")?;
    let options = dev::Options {
        listen: "127.0.0.1:0".into(),
        own_crate: Some(krate.clone()),
        watch_host: false,
    };
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (ready, url) = std::sync::mpsc::channel();
        let dev_loop = scope.spawn(|| {
            dev::serve(
                &options,
                move |url| {
                    let _ = ready.send(url.to_string());
                },
                &stop,
            )
        });
        // The sender goes with a dev loop that ends before serving.
        let tested = match url.recv() {
            Ok(url) => status(
                Command::new("node")
                    .current_dir(root().join("tests/browser"))
                    .args(["--test", "first_view.test.mjs"])
                    .env("LIVEWASM_DEV_LOOP_URL", &url)
                    .env("LIVEWASM_DEV_LOOP_CRATE", &krate),
            )
            .context("the first-view browser test failed (screenshots in target/browser/)"),
            Err(_) => Err(anyhow!("the dev loop stopped before serving")),
        };
        stop.store(true, Ordering::Relaxed);
        let served = dev_loop
            .join()
            .map_err(|_| anyhow!("the dev loop panicked"))?;
        served.context("the dev loop")?;
        tested
    })
}

/// A host on a fresh registry (SQLite), set up the way an operator and a tenant would with the
/// CLI: an offline operator token, tenant `acme`, a tenant token, and the thermostat deployed.
struct Platform {
    server: Server,
    /// The tenant's token (the browser test deploys and rolls back with it).
    token: String,
    _dir: TempDir,
}

impl Platform {
    fn start(binary: &Path) -> Result<Platform> {
        let dir = TempDir::new("platform")?;
        let database = dir.0.join("registry.db");
        let database_arg = database.to_string_lossy().to_string();
        // Not a dev host: the platform test checks that a deploy leaves an open page on its
        // version (a dev host reloads it onto the new one).
        let server = Server::start_as(
            binary,
            "127.0.0.1:0",
            &[],
            &["--database", &database_arg],
            false,
        )?;
        let operator = Cli::operator(binary, &server, &database)?;
        let tenant = operator.tenant("acme")?;
        tenant.deploy(
            "acme",
            "thermostat",
            &guest::components_dir().join("thermostat.wasm"),
        )?;
        let token = tenant.token().to_string();
        Ok(Platform {
            server,
            token,
            _dir: dir,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_executables_are_those_of_the_named_packages() {
        let dir = tempfile::tempdir().expect("temp dir");
        let wanted = dir.path().join("articles");
        let other = dir.path().join("thermostat");
        for d in [&wanted, &other] {
            std::fs::create_dir_all(d).expect("dir");
            std::fs::write(d.join("Cargo.toml"), "").expect("manifest");
        }
        let message = |manifest: &Path, test: bool, executable: Option<&str>| {
            serde_json::json!({
                "reason": "compiler-artifact",
                "manifest_path": manifest.join("Cargo.toml"),
                "profile": {"test": test},
                "executable": executable,
            })
            .to_string()
        };
        let messages = [
            message(&wanted, true, Some("/t/articles-1")),
            message(&wanted, false, None),
            message(&wanted, true, Some("/t/articles-2")),
            message(&other, true, Some("/t/thermostat-1")),
            r#"{"reason":"build-finished","success":true}"#.to_string(),
            "not json".to_string(),
        ]
        .join("\n");
        let found = test_executables(&messages, &[canonical(wanted.join("Cargo.toml"))]);
        let names: Vec<_> = found.iter().map(|(e, _)| e.display().to_string()).collect();
        assert_eq!(names, ["/t/articles-1", "/t/articles-2"]);
        assert!(found.iter().all(|(_, d)| *d == canonical(wanted.clone())));
    }
}
