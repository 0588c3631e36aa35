//! Apps keep data: the articles example stores its articles in its app's `sql` database (its
//! form component saves them), so an article created over a live socket is listed after the
//! host restarts on the same registry, and one tenant's articles never show in another
//! tenant's app of the same component; a view past its `kv` quota gets an error and other apps
//! keep theirs. Runs on SQLite and, when `LIVEWASM_TEST_DATABASE_URL` is set, on Postgres.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use livewasm_integration_tests::platform::{Api, Database, PG_ENV, app_origin, roomy_quotas};
use livewasm_integration_tests::{Page, PhxSocket, TestServer, get_from};
use livewasm_registry::Registry;
use serde_json::json;

async fn start(db: &Database) -> (TestServer, Registry, Api) {
    let (server, registry) = TestServer::start_platform(&db.location, roomy_quotas()).await;
    let operator = livewasm_server::platform::bootstrap_operator_token(&registry)
        .await
        .expect("operator token");
    let api = Api::new(server.addr, Some(&operator.token));
    (server, registry, api)
}

/// Creates tenant `tenant` with app `articles` serving the articles component.
async fn deploy_articles(operator: &Api, tenant: &str) {
    let created = operator
        .post_json("/api/v1/tenants", &json!({"name": tenant}))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let app = operator
        .post_json(
            &format!("/api/v1/tenants/{tenant}/apps"),
            &json!({"name": "articles"}),
        )
        .await;
    assert_eq!(app.status, 201, "{}", app.text());
    let wasm = std::fs::read(livewasm_test::component_path("articles").expect("built"))
        .expect("articles.wasm");
    let uploaded = operator
        .post_wasm(
            &format!("/api/v1/tenants/{tenant}/apps/articles/versions"),
            &wasm,
        )
        .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text());
}

