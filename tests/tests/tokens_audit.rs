//! API tokens and the audit log through the platform API: listing tokens (never their text),
//! revoking them, expiring them, reading the audit log page by page, and what each kind of
//! token may reach — a tenant token its own tenant only, a deploy token its own app only.
//! Each test runs on SQLite (a temp file) and, when `LIVEWASM_TEST_DATABASE_URL` is set, on
//! Postgres (a fresh schema):
//! `LIVEWASM_TEST_DATABASE_URL=$(tests/postgres.sh) cargo test -p livewasm-integration-tests
//! --test tokens_audit`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use livewasm_integration_tests::TestServer;
use livewasm_integration_tests::platform::{Api, Database, HttpResponse, PG_ENV, assert_status};
use livewasm_registry::{QuotaDefaults, Registry};
use serde_json::{Value, json};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .try_into()
        .unwrap()
}

fn component(name: &str) -> Vec<u8> {
    let path = livewasm_test::component_path(name).expect("built component");
    std::fs::read(path).expect("read component")
}

/// A host on `db`, its registry, and an operator client.
async fn start(db: &Database) -> (TestServer, Registry, Api, String) {
    let (server, registry) =
        TestServer::start_platform(&db.location, QuotaDefaults::default()).await;
    let operator = livewasm_server::platform::bootstrap_operator_token(&registry)
        .await
        .expect("operator token");
    let api = Api::new(server.addr, Some(&operator.token));
    (server, registry, api, operator.token)
}

/// A token just created through the API: a client using it, its text and its id.
struct Made {
    api: Api,
    text: String,
    id: String,
}

/// Creates a token with `body` (`{"scope": …, …}`) as `by`.
async fn make_token(by: &Api, body: Value) -> Made {
    let created = by.post_json("/api/v1/tokens", &body).await;
    assert_status(&created, 201, None);
    let text = created.json()["token"].as_str().unwrap().to_owned();
    let id = created.json()["info"]["id"].as_str().unwrap().to_owned();
    Made {
        api: by.with_token(&text),
        text,
        id,
    }
}

/// A tenant token of `tenant`, made by `by`.
async fn tenant_token(by: &Api, tenant: &str) -> Made {
    make_token(
        by,
        json!({"label": format!("{tenant} admin"), "scope": {"kind": "tenant", "tenant": tenant}}),
    )
    .await
}

/// A deploy token of `tenant/app`, made by `by`.
async fn deploy_token(by: &Api, tenant: &str, app: &str) -> Made {
    make_token(
        by,
        json!({"label": "ci", "scope": {"kind": "deploy", "tenant": tenant, "app": app}}),
    )
    .await
}

async fn create_tenant(operator: &Api, name: &str) {
    let created = operator
        .post_json("/api/v1/tenants", &json!({"name": name}))
        .await;
    assert_status(&created, 201, None);
}

async fn create_app(api: &Api, tenant: &str, app: &str) {
    let created = api
        .post_json(
            &format!("/api/v1/tenants/{tenant}/apps"),
            &json!({"name": app}),
        )
        .await;
    assert_status(&created, 201, None);
}

/// The `tokens` of a `200 {"tokens": […]}` answer.
fn tokens(response: &HttpResponse) -> Vec<Value> {
    assert_status(response, 200, None);
    response.json()["tokens"].as_array().unwrap().clone()
}

/// The ids in a token listing.
fn ids(tokens: &[Value]) -> Vec<String> {
    tokens
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The listing entry of token `id`.
fn entry<'a>(tokens: &'a [Value], id: &str) -> &'a Value {
    tokens
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("token {id} not listed in {tokens:?}"))
}

/// Asserts that `response` holds none of the `secrets` (token texts, or the part after the
/// `lw_` prefix) and no field that could carry one.
fn assert_no_secrets(response: &HttpResponse, secrets: &[&str]) {
    let text = response.text();
    for secret in secrets {
        assert!(
            !text.contains(&secret[3..]),
            "a token's text is in the answer: {text}"
        );
    }
    for field in ["\"token\"", "token_sha256", "\"secret\"", "\"hash\""] {
        assert!(!text.contains(field), "{field} in the answer: {text}");
    }
}

/// The `entries` of a `200 {"entries": […]}` audit answer.
fn entries(response: &HttpResponse) -> Vec<Value> {
    assert_status(response, 200, None);
    response.json()["entries"].as_array().unwrap().clone()
}

