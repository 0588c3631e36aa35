//! A real host serving real components on `127.0.0.1:<ephemeral port>`.

use std::net::SocketAddr;
use std::sync::Arc;

use livewasm_runtime::{Runtime, RuntimeConfig};
use livewasm_server::{Host, ServerConfig};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running host; shut down when dropped.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    host: Arc<Host>,
}

impl TestServer {
    /// Starts a host with the built components of the given guest crates.
    ///
    /// Panics with a clear message when a component is missing (build it with `cargo xtask build`).
    pub async fn start(components: &[&str]) -> TestServer {
        Self::start_with(components, RuntimeConfig::default()).await
    }

    /// Starts a host with a custom runtime configuration.
    pub async fn start_with(components: &[&str], runtime_config: RuntimeConfig) -> TestServer {
        let host = host_with(components, runtime_config, ServerConfig::default());
        Self::serve_host(Arc::new(host)).await
    }

    /// Starts a host with the given components and server settings (the test signing key
    /// is used when `config` has none); returns the host too, for inspection.
    pub async fn start_configured(
        components: &[&str],
        config: ServerConfig,
    ) -> (TestServer, Arc<Host>) {
        let host = Arc::new(host_with(components, RuntimeConfig::default(), config));
        (Self::serve_host(host.clone()).await, host)
    }

    /// Serves an already configured host on `127.0.0.1:<ephemeral port>`.
    pub async fn serve_host(host: Arc<Host>) -> TestServer {
        crate::log::capture();
        let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => listener,
            Err(e) => panic!("bind: {e}"),
        };
        let addr = match listener.local_addr() {
            Ok(addr) => addr,
            Err(e) => panic!("local_addr: {e}"),
        };
        let (tx, rx) = oneshot::channel::<()>();
        let served = host.clone();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.await;
            };
            if let Err(e) = livewasm_server::serve(listener, host, shutdown).await {
                eprintln!("server stopped with error: {e}");
            }
        });
        TestServer {
            addr,
            shutdown: Some(tx),
            task: Some(task),
            host: served,
        }
    }

    /// The host it serves (for what a test serves beside it, e.g. the metrics listener).
    pub fn host(&self) -> Arc<Host> {
        self.host.clone()
    }

    /// `http://127.0.0.1:<port>` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Loads `path`, opens the page's socket and joins its view: the socket, the join ref and
    /// the view's topic. Panics when a step fails or the join is refused.
    pub async fn join_view(&self, path: &str) -> (crate::PhxSocket, String, String) {
        let page = match crate::get(self.addr, path).await {
            Ok(page) => page,
            Err(e) => panic!("loading {path}: {e}"),
        };
        let mut socket = match crate::PhxSocket::connect_page(self.addr, &page).await {
            Ok(socket) => socket,
            Err(e) => panic!("connecting {path}: {e}"),
        };
        let (join_ref, reply) = match socket.join_page(&page, &self.url(path)).await {
            Ok(joined) => joined,
            Err(e) => panic!("joining {path}: {e}"),
        };
        assert_eq!(reply["status"], "ok", "joining {path}: {reply}");
        (socket, join_ref, page.topic())
    }

    /// Stops it as SIGTERM stops `livewasm serve` (no new connections, then the drain, see
    /// `Host::start_drain`) and waits until the server has stopped.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Whether the server task is still running (it must survive hostile input).
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A host serving the built components of `components`.
///
/// Panics with a clear message when a component is missing (build it with `cargo xtask build`).
fn host_with(components: &[&str], runtime_config: RuntimeConfig, config: ServerConfig) -> Host {
    let runtime = match Runtime::new(runtime_config) {
        Ok(runtime) => runtime,
        Err(e) => panic!("runtime: {e}"),
    };
    let config = if config.secret_key.is_empty() {
        ServerConfig {
            secret_key: b"integration-test-secret-key-0123456789abcdef".to_vec(),
            ..config
        }
    } else {
        config
    };
    let host = Host::new(runtime.clone(), config);
    for name in components {
        let path = match livewasm_test::component_path(name) {
            Ok(path) => path,
            Err(e) => panic!("{e}"),
        };
        let wasm = match std::fs::read(&path) {
            Ok(wasm) => wasm,
            Err(e) => panic!("reading {path:?}: {e}"),
        };
        let app = match runtime.load_app(&wasm) {
            Ok(app) => app,
            Err(e) => panic!("loading {name}: {e}"),
        };
        if let Err(e) = host.add_app(app) {
            panic!("adding {name}: {e}");
        }
    }
    host
}

/// Serves `host`'s metrics listener (`--metrics-listen`: `/metrics` and the probes, no
/// authentication) on an ephemeral loopback port; returns its address.
pub async fn serve_metrics(host: Arc<Host>) -> SocketAddr {
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(e) => panic!("binding the metrics listener: {e}"),
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => panic!("the metrics listener's address: {e}"),
    };
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, livewasm_server::metrics_router(host)).await {
            panic!("serving metrics: {e}");
        }
    });
    addr
}

/// The value of gauge `name` (e.g. `livewasm_hibernated_instances`) for `app`, scraped from
/// the metrics listener at `metrics`; 0 when the line is absent.
pub async fn app_gauge(metrics: SocketAddr, name: &str, app: &str) -> f64 {
    let response = match crate::platform::http_request(
        metrics,
        "GET",
        &metrics.to_string(),
        "/metrics",
        &[],
        None,
    )
    .await
    {
        Ok(response) => response,
        Err(e) => panic!("scraping {metrics}: {e}"),
    };
    let prefix = format!("{name}{{");
    let label = format!("app=\"{app}\"");
    response
        .text()
        .lines()
        .find(|l| l.starts_with(&prefix) && l.contains(&label))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}
