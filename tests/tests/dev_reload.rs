//! Dev live reload end to end: a `dev` host serving a temp copy of a component, its watcher
//! (`dev_reload::watch`, what `livewasm serve --dev` runs), a page, and a real WebSocket on the
//! `livewasm:reload` topic. Replacing the file swaps the served app in place and pushes
//! `reloaded`; a broken file is refused and the previous version keeps serving; a build error
//! left beside the file reaches the pages until it goes; a tenant app's pages reload on a
//! deploy; outside dev mode the topic does not exist.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use livewasm_integration_tests::{Page, PhxSocket, SocketError, TestServer, get};
use livewasm_runtime::{Runtime, RuntimeConfig};
use livewasm_server::dev_reload::{self, AppFile, TOPIC};
use livewasm_server::{Host, ServerConfig};
use serde_json::{Value, json};

/// A temp directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "livewasm-dev-reload-{label}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn component(name: &str) -> Vec<u8> {
    let path = livewasm_test::component_path(name).expect("built component");
    std::fs::read(path).expect("read component")
}

/// Writes `bytes` over `path` the way a build does (in place, not renamed).
fn overwrite(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write component");
}

/// A host (dev mode or not) serving `file` (a copy of `name`), with the watcher running when
/// `dev`.
async fn start(
    dev: bool,
    file: &Path,
    name: &str,
) -> (TestServer, Option<tokio::task::JoinHandle<()>>) {
    std::fs::write(file, component(name)).expect("copy component");
    let runtime = Runtime::new(RuntimeConfig::default()).expect("runtime");
    let config = ServerConfig {
        secret_key: b"dev-reload-test-secret-key-0123456789abcdef".to_vec(),
        dev,
        ..ServerConfig::default()
    };
    let host = Host::new(runtime.clone(), config);
    let mut watched = AppFile::new(file, "");
    let app = runtime
        .load_app(&std::fs::read(file).expect("read copy"))
        .expect("load");
    watched.set_app(app.manifest().name.clone());
    host.add_app(app).expect("add app");
    let host = Arc::new(host);
    let watcher = dev.then(|| tokio::spawn(dev_reload::watch(host.clone(), vec![watched])));
    (TestServer::serve_host(host).await, watcher)
}

/// The `<meta name="livewasm-reload">` token of a page.
fn reload_token(page: &Page) -> Option<String> {
    let html = scraper::Html::parse_document(&page.body);
    let selector = scraper::Selector::parse("meta[name='livewasm-reload']").expect("selector");
    html.select(&selector)
        .next()
        .and_then(|m| m.value().attr("content"))
        .map(str::to_string)
}

/// Opens `path`, joins its view and the reload topic; returns the socket and the reload reply.
async fn open(server: &TestServer, path: &str) -> (PhxSocket, Value, String) {
    let page = get(server.addr, path).await.expect("page");
    assert_eq!(page.status, 200, "{}", page.body);
    let token = reload_token(&page).expect("a dev page carries the reload meta");
    let mut socket = PhxSocket::connect_page(server.addr, &page)
        .await
        .expect("socket");
    let (_, reply) = socket
        .join_page(&page, &server.url(path))
        .await
        .expect("join view");
    assert_eq!(reply["status"], "ok", "{reply}");
    let (_, reply) = socket
        .join(TOPIC, json!({"token": token}))
        .await
        .expect("join reload");
    (socket, reply, token)
}

async fn assert_no_reload(socket: &mut PhxSocket, wait: Duration) {
    match socket.wait_push(TOPIC, "reloaded", wait).await {
        Err(SocketError::Timeout(_)) => {}
        other => panic!("no reload expected, got {other:?}"),
    }
}