fn seqs(entries: &[Value]) -> Vec<u64> {
    entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect()
}

// ---------------------------------------------------------------------------------------------

/// A deploy token for acme/blog reaches acme/blog and nothing else: not the tenant, its app
/// list, its other apps (as if absent), their versions, its tokens or its audit log. What it
/// may do to its own app still works.
async fn deploy_token_reaches_its_app_only(db: &Database) {
    let (server, registry, operator, _) = start(db).await;
    create_tenant(&operator, "acme").await;
    create_tenant(&operator, "globex").await;
    let acme = tenant_token(&operator, "acme").await;
    create_app(&acme.api, "acme", "blog").await;
    create_app(&acme.api, "acme", "shop").await;
    create_app(&operator, "globex", "blog").await;
    let thermostat = component("thermostat");
    // The other app has a version, so activating and rolling it back would have something to
    // act on.
    assert_status(
        &acme
            .api
            .post_wasm("/api/v1/tenants/acme/apps/shop/versions", &thermostat)
            .await,
        201,
        None,
    );
    let deploy = deploy_token(&acme.api, "acme", "blog").await;
    let ci = &deploy.api;

    // The tenant's other app, its versions and every action on it: as if it did not exist.
    let shop = "/api/v1/tenants/acme/apps/shop";
    assert_status(&ci.get(shop).await, 404, Some("not_found"));
    assert_status(
        &ci.get(&format!("{shop}/versions")).await,
        404,
        Some("not_found"),
    );
    assert_status(
        &ci.post_wasm(&format!("{shop}/versions"), &thermostat).await,
        404,
        Some("not_found"),
    );
    assert_status(
        &ci.post_empty(&format!("{shop}/versions/1/activate")).await,
        404,
        Some("not_found"),
    );
    assert_status(
        &ci.post_empty(&format!("{shop}/rollback")).await,
        404,
        Some("not_found"),
    );
    assert_status(&ci.delete(shop).await, 404, Some("not_found"));
    // An app that does not exist answers the same.
    assert_status(
        &ci.get("/api/v1/tenants/acme/apps/nope").await,
        404,
        Some("not_found"),
    );
    // The same-named app of another tenant, and that tenant.
    assert_status(
        &ci.get("/api/v1/tenants/globex/apps/blog").await,
        404,
        Some("not_found"),
    );
    assert_status(
        &ci.get("/api/v1/tenants/globex/apps").await,
        404,
        Some("not_found"),
    );

    // The tenant itself: its app list, usage and quotas are the tenant's business.
    for path in [
        "/api/v1/tenants/acme/apps",
        "/api/v1/tenants/acme",
        "/api/v1/tenants/acme/quotas",
    ] {
        let answer = ci.get(path).await;
        assert_status(&answer, 403, Some("forbidden"));
        assert!(!answer.text().contains("shop"), "{path}: {}", answer.text());
    }
    assert_status(
        &ci.post_json("/api/v1/tenants/acme/apps", &json!({"name": "mine"}))
            .await,
        403,
        Some("forbidden"),
    );

    // Tokens: it may not list them, mint any, or revoke another.
    assert_status(&ci.get("/api/v1/tokens").await, 403, Some("forbidden"));
    assert_status(
        &ci.get("/api/v1/tokens?tenant=acme").await,
        403,
        Some("forbidden"),
    );
    assert_status(
        &ci.post_json(
            "/api/v1/tokens",
            &json!({"scope": {"kind": "deploy", "tenant": "acme", "app": "shop"}}),
        )
        .await,
        404,
        Some("not_found"),
    );
    for scope in [
        json!({"kind": "deploy", "tenant": "acme", "app": "blog"}),
        json!({"kind": "tenant", "tenant": "acme"}),
        json!({"kind": "operator"}),
    ] {
        assert_status(
            &ci.post_json("/api/v1/tokens", &json!({ "scope": scope }))
                .await,
            403,
            Some("forbidden"),
        );
    }
    assert_status(
        &ci.delete(&format!("/api/v1/tokens/{}", acme.id)).await,
        404,
        Some("not_found"),
    );
    assert_status(&acme.api.get("/api/v1/tenants/acme").await, 200, None);

    // The audit log, all of it or its tenant's.
    assert_status(&ci.get("/api/v1/audit").await, 403, Some("forbidden"));
    assert_status(
        &ci.get("/api/v1/audit?tenant=acme").await,
        403,
        Some("forbidden"),
    );

    // Its own app: read, upload, activate, roll back.
    let blog = "/api/v1/tenants/acme/apps/blog";
    let read = ci.get(blog).await;
    assert_status(&read, 200, None);
    assert_eq!(read.json()["app"]["name"], "blog");
    assert_status(&ci.get(&format!("{blog}/versions")).await, 200, None);
    for _ in 0..2 {
        assert_status(
            &ci.post_wasm(&format!("{blog}/versions"), &thermostat).await,
            201,
            None,
        );
    }
    assert_status(
        &ci.post_empty(&format!("{blog}/versions/2/activate")).await,
        200,
        None,
    );
    let rolled = ci.post_empty(&format!("{blog}/rollback")).await;
    assert_status(&rolled, 200, None);
    assert_eq!(rolled.json()["version"]["number"], 1);
    // ...but not delete it.
    assert_status(&ci.delete(blog).await, 403, Some("forbidden"));

    // It may revoke itself; the next request is refused.
    let revoked = ci.delete(&format!("/api/v1/tokens/{}", deploy.id)).await;
    assert_status(&revoked, 200, None);
    assert_status(&ci.get(blog).await, 401, Some("unauthorized"));
    drop(server);
    registry.close().await;
}

