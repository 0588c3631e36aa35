//! Support for tests of the multi-tenant platform: a fresh registry database (SQLite always,
//! Postgres when `LIVEWASM_TEST_DATABASE_URL` is set: a fresh schema per test), a real host
//! serving it on loopback, and a small HTTP/1.1 client for the JSON API that names any origin
//! in its `Host` header.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use livewasm_registry::{QuotaDefaults, Registry};
use livewasm_runtime::{Runtime, RuntimeConfig};
use livewasm_server::{Host, ServerConfig};
use serde_json::Value;
use sqlx::any::AnyPoolOptions;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::TestServer;
use crate::http::dechunk;

/// The variable naming a Postgres server for tests (see `tests/postgres.sh`).
pub const PG_ENV: &str = "LIVEWASM_TEST_DATABASE_URL";

/// The variable naming a NATS server for the cluster tests (see `tests/nats.sh`).
pub const NATS_ENV: &str = "LIVEWASM_TEST_NATS_URL";

/// The NATS server of `LIVEWASM_TEST_NATS_URL`; `None` (the test is to be skipped) when it is
/// not set.
pub fn nats_url() -> Option<String> {
    std::env::var(NATS_ENV).ok().filter(|u| !u.is_empty())
}

/// An empty registry database for one test.
pub struct Database {
    /// What `Registry::open` (and `livewasm serve --database`) gets.
    pub location: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Schema { admin_url: String, schema: String },
}

fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}_{nanos:x}", std::process::id())
}

async fn admin_pool(url: &str) -> Result<sqlx::AnyPool, sqlx::Error> {
    sqlx::any::install_default_drivers();
    AnyPoolOptions::new().max_connections(1).connect(url).await
}

impl Database {
    /// A SQLite file in a fresh temp directory.
    pub fn sqlite() -> Database {
        let dir = std::env::temp_dir().join(format!("livewasm-platform-{}", unique()));
        let location = dir.join("registry.db").to_string_lossy().into_owned();
        Database {
            location,
            cleanup: Cleanup::Dir(dir),
        }
    }

    /// A fresh schema on the Postgres server of `LIVEWASM_TEST_DATABASE_URL`; `None` when it
    /// is not set.
    pub async fn postgres() -> Option<Database> {
        let admin_url = std::env::var(PG_ENV).ok().filter(|u| !u.is_empty())?;
        let schema = format!("lw_platform_{}", unique());
        let admin = match admin_pool(&admin_url).await {
            Ok(pool) => pool,
            Err(e) => panic!("connecting to {PG_ENV}: {e}"),
        };
        if let Err(e) = sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
        {
            panic!("creating schema {schema}: {e}");
        }
        admin.close().await;
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        Some(Database {
            location: format!("{admin_url}{sep}options=-c%20search_path%3D{schema}"),
            cleanup: Cleanup::Schema { admin_url, schema },
        })
    }

    /// Deletes the database (and the apps' SQL databases of hosts started on it).
    pub async fn cleanup(self) {
        let _ = std::fs::remove_dir_all(sql_dir_for(&self.location));
        match self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { admin_url, schema } => {
                if let Ok(admin) = admin_pool(&admin_url).await {
                    let apps: Vec<String> =
                        sqlx::query_scalar(&format!("SELECT id FROM {schema}.apps"))
                            .fetch_all(&admin)
                            .await
                            .unwrap_or_default();
                    // The registry first: a host of the test still running cannot load an app
                    // (and make its schema again) once it is gone.
                    let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                        .execute(&admin)
                        .await;
                    drop_app_schemas(&admin, &apps).await;
                    admin.close().await;
                }
            }
        }
    }
}

/// Drops the SQL schema and role (`lw_<app id>`) of each of `apps` (the ids a registry
/// listed): hosts make them in the same Postgres, outside the registry's schema.
async fn drop_app_schemas(admin: &sqlx::AnyPool, apps: &[String]) {
    for id in apps {
        let role = format!("lw_{id}");
        if !role
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            continue;
        }
        let _ = sqlx::query(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
        ))
        .execute(admin)
        .await;
        for statement in [
            format!("DROP SCHEMA IF EXISTS {role} CASCADE"),
            format!("DROP ROLE IF EXISTS {role}"),
        ] {
            let _ = sqlx::query(&statement).execute(admin).await;
        }
    }
}

/// Quotas no test runs into unless it means to: 20 apps, 4 MiB components, 1,000 instances of
/// 16 MiB, the runtime's fuel.
pub fn roomy_quotas() -> QuotaDefaults {
    QuotaDefaults {
        max_apps: 20,
        max_component_bytes: 4 << 20,
        max_concurrent_instances: 1000,
        memory_mib_per_instance: 16,
        fuel_per_callback: RuntimeConfig::default().fuel_per_callback,
    }
}

