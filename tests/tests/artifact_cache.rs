//! The on-disk artifact cache across host restarts: a registry host compiles the apps it
//! deploys once; a restarted host loads every active version from the cache without compiling
//! (the runtime's compilation count stays at zero) and serves them; a corrupt artifact, or
//! one written by a host with another secret key, is refused and recompiled. One component
//! deployed to several apps at once is compiled once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use livewasm_integration_tests::platform::{Api, Database, roomy_quotas};
use livewasm_integration_tests::{TestServer, get_from};
use livewasm_registry::{QuotaDefaults, Registry};
use livewasm_runtime::{ArtifactCache, ArtifactStats, Runtime, RuntimeConfig};
use livewasm_server::{Host, ServerConfig};
use serde_json::json;

const APPS: &[(&str, &str)] = &[("thermostat", "/thermostat"), ("rows", "/rows")];
const SECRET: &[u8] = b"artifact-cache-test-secret-key-0123456789";

fn defaults() -> QuotaDefaults {
    QuotaDefaults {
        max_component_bytes: 8 << 20,
        max_concurrent_instances: 100,
        ..roomy_quotas()
    }
}

/// A registry host whose runtime keeps its artifacts in `cache_dir`, after loading every
/// active version; also how long loading took.
async fn start(location: &str, cache_dir: &Path) -> (TestServer, Registry, Runtime, Duration) {
    start_with_secret(location, cache_dir, SECRET).await
}

/// [`start`] with the host secret `secret` (the artifact cache's key is derived from it).
async fn start_with_secret(
    location: &str,
    cache_dir: &Path,
    secret: &[u8],
) -> (TestServer, Registry, Runtime, Duration) {
    let registry = Registry::open(location, defaults())
        .await
        .expect("registry");
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 16,
        ..RuntimeConfig::default()
    })
    .expect("runtime");
    let cache = ArtifactCache::open(cache_dir, 256 << 20, ArtifactCache::key_from_secret(secret))
        .expect("artifact cache");
    assert!(runtime.set_artifact_cache(cache).is_ok());
    let config = ServerConfig {
        secret_key: secret.to_vec(),
        ..ServerConfig::default()
    };
    let host = Arc::new(Host::with_registry(
        runtime.clone(),
        config,
        registry.clone(),
    ));
    let started = Instant::now();
    let served = livewasm_server::platform::load_active_apps(&host)
        .await
        .expect("load apps");
    let took = started.elapsed();
    assert!(livewasm_server::platform::compiled_versions(&host) >= served);
    (TestServer::serve_host(host).await, registry, runtime, took)
}

fn stats(runtime: &Runtime) -> ArtifactStats {
    runtime.artifact_cache().expect("cache").stats()
}

async fn assert_served(server: &TestServer) {
    for (app, path) in APPS {
        let host = format!("{app}.acme.localhost:{}", server.addr.port());
        let page = get_from(server.addr, &host, path).await.expect("GET");
        assert_eq!(page.status, 200, "{app}: {}", page.body);
        assert!(page.body.contains("data-phx-main"), "{app}: {}", page.body);
    }
}