/// Listing and revoking tokens: operators see all (or one tenant's), a tenant token its own
/// tenant's only; no listing holds a token's text; a tenant token cannot list or revoke
/// another tenant's tokens (or an operator's); a revoked token is refused on its next request.
async fn tokens_are_listed_and_revoked(db: &Database) {
    let (server, registry, operator, operator_text) = start(db).await;
    create_tenant(&operator, "acme").await;
    create_tenant(&operator, "globex").await;
    let acme = tenant_token(&operator, "acme").await;
    let globex = tenant_token(&operator, "globex").await;
    create_app(&acme.api, "acme", "blog").await;
    let ci = deploy_token(&acme.api, "acme", "blog").await;
    let texts = [
        operator_text.as_str(),
        acme.text.as_str(),
        globex.text.as_str(),
        ci.text.as_str(),
    ];

    // Operators: every token, or one tenant's.
    let all_answer = operator.get("/api/v1/tokens").await;
    assert_no_secrets(&all_answer, &texts);
    let all = tokens(&all_answer);
    assert_eq!(all.len(), 4, "{all:?}");
    for id in [&acme.id, &globex.id, &ci.id] {
        assert!(ids(&all).contains(id));
    }
    let listed = entry(&all, &ci.id);
    assert_eq!(listed["kind"], "deploy");
    assert_eq!(listed["tenant"], "acme");
    assert_eq!(listed["app"], "blog");
    assert_eq!(listed["label"], "ci");
    assert_eq!(listed["status"], "active");
    assert!(listed["created_at"].as_i64().unwrap() > 0);
    assert_eq!(listed["expires_at"], Value::Null);
    assert_eq!(listed["revoked_at"], Value::Null);
    // Used once (to list) since it was made: the first use is always recorded.
    let op_entry = all
        .iter()
        .find(|t| t["kind"] == "operator")
        .expect("operator token listed");
    assert_eq!(op_entry["tenant"], Value::Null);
    assert!(op_entry["last_used_at"].as_i64().is_some(), "{op_entry}");
    let globex_only = tokens(&operator.get("/api/v1/tokens?tenant=globex").await);
    assert_eq!(ids(&globex_only), vec![globex.id.clone()]);
    assert_status(
        &operator.get("/api/v1/tokens?tenant=nobody").await,
        404,
        Some("not_found"),
    );

    // A tenant token: its own tenant's tokens, with or without naming it.
    let own_answer = acme.api.get("/api/v1/tokens").await;
    assert_no_secrets(&own_answer, &texts);
    let own = tokens(&own_answer);
    assert_eq!(ids(&own), [acme.id.clone(), ci.id.clone()]);
    assert_eq!(
        ids(&tokens(&acme.api.get("/api/v1/tokens?tenant=acme").await)),
        ids(&own)
    );
    // Another tenant's: as if it did not exist.
    assert_status(
        &acme.api.get("/api/v1/tokens?tenant=globex").await,
        404,
        Some("not_found"),
    );
    assert_status(
        &acme
            .api
            .delete(&format!("/api/v1/tokens/{}", globex.id))
            .await,
        404,
        Some("not_found"),
    );
    let op_id = op_entry["id"].as_str().unwrap();
    assert_status(
        &acme.api.delete(&format!("/api/v1/tokens/{op_id}")).await,
        404,
        Some("not_found"),
    );
    assert_status(
        &acme.api.delete("/api/v1/tokens/tok_nope").await,
        404,
        Some("not_found"),
    );
    // Those tokens still work.
    assert_status(&globex.api.get("/api/v1/tenants/globex").await, 200, None);
    assert_status(&operator.get("/api/v1/tokens").await, 200, None);

    // Revoking: the answer is the record (no text), the token fails on its next request.
    assert_status(
        &ci.api.get("/api/v1/tenants/acme/apps/blog").await,
        200,
        None,
    );
    let revoked = acme.api.delete(&format!("/api/v1/tokens/{}", ci.id)).await;
    assert_status(&revoked, 200, None);
    assert_no_secrets(&revoked, &texts);
    let record = &revoked.json()["info"];
    assert_eq!(record["id"], ci.id.as_str());
    assert_eq!(record["status"], "revoked");
    let revoked_at = record["revoked_at"].as_i64().expect("revoked_at");
    let refused = ci.api.get("/api/v1/tenants/acme/apps/blog").await;
    assert_status(&refused, 401, Some("unauthorized"));
    // Revoking again changes nothing.
    let again = acme.api.delete(&format!("/api/v1/tokens/{}", ci.id)).await;
    assert_status(&again, 200, None);
    assert_eq!(again.json()["info"]["revoked_at"], revoked_at);
    // Still listed, marked revoked.
    let own = tokens(&acme.api.get("/api/v1/tokens").await);
    assert_eq!(entry(&own, &ci.id)["status"], "revoked");
    assert_eq!(entry(&own, &ci.id)["revoked_at"], revoked_at);

    // Operators revoke any token; a tenant token may revoke itself.
    assert_status(
        &operator
            .delete(&format!("/api/v1/tokens/{}", globex.id))
            .await,
        200,
        None,
    );
    assert_status(
        &globex.api.get("/api/v1/tenants/globex").await,
        401,
        Some("unauthorized"),
    );
    assert_status(
        &acme
            .api
            .delete(&format!("/api/v1/tokens/{}", acme.id))
            .await,
        200,
        None,
    );
    assert_status(
        &acme.api.get("/api/v1/tokens").await,
        401,
        Some("unauthorized"),
    );
    drop(server);
    registry.close().await;
}

