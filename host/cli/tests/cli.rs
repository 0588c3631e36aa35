//! The `livewasm` binary's API client subcommands, run against a tiny in-test HTTP server that
//! records each request and answers with canned API responses, and the offline
//! `token create --operator --database` against a real SQLite registry.

use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use livewasm_registry::{QuotaDefaults, Registry};
use serde_json::{Value, json};

/// A request the mock server received.
#[derive(Clone, Debug)]
struct Recorded {
    /// Its method.
    method: Method,
    /// Its path, without the query.
    path: String,
    /// Its query string, if any.
    query: Option<String>,
    /// Its `Authorization` header, if any.
    authorization: Option<String>,
    /// Its `Content-Type` header, if any.
    content_type: Option<String>,
    /// Its body.
    body: Vec<u8>,
}

impl Recorded {
    /// The body as JSON.
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON request body")
    }
}

/// A canned answer: method, path, status, JSON body.
type Route = (Method, &'static str, u16, Value);

/// The mock server's state.
#[derive(Clone)]
struct Mock {
    /// What to answer.
    routes: Arc<Vec<Route>>,
    /// What was asked, in order.
    seen: Arc<Mutex<Vec<Recorded>>>,
}

/// Answers a request from the canned routes (404 with an API error otherwise) and records it.
async fn answer(
    State(mock): State<Mock>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let found = mock
        .routes
        .iter()
        .find(|(m, path, ..)| *m == method && *path == uri.path());
    // Like a server checking auth or quotas first, refusals do not read the body.
    let body = match found {
        Some((.., status, _)) if *status >= 400 => Bytes::new(),
        _ => to_bytes(body, usize::MAX).await.unwrap_or_default(),
    };
    mock.seen.lock().expect("lock").push(Recorded {
        method: method.clone(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        authorization: header("authorization"),
        content_type: header("content-type"),
        body: body.to_vec(),
    });
    match found {
        Some((_, _, status, value)) => (
            StatusCode::from_u16(*status).expect("status"),
            axum::Json(value.clone()),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": {"code": "not_found", "message": "no such route"}})),
        )
            .into_response(),
    }
}

/// Starts a mock API server on a loopback port; returns its URL and the request log.
fn mock_server(routes: Vec<Route>) -> (String, Arc<Mutex<Vec<Recorded>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mock = Mock {
        routes: Arc::new(routes),
        seen: seen.clone(),
    };
    let listener = StdListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let app = Router::new()
                .fallback(answer)
                .layer(DefaultBodyLimit::disable())
                .with_state(mock);
            axum::serve(listener, app).await.expect("serve");
        });
    });
    (url, seen)
}

/// Runs `livewasm args…` against `server` with an optional token in the environment.
fn livewasm(server: &str, token: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_livewasm"));
    command
        .args(args)
        .env("LIVEWASM_SERVER", server)
        .env("RUST_LOG", "warn")
        .env_remove("LIVEWASM_TOKEN")
        .env_remove("DATABASE_URL");
    for proxy in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ] {
        command.env_remove(proxy);
    }
    if let Some(token) = token {
        command.env("LIVEWASM_TOKEN", token);
    }
    command.output().expect("run livewasm")
}

/// Stdout as text.
fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Stderr as text.
fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the command succeeded, showing its output otherwise.
fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        stdout(output),
        stderr(output)
    );
}

/// The requests recorded so far.
fn seen(log: &Arc<Mutex<Vec<Recorded>>>) -> Vec<Recorded> {
    log.lock().expect("lock").clone()
}

/// A fresh directory under the system's temp dir.
fn temp_dir() -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "livewasm-cli-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A version as the API describes it.
fn version(number: u64, byte: char) -> Value {
    json!({
        "number": number,
        "sha256": byte.to_string().repeat(64),
        "size": 1234,
        "uploaded_by": "token:tok_ci",
        "created_at": 1_764_107_287_000_i64,
    })
}

#[test]
fn tenant_create_posts_the_name_with_the_bearer_token() {
    let (url, log) = mock_server(vec![(
        Method::POST,
        "/api/v1/tenants",
        201,
        json!({"tenant": {"id": "ten_1", "name": "acme", "created_at": 1}}),
    )]);
    let output = livewasm(&url, Some("lw_operator"), &["tenant", "create", "acme"]);
    assert_ok(&output);
    assert_eq!(stdout(&output), "created tenant acme (ten_1)\n");
    let requests = seen(&log);
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, "/api/v1/tenants");
    assert_eq!(request.authorization.as_deref(), Some("Bearer lw_operator"));
    assert_eq!(request.content_type.as_deref(), Some("application/json"));
    assert_eq!(request.json(), json!({"name": "acme"}));
}