async fn page(addr: SocketAddr, host: &str, path: &str) -> Page {
    let page = get_from(addr, host, path).await.expect("GET");
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

/// Creates an article titled `title` through the `new` form of a live view on `host`.
async fn create_article(addr: SocketAddr, host: &str, title: &str) {
    let new = page(addr, host, "/articles/new").await;
    let cookie = new.cookie_header();
    let mut socket = PhxSocket::connect_to(addr, host, new.csrf.as_deref(), Some(&cookie))
        .await
        .expect("socket");
    let (join_ref, reply) = socket
        .join_page(&new, &format!("http://{host}/articles/new"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    // The form is the `ArticleFormComponent` live component: its events carry its cid.
    let cid = reply["response"]["rendered"]["c"]
        .as_object()
        .and_then(|components| components.keys().next())
        .and_then(|cid| cid.parse().ok())
        .expect("the form component");
    let form = format!("article%5Btitle%5D={title}&article%5Bbody%5D=kept");
    let reply = socket
        .event_to(&join_ref, &new.topic(), cid, "form", "save", json!(form))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
}

async fn articles_survive_a_restart_and_stay_in_their_tenant(db: &Database) {
    let (server, registry, operator) = start(db).await;
    deploy_articles(&operator, "acme").await;
    deploy_articles(&operator, "globex").await;
    let addr = server.addr;
    let acme = app_origin(addr, "acme", "articles");
    let globex = app_origin(addr, "globex", "articles");

    // Both start from the seeded articles.
    for host in [&acme, &globex] {
        let list = page(addr, host, "/articles").await;
        assert!(list.body.contains("Hello, Livewasm"), "{}", list.body);
    }
    create_article(addr, &acme, "Kept-by-acme").await;
    let list = page(addr, &acme, "/articles").await;
    assert!(list.body.contains("Kept-by-acme"), "{}", list.body);
    assert!(list.body.contains("article-4"), "the fourth article");
    // Same component, other tenant: not there.
    let other = page(addr, &globex, "/articles").await;
    assert!(!other.body.contains("Kept-by-acme"), "{}", other.body);

    // The host stops; a new one opens the same registry.
    drop(server);
    registry.close().await;
    let (server, registry, _) = start(db).await;
    let addr = server.addr;
    let acme = app_origin(addr, "acme", "articles");
    let globex = app_origin(addr, "globex", "articles");
    let list = page(addr, &acme, "/articles").await;
    assert!(list.body.contains("Kept-by-acme"), "{}", list.body);
    let shown = page(addr, &acme, "/articles/4/show").await;
    assert!(shown.body.contains("Kept-by-acme"), "{}", shown.body);
    let other = page(addr, &globex, "/articles").await;
    assert!(!other.body.contains("Kept-by-acme"), "{}", other.body);
    // Ids go on from the stored counter.
    create_article(addr, &acme, "Fifth").await;
    let list = page(addr, &acme, "/articles").await;
    assert!(list.body.contains("article-5"), "{}", list.body);

    // Deleting the app deletes its data: the same name, created again, starts afresh.
    let operator = Api::new(
        addr,
        Some(
            &livewasm_server::platform::bootstrap_operator_token(&registry)
                .await
                .expect("operator token")
                .token,
        ),
    );
    let deleted = operator.delete("/api/v1/tenants/acme/apps/articles").await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    let app = operator
        .post_json("/api/v1/tenants/acme/apps", &json!({"name": "articles"}))
        .await;
    assert_eq!(app.status, 201, "{}", app.text());
    let wasm = std::fs::read(livewasm_test::component_path("articles").expect("built"))
        .expect("articles.wasm");
    let uploaded = operator
        .post_wasm("/api/v1/tenants/acme/apps/articles/versions", &wasm)
        .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text());
    let list = page(addr, &acme, "/articles").await;
    assert!(list.body.contains("Hello, Livewasm"), "{}", list.body);
    assert!(!list.body.contains("Kept-by-acme"), "{}", list.body);
    registry.close().await;
}

livewasm_integration_tests::on_every_backend!(articles_survive_a_restart_and_stay_in_their_tenant);

/// Sends `fill` and returns `(written, refusal)` as the view shows them.
async fn fill(
    socket: &mut PhxSocket,
    join_ref: &str,
    topic: &str,
    keys: u64,
    bytes: u64,
) -> (String, String) {
    let reply = socket
        .event(
            join_ref,
            topic,
            "click",
            "fill",
            json!({"keys": keys, "bytes": bytes}),
        )
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    let diff = &reply["response"]["diff"];
    (
        diff["0"].as_str().unwrap_or_default().to_string(),
        diff["1"].as_str().unwrap_or_default().to_string(),
    )
}

/// A view that fills its app's store past either quota gets an error naming it; what it
/// wrote before stays, the view and its socket live on, and another app's store is untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_past_its_kv_quota_gets_an_error_and_other_apps_keep_theirs() {
    use livewasm_integration_tests::get;
    use livewasm_server::ServerConfig;

    let config = ServerConfig {
        kv_max_keys: 20,
        kv_max_bytes: 64 << 10,
        ..ServerConfig::default()
    };
    let (server, _host) = TestServer::start_configured(&["hostile", "articles"], config).await;
    let addr = server.addr;
    let page = get(addr, "/hostile/kv").await.unwrap();
    let topic = page.topic();
    let mut socket = PhxSocket::connect_page(addr, &page).await.unwrap();
    let (join_ref, reply) = socket
        .join_page(&page, &server.url("/hostile/kv"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");

    // Past the bytes: six values of 10,000 bytes fit in 64 KiB, the seventh does not.
    let (written, refusal) = fill(&mut socket, &join_ref, &topic, 10, 10_000).await;
    assert_eq!(written, "6");
    assert!(
        refusal.contains("kv quota exceeded: at most 65536 bytes"),
        "{refusal}"
    );
    // Past the number of keys.
    let (written, refusal) = fill(&mut socket, &join_ref, &topic, 50, 1).await;
    assert_eq!(written, "20");
    assert!(
        refusal.contains("kv quota exceeded: at most 20 keys per app"),
        "{refusal}"
    );
    assert_eq!(socket.heartbeat().await.unwrap()["status"], "ok");

    // Another app of the same host has its own store, and its own quota left.
    let list = get(addr, "/articles").await.unwrap();
    assert!(list.body.contains("Hello, Livewasm"), "{}", list.body);
    create_article(addr, &addr.to_string(), "Still-writable").await;
    let list = get(addr, "/articles").await.unwrap();
    assert!(list.body.contains("Still-writable"), "{}", list.body);
    assert!(server.is_running());
}