/// Tokens with an expiry: given in seconds from now or as an instant; refused the moment they
/// expire; listed with their expiry; nonsense expiries refused.
async fn expiring_tokens(db: &Database) {
    let (server, registry, operator, _) = start(db).await;
    create_tenant(&operator, "acme").await;
    let scope = json!({"kind": "tenant", "tenant": "acme"});

    let before = now_ms();
    let hour = operator
        .post_json(
            "/api/v1/tokens",
            &json!({"label": "hour", "scope": scope, "expires_in_secs": 3600}),
        )
        .await;
    assert_status(&hour, 201, None);
    let expires_at = hour.json()["info"]["expires_at"].as_i64().unwrap();
    assert!(
        (before + 3_600_000..=now_ms() + 3_600_000).contains(&expires_at),
        "{expires_at}"
    );
    let hour_api = operator.with_token(hour.json()["token"].as_str().unwrap());
    assert_status(&hour_api.get("/api/v1/tenants/acme").await, 200, None);

    // An instant two seconds ahead: works until then, refused at once afterwards.
    let at = now_ms() + 2_000;
    let brief = make_token(
        &operator,
        json!({"label": "brief", "scope": scope, "expires_at": at}),
    )
    .await;
    assert_status(&brief.api.get("/api/v1/tenants/acme").await, 200, None);
    let wait = u64::try_from(at - now_ms()).unwrap_or(0) + 50;
    tokio::time::sleep(Duration::from_millis(wait)).await;
    assert_status(
        &brief.api.get("/api/v1/tenants/acme").await,
        401,
        Some("unauthorized"),
    );
    let listed = tokens(&operator.get("/api/v1/tokens?tenant=acme").await);
    assert_eq!(entry(&listed, &brief.id)["expires_at"], at);
    assert_eq!(entry(&listed, &brief.id)["status"], "expired");
    let hour_id = hour.json()["info"]["id"].as_str().unwrap().to_owned();
    assert_eq!(entry(&listed, &hour_id)["status"], "active");
    assert_eq!(entry(&listed, &hour_id)["expires_at"], expires_at);

    // Nonsense: refused, and nothing made.
    for body in [
        json!({"scope": scope, "expires_in_secs": 0}),
        json!({"scope": scope, "expires_in_secs": -5}),
        json!({"scope": scope, "expires_in_secs": u64::MAX}),
        json!({"scope": scope, "expires_in_secs": "30d"}),
        json!({"scope": scope, "expires_at": now_ms() - 1_000}),
        json!({"scope": scope, "expires_at": 1, "expires_in_secs": 60}),
    ] {
        let refused = operator.post_json("/api/v1/tokens", &body).await;
        assert_eq!(refused.status, 400, "{body}: {}", refused.text());
    }
    assert_eq!(
        tokens(&operator.get("/api/v1/tokens?tenant=acme").await).len(),
        2
    );
    drop(server);
    registry.close().await;
}

