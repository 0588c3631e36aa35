//! The multi-tenant platform end to end: the `/api/v1` HTTP API, apps served on their own
//! origins (`<app>.<tenant>.localhost`), WebSocket joins bound to their app, versions,
//! activation and rollback, quotas, and hostile uploads. Each test runs on SQLite (a temp
//! file) and, when `LIVEWASM_TEST_DATABASE_URL` is set, on Postgres (a fresh schema):
//! `LIVEWASM_TEST_DATABASE_URL=$(tests/postgres.sh) cargo test -p livewasm-integration-tests`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use livewasm_integration_tests::platform::{
    Api, Database, PG_ENV, app_origin, assert_status, roomy_quotas,
};
use livewasm_integration_tests::{Page, PhxSocket, TestServer, get_from};
use livewasm_registry::{Principal, QuotaDefaults, QuotaOverrides, Registry};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Small component quota so the oversized case is cheap; thermostat.wasm is about 100 KB.
const MAX_COMPONENT_BYTES: u64 = 1 << 20;

fn defaults() -> QuotaDefaults {
    QuotaDefaults {
        max_component_bytes: MAX_COMPONENT_BYTES,
        ..roomy_quotas()
    }
}

fn component(name: &str) -> Vec<u8> {
    let path = livewasm_test::component_path(name).expect("built component");
    std::fs::read(path).expect("read component")
}

/// A component importing a WASI interface (which the host never grants).
fn wasi_component() -> Vec<u8> {
    use wasm_encoder::{
        Component, ComponentImportSection, ComponentTypeRef, ComponentTypeSection, InstanceType,
    };
    let mut component = Component::new();
    let mut types = ComponentTypeSection::new();
    types.instance(&InstanceType::new());
    component.section(&types);
    let mut imports = ComponentImportSection::new();
    imports.import("wasi:cli/environment@0.2.0", ComponentTypeRef::Instance(0));
    component.section(&imports);
    component.finish()
}

fn reply_status(reply: &Value) -> &str {
    reply["status"].as_str().unwrap_or_default()
}

fn reply_reason(reply: &Value) -> &str {
    reply["response"]["reason"].as_str().unwrap_or_default()
}

/// Creates tenant `name` (as the operator) and a tenant token for it.
async fn tenant_with_token(operator: &Api, name: &str) -> Api {
    let created = operator
        .post_json("/api/v1/tenants", &json!({"name": name}))
        .await;
    assert_status(&created, 201, None);
    assert_eq!(created.json()["tenant"]["name"], name);
    let token = operator
        .post_json(
            "/api/v1/tokens",
            &json!({"label": format!("{name} admin"), "scope": {"kind": "tenant", "tenant": name}}),
        )
        .await;
    assert_status(&token, 201, None);
    let text = token.json()["token"].as_str().unwrap().to_string();
    assert!(text.starts_with("lw_"), "{text}");
    assert_eq!(token.json()["info"]["scope"]["kind"], "tenant");
    operator.with_token(&text)
}

async fn create_app(api: &Api, tenant: &str, app: &str) {
    let created = api
        .post_json(
            &format!("/api/v1/tenants/{tenant}/apps"),
            &json!({"name": app}),
        )
        .await;
    assert_status(&created, 201, None);
    assert_eq!(created.json()["app"]["name"], app);
}

async fn page(addr: SocketAddr, host: &str, path: &str) -> Page {
    get_from(addr, host, path).await.expect("GET page")
}

/// A socket on `host` carrying the page's cookie and CSRF token.
async fn socket_for(addr: SocketAddr, host: &str, page: &Page) -> PhxSocket {
    let cookie = page.cookie_header();
    PhxSocket::connect_to(addr, host, page.csrf.as_deref(), Some(cookie.as_str()))
        .await
        .expect("socket")
}

async fn start(db: &Database) -> (TestServer, Registry, Api) {
    let (server, registry) = TestServer::start_platform(&db.location, defaults()).await;
    let operator = livewasm_server::platform::bootstrap_operator_token(&registry)
        .await
        .expect("operator token");
    let api = Api::new(server.addr, Some(&operator.token));
    (server, registry, api)
}

