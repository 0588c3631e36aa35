//! Accepting connections: the cap on connections served at once (WebSockets included), the
//! time a client gets to send a request's headers, and a graceful stop that lets requests in
//! progress finish. Each accepted connection is served by [`router`].

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

use crate::connection_slot::ConnectionSlot;
use crate::host::Host;
use crate::router::router;

/// Serves `router(host)` on `listener` until `shutdown` completes, then drains: the requests
/// in progress finish and every socket is closed after its callback and tasks, so its client
/// reconnects (elsewhere), within `drain_timeout`.
///
/// Against slow and abusive clients: at most `max_connections` connections are served at once,
/// WebSockets included (a socket keeps its connection's slot until it closes; further
/// connections wait in the listen backlog), a client gets `http_header_timeout` to send
/// a request's headers (a connection sending them byte by byte is closed, and so is an idle
/// keep-alive connection), and each request carries its client's address
/// ([`ConnectInfo<SocketAddr>`]) for the per-address socket and join limits.
pub async fn serve(
    listener: tokio::net::TcpListener,
    host: Arc<Host>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let config = host.config();
    let header_timeout = Some(config.http_header_timeout).filter(|t| !t.is_zero());
    let permits = Arc::new(Semaphore::new(
        config.max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let app = router(host.clone());
    let trimmer = tokio::spawn(crate::heap_trim::run(host.heap_trim().clone()));
    let (stop, stopping) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    accept_failed(&error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small frames must leave at once: no Nagle delay on replies.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY: {e}");
        }
        // Each request carries the connection's slot: a WebSocket upgrade keeps it (see
        // `ws::upgrade`) after the HTTP connection itself has ended.
        let slot = ConnectionSlot::new(permit);
        let request_slot = slot.clone();
        let service =
            app.clone()
                .map_request(move |mut request: Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(remote));
                    request.extensions_mut().insert(request_slot.clone());
                    request
                });
        let stopping = stopping.clone();
        tokio::spawn(async move {
            serve_connection(tcp, remote, service, header_timeout, stopping).await;
            drop(slot);
        });
    }
    // No new connections. The sockets drain (`Host::start_drain`: each finishes its callback
    // and its tasks, then is told to reconnect elsewhere) while the connections in progress
    // finish their requests, all within the drain timeout.
    drop(listener);
    let deadline = host.start_drain(host.config().drain_timeout);
    tracing::info!(sockets = host.open_sockets(), "draining");
    drop(stopping);
    let _ = stop.send(());
    let _ = tokio::time::timeout_at(deadline, stop.closed()).await;
    // Past the deadline a socket closes at once; its close frame gets a moment to leave.
    let last_call = deadline + CLOSE_GRACE;
    while host.open_sockets() > 0 && tokio::time::Instant::now() < last_call {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tracing::info!(sockets_left = host.open_sockets(), "drained");
    trimmer.abort();
    Ok(())
}

/// How long past the drain deadline the last sockets get to write their close frames.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// An accept error: a connection that failed before it was accepted is skipped; anything else
/// (out of file descriptors …) is logged and the loop pauses a moment, as `axum::serve` does.
async fn accept_failed(error: &std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!("accept failed: {error}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Serves one HTTP/1.1 connection (and its upgrade to a WebSocket) until it ends, or until
/// the server stops (then it finishes the request in progress).
async fn serve_connection<S>(
    tcp: tokio::net::TcpStream,
    remote: SocketAddr,
    service: S,
    header_timeout: Option<Duration>,
    mut stopping: watch::Receiver<()>,
) where
    S: tower::Service<Request<hyper::body::Incoming>, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let connection = builder
        .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service))
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    let mut stop_seen = false;
    loop {
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%remote, "connection ended: {error}");
                }
                return;
            }
            changed = stopping.changed(), if !stop_seen => {
                stop_seen = true;
                if changed.is_ok() {
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}