/// The directory of the apps' SQL databases of a host on the registry at `location`: the
/// same for every host started on it, so they outlive a restart as they do in production.
pub fn sql_dir_for(location: &str) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    location.hash(&mut hasher);
    std::env::temp_dir().join(format!("livewasm-sql-{:016x}", hasher.finish()))
}

impl TestServer {
    /// Starts a multi-tenant host on the registry at `location` (base domain `localhost`),
    /// after loading every app's active version as `livewasm serve --database` does.
    pub async fn start_platform(location: &str, defaults: QuotaDefaults) -> (TestServer, Registry) {
        TestServer::start_platform_configured(location, defaults, ServerConfig::default()).await
    }

    /// A platform host on `db` with `config` and [`roomy_quotas`], its registry, and the API
    /// as its bootstrap operator.
    pub async fn start_operated(
        db: &Database,
        config: ServerConfig,
    ) -> (TestServer, Registry, Api) {
        let (server, registry) =
            TestServer::start_platform_configured(&db.location, roomy_quotas(), config).await;
        let api = Api::operator(server.addr, &registry).await;
        (server, registry, api)
    }

    /// [`TestServer::start_platform`] with `config` (its secret key and SQL directory are the
    /// test's own).
    pub async fn start_platform_configured(
        location: &str,
        defaults: QuotaDefaults,
        config: ServerConfig,
    ) -> (TestServer, Registry) {
        crate::log::capture();
        let registry = match Registry::open(location, defaults).await {
            Ok(registry) => registry,
            Err(e) => panic!("opening the registry: {e}"),
        };
        let runtime = match Runtime::new(RuntimeConfig {
            max_instances: 64,
            ..RuntimeConfig::default()
        }) {
            Ok(runtime) => runtime,
            Err(e) => panic!("runtime: {e}"),
        };
        let config = ServerConfig {
            secret_key: b"platform-test-secret-key-0123456789abcdef".to_vec(),
            sql_dir: Some(sql_dir_for(location)),
            ..config
        };
        let host = Arc::new(Host::with_registry(runtime, config, registry.clone()));
        if let Err(e) = livewasm_server::platform::load_active_apps(&host).await {
            panic!("loading apps: {e}");
        }
        // As `livewasm serve` does: changes made through other hosts on the same registry.
        livewasm_server::registry_sync::keep_in_sync(&host);
        // With `config.cluster`: PubSub relayed through that NATS server, as `--cluster` does.
        if let Err(e) = livewasm_server::pubsub_relay::start(&host).await {
            panic!("joining the cluster: {e}");
        }
        (TestServer::serve_host(host).await, registry)
    }
}

/// An HTTP response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Lowercased header names with their values.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// `error.code` of an API error body.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// `error.message` of an API error body.
    pub fn error_message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Asserts `response` has `status` and, with `code`, is an API error of that code with a
/// message.
#[track_caller]
pub fn assert_status(response: &HttpResponse, status: u16, code: Option<&str>) {
    assert_eq!(
        response.status,
        status,
        "expected {status}, got {}: {}",
        response.status,
        response.text()
    );
    if let Some(code) = code {
        assert_eq!(response.error_code(), code, "{}", response.text());
        assert!(
            !response.error_message().is_empty(),
            "error without message: {}",
            response.text()
        );
    }
}

/// The origin of app `app` of tenant `tenant` on a test host at `addr` (base domain
/// `localhost`): `<app>.<tenant>.localhost:<port>`.
pub fn app_origin(addr: std::net::SocketAddr, tenant: &str, app: &str) -> String {
    format!("{app}.{tenant}.localhost:{}", addr.port())
}

async fn read_head<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
) -> std::io::Result<(u16, Vec<(String, String)>)> {
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            break;
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    Ok((status, headers))
}

/// One HTTP/1.1 request to the server at `addr` naming origin `host`. A body is sent with
/// `Expect: 100-continue`, so a server that refuses it early (413) never has to read it.
pub async fn http_request(
    addr: SocketAddr,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> std::io::Result<HttpResponse> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!(
            "Content-Length: {}\r\nExpect: 100-continue\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    write.write_all(head.as_bytes()).await?;
    let (mut status, mut response_headers) = (0, Vec::new());
    if let Some(body) = body {
        let (first, first_headers) = read_head(&mut reader).await?;
        if first == 100 {
            write.write_all(body).await?;
        } else {
            (status, response_headers) = (first, first_headers);
        }
    }
    if status == 0 {
        (status, response_headers) = read_head(&mut reader).await?;
    }
    let mut raw = Vec::new();
    reader.read_to_end(&mut raw).await?;
    let chunked = response_headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(&String::from_utf8_lossy(&raw)).into_bytes()
    } else {
        raw
    };
    Ok(HttpResponse {
        status,
        headers: response_headers,
        body,
    })
}