/// A token made by an expiring token never outlives it: without an expiry it gets its
/// creator's, with an earlier one it keeps that, and one later than its creator's is refused
/// (nothing made). Once the creator expires, so has every token it made (refused at once).
async fn tokens_do_not_outlive_their_creator(db: &Database) {
    let (server, registry, operator, _) = start(db).await;
    create_tenant(&operator, "acme").await;
    create_app(&operator, "acme", "shop").await;
    let tenant = json!({"kind": "tenant", "tenant": "acme"});
    let deploy = json!({"kind": "deploy", "tenant": "acme", "app": "shop"});

    let creator_at = now_ms() + 5_000;
    let creator = make_token(
        &operator,
        json!({"label": "brief admin", "scope": tenant, "expires_at": creator_at}),
    )
    .await;
    let info = |made: &Made| {
        let id = made.id.clone();
        let operator = operator.clone();
        async move {
            let listed = tokens(&operator.get("/api/v1/tokens?tenant=acme").await);
            entry(&listed, &id).clone()
        }
    };

    // No expiry asked: the creator's.
    let inherited = make_token(&creator.api, json!({"label": "ci", "scope": deploy})).await;
    assert_eq!(info(&inherited).await["expires_at"], creator_at);
    let peer = make_token(&creator.api, json!({"label": "peer", "scope": tenant})).await;
    assert_eq!(info(&peer).await["expires_at"], creator_at);
    // An earlier expiry is kept.
    let earlier_at = creator_at - 1_000;
    let earlier = make_token(
        &creator.api,
        json!({"scope": deploy, "expires_at": earlier_at}),
    )
    .await;
    assert_eq!(info(&earlier).await["expires_at"], earlier_at);
    // Later than the creator, however asked: refused, nothing made.
    let count = tokens(&operator.get("/api/v1/tokens?tenant=acme").await).len();
    for body in [
        json!({"scope": deploy, "expires_in_secs": 3600}),
        json!({"scope": tenant, "expires_at": creator_at + 1}),
        json!({"scope": tenant, "expires_in_secs": 30 * 86_400}),
    ] {
        let refused = creator.api.post_json("/api/v1/tokens", &body).await;
        assert_status(&refused, 400, Some("invalid_value"));
        assert!(refused.text().contains("outlive"), "{}", refused.text());
    }
    // A token made by the inherited one inherits the same cap, in turn.
    let grandchild = make_token(&peer.api, json!({"scope": deploy})).await;
    assert_eq!(info(&grandchild).await["expires_at"], creator_at);
    assert_eq!(
        tokens(&operator.get("/api/v1/tokens?tenant=acme").await).len(),
        count + 1
    );
    // An operator's token that never expires still makes tokens that never expire.
    let forever = make_token(&operator, json!({"scope": tenant})).await;
    assert_eq!(info(&forever).await["expires_at"], Value::Null);

    // The creator expires: every token it made is refused from the next request on.
    assert_status(
        &inherited.api.get("/api/v1/tenants/acme/apps/shop").await,
        200,
        None,
    );
    let wait = u64::try_from(creator_at - now_ms()).unwrap_or(0) + 50;
    tokio::time::sleep(Duration::from_millis(wait)).await;
    for made in [&creator, &inherited, &peer, &grandchild] {
        assert_status(
            &made.api.get("/api/v1/tenants/acme/apps/shop").await,
            401,
            Some("unauthorized"),
        );
    }
    assert_status(&forever.api.get("/api/v1/tenants/acme").await, 200, None);
    drop(server);
    registry.close().await;
}