#[tokio::test]
async fn a_restarted_host_serves_its_apps_from_the_artifact_cache() {
    let db = Database::sqlite();
    let cache_dir = tempfile_dir();

    // First host: deploy two apps through the API; each is compiled once and stored.
    let (server, registry, runtime, _) = start(&db.location, &cache_dir).await;
    let api = Api::operator(server.addr, &registry).await;
    api.create_tenant("acme").await;
    for (app, _) in APPS {
        let created = api
            .post_json("/api/v1/tenants/acme/apps", &json!({"name": app}))
            .await;
        assert_eq!(created.status, 201, "{}", created.text());
        let wasm = std::fs::read(livewasm_test::component_path(app).expect("built component"))
            .expect("read component");
        let uploaded = api
            .post_wasm(&format!("/api/v1/tenants/acme/apps/{app}/versions"), &wasm)
            .await;
        assert_eq!(uploaded.status, 201, "{}", uploaded.text());
    }
    assert_served(&server).await;
    assert_eq!(runtime.compilations(), 2);
    assert_eq!(stats(&runtime).stored, 2);
    drop(server);
    drop(runtime);

    // Restart: every active version comes from the cache, nothing is compiled.
    let (server, _, runtime, warm) = start(&db.location, &cache_dir).await;
    assert_eq!(runtime.compilations(), 0, "a warm start compiles nothing");
    assert_eq!(stats(&runtime).hits, 2);
    assert_served(&server).await;
    drop(server);
    drop(runtime);

    // A corrupt artifact is refused (and deleted), its component compiled and stored again.
    let artifacts: Vec<_> = std::fs::read_dir(&cache_dir)
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .collect();
    assert_eq!(artifacts.len(), 2, "{artifacts:?}");
    let mut bytes = std::fs::read(&artifacts[0]).expect("read artifact");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&artifacts[0], &bytes).expect("corrupt artifact");
    let (server, _, runtime, _) = start(&db.location, &cache_dir).await;
    assert_eq!(runtime.compilations(), 1);
    let after = stats(&runtime);
    assert_eq!((after.hits, after.rejected, after.stored), (1, 1, 1));
    assert_served(&server).await;
    drop(server);
    drop(runtime);

    // A host with another secret cannot authenticate these artifacts: it refuses (and deletes)
    // them and compiles every version again; its own artifacts then serve its restarts.
    let other_secret = b"another-host-secret-key-0123456789-abcdef";
    let (server, _, runtime, _) = start_with_secret(&db.location, &cache_dir, other_secret).await;
    assert_eq!(runtime.compilations(), 2);
    let after = stats(&runtime);
    assert_eq!((after.hits, after.rejected, after.stored), (0, 2, 2));
    assert_served(&server).await;
    drop(server);
    drop(runtime);
    let (server, _, runtime, _) = start_with_secret(&db.location, &cache_dir, other_secret).await;
    assert_eq!(runtime.compilations(), 0);
    assert_eq!(stats(&runtime).hits, 2);
    drop(server);
    drop(runtime);

    // Cold start, for comparison: an empty cache directory.
    let cold_dir = cache_dir.join("cold");
    let (server, _, runtime, cold) = start(&db.location, &cold_dir).await;
    assert_eq!(runtime.compilations(), 2);
    eprintln!(
        "loading {} active versions: cold {cold:?}, warm {warm:?}",
        APPS.len()
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&cache_dir);
    db.cleanup().await;
}

/// A fresh private directory under the system temp dir.
/// One component uploaded to four apps at the same moment, then to a fifth: compiled once,
/// the other uploads waiting for that compile and sharing it (not even loaded from the
/// artifact cache), and every app served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_component_deployed_to_many_apps_at_once_is_compiled_once() {
    let db = Database::sqlite();
    let cache_dir = tempfile_dir();
    let (server, registry, runtime, _) = start(&db.location, &cache_dir).await;
    let api = Api::operator(server.addr, &registry).await;
    api.create_tenant("acme").await;
    let names = ["t1", "t2", "t3", "t4", "t5"];
    for name in names {
        let created = api
            .post_json("/api/v1/tenants/acme/apps", &json!({"name": name}))
            .await;
        assert_eq!(created.status, 201, "{}", created.text());
    }
    let wasm = std::fs::read(livewasm_test::component_path("thermostat").expect("built"))
        .expect("read component");
    let upload = |name: &str| {
        let (api, wasm) = (&api, &wasm);
        let path = format!("/api/v1/tenants/acme/apps/{name}/versions");
        async move { api.post_wasm(&path, wasm).await }
    };
    let at_once = futures_util::future::join_all(names[..4].iter().map(|n| upload(n))).await;
    for response in at_once {
        assert_eq!(response.status, 201, "{}", response.text());
    }
    let later = upload(names[4]).await;
    assert_eq!(later.status, 201, "{}", later.text());
    assert_eq!(runtime.compilations(), 1, "compiled once for five apps");
    assert_eq!(
        stats(&runtime).hits,
        0,
        "nor loaded again from the artifact cache"
    );
    for name in names {
        let host = format!("{name}.acme.localhost:{}", server.addr.port());
        let page = get_from(server.addr, &host, "/thermostat")
            .await
            .expect("GET");
        assert_eq!(page.status, 200, "{name}: {}", page.body);
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&cache_dir);
    db.cleanup().await;
}

fn tempfile_dir() -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!(
        "livewasm-artifacts-{}-{nanos:x}",
        std::process::id()
    ))
}