#[test]
fn tenant_quotas_puts_only_the_limits_given_and_prints_them() {
    let quotas = json!({
        "quotas": {"max_apps": 20, "max_component_bytes": 1024, "max_concurrent_instances": 5,
                   "memory_mib_per_instance": 32, "fuel_per_callback": 7},
        "usage": {"apps": 2, "instances": 1, "refused_instances": 0, "refused_over_quota": 0},
    });
    let (url, log) = mock_server(vec![(
        Method::PUT,
        "/api/v1/tenants/acme/quotas",
        200,
        quotas,
    )]);
    let output = livewasm(
        &url,
        Some("lw_operator"),
        &[
            "tenant",
            "quotas",
            "acme",
            "--max-apps",
            "20",
            "--max-instances",
            "5",
        ],
    );
    assert_ok(&output);
    let text = stdout(&output);
    assert!(
        text.contains("max_apps") && text.contains("20") && text.contains("in use: 2"),
        "{text}"
    );
    let requests = seen(&log);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, Method::PUT);
    assert_eq!(
        requests[0].json(),
        json!({"max_apps": 20, "max_concurrent_instances": 5})
    );
}

#[test]
fn tenant_http_allow_puts_the_hosts_and_prints_the_list() {
    let (url, log) = mock_server(vec![(
        Method::PUT,
        "/api/v1/tenants/acme/http-allowlist",
        200,
        json!({"hosts": ["*.cdn.example.net", "api.example.com:8443"]}),
    )]);
    let output = livewasm(
        &url,
        Some("lw_operator"),
        &[
            "tenant",
            "http-allow",
            "acme",
            "API.example.com:8443",
            "*.cdn.example.net",
        ],
    );
    assert_ok(&output);
    assert_eq!(stdout(&output), "*.cdn.example.net\napi.example.com:8443\n");
    let requests = seen(&log);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, Method::PUT);
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some("Bearer lw_operator")
    );
    // Sent as given: the server normalizes.
    assert_eq!(
        requests[0].json(),
        json!({"hosts": ["API.example.com:8443", "*.cdn.example.net"]})
    );
}

#[test]
fn tenant_http_allow_without_hosts_clears_and_show_only_reads() {
    let (url, log) = mock_server(vec![
        (
            Method::PUT,
            "/api/v1/tenants/acme/http-allowlist",
            200,
            json!({"hosts": []}),
        ),
        (
            Method::GET,
            "/api/v1/tenants/acme/http-allowlist",
            200,
            json!({"hosts": ["api.example.com"]}),
        ),
    ]);
    let cleared = livewasm(&url, Some("lw_op"), &["tenant", "http-allow", "acme"]);
    assert_ok(&cleared);
    assert_eq!(stdout(&cleared), "tenant acme: no hosts allowed\n");
    let shown = livewasm(
        &url,
        Some("lw_op"),
        &["tenant", "http-allow", "acme", "--show"],
    );
    assert_ok(&shown);
    assert_eq!(stdout(&shown), "api.example.com\n");
    let json_out = livewasm(
        &url,
        Some("lw_op"),
        &["tenant", "http-allow", "acme", "--show", "--json"],
    );
    assert_ok(&json_out);
    let printed: Value = serde_json::from_str(&stdout(&json_out)).expect("JSON output");
    assert_eq!(printed, json!({"hosts": ["api.example.com"]}));
    let requests = seen(&log);
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].method, Method::PUT);
    assert_eq!(requests[0].json(), json!({"hosts": []}));
    assert_eq!(requests[1].method, Method::GET);
    assert!(requests[1].body.is_empty());
    assert_eq!(requests[2].method, Method::GET);

    // `--show` with hosts is a usage error, and sends nothing.
    let both = livewasm(
        &url,
        Some("lw_op"),
        &["tenant", "http-allow", "acme", "a.example", "--show"],
    );
    assert!(!both.status.success());
    assert_eq!(seen(&log).len(), 3);
}

