//! Apps' outgoing HTTP against a loopback fixture server.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};

use super::*;

async fn fixture() -> SocketAddr {
    let app = Router::new()
        .route(
            "/hello",
            get(|headers: HeaderMap| async move {
                let who = headers
                    .get("x-who")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("nobody")
                    .to_string();
                ([("x-answer", "42")], format!("hello {who}"))
            }),
        )
        .route("/echo", post(|body: Bytes| async move { body }))
        .route("/big", get(|| async { vec![b'x'; 100_000] }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/moved",
            get(|| async { Redirect::temporary("http://evil.invalid/") }),
        )
        .route(
            "/teapot",
            get(|| async { (StatusCode::IM_A_TEAPOT, "short and stout").into_response() }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn clients(addr: SocketAddr, allow_loopback: bool) -> FetchClients {
    FetchClients::new(&ServerConfig {
        http_allow: vec![
            format!("127.0.0.1:{}", addr.port()),
            format!("localhost:{}", addr.port()),
        ],
        http_allow_loopback: allow_loopback,
        http_max_response_bytes: 10_000,
        http_requests_per_sec: 5,
        ..ServerConfig::default()
    })
}

fn get_req(url: String) -> OutgoingRequest {
    OutgoingRequest {
        method: "GET".into(),
        url,
        headers: vec![
            ("x-who".into(), "livewasm".into()),
            ("Host".into(), "evil".into()),
        ],
        body: Vec::new(),
    }
}

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_requests_get_whole_responses() {
    let addr = fixture().await;
    let client = clients(addr, true).client("local/a", AllowedBy::Local);
    let response = client
        .send(
            get_req(format!("http://127.0.0.1:{}/hello", addr.port())),
            SECOND,
        )
        .expect("allowed");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"hello livewasm");
    assert!(response.headers.contains(&("x-answer".into(), "42".into())));

    let posted = client
        .send(
            OutgoingRequest {
                method: "post".into(),
                url: format!("http://localhost:{}/echo", addr.port()),
                headers: Vec::new(),
                body: b"ping".to_vec(),
            },
            SECOND,
        )
        .expect("post");
    assert_eq!(posted.body, b"ping");

    // A redirect comes back as it is.
    let moved = client
        .send(
            get_req(format!("http://127.0.0.1:{}/moved", addr.port())),
            SECOND,
        )
        .expect("3xx");
    assert_eq!(moved.status, 307);
    let teapot = client
        .send(
            get_req(format!("http://127.0.0.1:{}/teapot", addr.port())),
            SECOND,
        )
        .expect("418");
    assert_eq!(teapot.status, 418);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_refusals_name_themselves() {
    let addr = fixture().await;
    let fetch = clients(addr, true);
    let client = fetch.client("local/b", AllowedBy::Local);
    let url = |path: &str| format!("http://127.0.0.1:{}{path}", addr.port());

    assert_eq!(
        client.send(get_req(url("/big")), SECOND),
        Err(FetchError::TooLarge { limit: 10_000 })
    );
    assert_eq!(
        client.send(get_req(url("/slow")), Duration::from_millis(200)),
        Err(FetchError::Timeout { ms: 200 })
    );
    assert_eq!(
        client.send(get_req("http://127.0.0.2:1/".into()), SECOND),
        Err(FetchError::NotAllowed {
            host: "127.0.0.2:1".into()
        })
    );
    // A tenant app sees only its tenant's list, and a change at once.
    let tenant = fetch.client("app-1", AllowedBy::Tenant("t1".into()));
    assert!(matches!(
        tenant.send(get_req(url("/hello")), SECOND),
        Err(FetchError::NotAllowed { .. })
    ));
    fetch.set_allowlist("t1", vec![format!("127.0.0.1:{}", addr.port())]);
    assert!(fetch.knows("t1"));
    assert_eq!(
        tenant
            .send(get_req(url("/hello")), SECOND)
            .expect("allowed now")
            .status,
        200
    );
    // The rate: 5 a second, bursts of 10 (the requests above took 2 of b's).
    let refused = (0..20)
        .map(|_| client.send(get_req(url("/hello")), SECOND))
        .filter(|r| matches!(r, Err(FetchError::RateLimited { per_second: 5 })))
        .count();
    assert!(refused >= 5, "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_is_unreachable_unless_allowed() {
    let addr = fixture().await;
    let client = clients(addr, false).client("local/c", AllowedBy::Local);
    // Plain http is refused outright; https to a name resolving to loopback fails at
    // resolution, whatever the allowlist says.
    assert!(matches!(
        client.send(
            get_req(format!("http://127.0.0.1:{}/hello", addr.port())),
            SECOND
        ),
        Err(FetchError::Refused(_))
    ));
    let error = client
        .send(
            get_req(format!("https://localhost:{}/hello", addr.port())),
            SECOND,
        )
        .expect_err("no public address");
    assert!(
        matches!(&error, FetchError::Failed(m) if m.contains("no public address")),
        "{error}"
    );
    assert!(matches!(
        client.send(
            get_req(format!("https://127.0.0.1:{}/hello", addr.port())),
            SECOND
        ),
        Err(FetchError::Refused(_))
    ));
}
