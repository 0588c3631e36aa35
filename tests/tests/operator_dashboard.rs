//! The operator dashboard's authorization over real HTTP, on a host with a registry serving
//! the real component (`cargo xtask build operator-dashboard`) through `Host::add_dashboard`:
//! the hostile cases first (a bad, a deploy, a revoked token; the same component deployed as a
//! tenant's app), then what an operator and a tenant token see.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use livewasm_integration_tests::TestServer;
use livewasm_integration_tests::platform::{
    Api, Database, HttpResponse, app_origin, http_request, roomy_quotas, sql_dir_for,
};
use livewasm_registry::{Principal, Registry, Scope};
use livewasm_runtime::{Runtime, RuntimeConfig};
use livewasm_server::{Host, ServerConfig};

/// A browser's cookies for one origin: `name=value`, newest wins.
#[derive(Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn keep(&mut self, response: &HttpResponse) {
        for (name, value) in &response.headers {
            if name != "set-cookie" {
                continue;
            }
            let Some((key, val)) = value.split(';').next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            self.0.retain(|(k, _)| k != key);
            if !val.is_empty() && !value.contains("Max-Age=0") {
                self.0.push((key.to_string(), val.to_string()));
            }
        }
    }

    fn header(&self) -> String {
        let pairs: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        pairs.join("; ")
    }
}

fn location(response: &HttpResponse) -> Option<&str> {
    response
        .headers
        .iter()
        .find(|(n, _)| n == "location")
        .map(|(_, v)| v.as_str())
}

/// One browser on origin `host`.
struct Browser {
    addr: SocketAddr,
    host: String,
    jar: Jar,
}

impl Browser {
    fn new(addr: SocketAddr, host: &str) -> Browser {
        Browser {
            addr,
            host: host.to_string(),
            jar: Jar::default(),
        }
    }

    async fn get(&mut self, path: &str) -> HttpResponse {
        let cookie = self.jar.header();
        let response = http_request(
            self.addr,
            "GET",
            &self.host,
            path,
            &[("Cookie", &cookie), ("Accept", "text/html")],
            None,
        )
        .await
        .expect("GET");
        self.jar.keep(&response);
        response
    }