async fn deploy_serve_activate_and_roll_back(db: &Database) {
    let (server, registry, operator) = start(db).await;
    let addr = server.addr;

    // Authentication and input errors.
    let anonymous = Api::new(addr, None);
    assert_status(
        &anonymous
            .post_json("/api/v1/tenants", &json!({"name": "acme"}))
            .await,
        401,
        Some("unauthorized"),
    );
    assert_status(
        &operator
            .with_token("lw_not-a-real-token")
            .get("/api/v1/tenants/acme")
            .await,
        401,
        Some("unauthorized"),
    );
    assert_status(
        &operator
            .post_json("/api/v1/tenants", &json!({"name": "Not A Label"}))
            .await,
        400,
        Some("invalid_name"),
    );
    assert_status(
        &operator
            .post_json("/api/v1/tenants", &json!({"nom": "x"}))
            .await,
        400,
        Some("invalid_body"),
    );

    let acme = tenant_with_token(&operator, "acme").await;
    assert_status(
        &operator
            .post_json("/api/v1/tenants", &json!({"name": "acme"}))
            .await,
        409,
        Some("already_exists"),
    );
    create_app(&acme, "acme", "thermostat").await;
    let host = app_origin(addr, "acme", "thermostat");

    // Nothing is served before the first upload.
    let before = page(addr, &host, "/thermostat").await;
    assert_eq!(before.status, 404);
    assert!(
        before
            .body
            .contains("No app is served at thermostat.acme.localhost"),
        "{}",
        before.body
    );

    // Upload and activate version 1.
    let thermostat = component("thermostat");
    let versions = "/api/v1/tenants/acme/apps/thermostat/versions";
    let uploaded = acme.post_wasm(versions, &thermostat).await;
    assert_status(&uploaded, 201, None);
    let v1 = uploaded.json();
    assert_eq!(v1["version"]["number"], 1);
    assert_eq!(v1["version"]["size"], thermostat.len());
    assert_eq!(v1["active"], true);
    let sha = v1["version"]["sha256"].as_str().unwrap().to_string();
    assert_eq!(sha, format!("{:x}", Sha256::digest(&thermostat)));

    let app = acme.get("/api/v1/tenants/acme/apps/thermostat").await;
    assert_status(&app, 200, None);
    assert_eq!(app.json()["active"]["number"], 1);
    assert_eq!(
        app.json()["url"],
        format!("http://thermostat.acme.localhost:{}/", addr.port())
    );
    let listed = acme.get("/api/v1/tenants/acme/apps").await;
    assert_eq!(listed.json()["apps"][0]["name"], "thermostat");

    // The page on the app's origin (host names are case-insensitive), and a live join.
    let page1 = page(addr, &host, "/thermostat").await;
    assert_eq!(page1.status, 200, "{}", page1.body);
    assert!(page1.session.is_some());
    let shouted = page(addr, &host.to_uppercase(), "/thermostat").await;
    assert_eq!(shouted.status, 200);
    let url = format!("http://{host}/thermostat");
    let mut socket = socket_for(addr, &host, &page1).await;
    let (join_ref, reply) = socket.join_page(&page1, &url).await.unwrap();
    assert_eq!(reply_status(&reply), "ok", "{reply}");
    let usage = acme.get("/api/v1/tenants/acme/quotas").await.json();
    assert_eq!(usage["usage"]["instances"], 1, "{usage}");
    assert_eq!(usage["usage"]["apps"], 1, "{usage}");
    assert_eq!(usage["quotas"]["max_component_bytes"], MAX_COMPONENT_BYTES);

    // The API is not served on app origins, nor app pages on the API host.
    let mut on_app = acme.clone();
    on_app.host = host.clone();
    assert_ne!(on_app.get("/api/v1/tenants/acme").await.status, 200);
    assert_eq!(
        page(addr, &format!("localhost:{}", addr.port()), "/thermostat")
            .await
            .status,
        404
    );

    // The same bytes again, not activated: a new version with the same content address.
    let again = acme
        .post_wasm(&format!("{versions}?activate=false"), &thermostat)
        .await;
    assert_status(&again, 201, None);
    assert_eq!(again.json()["version"]["number"], 2);
    assert_eq!(again.json()["version"]["sha256"], sha.as_str());
    assert_eq!(again.json()["active"], false);
    let list = acme.get(versions).await.json();
    assert_eq!(list["versions"].as_array().map(Vec::len), Some(2), "{list}");
    assert_eq!(list["active"], 1);

    // A different component as version 3: new page loads get it at once.
    let rows = acme.post_wasm(versions, &component("rows")).await;
    assert_status(&rows, 201, None);
    assert_eq!(rows.json()["version"]["number"], 3);
    assert_eq!(page(addr, &host, "/rows").await.status, 200);
    assert_eq!(page(addr, &host, "/thermostat").await.status, 404);
    // The socket joined before keeps its instance.
    let reply = socket
        .event(&join_ref, &page1.topic(), "click", "inc", json!({}))
        .await
        .unwrap();
    assert_eq!(reply_status(&reply), "ok", "{reply}");

    // Activate version 1 again, then roll back twice.
    let activated = acme
        .post_empty("/api/v1/tenants/acme/apps/thermostat/versions/1/activate")
        .await;
    assert_status(&activated, 200, None);
    assert_eq!(activated.json()["version"]["number"], 1);
    assert_eq!(page(addr, &host, "/thermostat").await.status, 200);
    assert_status(
        &acme
            .post_empty("/api/v1/tenants/acme/apps/thermostat/versions/9/activate")
            .await,
        404,
        Some("not_found"),
    );
    let rollback = "/api/v1/tenants/acme/apps/thermostat/rollback";
    let back = acme.post_empty(rollback).await;
    assert_status(&back, 200, None);
    assert_eq!(back.json()["version"]["number"], 3);
    assert_eq!(page(addr, &host, "/rows").await.status, 200);
    let back = acme.post_empty(rollback).await;
    assert_status(&back, 200, None);
    assert_eq!(back.json()["version"]["number"], 1);
    assert_status(
        &acme.post_empty(rollback).await,
        409,
        Some("nothing_to_roll_back"),
    );
    assert_eq!(acme.get(versions).await.json()["active"], 1);

    // A restarted host serves the active version straight away.
    drop(socket);
    drop(server);
    registry.close().await;
    let (server, registry, _) = start(db).await;
    let host = app_origin(server.addr, "acme", "thermostat");
    assert_eq!(page(server.addr, &host, "/thermostat").await.status, 200);
    registry.close().await;
}