#[tokio::test]
async fn replacing_the_file_swaps_the_app_and_tells_the_page() {
    let dir = TempDir::new("swap");
    let file = dir.0.join("app.wasm");
    let (server, _watcher) = start(true, &file, "thermostat").await;
    let (mut socket, reply, token) = open(&server, "/thermostat?house=1").await;
    assert_eq!(reply["status"], "ok", "{reply}");
    // An up-to-date page is not told anything.
    assert_no_reload(&mut socket, Duration::from_millis(800)).await;
    assert_eq!(get(server.addr, "/rows").await.expect("rows").status, 404);

    overwrite(&file, &component("rows"));
    let push = socket
        .wait_push(TOPIC, "reloaded", Duration::from_secs(15))
        .await
        .expect("reloaded pushed after the swap");
    assert_eq!(push[4]["app"], "thermostat", "{push}");

    // New dead renders serve the new app; the old one's route is gone.
    let rows = get(server.addr, "/rows").await.expect("rows");
    assert_eq!(rows.status, 200, "{}", rows.body);
    assert!(rows.body.contains("id=\"rows\""), "{}", rows.body);
    assert_eq!(
        get(server.addr, "/thermostat").await.expect("gone").status,
        404
    );
    // The socket opened before the swap carries on (its view keeps its instance).
    socket.heartbeat().await.expect("socket still open");

    // A page rendered before the swap that joins only now is told at once.
    let (_, late) = socket
        .join(TOPIC, json!({"token": token}))
        .await
        .expect("late join");
    assert_eq!(late["status"], "ok", "{late}");
    socket
        .wait_push(TOPIC, "reloaded", Duration::from_secs(5))
        .await
        .expect("stale page told at once");

    // A page of the new version is current.
    let (mut fresh, reply, _) = open(&server, "/rows").await;
    assert_eq!(reply["status"], "ok", "{reply}");
    assert_no_reload(&mut fresh, Duration::from_millis(800)).await;
}

#[tokio::test]
async fn a_broken_file_keeps_the_previous_version_serving() {
    let dir = TempDir::new("broken");
    let file = dir.0.join("app.wasm");
    let (server, watcher) = start(true, &file, "thermostat").await;
    let (mut socket, reply, _) = open(&server, "/thermostat?house=1").await;
    assert_eq!(reply["status"], "ok", "{reply}");

    // Not a component: refused, logged, nothing swapped, nobody reloads.
    overwrite(&file, b"\0asm this is not a component");
    assert_no_reload(&mut socket, Duration::from_secs(2)).await;
    let page = get(server.addr, "/thermostat?house=2").await.expect("page");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("House 2"), "{}", page.body);
    assert!(watcher.as_ref().is_some_and(|w| !w.is_finished()));

    // The watcher carries on: a good build afterwards is swapped in.
    overwrite(&file, &component("rows"));
    socket
        .wait_push(TOPIC, "reloaded", Duration::from_secs(15))
        .await
        .expect("reloaded after the fix");
    assert_eq!(get(server.addr, "/rows").await.expect("rows").status, 200);
}

/// A failed build (its message left beside the component, as `cargo xtask dev` does) reaches
/// the open page and a page opened meanwhile; a good build clears it.
#[tokio::test]
async fn a_build_error_reaches_the_open_pages_until_fixed() {
    let dir = TempDir::new("build-error");
    let file = dir.0.join("app.wasm");
    let (server, _watcher) = start(true, &file, "thermostat").await;
    let (mut socket, reply, _) = open(&server, "/thermostat?house=1").await;
    assert_eq!(reply["status"], "ok", "{reply}");

    let message = "error: expected `}`, found `<`\n --> examples/thermostat/src/lib.rs:42:17";
    std::fs::write(dir.0.join("app.build-error"), message).unwrap();
    let push = socket
        .wait_push(TOPIC, "build_error", Duration::from_secs(10))
        .await
        .expect("build_error pushed");
    assert_eq!(push[4]["message"], message, "{push}");
    assert_eq!(push[4]["app"], "thermostat", "{push}");
    // The previous version still serves, and a page opened now hears the error at once.
    let (mut late, _, _) = open(&server, "/thermostat?house=2").await;
    late.wait_push(TOPIC, "build_error", Duration::from_secs(5))
        .await
        .expect("told at join");

    std::fs::remove_file(dir.0.join("app.build-error")).unwrap();
    socket
        .wait_push(TOPIC, "build_fixed", Duration::from_secs(10))
        .await
        .expect("build_fixed pushed");
    assert_no_reload(&mut socket, Duration::from_millis(500)).await;
}

