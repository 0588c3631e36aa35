//! PubSub over real WebSockets on a multi-tenant host: a broadcast reaches every socket of the
//! same tenant app subscribed to the topic, never another app (same tenant) or another tenant
//! (same app name, same component, same topic), and a closed socket's subscriptions are gone.
//! Also: background tasks (`assign_async!`, `start_async`) reach the browser as pushed diffs,
//! count against the tenant's instance quota, and run only when declared.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use livewasm_integration_tests::platform::{Api, Database, roomy_quotas};
use livewasm_integration_tests::{Page, PhxSocket, TestServer, get_from};
use livewasm_registry::{QuotaDefaults, Registry};
use livewasm_runtime::{JsonText, Runtime, RuntimeConfig};
use livewasm_server::{Host, ServerConfig};
use serde_json::{Value, json};

fn defaults() -> QuotaDefaults {
    QuotaDefaults {
        max_component_bytes: 8 << 20,
        ..roomy_quotas()
    }
}

/// A platform host on a fresh SQLite registry, keeping the `Host` for inspection.
async fn start(db: &Database) -> (TestServer, Arc<Host>, Registry, Api) {
    let registry = Registry::open(&db.location, defaults())
        .await
        .expect("registry");
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 64,
        ..RuntimeConfig::default()
    })
    .expect("runtime");
    let config = ServerConfig {
        secret_key: b"pubsub-test-secret-key-0123456789abcdef".to_vec(),
        ..ServerConfig::default()
    };
    let host = Arc::new(Host::with_registry(runtime, config, registry.clone()));
    livewasm_server::platform::load_active_apps(&host)
        .await
        .expect("load apps");
    let server = TestServer::serve_host(host.clone()).await;
    let operator = livewasm_server::platform::bootstrap_operator_token(&registry)
        .await
        .expect("operator token");
    let api = Api::new(server.addr, Some(&operator.token));
    (server, host, registry, api)
}