async fn tenants_and_apps_are_isolated(db: &Database) {
    let (server, registry, operator) = start(db).await;
    let addr = server.addr;
    let acme = tenant_with_token(&operator, "acme").await;
    let globex = tenant_with_token(&operator, "globex").await;
    let thermostat = component("thermostat");
    for (api, tenant) in [(&acme, "acme"), (&globex, "globex")] {
        create_app(api, tenant, "thermostat").await;
        let uploaded = api
            .post_wasm(
                &format!("/api/v1/tenants/{tenant}/apps/thermostat/versions"),
                &thermostat,
            )
            .await;
        assert_status(&uploaded, 201, None);
    }

    // Tenant tokens see only their tenant.
    let globex_app = "/api/v1/tenants/globex/apps/thermostat";
    assert_status(&acme.get(globex_app).await, 404, Some("not_found"));
    assert_status(
        &acme.get("/api/v1/tenants/globex").await,
        404,
        Some("not_found"),
    );
    assert_status(
        &acme
            .post_wasm(&format!("{globex_app}/versions"), &thermostat)
            .await,
        404,
        Some("not_found"),
    );
    assert_status(
        &acme.post_empty(&format!("{globex_app}/rollback")).await,
        404,
        Some("not_found"),
    );
    assert_status(
        &acme
            .post_json("/api/v1/tenants", &json!({"name": "initech"}))
            .await,
        403,
        Some("forbidden"),
    );
    assert_status(
        &acme
            .post_json(
                "/api/v1/tokens",
                &json!({"label": "x", "scope": {"kind": "operator"}}),
            )
            .await,
        403,
        Some("forbidden"),
    );
    assert_status(
        &acme
            .post_json(
                "/api/v1/tokens",
                &json!({"label": "x", "scope": {"kind": "tenant", "tenant": "globex"}}),
            )
            .await,
        404,
        Some("not_found"),
    );
    assert_eq!(
        globex.get("/api/v1/tenants/globex").await.json()["usage"]["apps"],
        1
    );

    // A deploy token uploads to its app only.
    let deploy = acme
        .post_json(
            "/api/v1/tokens",
            &json!({"label": "ci", "scope": {"kind": "deploy", "tenant": "acme", "app": "thermostat"}}),
        )
        .await;
    assert_status(&deploy, 201, None);
    let deploy = acme.with_token(deploy.json()["token"].as_str().unwrap());
    assert_status(
        &deploy
            .post_wasm(
                "/api/v1/tenants/acme/apps/thermostat/versions?activate=false",
                &thermostat,
            )
            .await,
        201,
        None,
    );
    assert_status(
        &deploy
            .post_json("/api/v1/tenants/acme/apps", &json!({"name": "other"}))
            .await,
        403,
        Some("forbidden"),
    );

    // Pages and sockets: one app's tokens are refused by another app.
    let acme_host = app_origin(addr, "acme", "thermostat");
    let globex_host = app_origin(addr, "globex", "thermostat");
    let acme_page = page(addr, &acme_host, "/thermostat").await;
    let globex_page = page(addr, &globex_host, "/thermostat").await;
    assert_eq!((acme_page.status, globex_page.status), (200, 200));
    let globex_url = format!("http://{globex_host}/thermostat");
    let mut socket = socket_for(addr, &globex_host, &globex_page).await;
    let stolen = json!({
        "url": globex_url,
        "params": {"_csrf_token": globex_page.csrf, "_mounts": 0},
        "session": acme_page.session,
        "static": acme_page.static_token,
    });
    let (_, reply) = socket.join(&acme_page.topic(), stolen).await.unwrap();
    assert_eq!(
        (reply_status(&reply), reply_reason(&reply)),
        ("error", "unauthorized"),
        "{reply}"
    );
    // The app's own page still joins on that socket.
    let (_, reply) = socket.join_page(&globex_page, &globex_url).await.unwrap();
    assert_eq!(reply_status(&reply), "ok", "{reply}");
    // The acme session cookie does not open a session on globex's origin.
    let mut crossed = socket_for(addr, &globex_host, &acme_page).await;
    let (_, reply) = crossed.join_page(&globex_page, &globex_url).await.unwrap();
    assert_eq!(reply_status(&reply), "error", "{reply}");

    // Hosts no app is served at.
    for host in [
        "nope.acme.localhost",
        "a.b.c.localhost",
        "thermostat.initech.localhost",
    ] {
        let missing = page(addr, host, "/thermostat").await;
        assert_eq!(missing.status, 404, "{host}");
        assert!(
            missing
                .body
                .contains(&format!("No app is served at {host}")),
            "{}",
            missing.body
        );
    }
    registry.close().await;
}

