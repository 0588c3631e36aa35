//! Two hosts sharing one registry serve the same thing: a deploy, an activation, a rollback,
//! a deletion or a quota change made through one host's API reaches the other (by its change
//! poll, and on Postgres by the notification each change sends), and concurrent activations
//! on both end with both serving the version the registry says is active. Each test runs on
//! SQLite (one file, two hosts) and on Postgres when `LIVEWASM_TEST_DATABASE_URL` is set.
//! The time each change took to reach the other host is printed, not asserted.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use livewasm_integration_tests::platform::{
    Api, Database, PG_ENV, app_origin, assert_status, roomy_quotas,
};
use livewasm_integration_tests::{TestServer, get_from};
use livewasm_registry::Registry;
use livewasm_server::ServerConfig;
use serde_json::json;

livewasm_integration_tests::on_every_backend!(
    changes_through_one_host_reach_the_other,
    concurrent_activations_on_two_hosts_agree_with_the_registry,
);

/// Longest wait for a change to reach the other host (the poll is 1 s; this is a deadline
/// for a failing test, not a figure).
const DEADLINE: Duration = Duration::from_secs(15);

/// Two hosts on the registry at `db` and an operator API client for each.
async fn two_hosts(db: &Database) -> ((TestServer, Api), (TestServer, Api), Registry) {
    let (a, registry) = TestServer::start_platform_configured(
        &db.location,
        roomy_quotas(),
        ServerConfig::default(),
    )
    .await;
    let (b, _) = TestServer::start_platform_configured(
        &db.location,
        roomy_quotas(),
        ServerConfig::default(),
    )
    .await;
    let operator = livewasm_server::platform::bootstrap_operator_token(&registry)
        .await
        .expect("operator token");
    let api_a = Api::new(a.addr, Some(&operator.token));
    let api_b = Api::new(b.addr, Some(&operator.token));
    ((a, api_a), (b, api_b), registry)
}

fn component(name: &str) -> Vec<u8> {
    match livewasm_test::component_path(name).map(std::fs::read) {
        Ok(Ok(wasm)) => wasm,
        other => panic!("component {name}: {other:?}"),
    }
}

/// The status of `path` on app `shop` of `acme` at `addr`.
async fn status(addr: SocketAddr, path: &str) -> u16 {
    get_from(addr, &app_origin(addr, "acme", "shop"), path)
        .await
        .map(|page| page.status)
        .unwrap_or(0)
}

/// Waits until `path` answers `expected` on `addr`; prints and returns how long it took.
async fn until_status(addr: SocketAddr, path: &str, expected: u16, what: &str) -> Duration {
    let start = Instant::now();
    loop {
        let got = status(addr, path).await;
        if got == expected {
            let took = start.elapsed();
            println!(
                "{what}: seen by the other host after {} ms",
                took.as_millis()
            );
            return took;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{what}: {path} still answers {got}, not {expected}, after {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const VERSIONS: &str = "/api/v1/tenants/acme/apps/shop/versions";

async fn changes_through_one_host_reach_the_other(db: &Database) {
    let ((a, api_a), (b, api_b), _registry) = two_hosts(db).await;
    api_a.create_tenant("acme").await;

    // A deploy through A: B serves it.
    api_a.create_app("acme", "shop", "thermostat").await;
    assert_eq!(status(a.addr, "/thermostat").await, 200, "A serves at once");
    until_status(b.addr, "/thermostat", 200, "deploy").await;

    // Another component as version 2 through A: B switches.
    assert_status(
        &api_a.post_wasm(VERSIONS, &component("rows")).await,
        201,
        None,
    );
    until_status(b.addr, "/rows", 200, "activation").await;
    assert_eq!(status(b.addr, "/thermostat").await, 404);

    // A rollback through B: A goes back to version 1.
    assert_status(
        &api_b
            .post_empty("/api/v1/tenants/acme/apps/shop/rollback")
            .await,
        200,
        None,
    );
    assert_eq!(status(b.addr, "/thermostat").await, 200, "B serves at once");
    until_status(a.addr, "/thermostat", 200, "rollback").await;
    assert_eq!(status(a.addr, "/rows").await, 404);

    // A quota change through A reaches B: with no instance allowed, B renders no page.
    assert_status(
        &api_a
            .put_json(
                "/api/v1/tenants/acme/quotas",
                &json!({"max_concurrent_instances": 0}),
            )
            .await,
        200,
        None,
    );
    let refused = status(a.addr, "/thermostat").await;
    assert_ne!(refused, 200, "A refuses a page over the instance quota");
    until_status(b.addr, "/thermostat", refused, "quota change").await;
    assert_status(
        &api_a
            .put_json("/api/v1/tenants/acme/quotas", &json!({}))
            .await,
        200,
        None,
    );
    until_status(b.addr, "/thermostat", 200, "quota reset").await;

    // Deleting the app through A: B stops serving it.
    assert_status(
        &api_a.delete("/api/v1/tenants/acme/apps/shop").await,
        204,
        None,
    );
    until_status(b.addr, "/thermostat", 404, "deletion").await;
}

async fn concurrent_activations_on_two_hosts_agree_with_the_registry(db: &Database) {
    let ((a, api_a), (b, api_b), registry) = two_hosts(db).await;
    api_a.create_tenant("acme").await;
    api_a.create_app("acme", "shop", "thermostat").await;
    assert_status(
        &api_a
            .post_wasm(&format!("{VERSIONS}?activate=false"), &component("rows"))
            .await,
        201,
        None,
    );
    // Each round, A activates one version while B activates the other.
    for round in 0..6 {
        let (on_a, on_b) = if round % 2 == 0 { (1, 2) } else { (2, 1) };
        let (path_a, path_b) = (
            format!("{VERSIONS}/{on_a}/activate"),
            format!("{VERSIONS}/{on_b}/activate"),
        );
        let (ra, rb) = tokio::join!(api_a.post_empty(&path_a), api_b.post_empty(&path_b));
        assert_status(&ra, 200, None);
        assert_status(&rb, 200, None);
    }
    let tenant = registry.tenant("acme").await.expect("tenant");
    let app = registry
        .apps(&tenant.id)
        .await
        .expect("apps")
        .into_iter()
        .find(|app| app.name == "shop")
        .expect("app");
    let active = registry
        .active_version(&app)
        .await
        .expect("active")
        .expect("a version is active")
        .number;
    let (serving, other) = if active == 1 {
        ("/thermostat", "/rows")
    } else {
        ("/rows", "/thermostat")
    };
    for addr in [a.addr, b.addr] {
        until_status(addr, serving, 200, "the registry's active version").await;
        assert_eq!(status(addr, other).await, 404, "only the active version");
    }
}
