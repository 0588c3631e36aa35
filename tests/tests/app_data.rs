//! Apps keep data: the articles, users and registration examples store their rows in their
//! app's `sql` database, so what a live socket created, deleted or registered is there after
//! the host restarts on the same registry, and one tenant's rows never show in another
//! tenant's app of the same component, nor can a hostile app read them; a view past its `kv`
//! quota gets an error and other apps keep theirs. Runs on SQLite and, when
//! `LIVEWASM_TEST_DATABASE_URL` is set, on Postgres, where the apps' SQL is a schema per app in
//! the registry's Postgres (checked in the database itself).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use livewasm_integration_tests::platform::{
    Api, Database, PG_ENV, app_origin, roomy_quotas, sql_dir_for,
};
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
    deploy(operator, tenant, "articles").await;
}

/// Creates app `app` of tenant `tenant` (which exists) serving the component of that name.
async fn deploy(operator: &Api, tenant: &str, app: &str) {
    let created = operator
        .post_json(
            &format!("/api/v1/tenants/{tenant}/apps"),
            &json!({"name": app}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let wasm = std::fs::read(livewasm_test::component_path(app).expect("built"))
        .unwrap_or_else(|e| panic!("{app}.wasm: {e}"));
    let uploaded = operator
        .post_wasm(
            &format!("/api/v1/tenants/{tenant}/apps/{app}/versions"),
            &wasm,
        )
        .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text());
}

/// Where a platform app's SQL lives, seen from outside the host: `column` of every row of
/// `table` in the app's Postgres schema (read as the registry's superuser; `NULL` as ``), or `None` when
/// its database is a SQLite file (which must then exist).
async fn rows_in_backend(
    db: &Database,
    registry: &Registry,
    (tenant, app): (&str, &str),
    table: &str,
    column: &str,
) -> Option<Vec<String>> {
    let id = registry.app(tenant, app).await.expect("the app").id;
    let id = id.as_str();
    if !db.location.starts_with("postgres") {
        let file = sql_dir_for(&db.location).join(format!("{id}.sqlite3"));
        assert!(file.exists(), "{} holds the app's SQL", file.display());
        return None;
    }
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&db.location)
        .await
        .expect("postgres");
    let rows: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT COALESCE({column}::text, '') FROM lw_{id}.{table}"
    ))
    .fetch_all(&admin)
    .await
    .unwrap_or_else(|e| panic!("lw_{id}.{table} in postgres: {e}"));
    admin.close().await;
    Some(rows)
}

/// True when the registration view's `reply` says `email` was registered.
fn registered(reply: &serde_json::Value, email: &str) -> bool {
    let shown = reply.to_string();
    shown.contains("Account created for ") && shown.contains(&format!("\"{email}\""))
}