async fn hostile_uploads_leave_nothing_behind(db: &Database) {
    let (server, registry, operator) = start(db).await;
    let acme = tenant_with_token(&operator, "acme").await;
    create_app(&acme, "acme", "thermostat").await;
    let versions = "/api/v1/tenants/acme/apps/thermostat/versions";
    let thermostat = component("thermostat");
    assert_status(&acme.post_wasm(versions, &thermostat).await, 201, None);
    let before = acme.get(versions).await.json();

    let mut oversized = thermostat.clone();
    oversized.resize(usize::try_from(MAX_COMPONENT_BYTES).unwrap() + 1, 0);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "not wasm",
            b"<html>definitely not wasm</html>".to_vec(),
            422,
            "not_wasm",
        ),
        ("empty body", Vec::new(), 422, "not_wasm"),
        (
            "core module",
            b"\0asm\x01\0\0\0".to_vec(),
            422,
            "core_module",
        ),
        (
            "WASI import",
            wasi_component(),
            422,
            "incompatible_component",
        ),
        (
            "no exports",
            b"\0asm\x0d\0\x01\0".to_vec(),
            422,
            "incompatible_component",
        ),
        (
            "truncated",
            thermostat[..thermostat.len() / 2].to_vec(),
            422,
            "invalid_component",
        ),
        ("oversized", oversized, 413, "component_too_large"),
    ];
    for (what, bytes, status, code) in cases {
        let response = acme.post_wasm(versions, &bytes).await;
        assert_eq!(response.status, status, "{what}: {}", response.text());
        assert_eq!(response.error_code(), code, "{what}: {}", response.text());
        assert_eq!(
            acme.get(versions).await.json(),
            before,
            "{what} left a version"
        );
        let sha = format!("{:x}", Sha256::digest(&bytes));
        assert!(
            registry.component_bytes(&sha).await.is_err(),
            "{what} left a blob"
        );
    }
    // The one refusal by the size quota is counted in the tenant's usage.
    let usage = acme.get("/api/v1/tenants/acme").await.json();
    assert_eq!(usage["usage"]["refused_over_quota"], 1, "{usage}");
    // The app is still served.
    let host = app_origin(server.addr, "acme", "thermostat");
    assert_eq!(page(server.addr, &host, "/thermostat").await.status, 200);
    assert!(server.is_running());
    registry.close().await;
}