/// The audit log: operators read all of it or one tenant's, a tenant token only its own
/// tenant's (never another's), newest first, page by page with `limit` and `before`.
async fn audit_log_is_read_page_by_page(db: &Database) {
    let (server, registry, operator, operator_text) = start(db).await;
    create_tenant(&operator, "acme").await;
    create_tenant(&operator, "globex").await;
    let acme = tenant_token(&operator, "acme").await;
    let globex = tenant_token(&operator, "globex").await;
    for app in ["blog", "shop", "wiki"] {
        create_app(&acme.api, "acme", app).await;
    }
    create_app(&globex.api, "globex", "blog").await;

    // Everything, newest first.
    let all_answer = operator.get("/api/v1/audit").await;
    assert_no_secrets(&all_answer, &[&operator_text, &acme.text, &globex.text]);
    let all = entries(&all_answer);
    // 2 tenants, 3 tokens (the operator's own too), 4 apps.
    assert_eq!(all.len(), 9, "{all:?}");
    let all_seqs = seqs(&all);
    assert!(all_seqs.windows(2).all(|w| w[0] > w[1]), "{all_seqs:?}");
    assert_eq!(all[0]["action"], "app.create");
    assert_eq!(all[0]["target"], "app:globex/blog");
    assert_eq!(all_answer.json()["next_before"], Value::Null);

    // One tenant's, for the operator and for that tenant.
    let acme_log = entries(&operator.get("/api/v1/audit?tenant=acme").await);
    let acme_tenant_id = acme_log[0]["tenant_id"].clone();
    assert!(acme_log.iter().all(|e| e["tenant_id"] == acme_tenant_id));
    // acme's token and its 3 apps (the tenant's creation is in it too).
    assert!(acme_log.len() >= 4, "{acme_log:?}");
    let own = entries(&acme.api.get("/api/v1/audit").await);
    assert_eq!(seqs(&own), seqs(&acme_log));
    assert_eq!(
        seqs(&entries(&acme.api.get("/api/v1/audit?tenant=acme").await)),
        seqs(&acme_log)
    );
    assert!(
        own.iter()
            .all(|e| !e["target"].as_str().unwrap().contains("globex"))
    );
    // Never another tenant's.
    assert_status(
        &acme.api.get("/api/v1/audit?tenant=globex").await,
        404,
        Some("not_found"),
    );
    assert_status(
        &operator.get("/api/v1/audit?tenant=nobody").await,
        404,
        Some("not_found"),
    );

    // Pages of 3: `next_before` leads on, the pages put together are the whole log.
    let mut paged = Vec::new();
    let mut path = "/api/v1/audit?limit=3".to_owned();
    loop {
        let answer = operator.get(&path).await;
        let page = entries(&answer);
        assert!(page.len() <= 3);
        paged.extend(seqs(&page));
        match answer.json()["next_before"].as_u64() {
            Some(next) => {
                assert_eq!(Some(next), seqs(&page).last().copied());
                path = format!("/api/v1/audit?limit=3&before={next}");
            }
            None => break,
        }
    }
    assert_eq!(paged, all_seqs);
    // A tenant's pages too.
    let first = acme.api.get("/api/v1/audit?limit=2").await;
    assert_eq!(seqs(&entries(&first)), seqs(&acme_log[..2]));
    let next = first.json()["next_before"].as_u64().unwrap();
    let second = entries(
        &acme
            .api
            .get(&format!("/api/v1/audit?limit=2&before={next}"))
            .await,
    );
    assert_eq!(seqs(&second), seqs(&acme_log[2..4]));

    // Bad paging parameters.
    for query in [
        "limit=0",
        "limit=1001",
        "limit=-1",
        "limit=ten",
        "before=yesterday",
        "before=-3",
    ] {
        let refused = operator.get(&format!("/api/v1/audit?{query}")).await;
        assert_status(&refused, 400, Some("bad_query"));
    }
    assert_status(&operator.get("/api/v1/audit?limit=1000").await, 200, None);
    drop(server);
    registry.close().await;
}

livewasm_integration_tests::on_every_backend!(
    deploy_token_reaches_its_app_only,
    tokens_are_listed_and_revoked,
    expiring_tokens,
    tokens_do_not_outlive_their_creator,
    audit_log_is_read_page_by_page,
);
