//! Apps ship static files (`assets:` in `app!`): the host serves them at a content-addressed
//! path on the app's own origin, cached for good, with a strong ETag (304), their content type
//! and `nosniff`; every page links the app's stylesheets and applies its root layout; another
//! tenant's origin does not serve them; an app past the asset limits is refused at load while
//! the host keeps serving the others.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use livewasm_integration_tests::platform::{
    Api, HttpResponse, app_origin, assert_status, http_request, roomy_quotas,
};
use livewasm_integration_tests::{TestServer, get_from};
use livewasm_runtime::{AssetError, MAX_ASSET_BYTES, Runtime, RuntimeConfig, RuntimeError};
use sha2::{Digest, Sha256};

const THERMOSTAT_CSS: &[u8] = include_bytes!("../../examples/thermostat/assets/app.css");
const USERS_CSS: &[u8] = include_bytes!("../../examples/users/assets/app.css");

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where the host serves `bytes` named `name`.
fn asset_path(name: &str, bytes: &[u8]) -> String {
    format!("/assets/app/{}/{name}", &sha256_hex(bytes)[..16])
}

fn header<'a>(response: &'a HttpResponse, name: &str) -> Option<&'a str> {
    response
        .headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

async fn fetch(addr: SocketAddr, host: &str, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    http_request(addr, "GET", host, path, headers, None)
        .await
        .expect("request")
}