async fn instance_quota_refuses_joins_and_dead_renders(db: &Database) {
    let (server, registry, operator) = start(db).await;
    let addr = server.addr;
    let acme = tenant_with_token(&operator, "acme").await;
    create_app(&acme, "acme", "thermostat").await;
    let uploaded = acme
        .post_wasm(
            "/api/v1/tenants/acme/apps/thermostat/versions",
            &component("thermostat"),
        )
        .await;
    assert_status(&uploaded, 201, None);
    // Quotas are set over the API, by operators only, and typos are refused.
    let quotas_path = "/api/v1/tenants/acme/quotas";
    let limits = json!({"max_concurrent_instances": 1, "max_apps": 1});
    assert_status(
        &acme.put_json(quotas_path, &limits).await,
        403,
        Some("forbidden"),
    );
    assert_status(
        &operator
            .put_json(quotas_path, &json!({"max_apss": 1}))
            .await,
        400,
        Some("invalid_body"),
    );
    assert_status(
        &operator.delete(quotas_path).await,
        405,
        Some("method_not_allowed"),
    );
    let set = operator.put_json(quotas_path, &limits).await;
    assert_status(&set, 200, None);
    assert_eq!(set.json()["quotas"]["max_concurrent_instances"], 1);
    let quotas = acme.get(quotas_path).await.json();
    assert_eq!(quotas["quotas"]["max_concurrent_instances"], 1, "{quotas}");
    assert_eq!(
        quotas["quotas"]["memory_mib_per_instance"],
        defaults().memory_mib_per_instance,
        "unset fields keep the host default: {quotas}"
    );
    assert_status(
        &acme
            .post_json("/api/v1/tenants/acme/apps", &json!({"name": "second"}))
            .await,
        429,
        Some("quota_exceeded"),
    );

    let host = app_origin(addr, "acme", "thermostat");
    let url = format!("http://{host}/thermostat");
    // Two pages rendered while the tenant's one slot is free (each dead render holds it
    // while it runs).
    let first_page = page(addr, &host, "/thermostat").await;
    let second_page = page(addr, &host, "/thermostat").await;
    let mut first = socket_for(addr, &host, &first_page).await;
    let (_, reply) = first.join_page(&first_page, &url).await.unwrap();
    assert_eq!(reply_status(&reply), "ok", "{reply}");

    let mut second = socket_for(addr, &host, &second_page).await;
    let (_, reply) = second.join_page(&second_page, &url).await.unwrap();
    assert_eq!(
        (reply_status(&reply), reply_reason(&reply)),
        ("error", "capacity"),
        "{reply}"
    );
    // A dead render counts against the tenant like a joined view: at its quota, the page is
    // refused (503), no instance is made for it.
    let refused_page = page(addr, &host, "/thermostat").await;
    assert_eq!(refused_page.status, 503, "{}", refused_page.body);
    assert!(refused_page.session.is_none());
    let usage = acme.get("/api/v1/tenants/acme").await.json();
    assert_eq!(usage["usage"]["instances"], 1, "{usage}");
    assert_eq!(usage["usage"]["refused_instances"], 2, "{usage}");
    // The 429 on a second app above was counted too.
    assert_eq!(usage["usage"]["refused_over_quota"], 1, "{usage}");

    // Closing the first socket frees its slot.
    drop(first);
    let mut freed = false;
    for _ in 0..100 {
        let usage = acme.get("/api/v1/tenants/acme/quotas").await.json();
        if usage["usage"]["instances"] == 0 {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(freed, "the closed socket's instance was not released");
    assert_eq!(page(addr, &host, "/thermostat").await.status, 200);
    let (_, reply) = second.join_page(&second_page, &url).await.unwrap();
    assert_eq!(reply_status(&reply), "ok", "{reply}");
    registry.close().await;
}

async fn delete_app_stops_serving_and_frees_the_name(db: &Database) {
    let (server, registry, operator) = start(db).await;
    let addr = server.addr;
    let acme = tenant_with_token(&operator, "acme").await;
    create_app(&acme, "acme", "thermostat").await;
    create_app(&acme, "acme", "other").await;
    let uploaded = acme
        .post_wasm(
            "/api/v1/tenants/acme/apps/thermostat/versions",
            &component("thermostat"),
        )
        .await;
    assert_status(&uploaded, 201, None);
    let tenant = registry.tenant("acme").await.unwrap();
    registry
        .set_quota_overrides(
            &Principal::system("test"),
            &tenant.id,
            QuotaOverrides {
                max_apps: Some(2),
                ..QuotaOverrides::default()
            },
        )
        .await
        .unwrap();
    // At the quota: no third app.
    assert_status(
        &acme
            .post_json("/api/v1/tenants/acme/apps", &json!({"name": "third"}))
            .await,
        429,
        Some("quota_exceeded"),
    );

    let host = app_origin(addr, "acme", "thermostat");
    let url = format!("http://{host}/thermostat");
    let before = page(addr, &host, "/thermostat").await;
    assert_eq!(before.status, 200, "{}", before.body);
    // A page loaded before the delete, joined only afterwards.
    let late = page(addr, &host, "/thermostat").await;
    assert_eq!(late.status, 200, "{}", late.body);

    // A view live before the delete, and a socket connected before it that joins only
    // afterwards.
    let mut live = socket_for(addr, &host, &before).await;
    let (live_ref, reply) = live.join_page(&before, &url).await.unwrap();
    assert_eq!(reply_status(&reply), "ok", "{reply}");
    let mut early = socket_for(addr, &host, &late).await;
    let path = "/api/v1/tenants/acme/apps/thermostat";
    let deploy = acme
        .post_json(
            "/api/v1/tokens",
            &json!({"label": "ci", "scope": {"kind": "deploy", "tenant": "acme", "app": "thermostat"}}),
        )
        .await;
    assert_status(&deploy, 201, None);
    let deploy = acme.with_token(deploy.json()["token"].as_str().unwrap());
    assert_status(&deploy.delete(path).await, 403, Some("forbidden"));
    assert_status(
        &Api::new(addr, None).delete(path).await,
        401,
        Some("unauthorized"),
    );
    assert_status(
        &acme.delete("/api/v1/tenants/acme/apps/nope").await,
        404,
        Some("not_found"),
    );
    assert_eq!(page(addr, &host, "/thermostat").await.status, 200);

    let deleted = acme.delete(path).await;
    assert_status(&deleted, 204, None);
    assert!(deleted.body.is_empty());
    assert_status(&acme.delete(path).await, 404, Some("not_found"));
    assert_status(&acme.get(path).await, 404, Some("not_found"));

    // No longer served: new page loads get the "no app" page, new joins are refused.
    let after = page(addr, &host, "/thermostat").await;
    assert_eq!(after.status, 404);
    assert!(
        after
            .body
            .contains("No app is served at thermostat.acme.localhost"),
        "{}",
        after.body
    );
    let joined = match PhxSocket::connect_to(
        addr,
        &host,
        late.csrf.as_deref(),
        Some(late.cookie_header().as_str()),
    )
    .await
    {
        Ok(mut socket) => socket
            .join_page(&late, &url)
            .await
            .map(|(_, reply)| reply_status(&reply) == "ok")
            .unwrap_or(false),
        Err(_) => false,
    };
    assert!(!joined, "a join on a deleted app's origin was accepted");
    let early_join = early.join_page(&late, &url).await;
    assert!(
        !matches!(&early_join, Ok((_, reply)) if reply_status(reply) == "ok"),
        "a join on an open socket of a deleted app was accepted: {early_join:?}"
    );
    // The view already running may finish its session.
    let clicked = live
        .event(&live_ref, &before.topic(), "click", "inc", json!({}))
        .await
        .unwrap();
    assert_eq!(reply_status(&clicked), "ok", "{clicked}");
    // Its deploy token went with it.
    assert_status(
        &deploy.get("/api/v1/tenants/acme/apps").await,
        401,
        Some("unauthorized"),
    );

    let listed = acme.get("/api/v1/tenants/acme/apps").await;
    assert_status(&listed, 200, None);
    let names: Vec<String> = listed.json()["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["other"]);
    let usage = acme.get("/api/v1/tenants/acme/quotas").await.json();
    assert_eq!(usage["usage"]["apps"], 1, "{usage}");

    // The name is free again, with no versions, and the quota has room for it.
    create_app(&acme, "acme", "thermostat").await;
    let versions = acme
        .get("/api/v1/tenants/acme/apps/thermostat/versions")
        .await;
    assert_status(&versions, 200, None);
    assert_eq!(
        versions.json()["versions"],
        json!([]),
        "{}",
        versions.text()
    );
    assert_eq!(versions.json()["active"], Value::Null);
    assert_eq!(page(addr, &host, "/thermostat").await.status, 404);
    registry.close().await;
}

/// A JSON body past 64 KiB is refused with 413 before it is parsed, whoever sends it; the API
/// goes on answering.
async fn oversized_json_bodies_get_413(db: &Database) {
    let (server, registry, operator) = start(db).await;
    let huge = json!({"name": "x".repeat(100 * 1024)});
    let refused = operator.post_json("/api/v1/tenants", &huge).await;
    assert_status(&refused, 413, Some("body_too_large"));
    // Without a token the body is never read: the token is checked first.
    let anonymous = Api::new(server.addr, None);
    let refused = anonymous.post_json("/api/v1/tokens", &huge).await;
    assert_status(&refused, 401, Some("unauthorized"));
    // Under the limit, parsed as usual.
    let created = operator
        .post_json("/api/v1/tenants", &json!({"name": "acme"}))
        .await;
    assert_status(&created, 201, None);
    registry.close().await;
}

livewasm_integration_tests::on_every_backend!(
    oversized_json_bodies_get_413,
    deploy_serve_activate_and_roll_back,
    tenants_and_apps_are_isolated,
    hostile_uploads_leave_nothing_behind,
    instance_quota_refuses_joins_and_dead_renders,
    delete_app_stops_serving_and_frees_the_name,
);