#[test]
fn tenant_http_allow_shows_the_servers_refusal() {
    let (url, _log) = mock_server(vec![(
        Method::PUT,
        "/api/v1/tenants/acme/http-allowlist",
        400,
        json!({"error": {"code": "invalid_http_host",
                         "message": "Invalid HTTP allowlist entry \"https://x\": must be a host name."}}),
    )]);
    let output = livewasm(
        &url,
        Some("lw_op"),
        &["tenant", "http-allow", "acme", "https://x"],
    );
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("\"https://x\"") && err.contains("invalid_http_host, HTTP 400"),
        "{err}"
    );
}

#[test]
fn server_and_token_flags_override_the_environment() {
    let (url, log) = mock_server(vec![(
        Method::POST,
        "/api/v1/tenants",
        201,
        json!({"tenant": {"id": "ten_1", "name": "acme"}}),
    )]);
    let output = livewasm(
        "http://127.0.0.1:1",
        Some("lw_from_env"),
        &[
            "tenant", "create", "acme", "--server", &url, "--token", "lw_flag", "--json",
        ],
    );
    assert_ok(&output);
    let printed: Value = serde_json::from_str(&stdout(&output)).expect("JSON output");
    assert_eq!(printed["tenant"]["id"], "ten_1");
    assert_eq!(
        seen(&log)[0].authorization.as_deref(),
        Some("Bearer lw_flag")
    );
}

#[test]
fn token_create_sends_tenant_deploy_and_operator_scopes() {
    let (url, log) = mock_server(vec![(
        Method::POST,
        "/api/v1/tokens",
        201,
        json!({
            "token": "lw_secret",
            "info": {"id": "tok_1", "label": "ci", "scope": {"kind": "tenant", "tenant": "ten_1"}},
        }),
    )]);
    let tenant = livewasm(
        &url,
        Some("lw_op"),
        &["token", "create", "--tenant", "acme", "--label", "ci"],
    );
    assert_ok(&tenant);
    assert_eq!(stdout(&tenant), "lw_secret\n");
    assert!(
        stderr(&tenant).contains("cannot be shown again"),
        "{}",
        stderr(&tenant)
    );
    assert!(stderr(&tenant).contains("tok_1"), "{}", stderr(&tenant));

    let deploy = livewasm(
        &url,
        Some("lw_op"),
        &["token", "create", "--tenant", "acme", "--app", "shop"],
    );
    assert_ok(&deploy);
    let operator = livewasm(&url, Some("lw_op"), &["token", "create", "--operator"]);
    assert_ok(&operator);

    let bodies: Vec<Value> = seen(&log).iter().map(Recorded::json).collect();
    assert_eq!(
        bodies,
        [
            json!({"scope": {"kind": "tenant", "tenant": "acme"}, "label": "ci"}),
            json!({"scope": {"kind": "deploy", "tenant": "acme", "app": "shop"}}),
            json!({"scope": {"kind": "operator"}}),
        ]
    );
    assert!(seen(&log).iter().all(|r| r.method == Method::POST
        && r.path == "/api/v1/tokens"
        && r.authorization.as_deref() == Some("Bearer lw_op")));
}

#[test]
fn token_create_needs_a_tenant_or_operator() {
    let output = livewasm("http://127.0.0.1:1", None, &["token", "create"]);
    assert!(!output.status.success());
    let output = livewasm(
        "http://127.0.0.1:1",
        None,
        &["token", "create", "--app", "shop"],
    );
    assert!(!output.status.success());
}

