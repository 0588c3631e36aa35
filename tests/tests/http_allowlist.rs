//! The tenants' HTTP allowlists through the platform API
//! (`/api/v1/tenants/{tenant}/http-allowlist`): operators set and read them, a tenant's own
//! tokens only read them, other tenants do not see them, and invalid entries are refused with
//! a message naming them. Each test runs on SQLite (a temp file) and, when
//! `LIVEWASM_TEST_DATABASE_URL` is set, on Postgres (a fresh schema):
//! `LIVEWASM_TEST_DATABASE_URL=$(tests/postgres.sh) cargo test -p livewasm-integration-tests
//! --test http_allowlist`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_integration_tests::TestServer;
use livewasm_integration_tests::platform::{Api, Database, HttpResponse, PG_ENV, assert_status};
use livewasm_registry::{QuotaDefaults, Registry};
use serde_json::{Value, json};

const ACME: &str = "/api/v1/tenants/acme/http-allowlist";

/// The `hosts` of a `200 {"hosts": [...]}` answer.
fn hosts(response: &HttpResponse) -> Value {
    assert_status(response, 200, None);
    response.json()["hosts"].clone()
}

async fn start(db: &Database) -> (TestServer, Registry, Api) {
    let (server, registry) =
        TestServer::start_platform(&db.location, QuotaDefaults::default()).await;
    let operator = livewasm_server::platform::bootstrap_operator_token(&registry)
        .await
        .expect("operator token");
    let api = Api::new(server.addr, Some(&operator.token));
    (server, registry, api)
}

/// Creates a token with `scope` (as the operator) and a client using it.
async fn token(operator: &Api, scope: Value) -> Api {
    let created = operator
        .post_json("/api/v1/tokens", &json!({"label": "t", "scope": scope}))
        .await;
    assert_status(&created, 201, None);
    operator.with_token(created.json()["token"].as_str().unwrap())
}

/// Creates tenant `name` (as the operator) and a tenant token for it.
async fn tenant_with_token(operator: &Api, name: &str) -> Api {
    let created = operator
        .post_json("/api/v1/tenants", &json!({"name": name}))
        .await;
    assert_status(&created, 201, None);
    token(operator, json!({"kind": "tenant", "tenant": name})).await
}