/// A live view of `path` on `host`: its socket, join ref and topic.
async fn live(addr: SocketAddr, host: &str, path: &str) -> (PhxSocket, String, String) {
    let page = page(addr, host, path).await;
    let cookie = page.cookie_header();
    let mut socket = PhxSocket::connect_to(addr, host, page.csrf.as_deref(), Some(&cookie))
        .await
        .expect("socket");
    let (join_ref, reply) = socket
        .join_page(&page, &format!("http://{host}{path}"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    (socket, join_ref, page.topic())
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
    // On Postgres the row is in acme's schema, and only there.
    if let Some(titles) =
        rows_in_backend(db, &registry, ("acme", "articles"), "articles", "title").await
    {
        assert!(titles.iter().any(|t| t == "Kept-by-acme"), "{titles:?}");
        let theirs =
            rows_in_backend(db, &registry, ("globex", "articles"), "articles", "title").await;
        assert_eq!(theirs.map(|t| t.len()), Some(3), "globex has the seed only");
    }

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
    let old_id = registry.app("acme", "articles").await.expect("app").id;
    let deleted = operator.delete("/api/v1/tenants/acme/apps/articles").await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    if db.location.starts_with("postgres") {
        // Its schema and role are gone from the Postgres.
        let admin = sqlx::AnyPool::connect(&db.location)
            .await
            .expect("postgres");
        let left: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = $1) \
                  + (SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = $1)",
        )
        .bind(format!("lw_{}", old_id.as_str()))
        .fetch_one(&admin)
        .await
        .expect("count");
        admin.close().await;
        assert_eq!(left, 0, "the deleted app's schema and role");
    }
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

livewasm_integration_tests::on_every_backend!(
    articles_survive_a_restart_and_stay_in_their_tenant,
    users_and_registrations_survive_a_restart,
    a_hostile_tenant_cannot_read_another_tenants_rows,
);

/// The users and registration examples keep their rows across a restart on either backend:
/// a user added and one deleted over a live socket, an email registered (taken afterwards in
/// any case); the same components of another tenant keep the seed rows only.
async fn users_and_registrations_survive_a_restart(db: &Database) {
    let (server, registry, operator) = start(db).await;
    for tenant in ["acme", "globex"] {
        let created = operator
            .post_json("/api/v1/tenants", &json!({"name": tenant}))
            .await;
        assert_eq!(created.status, 201, "{}", created.text());
        deploy(&operator, tenant, "users").await;
        deploy(&operator, tenant, "registration").await;
    }
    let addr = server.addr;
    let users = app_origin(addr, "acme", "users");
    let (mut socket, join_ref, topic) = live(addr, &users, "/users").await;
    let reply = socket
        .event(&join_ref, &topic, "click", "add", json!({}))
        .await
        .unwrap();
    assert!(reply.to_string().contains("Added user 4"), "{reply}");
    let reply = socket
        .event(&join_ref, &topic, "click", "delete", json!({"id": "2"}))
        .await
        .unwrap();
    assert!(reply.to_string().contains("Deleted user 2"), "{reply}");

    let signup = "user%5Bemail%5D=Grace%40Example.com&user%5Bpassword%5D=correct+horse\
                  &user%5Bpassword_confirmation%5D=correct+horse&user%5Bterms%5D=true";
    let registration = app_origin(addr, "acme", "registration");
    let (mut socket, join_ref, topic) = live(addr, &registration, "/users/register").await;
    let reply = socket
        .event(&join_ref, &topic, "form", "save", json!(signup))
        .await
        .unwrap();
    assert!(registered(&reply, "Grace@Example.com"), "{reply}");
    // On Postgres the rows are in acme's schemas.
    if let Some(emails) =
        rows_in_backend(db, &registry, ("acme", "registration"), "users", "email").await
    {
        assert_eq!(emails, ["taken@example.com", "Grace@Example.com"]);
        let names = rows_in_backend(db, &registry, ("acme", "users"), "users", "name").await;
        assert_eq!(
            names.map(|mut n| {
                n.sort();
                n
            }),
            Some(vec![String::new(), "Alice".into(), "Carol".into()]),
            "the added user has no name (NULL), Bob is gone"
        );
    }

    drop(server);
    registry.close().await;
    let (server, registry, _) = start(db).await;
    let addr = server.addr;
    let list = page(addr, &app_origin(addr, "acme", "users"), "/users").await;
    assert!(list.body.contains("User 4"), "{}", list.body);
    assert!(!list.body.contains("Bob"), "{}", list.body);
    assert!(list.body.contains("Alice"), "{}", list.body);
    let theirs = page(addr, &app_origin(addr, "globex", "users"), "/users").await;
    assert!(theirs.body.contains("Bob"), "{}", theirs.body);
    assert!(!theirs.body.contains("User 4"), "{}", theirs.body);

    // The registered email is taken, whatever its case, as it is typed and on submit.
    let registration = app_origin(addr, "acme", "registration");
    let (mut socket, join_ref, topic) = live(addr, &registration, "/users/register").await;
    let reply = socket
        .event(
            &join_ref,
            &topic,
            "form",
            "validate",
            json!("user%5Bemail%5D=grace%40EXAMPLE.com"),
        )
        .await
        .unwrap();
    assert!(
        reply.to_string().contains("has already been taken"),
        "{reply}"
    );
    // On submit, from a view that never looked the email up: the unique index refuses it.
    let (mut socket, join_ref, topic) = live(addr, &registration, "/users/register").await;
    let reply = socket
        .event(
            &join_ref,
            &topic,
            "form",
            "save",
            json!(signup.replace("Grace", "GRACE")),
        )
        .await
        .unwrap();
    assert!(
        reply.to_string().contains("has already been taken"),
        "{reply}"
    );
    assert!(!reply.to_string().contains("Account created"), "{reply}");
    // Another tenant's registration app: free (only its seed email is taken).
    let theirs = app_origin(addr, "globex", "registration");
    let (mut socket, join_ref, topic) = live(addr, &theirs, "/users/register").await;
    let reply = socket
        .event(&join_ref, &topic, "form", "save", json!(signup))
        .await
        .unwrap();
    assert!(registered(&reply, "Grace@Example.com"), "{reply}");
    registry.close().await;
}

/// A hostile app of another tenant, next to the articles app, cannot reach its rows: on
/// Postgres not through the other app's schema (its role has no right there), on SQLite not
/// by attaching the other app's file; its own database has no `articles` at all.
async fn a_hostile_tenant_cannot_read_another_tenants_rows(db: &Database) {
    let (server, registry, operator) = start(db).await;
    deploy_articles(&operator, "acme").await;
    let created = operator
        .post_json("/api/v1/tenants", &json!({"name": "evil"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    deploy(&operator, "evil", "hostile").await;
    let addr = server.addr;
    let acme = app_origin(addr, "acme", "articles");
    create_article(addr, &acme, "Secret-of-acme").await;

    let id = registry.app("acme", "articles").await.expect("app").id;
    let id = id.as_str();
    let on_postgres = db.location.starts_with("postgres");
    let theirs = if on_postgres {
        vec![
            format!("SELECT title FROM lw_{id}.articles"),
            format!("SELECT title FROM \"lw_{id}\".\"articles\""),
            format!("SELECT count(*) FROM lw_{id}._livewasm_migrations"),
        ]
    } else {
        let file = sql_dir_for(&db.location).join(format!("{id}.sqlite3"));
        vec![format!("ATTACH DATABASE '{}' AS theirs", file.display())]
    };
    let evil = app_origin(addr, "evil", "hostile");
    let (mut socket, join_ref, topic) = live(addr, &evil, "/hostile/sql").await;
    for sql in theirs
        .iter()
        .map(String::as_str)
        .chain(["SELECT title FROM articles"])
    {
        // A query that works first clears the last error, so each probe shows its own.
        let reply = socket
            .event(
                &join_ref,
                &topic,
                "click",
                "run",
                json!({"sql": "SELECT 1"}),
            )
            .await
            .unwrap();
        assert_eq!(reply["status"], "ok", "{reply}");
        let reply = socket
            .event(&join_ref, &topic, "click", "run", json!({"sql": sql}))
            .await
            .unwrap();
        assert_eq!(reply["status"], "ok", "{reply}");
        let shown = reply["response"]["diff"].to_string();
        assert!(!shown.contains("Secret-of-acme"), "{sql}: {shown}");
        let error = reply["response"]["diff"]["2"].as_str().unwrap_or_default();
        let refused = [
            "permission denied",
            "refused",
            "no such table",
            "does not exist",
        ];
        assert!(refused.iter().any(|r| error.contains(r)), "{sql}: {shown}");
    }
    // Its own database works, and acme's article is still there.
    let reply = socket
        .event(
            &join_ref,
            &topic,
            "click",
            "run",
            json!({"sql": "SELECT name FROM items ORDER BY id"}),
        )
        .await
        .unwrap();
    assert!(reply.to_string().contains("three"), "{reply}");
    let list = page(addr, &acme, "/articles").await;
    assert!(list.body.contains("Secret-of-acme"), "{}", list.body);
    registry.close().await;
}

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