/// Creates `tenant` (if new) and its app `app`, and deploys the dashboard component to it.
async fn deploy_dashboard(operator: &Api, tenant: &str, app: &str, wasm: &[u8]) {
    let created = operator
        .post_json("/api/v1/tenants", &json!({"name": tenant}))
        .await;
    assert!(
        created.status == 201 || created.status == 409,
        "{}",
        created.text()
    );
    let created = operator
        .post_json(
            &format!("/api/v1/tenants/{tenant}/apps"),
            &json!({"name": app}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let uploaded = operator
        .post_wasm(
            &format!("/api/v1/tenants/{tenant}/apps/{app}/versions"),
            wasm,
        )
        .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text());
}

/// A joined view: its socket, topic and join ref.
struct Joined {
    socket: PhxSocket,
    topic: String,
    join_ref: String,
}

async fn join(addr: SocketAddr, tenant: &str, app: &str, path: &str) -> Joined {
    let host = format!("{app}.{tenant}.localhost:{}", addr.port());
    let page: Page = get_from(addr, &host, path).await.expect("page");
    assert_eq!(page.status, 200, "{}", page.body);
    let cookie = page.cookie_header();
    let mut socket = PhxSocket::connect_to(addr, &host, page.csrf.as_deref(), Some(&cookie))
        .await
        .expect("socket");
    let url = format!("http://{host}{path}");
    let (join_ref, reply) = socket.join_page(&page, &url).await.expect("join");
    assert_eq!(reply["status"], "ok", "{reply}");
    Joined {
        socket,
        topic: page.topic(),
        join_ref,
    }
}

/// Waits for a `diff` push on the view whose JSON contains `text`.
async fn diff_with(view: &mut Joined, text: &str, wait: Duration) -> Option<Value> {
    let topic = view.topic.clone();
    view.socket
        .wait_for(wait, text, |frame| {
            frame.get(2).and_then(Value::as_str) == Some(topic.as_str())
                && frame.get(3).and_then(Value::as_str) == Some("diff")
                && frame.to_string().contains(text)
        })
        .await
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcasts_stay_inside_their_app_and_tenant() {
    let db = Database::sqlite();
    let (server, host, registry, operator) = start(&db).await;
    let addr = server.addr;
    let wasm = std::fs::read(livewasm_test::component_path("dashboard").expect("built"))
        .expect("dashboard.wasm");
    deploy_dashboard(&operator, "acme", "dashboard", &wasm).await;
    deploy_dashboard(&operator, "acme", "dash2", &wasm).await;
    deploy_dashboard(&operator, "globex", "dashboard", &wasm).await;

    let mut first = join(addr, "acme", "dashboard", "/dashboard/acme").await;
    let mut second = join(addr, "acme", "dashboard", "/dashboard/acme").await;
    let mut other_app = join(addr, "acme", "dash2", "/dashboard/acme").await;
    let mut other_tenant = join(addr, "globex", "dashboard", "/dashboard/acme").await;
    // Every dashboard's background tasks finish and reach its socket as pushed diffs.
    for view in [&mut first, &mut second, &mut other_app, &mut other_tenant] {
        assert!(
            diff_with(view, "Acme Corp", Duration::from_secs(5))
                .await
                .is_some(),
            "assign_async result pushed"
        );
        assert!(
            diff_with(view, "Revenue: $", Duration::from_secs(5))
                .await
                .is_some(),
            "start_async result pushed"
        );
    }
    assert_eq!(host.pubsub_subscriptions(), 4);

    // A sale recorded on another socket of acme's dashboard app.
    let mut sales = join(addr, "acme", "dashboard", "/dashboard/acme/sales").await;
    let reply = sales
        .socket
        .event(
            &sales.join_ref.clone(),
            &sales.topic.clone(),
            "click",
            "sale",
            json!({"amount": "250"}),
        )
        .await
        .expect("sale");
    assert_eq!(reply["status"], "ok", "{reply}");

    for view in [&mut first, &mut second] {
        assert!(
            diff_with(view, "Sale: $250", Duration::from_secs(5))
                .await
                .is_some(),
            "the broadcast reaches every dashboard of the app"
        );
    }
    for view in [&mut other_app, &mut other_tenant] {
        assert!(
            diff_with(view, "Sale: $250", Duration::from_millis(500))
                .await
                .is_none(),
            "the broadcast leaked to another app or tenant"
        );
    }

    // Closing a socket drops its subscriptions.
    drop(second);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while host.pubsub_subscriptions() != 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(host.pubsub_subscriptions(), 3);

    drop(server);
    registry.close().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_instances_count_against_the_tenants_instance_quota() {
    let db = Database::sqlite();
    let (server, _host, registry, operator) = start(&db).await;
    let addr = server.addr;
    let wasm = std::fs::read(livewasm_test::component_path("dashboard").expect("built"))
        .expect("dashboard.wasm");
    deploy_dashboard(&operator, "tiny", "dashboard", &wasm).await;
    let set = operator
        .put_json(
            "/api/v1/tenants/tiny/quotas",
            &json!({"max_concurrent_instances": 1}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.text());

    // The view takes the tenant's only instance; its tasks (organization, profile, service
    // status, metrics) cannot get one and fail cleanly: their failures arrive as diffs naming
    // the reason, in whatever order the tasks end.
    let mut view = join(addr, "tiny", "dashboard", "/dashboard/acme").await;
    let mut frames = Vec::new();
    while !frames
        .iter()
        .any(|f: &String| f.contains("Failed to load metrics"))
    {
        let frame = diff_with(
            &mut view,
            "the tenant is at its instance quota",
            Duration::from_secs(5),
        )
        .await
        .unwrap_or_else(|| panic!("a failed task's diff after {frames:?}"));
        frames.push(frame.to_string());
    }
    // The metrics' failure came with the view's flash.
    assert!(
        frames.iter().any(|f| f.contains("Failed to load metrics")),
        "{frames:?}"
    );

    drop(server);
    registry.close().await;
    db.cleanup().await;
}

#[test]
fn run_task_runs_declared_tasks_only_and_turns_traps_into_errors() {
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 4,
        ..RuntimeConfig::default()
    })
    .expect("runtime");
    let wasm = std::fs::read(livewasm_test::component_path("dashboard").expect("built"))
        .expect("dashboard.wasm");
    let app = runtime.load_app(&wasm).expect("load");
    // A task is known by its function's path.
    let org = app
        .run_task(
            "dashboard::data::fetch_org",
            &JsonText::from_value(&json!("acme")),
        )
        .expect("org");
    assert_eq!(org.to_value()["name"], "Acme Corp");
    let error = app
        .run_task(
            "dashboard::data::fetch_org",
            &JsonText::from_value(&json!(42)),
        )
        .expect_err("bad argument");
    assert!(error.contains("argument does not fit"), "{error}");
    let error = app
        .run_task(
            "dashboard::data::fetch_org",
            &JsonText::from_value(&json!("nope")),
        )
        .expect_err("the task's own error");
    assert_eq!(error, "no organization named `nope`");
    let error = app
        .run_task("std::process::exit", &JsonText::from_value(&json!(0)))
        .expect_err("undeclared");
    assert!(error.contains("is not declared"), "{error}");
    let error = app
        .run_task(
            "dashboard::data::fetch_metrics",
            &JsonText::from_value(&json!("crashy")),
        )
        .expect_err("a panic traps the task's own instance");
    assert!(error.contains("crashed"), "{error}");
}