/// The operator sets and reads a list; the tenant's own tokens read it but may not change
/// it; another tenant's token does not see it at all.
async fn operator_sets_tenant_reads_others_do_not_see(db: &Database) {
    let (server, registry, operator) = start(db).await;
    let acme = tenant_with_token(&operator, "acme").await;
    let globex = tenant_with_token(&operator, "globex").await;
    let created = acme
        .post_json("/api/v1/tenants/acme/apps", &json!({"name": "blog"}))
        .await;
    assert_status(&created, 201, None);
    let deploy = token(
        &operator,
        json!({"kind": "deploy", "tenant": "acme", "app": "blog"}),
    )
    .await;

    // A new tenant has an empty list.
    assert_eq!(hosts(&operator.get(ACME).await), json!([]));
    assert_eq!(hosts(&acme.get(ACME).await), json!([]));

    // The operator replaces it; the answer is the list as stored.
    let set = operator
        .put_json(
            ACME,
            &json!({"hosts": [
                "API.Example.com",
                "*.cdn.example.net:8443",
                "api.example.com",
                "[2001:DB8::1]:443",
                "192.0.2.1",
            ]}),
        )
        .await;
    let expected = json!([
        "*.cdn.example.net:8443",
        "192.0.2.1",
        "[2001:db8::1]:443",
        "api.example.com",
    ]);
    assert_eq!(hosts(&set), expected);
    assert_eq!(hosts(&operator.get(ACME).await), expected);

    // The tenant's own tokens read it...
    assert_eq!(hosts(&acme.get(ACME).await), expected);
    assert_eq!(hosts(&deploy.get(ACME).await), expected);
    // ...but may not change it, whatever the body.
    for api in [&acme, &deploy] {
        for body in [
            json!({"hosts": ["evil.example"]}),
            json!({"hosts": []}),
            json!({"not": "a list"}),
        ] {
            assert_status(&api.put_json(ACME, &body).await, 403, Some("forbidden"));
        }
    }
    assert_eq!(hosts(&operator.get(ACME).await), expected);

    // Another tenant's token sees no such tenant, as for the tenant's other resources.
    assert_status(&globex.get(ACME).await, 404, Some("not_found"));
    assert_status(
        &globex.put_json(ACME, &json!({"hosts": []})).await,
        404,
        Some("not_found"),
    );
    assert_eq!(
        hosts(&globex.get("/api/v1/tenants/globex/http-allowlist").await),
        json!([])
    );

    // No token, unknown tenant, method the path does not take.
    assert_status(
        &Api::new(server.addr, None).get(ACME).await,
        401,
        Some("unauthorized"),
    );
    assert_status(
        &operator.get("/api/v1/tenants/nope/http-allowlist").await,
        404,
        Some("not_found"),
    );
    assert_status(
        &operator.delete(ACME).await,
        405,
        Some("method_not_allowed"),
    );

    // What the API answered is what the registry holds; an empty list clears it.
    let acme_id = registry.tenant("acme").await.unwrap().id;
    assert_eq!(
        json!(registry.http_allowlist(&acme_id).await.unwrap()),
        expected
    );
    assert_eq!(
        hosts(&operator.put_json(ACME, &json!({"hosts": []})).await),
        json!([])
    );
    assert_eq!(hosts(&acme.get(ACME).await), json!([]));
    assert!(registry.http_allowlist(&acme_id).await.unwrap().is_empty());
    registry.close().await;
}

/// Invalid entries, too many entries and malformed bodies are refused with a message saying
/// what is wrong, and change nothing.
async fn invalid_entries_are_refused_by_name(db: &Database) {
    let (_server, registry, operator) = start(db).await;
    let _acme = tenant_with_token(&operator, "acme").await;
    let kept = json!(["ok.example"]);
    assert_eq!(
        hosts(
            &operator
                .put_json(ACME, &json!({"hosts": ["ok.example"]}))
                .await
        ),
        kept
    );

    for bad in [
        "https://evil.example",
        "evil.example/path",
        "user@evil.example",
        "evil.example:0",
        "evil example",
        "",
        "2001:db8::1",
    ] {
        let refused = operator
            .put_json(ACME, &json!({"hosts": ["fine.example", bad]}))
            .await;
        assert_status(&refused, 400, Some("invalid_http_host"));
        let message = refused.error_message();
        assert!(
            message.contains(&format!("{bad:?}")),
            "the message names {bad:?}: {message}"
        );
    }

    let many: Vec<String> = (0..101).map(|i| format!("h{i}.example")).collect();
    let refused = operator.put_json(ACME, &json!({ "hosts": many })).await;
    assert_status(&refused, 400, Some("too_many_http_hosts"));
    assert!(
        refused.error_message().contains("100"),
        "{}",
        refused.text()
    );
    // A hundred is fine.
    let hundred = operator
        .put_json(ACME, &json!({ "hosts": &many[..100] }))
        .await;
    assert_eq!(hosts(&hundred).as_array().unwrap().len(), 100);
    let kept = hosts(&hundred);

    for body in [
        json!({"hosts": "ok.example"}),
        json!({"hosts": [1]}),
        json!({"host": ["ok.example"]}),
        json!({"hosts": ["ok.example"], "extra": true}),
        json!(["ok.example"]),
    ] {
        assert_status(
            &operator.put_json(ACME, &body).await,
            400,
            Some("invalid_body"),
        );
    }
    assert_eq!(hosts(&operator.get(ACME).await), kept);
    registry.close().await;
}

livewasm_integration_tests::on_every_backend!(
    operator_sets_tenant_reads_others_do_not_see,
    invalid_entries_are_refused_by_name,
);