#[tokio::test]
async fn assets_are_served_content_addressed_immutable_with_etags() {
    let server = TestServer::start(&["thermostat", "users"]).await;
    let host = format!("127.0.0.1:{}", server.addr.port());
    let path = asset_path("app.css", THERMOSTAT_CSS);

    let response = fetch(server.addr, &host, &path, &[]).await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.body, THERMOSTAT_CSS);
    assert_eq!(
        header(&response, "content-type"),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(
        header(&response, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(header(&response, "x-content-type-options"), Some("nosniff"));
    let etag = format!("\"{}\"", sha256_hex(THERMOSTAT_CSS));
    assert_eq!(header(&response, "etag"), Some(etag.as_str()));

    // The client holds these bytes: 304, no body.
    let revalidated = fetch(server.addr, &host, &path, &[("If-None-Match", &etag)]).await;
    assert_eq!(revalidated.status, 304);
    assert!(revalidated.body.is_empty());
    assert_eq!(header(&revalidated, "etag"), Some(etag.as_str()));
    let stale = fetch(server.addr, &host, &path, &[("If-None-Match", "\"other\"")]).await;
    assert_eq!(stale.status, 200);

    // Another app of the site ships its own `app.css`, at its own hash.
    let users = fetch(server.addr, &host, &asset_path("app.css", USERS_CSS), &[]).await;
    assert_eq!(users.status, 200);
    assert_eq!(users.body, USERS_CSS);

    // A wrong hash, an unknown name, a hidden or climbing path: not found.
    for wrong in [
        asset_path("app.css", b"other bytes"),
        path.replace("app.css", "nope.css"),
        path.replace("app.css", "../app.css"),
        path.replace("app.css", ".app.css"),
        "/assets/app/short/app.css".to_string(),
    ] {
        let response = fetch(server.addr, &host, &wrong, &[]).await;
        assert_eq!(response.status, 404, "{wrong}");
    }
}

#[tokio::test]
async fn pages_link_the_apps_stylesheets_and_apply_its_root_layout() {
    let server = TestServer::start(&["thermostat", "users"]).await;
    let host = format!("127.0.0.1:{}", server.addr.port());

    let page = get_from(server.addr, &host, "/thermostat?house=1")
        .await
        .expect("page");
    assert_eq!(page.status, 200, "{}", page.body);
    let link = format!(
        "<link rel=\"stylesheet\" href=\"{}\">",
        asset_path("app.css", THERMOSTAT_CSS)
    );
    assert!(page.body.contains(&link), "{}", page.body);
    assert!(
        page.body
            .contains("<title data-default=\"thermostat\" data-suffix=\" · Livewasm\">thermostat · Livewasm</title>"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<body class=\"bg-gray-50 antialiased\">"),
        "{}",
        page.body
    );
    // The app's stylesheet replaces the host's default style; the host keeps its script.
    assert!(!page.body.contains("<style>"), "{}", page.body);
    assert!(
        page.body
            .contains("<script defer src=\"/assets/livewasm.js\">")
    );

    // Without a root layout, every `.css` asset is linked.
    let users = get_from(server.addr, &host, "/users").await.expect("page");
    let link = format!(
        "<link rel=\"stylesheet\" href=\"{}\">",
        asset_path("app.css", USERS_CSS)
    );
    assert!(users.body.contains(&link), "{}", users.body);
    assert!(users.body.contains("<body>"), "{}", users.body);
}

#[tokio::test]
async fn an_app_origin_serves_only_its_own_assets() {
    let location = livewasm_integration_tests::platform::Database::sqlite();
    let (server, registry) = TestServer::start_platform(&location.location, roomy_quotas()).await;
    let operator = livewasm_server::platform::bootstrap_operator_token(&registry)
        .await
        .expect("operator token");
    let api = Api::new(server.addr, Some(&operator.token));
    api.create_tenant("acme").await;
    api.create_app("acme", "thermostat", "thermostat").await;
    api.create_tenant("globex").await;
    api.create_app("globex", "users", "users").await;
    let thermostat = asset_path("app.css", THERMOSTAT_CSS);
    let users = asset_path("app.css", USERS_CSS);
    let acme = app_origin(server.addr, "acme", "thermostat");
    let globex = app_origin(server.addr, "globex", "users");

    let own = fetch(server.addr, &acme, &thermostat, &[]).await;
    assert_eq!(own.status, 200, "{}", own.text());
    assert_eq!(own.body, THERMOSTAT_CSS);
    assert_eq!(fetch(server.addr, &globex, &users, &[]).await.status, 200);

    // Each origin serves its own app's assets only: not another tenant's, not the base
    // domain's, not an app origin nothing is served at.
    let base = format!("localhost:{}", server.addr.port());
    let nobody = app_origin(server.addr, "acme", "nothing");
    for (origin, path) in [
        (&globex, &thermostat),
        (&acme, &users),
        (&base, &thermostat),
        (&nobody, &thermostat),
    ] {
        let response = fetch(server.addr, origin, path, &[]).await;
        assert_eq!(response.status, 404, "{origin}{path}: {}", response.text());
        assert_ne!(response.body, THERMOSTAT_CSS);
    }
    location.cleanup().await;
}

#[tokio::test]
async fn an_app_with_an_oversized_asset_is_refused_at_load_and_others_keep_serving() {
    let big = std::fs::read(livewasm_test::component_path("big-assets").expect("built"))
        .expect("big-assets.wasm");
    let runtime = Runtime::new(RuntimeConfig::default()).expect("runtime");
    match runtime.load_app(&big) {
        Err(RuntimeError::Asset(AssetError::TooLarge { name, size })) => {
            assert_eq!(name, "huge.png");
            assert_eq!(size, MAX_ASSET_BYTES + 1);
        }
        other => panic!(
            "expected the oversized asset refused, got {:?}",
            other.map(|_| ())
        ),
    }

    let location = livewasm_integration_tests::platform::Database::sqlite();
    let (server, registry) = TestServer::start_platform(&location.location, roomy_quotas()).await;
    let operator = livewasm_server::platform::bootstrap_operator_token(&registry)
        .await
        .expect("operator token");
    let api = Api::new(server.addr, Some(&operator.token));
    api.create_tenant("acme").await;
    api.create_app("acme", "thermostat", "thermostat").await;
    let created = api
        .post_json(
            "/api/v1/tenants/acme/apps",
            &serde_json::json!({"name": "big"}),
        )
        .await;
    assert_status(&created, 201, None);
    let refused = api
        .post_wasm("/api/v1/tenants/acme/apps/big/versions", &big)
        .await;
    assert_status(&refused, 422, Some("bad_assets"));
    assert!(
        refused.error_message().contains("huge.png"),
        "{}",
        refused.text()
    );

    // The host and the tenant's other app carry on.
    let acme = app_origin(server.addr, "acme", "thermostat");
    let css = fetch(
        server.addr,
        &acme,
        &asset_path("app.css", THERMOSTAT_CSS),
        &[],
    )
    .await;
    assert_eq!(css.status, 200);
    let page = get_from(server.addr, &acme, "/thermostat")
        .await
        .expect("page");
    assert_eq!(page.status, 200, "{}", page.body);
    location.cleanup().await;
}
