//! The welcome page of a dev host: `GET /` on the default site, when no app serves `/`, lists
//! the apps served and their routes (links for plain paths, text for patterns with params)
//! and, on a host with a registry, the tenant apps on their own origins. Outside dev mode `/`
//! stays a 404.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use livewasm_integration_tests::platform::{Api, Database, roomy_quotas, sql_dir_for};
use livewasm_integration_tests::{Page, TestServer, get};
use livewasm_registry::{QuotaDefaults, Registry};
use livewasm_runtime::{Runtime, RuntimeConfig};
use livewasm_server::{Host, ServerConfig};
use serde_json::json;

fn dev_config() -> ServerConfig {
    ServerConfig {
        secret_key: b"welcome-page-test-secret-key-0123456789abcdef".to_vec(),
        dev: true,
        ..ServerConfig::default()
    }
}

/// The `href` of every link on the page.
fn links(page: &Page) -> Vec<String> {
    let html = scraper::Html::parse_document(&page.body);
    let selector = scraper::Selector::parse("a[href]").expect("selector");
    html.select(&selector)
        .filter_map(|a| a.value().attr("href"))
        .map(str::to_string)
        .collect()
}

/// The text of every `h2` on the page.
fn headings(page: &Page) -> Vec<String> {
    let html = scraper::Html::parse_document(&page.body);
    let selector = scraper::Selector::parse("h2").expect("selector");
    html.select(&selector)
        .map(|h| h.text().collect::<String>())
        .collect()
}

#[tokio::test]
async fn a_dev_host_lists_its_apps_and_their_routes_at_the_root() {
    let (server, _host) =
        TestServer::start_configured(&["thermostat", "dashboard"], dev_config()).await;
    let page = get(server.addr, "/").await.expect("GET /");
    assert_eq!(page.status, 200, "{}", page.body);
    let headings = headings(&page);
    assert!(headings.contains(&"thermostat".to_string()), "{headings:?}");
    assert!(headings.contains(&"dashboard".to_string()), "{headings:?}");
    let links = links(&page);
    assert!(links.contains(&"/thermostat".to_string()), "{links:?}");
    assert!(links.contains(&"/dashboard".to_string()), "{links:?}");
    // A pattern with params is shown, not linked.
    assert!(
        page.body.contains("<code>/dashboard/:org_slug</code>"),
        "{}",
        page.body
    );
    assert!(!links.iter().any(|l| l.contains(':')), "{links:?}");
    // Without a registry there is no tenant section.
    assert!(!page.body.contains("Tenant apps"), "{}", page.body);
    // The links work.
    assert_eq!(get(server.addr, "/thermostat").await.unwrap().status, 200);
    // Other unknown paths still answer 404.
    let missing = get(server.addr, "/nope").await.unwrap();
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("Nothing is served at /nope."));
}

#[tokio::test]
async fn a_production_host_answers_404_at_the_root() {
    let (server, _host) = TestServer::start_configured(
        &["thermostat", "dashboard"],
        ServerConfig {
            dev: false,
            ..dev_config()
        },
    )
    .await;
    let page = get(server.addr, "/").await.expect("GET /");
    assert_eq!(page.status, 404, "{}", page.body);
    assert!(
        page.body.contains("Nothing is served at /."),
        "{}",
        page.body
    );
    assert!(!page.body.contains("thermostat"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dev_host_with_a_registry_lists_the_tenant_apps() {
    let db = Database::sqlite();
    let registry = Registry::open(
        &db.location,
        QuotaDefaults {
            max_apps: 5,
            max_component_bytes: 16 << 20,
            max_concurrent_instances: 100,
            ..roomy_quotas()
        },
    )
    .await
    .expect("registry");
    let runtime = Runtime::new(RuntimeConfig::default()).expect("runtime");
    let host = Host::with_registry(
        runtime.clone(),
        ServerConfig {
            sql_dir: Some(sql_dir_for(&db.location)),
            ..dev_config()
        },
        registry.clone(),
    );
    let wasm = std::fs::read(livewasm_test::component_path("thermostat").expect("built"))
        .expect("read thermostat");
    host.add_app(runtime.load_app(&wasm).expect("load"))
        .expect("add app");
    let server = TestServer::serve_host(Arc::new(host)).await;
    let port = server.addr.port();

    // No tenant app yet: the page says where one would be served.
    let page = get(server.addr, "/").await.expect("GET /");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Tenant apps"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("http://APP.TENANT.localhost:{port}/")),
        "{}",
        page.body
    );

    // Deploy the thermostat as `acme/thermo`: the page links to its route on its origin.
    let api = Api::operator(server.addr, &registry).await;
    api.create_tenant("acme").await;
    let created = api
        .post_json("/api/v1/tenants/acme/apps", &json!({"name": "thermo"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let uploaded = api
        .post_wasm("/api/v1/tenants/acme/apps/thermo/versions", &wasm)
        .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text());

    let page = get(server.addr, "/").await.expect("GET /");
    assert_eq!(page.status, 200, "{}", page.body);
    let links = links(&page);
    let origin_link = format!("http://thermo.acme.localhost:{port}/thermostat");
    assert!(links.contains(&origin_link), "{links:?}");
    assert!(page.body.contains("acme/thermo"), "{}", page.body);
    // The default site's own app is still listed.
    assert!(links.contains(&"/thermostat".to_string()), "{links:?}");

    drop(server);
    registry.close().await;
    db.cleanup().await;
}