/// A view of a dev page that panics: the page hears why (the panic's message and place, which
/// the SDK's hook logs before the trap), and the client rejoins as usual.
#[tokio::test]
async fn a_guest_panic_reaches_the_dev_page() {
    let dir = TempDir::new("panic");
    let file = dir.0.join("app.wasm");
    let (server, _watcher) = start(true, &file, "hostile").await;
    let page = get(server.addr, "/hostile").await.expect("page");
    let token = reload_token(&page).expect("reload meta");
    let mut socket = PhxSocket::connect_page(server.addr, &page).await.unwrap();
    let (join_ref, reply) = socket
        .join_page(&page, &server.url("/hostile"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    socket.join(TOPIC, json!({"token": token})).await.unwrap();
    let _ = socket.push_click(&join_ref, &page.topic(), "trap").await;
    let push = socket
        .wait_push(TOPIC, "guest_error", Duration::from_secs(10))
        .await
        .expect("guest_error pushed");
    let message = push[4]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("panicked at tests/fixtures/hostile/src/lib.rs:")
            && message.contains("hostile guest panics on request"),
        "{push}"
    );
    assert_eq!(push[4]["view"], "Hostile", "{push}");
}

/// On a dev host with a registry, a tenant app's pages reload too: deploying a new version
/// (what `cargo xtask dev` does for tenant `dev` after each rebuild) is their swap; another
/// app's page is not told, and a token of another site is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_reloads_the_pages_of_a_platform_app_on_a_dev_host() {
    use livewasm_integration_tests::platform::{Api, Database, roomy_quotas};

    let db = Database::sqlite();
    let defaults = roomy_quotas();
    let config = ServerConfig {
        dev: true,
        ..ServerConfig::default()
    };
    let (server, registry) =
        TestServer::start_platform_configured(&db.location, defaults, config).await;
    let operator = livewasm_server::platform::bootstrap_operator_token(&registry)
        .await
        .expect("operator token");
    let api = Api::new(server.addr, Some(&operator.token));
    api.create_tenant("dev").await;
    for app in ["thermostat", "rows"] {
        api.create_app("dev", app, app).await;
    }
    let port = server.addr.port();
    let open_on = |app: &'static str, path: &'static str| {
        let host = format!("{app}.dev.localhost:{port}");
        let addr = server.addr;
        async move {
            let page = livewasm_integration_tests::get_from(addr, &host, path)
                .await
                .expect("page");
            assert_eq!(page.status, 200, "{}", page.body);
            let token = reload_token(&page).expect("a dev page of a tenant app carries the meta");
            assert!(token.ends_with(&format!(":dev/{app}")), "{token}");
            let cookie = page.cookie_header();
            let mut socket =
                PhxSocket::connect_to(addr, &host, page.csrf.as_deref(), Some(&cookie))
                    .await
                    .expect("socket");
            let (_, reply) = socket
                .join_page(&page, &format!("http://{host}{path}"))
                .await
                .expect("join view");
            assert_eq!(reply["status"], "ok", "{reply}");
            (socket, token)
        }
    };
    let (mut socket, token) = open_on("thermostat", "/thermostat?house=1").await;
    let (_, reply) = socket.join(TOPIC, json!({"token": token})).await.unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    let (mut other, other_token) = open_on("rows", "/rows").await;
    // A token of another site is refused.
    let (_, refused) = other.join(TOPIC, json!({"token": token})).await.unwrap();
    assert_eq!(refused["status"], "error", "{refused}");
    let (_, reply) = other
        .join(TOPIC, json!({"token": other_token}))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");

    // A new version of the thermostat (other bytes, same views).
    let mut wasm = component("thermostat");
    wasm.extend_from_slice(&[0, 7, 4, b't', b'e', b's', b't', 1, 2]);
    let uploaded = api
        .post_wasm("/api/v1/tenants/dev/apps/thermostat/versions", &wasm)
        .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text());
    let push = socket
        .wait_push(TOPIC, "reloaded", Duration::from_secs(10))
        .await
        .expect("reloaded pushed after the deploy");
    assert_eq!(push[4]["app"], "dev/thermostat", "{push}");
    assert_no_reload(&mut other, Duration::from_millis(800)).await;
    drop(server);
    registry.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn the_same_component_again_reloads_nothing() {
    let dir = TempDir::new("same");
    let file = dir.0.join("app.wasm");
    let (server, _watcher) = start(true, &file, "thermostat").await;
    let (mut socket, _, _) = open(&server, "/thermostat").await;
    // A rebuild producing the same bytes (a new mtime) is not a change.
    tokio::time::sleep(Duration::from_millis(20)).await;
    overwrite(&file, &component("thermostat"));
    assert_no_reload(&mut socket, Duration::from_secs(2)).await;
}

#[tokio::test]
async fn outside_dev_mode_there_is_no_reload_channel() {
    let dir = TempDir::new("prod");
    let file = dir.0.join("app.wasm");
    let (server, watcher) = start(false, &file, "thermostat").await;
    assert!(watcher.is_none());
    let page = get(server.addr, "/thermostat").await.expect("page");
    assert_eq!(page.status, 200);
    assert_eq!(reload_token(&page), None, "no reload meta outside dev");
    let mut socket = PhxSocket::connect_page(server.addr, &page)
        .await
        .expect("socket");
    let (_, reply) = socket
        .join(TOPIC, json!({"token": "x:0:thermostat"}))
        .await
        .expect("join reply");
    assert_eq!(reply["status"], "error", "{reply}");
}