#[test]
fn token_create_operator_offline_is_accepted_by_the_registry() {
    let dir = temp_dir();
    let database = dir.join("registry.db");
    let database = database.to_str().expect("utf-8 path");
    let output = livewasm(
        "http://127.0.0.1:1",
        None,
        &[
            "token",
            "create",
            "--operator",
            "--database",
            database,
            "--label",
            "bootstrap",
        ],
    );
    assert_ok(&output);
    let token = stdout(&output).trim().to_owned();
    assert!(token.starts_with("lw_"), "{token}");
    assert!(stderr(&output).contains("cannot be shown again"));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let principal = runtime.block_on(async {
        let registry = Registry::open(database, QuotaDefaults::default())
            .await
            .expect("open registry");
        let principal = registry.authenticate(&token).await.expect("authenticate");
        registry.close().await;
        principal
    });
    let principal = principal.expect("the registry accepts the token");
    assert!(principal.is_operator());
    assert_eq!(principal.label(), "bootstrap");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn token_create_expires_sends_seconds_and_refuses_bad_durations() {
    let (url, log) = mock_server(vec![(
        Method::POST,
        "/api/v1/tokens",
        201,
        json!({
            "token": "lw_secret",
            "info": {
                "id": "tok_1",
                "label": "ci",
                "scope": {"kind": "tenant", "tenant": "ten_1"},
                "expires_at": 1_764_107_287_000_i64,
            },
        }),
    )]);
    for (given, secs) in [
        ("30d", 2_592_000),
        ("12h", 43_200),
        ("90m", 5400),
        ("45s", 45),
    ] {
        let output = livewasm(
            &url,
            Some("lw_op"),
            &["token", "create", "--tenant", "acme", "--expires", given],
        );
        assert_ok(&output);
        assert!(
            stderr(&output).contains("expires 2025-11-25 21:48:07 UTC"),
            "{}",
            stderr(&output)
        );
        let body = seen(&log).last().expect("a request").json();
        assert_eq!(body["expires_in_secs"], secs, "{given}: {body}");
    }
    let sent = seen(&log).len();
    for bad in ["30", "30w", "1.5d", "0d", "d", "-1h"] {
        let output = livewasm(
            &url,
            Some("lw_op"),
            &[
                "token",
                "create",
                "--tenant",
                "acme",
                &format!("--expires={bad}"),
            ],
        );
        assert!(!output.status.success(), "{bad} accepted");
        assert!(stderr(&output).contains("--expires"), "{}", stderr(&output));
    }
    assert_eq!(seen(&log).len(), sent, "a bad duration reached the server");
}

#[test]
fn token_list_prints_a_table_without_secrets_and_passes_the_tenant() {
    let listing = json!({"tokens": [
        {
            "id": "tok_op", "label": "operator", "kind": "operator", "tenant": null,
            "app": null, "created_at": 1_764_107_287_000_i64, "expires_at": null,
            "last_used_at": 1_764_107_288_000_i64, "revoked_at": null, "status": "active",
        },
        {
            "id": "tok_ci", "label": "ci", "kind": "deploy", "tenant": "acme", "app": "shop",
            "created_at": 1_764_107_287_000_i64, "expires_at": 951_782_400_000_i64,
            "last_used_at": null, "revoked_at": null, "status": "expired",
        },
    ]});
    let (url, log) = mock_server(vec![(Method::GET, "/api/v1/tokens", 200, listing.clone())]);
    let output = livewasm(&url, Some("lw_op"), &["token", "list"]);
    assert_ok(&output);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("ID "), "{text}");
    assert!(lines[0].contains("EXPIRES (UTC)") && lines[0].contains("LAST USED (UTC)"));
    assert!(lines[1].starts_with("tok_op "), "{text}");
    assert!(lines[1].contains("never") && lines[1].contains("2025-11-25 21:48:08"));
    assert!(lines[2].contains("acme/shop") && lines[2].contains("expired"));
    assert!(lines[2].contains("2000-02-29 00:00:00"), "{text}");

    let json_out = livewasm(
        &url,
        Some("lw_op"),
        &["token", "list", "--tenant", "acme", "--json"],
    );
    assert_ok(&json_out);
    let printed: Value = serde_json::from_str(&stdout(&json_out)).expect("JSON output");
    assert_eq!(printed, listing);
    let requests = seen(&log);
    assert_eq!(requests[0].query, None);
    assert_eq!(requests[1].query.as_deref(), Some("tenant=acme"));
    assert!(requests.iter().all(|r| r.method == Method::GET
        && r.path == "/api/v1/tokens"
        && r.authorization.as_deref() == Some("Bearer lw_op")));
}