/// A client of the platform API at `host` (e.g. `localhost:<port>`), with an optional bearer
/// token.
#[derive(Debug, Clone)]
pub struct Api {
    /// The server.
    pub addr: SocketAddr,
    /// The `Host` header sent.
    pub host: String,
    /// The bearer token sent.
    pub token: Option<String>,
}

impl Api {
    /// A client of the API at `localhost:<port>` authenticating with `token`.
    pub fn new(addr: SocketAddr, token: Option<&str>) -> Api {
        Api {
            addr,
            host: format!("localhost:{}", addr.port()),
            token: token.map(str::to_string),
        }
    }

    /// A client of the API at `addr` as the registry's bootstrap operator (a fresh operator
    /// token made offline on `registry`, as `livewasm token create --operator` does).
    pub async fn operator(addr: SocketAddr, registry: &Registry) -> Api {
        match livewasm_server::platform::bootstrap_operator_token(registry).await {
            Ok(operator) => Api::new(addr, Some(&operator.token)),
            Err(e) => panic!("operator token: {e}"),
        }
    }

    /// The same client with another token.
    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Option<&[u8]>,
    ) -> HttpResponse {
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = vec![("Accept", "application/json")];
        if let Some(auth) = &auth {
            headers.push(("Authorization", auth.as_str()));
        }
        if body.is_some() {
            headers.push(("Content-Type", content_type));
        }
        match http_request(self.addr, method, &self.host, path, &headers, body).await {
            Ok(response) => response,
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> HttpResponse {
        self.send("GET", path, "", None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> HttpResponse {
        let bytes = body.to_string().into_bytes();
        self.send("POST", path, "application/json", Some(&bytes))
            .await
    }

    /// `PUT path` with a JSON body.
    pub async fn put_json(&self, path: &str, body: &Value) -> HttpResponse {
        let bytes = body.to_string().into_bytes();
        self.send("PUT", path, "application/json", Some(&bytes))
            .await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> HttpResponse {
        self.send("DELETE", path, "", None).await
    }

    /// `POST path` with no body.
    pub async fn post_empty(&self, path: &str) -> HttpResponse {
        self.send("POST", path, "", None).await
    }

    /// `POST path` with a component (`application/wasm`).
    pub async fn post_wasm(&self, path: &str, wasm: &[u8]) -> HttpResponse {
        self.send("POST", path, "application/wasm", Some(wasm))
            .await
    }

    /// Creates tenant `tenant` (panics unless the API answers 201).
    pub async fn create_tenant(&self, tenant: &str) {
        let created = self
            .post_json("/api/v1/tenants", &serde_json::json!({"name": tenant}))
            .await;
        assert_eq!(created.status, 201, "tenant {tenant}: {}", created.text());
    }

    /// Creates app `app` of an existing tenant and deploys the built guest `component` (see
    /// `livewasm_test::component_path`) as its first, active version.
    pub async fn create_app(&self, tenant: &str, app: &str, component: &str) {
        let created = self
            .post_json(
                &format!("/api/v1/tenants/{tenant}/apps"),
                &serde_json::json!({"name": app}),
            )
            .await;
        assert_eq!(
            created.status,
            201,
            "app {tenant}/{app}: {}",
            created.text()
        );
        let wasm = match livewasm_test::component_path(component).map(std::fs::read) {
            Ok(Ok(wasm)) => wasm,
            other => panic!("component {component}: {other:?}"),
        };
        let uploaded = self
            .post_wasm(
                &format!("/api/v1/tenants/{tenant}/apps/{app}/versions"),
                &wasm,
            )
            .await;
        assert_eq!(
            uploaded.status,
            201,
            "deploy {tenant}/{app}: {}",
            uploaded.text()
        );
    }
}

/// One `#[tokio::test]` per backend for each scenario `async fn name(db: &Database)` named:
/// `sqlite::name` always, `postgres::name` when [`PG_ENV`] is set (skipped otherwise). The
/// test file must `use livewasm_integration_tests::platform::{Database, PG_ENV};`.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::Database::sqlite();
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::Database::postgres().await else {
                        eprintln!("skipped: {} is not set", super::PG_ENV);
                        return;
                    };
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}