    /// Posts `token` with the login form; the response to the post.
    async fn sign_in(&mut self, token: &str) -> HttpResponse {
        let page = self.get("/ops/login").await;
        assert_eq!(page.status, 200, "{}", page.text());
        let html = page.text();
        let csrf = html
            .split("name=\"_csrf_token\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the form's CSRF token")
            .to_string();
        // Tokens and CSRF tokens are URL-safe base64 (`lw_…`): nothing to escape.
        let body = format!("_csrf_token={csrf}&token={token}");
        let cookie = self.jar.header();
        let response = http_request(
            self.addr,
            "POST",
            &self.host,
            "/ops/login",
            &[
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some(body.as_bytes()),
        )
        .await
        .expect("POST");
        self.jar.keep(&response);
        response
    }

    /// Signs in with `token` and expects to be sent back to the login page with `reason`.
    async fn refused(&mut self, token: &str, reason: &str) {
        let response = self.sign_in(token).await;
        assert_eq!(response.status, 302, "{}", response.text());
        assert_eq!(location(&response), Some("/ops/login"));
        let page = self.get("/ops/login").await;
        assert!(page.text().contains(reason), "{reason}: {}", page.text());
        let dashboard = self.get("/ops").await;
        assert_eq!(dashboard.status, 302, "no token kept: {}", dashboard.text());
        assert_eq!(location(&dashboard), Some("/ops/login"));
    }

    /// Signs in with `token` and returns the dashboard's dead render.
    async fn dashboard(&mut self, token: &str) -> String {
        let response = self.sign_in(token).await;
        assert_eq!(response.status, 302, "{}", response.text());
        assert_eq!(location(&response), Some("/ops"));
        let page = self.get("/ops").await;
        assert_eq!(page.status, 200, "{}", page.text());
        page.text()
    }
}

/// A host with a registry and the dashboard; tenants `acme` (thermostat) and `globex` (shop).
async fn platform() -> (TestServer, Registry, String, Database) {
    let db = Database::sqlite();
    let registry = Registry::open(&db.location, roomy_quotas())
        .await
        .expect("registry");
    let runtime = Runtime::new(RuntimeConfig::default()).expect("runtime");
    let host = Host::with_registry(
        runtime.clone(),
        ServerConfig {
            secret_key: b"operator-dashboard-test-key-0123456789abcdef".to_vec(),
            sql_dir: Some(sql_dir_for(&db.location)),
            ..ServerConfig::default()
        },
        registry.clone(),
    );
    let wasm = std::fs::read(livewasm_test::component_path("operator-dashboard").expect("built"))
        .expect("read operator-dashboard.wasm");
    host.add_dashboard(
        runtime.load_app(&wasm).expect("load"),
        tokio::runtime::Handle::current(),
    )
    .expect("add the dashboard");
    let server = TestServer::serve_host(Arc::new(host)).await;
    let operator = livewasm_server::platform::bootstrap_operator_token(&registry)
        .await
        .expect("operator token")
        .token;
    let api = Api::new(server.addr, Some(&operator));
    api.create_tenant("acme").await;
    api.create_tenant("globex").await;
    api.create_app("acme", "thermostat", "thermostat").await;
    api.create_app("globex", "shop", "thermostat").await;
    (server, registry, operator, db)
}

async fn token(registry: &Registry, label: &str, scope: Scope) -> String {
    registry
        .create_token(&Principal::system("test"), label, scope)
        .await
        .expect("token")
        .token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_deploy_and_revoked_tokens_and_other_apps_get_nothing() {
    let (server, registry, operator, db) = platform().await;
    let base = format!("localhost:{}", server.addr.port());

    let mut browser = Browser::new(server.addr, &base);
    browser
        .refused("lw_not-a-token", "the token is unknown, revoked or expired")
        .await;
    let thermostat = registry.app("acme", "thermostat").await.expect("app");
    let deploy = token(&registry, "ci", Scope::deploy(&thermostat)).await;
    browser
        .refused(&deploy, "a deploy token cannot open the dashboard")
        .await;

    // A tenant token revoked while its page is open: the next page load is sent to the login
    // page with the reason.
    let acme = registry.tenant("acme").await.expect("tenant");
    let tenant_token = token(&registry, "acme", Scope::tenant(&acme)).await;
    let mut tenant = Browser::new(server.addr, &base);
    assert!(
        tenant
            .dashboard(&tenant_token)
            .await
            .contains("tenant-acme")
    );
    let id = registry
        .authenticate(&tenant_token)
        .await
        .expect("authenticate")
        .expect("known")
        .token_id()
        .expect("a token")
        .clone();
    registry
        .revoke_token(&Principal::system("test"), &id)
        .await
        .expect("revoke");
    let after = tenant.get("/ops").await;
    assert_eq!(after.status, 302, "{}", after.text());
    assert_eq!(location(&after), Some("/ops/login"));
    let login = tenant.get("/ops/login").await;
    assert!(
        login
            .text()
            .contains("the token is unknown, revoked or expired"),
        "{}",
        login.text()
    );

    // The same component as a tenant's app, with the operator's own token: not granted.
    let api = Api::new(server.addr, Some(&operator));
    api.create_app("acme", "spy", "operator-dashboard").await;
    let mut spy = Browser::new(server.addr, &app_origin(server.addr, "acme", "spy"));
    spy.refused(&operator, "not permitted").await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sees_every_tenant_and_a_tenant_only_its_own() {
    let (server, registry, operator, db) = platform().await;
    let base = format!("localhost:{}", server.addr.port());

    let html = Browser::new(server.addr, &base).dashboard(&operator).await;
    for id in [
        "tenant-acme",
        "tenant-globex",
        "app-acme-thermostat",
        "app-globex-shop",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}: {html}");
    }
    assert!(html.contains("version:acme/thermostat@1"), "{html}");

    let globex = registry.tenant("globex").await.expect("tenant");
    let globex_token = token(&registry, "globex", Scope::tenant(&globex)).await;
    let html = Browser::new(server.addr, &base)
        .dashboard(&globex_token)
        .await;
    assert!(html.contains("Tenant globex"), "{html}");
    assert!(html.contains("id=\"app-globex-shop\""), "{html}");
    assert!(html.contains("version:globex/shop@1"), "{html}");
    assert!(!html.contains("acme"), "nothing of another tenant: {html}");
    db.cleanup().await;
}