#[test]
fn token_revoke_sends_delete_and_reports_refusals() {
    let (url, log) = mock_server(vec![
        (
            Method::DELETE,
            "/api/v1/tokens/tok_ci",
            200,
            json!({"info": {"id": "tok_ci", "kind": "deploy", "label": "ci", "status": "revoked"}}),
        ),
        (
            Method::DELETE,
            "/api/v1/tokens/tok_other",
            404,
            json!({"error": {"code": "not_found", "message": "Token tok_other not found."}}),
        ),
    ]);
    let output = livewasm(&url, Some("lw_acme"), &["token", "revoke", "tok_ci"]);
    assert_ok(&output);
    assert_eq!(stdout(&output), "revoked deploy token tok_ci (ci)\n");
    let refused = livewasm(&url, Some("lw_acme"), &["token", "revoke", "tok_other"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("Token tok_other not found."),
        "{}",
        stderr(&refused)
    );
    let requests = seen(&log);
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.method == Method::DELETE));
    // A missing id is a usage error, sent nowhere.
    assert!(
        !livewasm(&url, Some("lw_acme"), &["token", "revoke"])
            .status
            .success()
    );
    assert_eq!(seen(&log).len(), 2);
}

#[test]
fn audit_passes_its_filters_and_prints_the_log() {
    let page = json!({
        "entries": [
            {"seq": 12, "at": 1_764_107_287_000_i64, "actor": "token:tok_acme",
             "action": "app.create", "target": "app:acme/shop", "tenant_id": "ten_1",
             "detail": {}},
            {"seq": 11, "at": 1_764_107_286_000_i64, "actor": "system:cli",
             "action": "tenant.create", "target": "tenant:acme", "tenant_id": "ten_1",
             "detail": {}},
        ],
        "next_before": 11,
    });
    let (url, log) = mock_server(vec![(Method::GET, "/api/v1/audit", 200, page.clone())]);
    let output = livewasm(
        &url,
        Some("lw_op"),
        &[
            "audit", "--tenant", "acme", "--limit", "2", "--before", "13",
        ],
    );
    assert_ok(&output);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("SEQ "), "{text}");
    assert!(
        lines[1].starts_with("12 ") && lines[1].contains("app:acme/shop"),
        "{text}"
    );
    assert!(lines[2].contains("2025-11-25 21:48:06") && lines[2].contains("tenant.create"));
    assert!(
        stderr(&output).contains("--before 11"),
        "{}",
        stderr(&output)
    );

    let json_out = livewasm(&url, Some("lw_op"), &["audit", "--json"]);
    assert_ok(&json_out);
    let printed: Value = serde_json::from_str(&stdout(&json_out)).expect("JSON output");
    assert_eq!(printed, page);
    let requests = seen(&log);
    assert_eq!(
        requests[0].query.as_deref(),
        Some("tenant=acme&limit=2&before=13")
    );
    assert_eq!(requests[1].query, None);
    // Limits outside 1..=1000 are refused before anything is sent.
    for bad in ["0", "1001", "ten"] {
        assert!(
            !livewasm(&url, Some("lw_op"), &["audit", "--limit", bad])
                .status
                .success()
        );
    }
    assert_eq!(seen(&log).len(), 2);
}

#[test]
fn app_create_and_list() {
    let (url, log) = mock_server(vec![
        (
            Method::POST,
            "/api/v1/tenants/acme/apps",
            201,
            json!({"app": {"id": "app_1", "name": "shop"}}),
        ),
        (
            Method::GET,
            "/api/v1/tenants/acme/apps",
            200,
            json!({"apps": [{"name": "shop"}, {"name": "blog"}]}),
        ),
    ]);
    let create = livewasm(&url, Some("lw_t"), &["app", "create", "acme", "shop"]);
    assert_ok(&create);
    assert_eq!(stdout(&create), "created app acme/shop\n");
    let list = livewasm(&url, Some("lw_t"), &["app", "list", "acme"]);
    assert_ok(&list);
    assert_eq!(stdout(&list), "shop\nblog\n");

    let requests = seen(&log);
    assert_eq!(requests[0].method, Method::POST);
    assert_eq!(requests[0].path, "/api/v1/tenants/acme/apps");
    assert_eq!(requests[0].json(), json!({"name": "shop"}));
    assert_eq!(requests[1].method, Method::GET);
    assert_eq!(requests[1].path, "/api/v1/tenants/acme/apps");
    assert_eq!(requests[1].authorization.as_deref(), Some("Bearer lw_t"));
}

