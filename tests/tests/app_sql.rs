//! Apps' SQL databases against a hostile app: a view that runs away, reads another app's
//! file, lifts its own quota or fills its database gets an error naming the limit, its socket
//! lives on, and the app next to it (the articles example, whose articles live in SQL) keeps
//! its data and its quota.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use livewasm_integration_tests::{PhxSocket, TestServer, get};
use livewasm_server::ServerConfig;
use serde_json::{Value, json};

/// The `/hostile/sql` view over a live socket, with what it shows (`runs`, `result`, `error`)
/// as a client would: each diff merged into the last.
struct Probe {
    socket: PhxSocket,
    join_ref: String,
    topic: String,
    shown: [String; 3],
}

impl Probe {
    /// Sends `run` with `value` and returns what the view shows then (unescaped).
    async fn run(&mut self, value: Value) -> [String; 3] {
        let reply = self
            .socket
            .event(&self.join_ref, &self.topic, "click", "run", value)
            .await
            .unwrap();
        assert_eq!(reply["status"], "ok", "{reply}");
        let diff = &reply["response"]["diff"];
        for (k, shown) in self.shown.iter_mut().enumerate() {
            if let Some(text) = diff[k.to_string()].as_str() {
                *shown = text.replace("&quot;", "\"").replace("&#39;", "'");
            }
        }
        self.shown.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_view_gets_errors_and_its_neighbour_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        sql_dir: Some(dir.path().to_path_buf()),
        sql_max_bytes: 512 << 10,
        sql_statement_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    };
    let (server, _host) = TestServer::start_configured(&["hostile", "articles"], config).await;
    let addr = server.addr;
    // The articles' database exists once its migrations ran (at load).
    let articles_file = dir.path().join("local%2Farticles.sqlite3");
    assert!(
        articles_file.exists(),
        "{:?}",
        std::fs::read_dir(dir.path())
    );

    let page = get(addr, "/hostile/sql").await.unwrap();
    let topic = page.topic();
    let mut socket = PhxSocket::connect_page(addr, &page).await.unwrap();
    let (join_ref, reply) = socket
        .join_page(&page, &server.url("/hostile/sql"))
        .await
        .unwrap();
    assert_eq!(reply["status"], "ok", "{reply}");
    let mut probe = Probe {
        socket,
        join_ref,
        topic,
        shown: Default::default(),
    };

    // Its own migrations ran: three items.
    let [_, result, error] = probe
        .run(json!({"sql": "SELECT name FROM items ORDER BY id"}))
        .await;
    assert_eq!(
        (result.as_str(), error.as_str()),
        (r#"[["one"],["two"],["three"]]"#, "")
    );

    // A query that never ends is interrupted at the deadline.
    let forever =
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n";
    let [_, _, error] = probe.run(json!({"sql": forever})).await;
    assert!(error.contains("ran longer than 300 ms"), "{error}");

    // Another app's file, by path: refused.
    let attach = format!("ATTACH DATABASE '{}' AS theirs", articles_file.display());
    let [_, _, error] = probe.run(json!({"sql": attach, "query": false})).await;
    assert!(error.contains("refused"), "{error}");
    // Lifting its own size quota: refused.
    let [_, _, error] = probe
        .run(json!({"sql": "PRAGMA max_page_count = 100000000", "query": false}))
        .await;
    assert!(error.contains("refused"), "{error}");

    // More rows than a query may return.
    let many = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 1001) SELECT x FROM n";
    let [_, _, error] = probe.run(json!({"sql": many})).await;
    assert!(error.contains("more than 1000 rows"), "{error}");

    // Filling the database past its size: what fit stays, the rest is refused.
    let [runs, _, error] = probe
        .run(json!({
            "sql": "INSERT INTO junk (b) VALUES (zeroblob(?))",
            "params": [100_000],
            "repeat": 20,
            "query": false,
        }))
        .await;
    assert!(
        error.contains("sql quota exceeded: the app's database may hold at most 524288 bytes"),
        "{error}"
    );
    let runs: u64 = runs.parse().unwrap();
    assert!((1..20).contains(&runs), "{runs}");
    let [_, result, _] = probe.run(json!({"sql": "SELECT count(*) FROM junk"})).await;
    assert_eq!(result, format!("[[{runs}]]"));
    assert_eq!(probe.socket.heartbeat().await.unwrap()["status"], "ok");

    // The neighbour: its articles are there, and it can still write.
    let list = get(addr, "/articles").await.unwrap();
    assert!(list.body.contains("Hello, Livewasm"), "{}", list.body);
    assert!(list.body.contains("article-3"), "{}", list.body);
    assert!(server.is_running());
}