#[test]
fn app_delete_sends_delete_and_reports_refusals() {
    let (url, log) = mock_server(vec![
        (
            Method::DELETE,
            "/api/v1/tenants/acme/apps/shop",
            204,
            Value::Null,
        ),
        (
            Method::DELETE,
            "/api/v1/tenants/acme/apps/blog",
            403,
            json!({"error": {"code": "forbidden", "message": "This token may not do that."}}),
        ),
    ]);
    let deleted = livewasm(&url, Some("lw_t"), &["app", "delete", "acme", "shop"]);
    assert_ok(&deleted);
    assert_eq!(stdout(&deleted), "deleted app acme/shop\n");
    let refused = livewasm(&url, Some("lw_d"), &["app", "delete", "acme", "blog"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("This token may not do that."),
        "{}",
        stderr(&refused)
    );

    let requests = seen(&log);
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method, Method::DELETE);
    assert_eq!(requests[0].path, "/api/v1/tenants/acme/apps/shop");
    assert_eq!(requests[0].authorization.as_deref(), Some("Bearer lw_t"));
    assert!(requests[0].body.is_empty());
    assert_eq!(requests[1].path, "/api/v1/tenants/acme/apps/blog");
    assert_eq!(requests[1].authorization.as_deref(), Some("Bearer lw_d"));
}

#[test]
fn deploy_uploads_the_wasm_bytes_and_prints_the_url() {
    let (url, log) = mock_server(vec![
        (
            Method::POST,
            "/api/v1/tenants/acme/apps/shop/versions",
            201,
            json!({"version": version(3, 'a'), "active": true}),
        ),
        (
            Method::GET,
            "/api/v1/tenants/acme/apps/shop",
            200,
            json!({"app": {"name": "shop"}, "active": version(3, 'a'), "url": "http://shop.acme.example/"}),
        ),
    ]);
    let dir = temp_dir();
    let file = dir.join("shop.wasm");
    let bytes: Vec<u8> = b"\0asm\x0d\0\x01\0"
        .iter()
        .copied()
        .chain((0..5000u32).map(|i| (i % 251) as u8))
        .collect();
    std::fs::write(&file, &bytes).expect("write wasm");
    let file = file.to_str().expect("utf-8 path");

    let output = livewasm(&url, Some("lw_deploy"), &["deploy", "acme/shop", file]);
    assert_ok(&output);
    let out = stdout(&output);
    assert!(out.contains("version 3 of acme/shop"), "{out}");
    assert!(out.contains(&"a".repeat(64)), "{out}");
    assert!(out.contains("active  yes"), "{out}");
    assert!(out.contains("http://shop.acme.example/"), "{out}");
    // Small uploads print no progress.
    assert!(
        !stderr(&output).contains("uploading"),
        "{}",
        stderr(&output)
    );

    let requests = seen(&log);
    assert_eq!(requests.len(), 2);
    let upload = &requests[0];
    assert_eq!(upload.method, Method::POST);
    assert_eq!(upload.path, "/api/v1/tenants/acme/apps/shop/versions");
    assert_eq!(upload.query, None);
    assert_eq!(upload.authorization.as_deref(), Some("Bearer lw_deploy"));
    assert_eq!(upload.content_type.as_deref(), Some("application/wasm"));
    assert_eq!(upload.body, bytes);
    assert_eq!(requests[1].method, Method::GET);
    assert_eq!(requests[1].path, "/api/v1/tenants/acme/apps/shop");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn deploy_no_activate_and_large_upload_progress() {
    let (url, log) = mock_server(vec![
        (
            Method::POST,
            "/api/v1/tenants/acme/apps/shop/versions",
            201,
            json!({"version": version(4, 'b'), "active": false}),
        ),
        (
            Method::GET,
            "/api/v1/tenants/acme/apps/shop",
            200,
            json!({"app": {"name": "shop"}, "active": null, "url": "http://127.0.0.1:4000/shop"}),
        ),
    ]);
    let dir = temp_dir();
    let file = dir.join("big.wasm");
    let bytes: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&file, &bytes).expect("write wasm");
    let file = file.to_str().expect("utf-8 path");

    let output = livewasm(
        &url,
        Some("lw_deploy"),
        &["deploy", "acme/shop", file, "--no-activate", "--json"],
    );
    assert_ok(&output);
    let printed: Value = serde_json::from_str(&stdout(&output)).expect("JSON output");
    assert_eq!(printed["version"]["number"], 4);
    assert_eq!(printed["active"], false);
    assert_eq!(printed["url"], "http://127.0.0.1:4000/shop");
    // Not a terminal: one final progress line.
    let err = stderr(&output);
    assert!(
        err.lines()
            .any(|l| l == "uploading: 3.0 MiB / 3.0 MiB (100%)"),
        "{err}"
    );

    let upload = &seen(&log)[0];
    assert_eq!(upload.query.as_deref(), Some("activate=false"));
    assert_eq!(upload.body.len(), bytes.len());
    assert!(upload.body == bytes);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn versions_table_marks_the_active_one() {
    let (url, log) = mock_server(vec![(
        Method::GET,
        "/api/v1/tenants/acme/apps/shop/versions",
        200,
        json!({"versions": [version(1, 'a'), version(2, 'b'), version(3, 'c')], "active": 2}),
    )]);
    let output = livewasm(&url, Some("lw_t"), &["versions", "acme/shop"]);
    assert_ok(&output);
    let out = stdout(&output);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].contains("VERSION") && lines[0].contains("SHA256"),
        "{out}"
    );
    assert!(lines[1].starts_with("   1 "), "{out}");
    assert!(lines[2].starts_with("*  2 "), "{out}");
    assert!(lines[3].starts_with("   3 "), "{out}");
    assert!(lines[2].contains("bbbbbbbbbbbb"), "{out}");
    assert!(lines[2].contains("2025-11-25 21:48:07"), "{out}");
    let request = &seen(&log)[0];
    assert_eq!(request.method, Method::GET);
    assert_eq!(request.authorization.as_deref(), Some("Bearer lw_t"));
}

#[test]
fn rollback_and_activate() {
    let (url, log) = mock_server(vec![
        (
            Method::POST,
            "/api/v1/tenants/acme/apps/shop/rollback",
            200,
            json!({"version": version(2, 'b')}),
        ),
        (
            Method::POST,
            "/api/v1/tenants/acme/apps/shop/versions/3/activate",
            200,
            json!({"version": version(3, 'c')}),
        ),
    ]);
    let rollback = livewasm(&url, Some("lw_t"), &["rollback", "acme/shop"]);
    assert_ok(&rollback);
    assert_eq!(stdout(&rollback), "acme/shop now serves version 2\n");
    let activate = livewasm(&url, Some("lw_t"), &["activate", "acme/shop", "3"]);
    assert_ok(&activate);
    assert_eq!(stdout(&activate), "acme/shop now serves version 3\n");

    let requests = seen(&log);
    assert_eq!(requests[0].method, Method::POST);
    assert_eq!(requests[0].path, "/api/v1/tenants/acme/apps/shop/rollback");
    assert_eq!(requests[1].method, Method::POST);
    assert_eq!(
        requests[1].path,
        "/api/v1/tenants/acme/apps/shop/versions/3/activate"
    );
    assert!(requests.iter().all(|r| r.body.is_empty()));
}

#[test]
fn api_errors_print_the_message_and_exit_non_zero() {
    let (url, _log) = mock_server(vec![(
        Method::POST,
        "/api/v1/tenants",
        409,
        json!({"error": {"code": "conflict", "message": "tenant acme already exists"}}),
    )]);
    let output = livewasm(&url, Some("lw_op"), &["tenant", "create", "acme"]);
    assert!(!output.status.success());
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(
        err.contains("error: tenant acme already exists (conflict, HTTP 409)"),
        "{err}"
    );

    // An unknown route answers 404 with the mock's own error.
    let output = livewasm(&url, None, &["versions", "acme/shop"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("no such route"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn bad_arguments_and_unreachable_servers_fail_cleanly() {
    let output = livewasm("http://127.0.0.1:1", None, &["versions", "no-slash"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("<tenant>/<app>"),
        "{}",
        stderr(&output)
    );

    let output = livewasm("http://127.0.0.1:1", None, &["app", "list", "acme"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("cannot talk to the server at http://127.0.0.1:1"),
        "{}",
        stderr(&output)
    );

    let output = livewasm(
        "http://127.0.0.1:1",
        None,
        &["deploy", "acme/shop", "/nonexistent/x.wasm"],
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("/nonexistent/x.wasm"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn deploy_refused_before_the_body_shows_the_api_error() {
    let (url, log) = mock_server(vec![(
        Method::POST,
        "/api/v1/tenants/acme/apps/shop/versions",
        413,
        json!({"error": {"code": "quota_exceeded", "message": "component exceeds 1 MiB"}}),
    )]);
    let dir = temp_dir();
    let file = dir.join("huge.wasm");
    std::fs::write(&file, vec![7u8; 8 * 1024 * 1024]).expect("write wasm");
    let file = file.to_str().expect("utf-8 path");
    let output = livewasm(&url, Some("lw_deploy"), &["deploy", "acme/shop", file]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("error: component exceeds 1 MiB (quota_exceeded, HTTP 413)"),
        "{err}"
    );
    assert_eq!(seen(&log).len(), 1, "no follow-up request after a refusal");
    std::fs::remove_dir_all(&dir).ok();
}

/// A `livewasm serve` with a fresh SQLite registry, killed when dropped.
struct RealHost {
    child: std::process::Child,
    url: String,
    dir: PathBuf,
}

impl RealHost {
    /// Starts `livewasm serve --database <temp>/registry.db` on a free loopback port and waits
    /// (up to 60 s) until it answers `/health`.
    fn start() -> RealHost {
        use std::io::{Read, Write};
        let dir = temp_dir();
        let port = StdListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let database = dir.join("registry.db");
        let child = Command::new(env!("CARGO_BIN_EXE_livewasm"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--no-cache",
            ])
            .arg("--database")
            .arg(&database)
            .env("LIVEWASM_SECRET_KEY", "cd".repeat(32))
            .env("RUST_LOG", "warn")
            .env_remove("DATABASE_URL")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start livewasm serve");
        let host = RealHost {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let started = std::time::Instant::now();
        loop {
            let healthy = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut s| {
                s.write_all(
                    b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                )?;
                let mut answer = String::new();
                s.read_to_string(&mut answer)?;
                Ok(answer.starts_with("HTTP/1.1 200"))
            });
            if healthy.unwrap_or(false) {
                return host;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "livewasm serve did not answer"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// The registry's database path.
    fn database(&self) -> String {
        self.dir
            .join("registry.db")
            .to_str()
            .expect("utf-8 path")
            .to_owned()
    }
}

impl Drop for RealHost {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// The `expires … UTC` part of `token create`'s report.
fn expiry_of(output: &Output) -> String {
    let report = stderr(output);
    let at = report
        .find("expires ")
        .unwrap_or_else(|| panic!("no expiry in {report}"));
    let rest = &report[at..];
    rest[..rest.find(" UTC").expect("UTC") + 4].to_owned()
}

/// Against a real host: a token made with a token that expires gets its creator's expiry when
/// it asks none, and asking to outlive the creator (`--expires 30d` from a 1 h token) fails.
#[test]
fn token_create_never_outlives_the_creating_token() {
    let host = RealHost::start();
    let database = host.database();
    let operator = livewasm(
        &host.url,
        None,
        &["token", "create", "--operator", "--database", &database],
    );
    assert_ok(&operator);
    let operator = stdout(&operator).trim().to_owned();
    assert_ok(&livewasm(
        &host.url,
        Some(&operator),
        &["tenant", "create", "acme"],
    ));
    assert_ok(&livewasm(
        &host.url,
        Some(&operator),
        &["app", "create", "acme", "shop"],
    ));
    let brief = livewasm(
        &host.url,
        Some(&operator),
        &["token", "create", "--tenant", "acme", "--expires", "1h"],
    );
    assert_ok(&brief);
    let brief_expiry = expiry_of(&brief);
    let brief = stdout(&brief).trim().to_owned();

    let deploy = livewasm(
        &host.url,
        Some(&brief),
        &["token", "create", "--tenant", "acme", "--app", "shop"],
    );
    assert_ok(&deploy);
    assert_eq!(expiry_of(&deploy), brief_expiry);
    let shorter = livewasm(
        &host.url,
        Some(&brief),
        &["token", "create", "--tenant", "acme", "--expires", "10m"],
    );
    assert_ok(&shorter);
    assert_ne!(expiry_of(&shorter), brief_expiry);

    let longer = livewasm(
        &host.url,
        Some(&brief),
        &["token", "create", "--tenant", "acme", "--expires", "30d"],
    );
    assert!(!longer.status.success(), "{}", stdout(&longer));
    assert!(stderr(&longer).contains("outlive"), "{}", stderr(&longer));
    // The operator's own token never expires: what it makes does not either.
    let forever = livewasm(
        &host.url,
        Some(&operator),
        &["token", "create", "--tenant", "acme"],
    );
    assert_ok(&forever);
    assert!(
        !stderr(&forever).contains("expires"),
        "{}",
        stderr(&forever)
    );
}
