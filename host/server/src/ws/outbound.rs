//! A socket's outbound side: the queue its task fills ([`Outbound`]) and the writer task that
//! drains it into the client ([`write_frames`]), each write bounded by `write_timeout`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use livewasm_protocol::frame::Frame;
use prometheus_client::metrics::counter::Counter;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use super::handshake::RawSocket;
use crate::socket_totals::OutboundTotals;

/// Close code for a client that does not read what it is sent ("policy violation").
pub(super) const SLOW_CLIENT: u16 = 1008;
/// Longest wait for the close frame itself to be written.
pub(super) const CLOSE_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// The writing half of a socket's WebSocket.
pub(super) type Sink = SplitSink<WebSocketStream<RawSocket>, Message>;

/// What the writer task is asked to do.
enum Outgoing {
    /// Write a frame of `len` bytes (counted in the queue).
    Frame(Message, usize),
    /// Write a close frame and stop.
    Close(u16, String),
    /// Hand the sink back, once what was queued before is written, and stop.
    Return(tokio::sync::oneshot::Sender<Sink>),
}

/// Why frames could not be queued: the client reads too slowly.
#[derive(Debug, thiserror::Error)]
pub(super) enum QueueError {
    /// The queue holds as many frames or bytes as it may.
    #[error("slow client: {frames} frames ({bytes} bytes) waiting to be written")]
    Full {
        /// Frames waiting.
        frames: usize,
        /// Bytes waiting.
        bytes: usize,
    },
    /// The writer stopped (a write failed or timed out).
    #[error("the socket's writer stopped")]
    WriterGone,
}

/// The sending side of a socket's outbound queue. (A `futures` channel: it allocates per
/// message, where tokio's keeps a block of 32 slots for every idle socket.)
pub(super) struct Outbound {
    tx: futures_channel::mpsc::UnboundedSender<Outgoing>,
    queue: Arc<Queue>,
    max_frames: usize,
    max_bytes: usize,
}

/// What one socket's queue holds now, and whether its writer stopped.
#[derive(Default)]
struct Queue {
    frames: AtomicUsize,
    bytes: AtomicUsize,
    /// Notified once when the writer stops (a write failed or timed out, or it closed).
    writer_gone: tokio::sync::Notify,
}

impl Outbound {
    /// Starts a writer task draining into `sink`; frames past `max_frames` or `max_bytes`
    /// waiting are refused ([`QueueError::Full`]).
    pub(super) fn start(
        sink: Sink,
        totals: Arc<OutboundTotals>,
        max_frames: usize,
        max_bytes: usize,
        write_timeout: Duration,
    ) -> (Outbound, tokio::task::JoinHandle<()>) {
        let (tx, rx) = futures_channel::mpsc::unbounded();
        let queue = Arc::new(Queue::default());
        let writer = tokio::spawn(write_frames(sink, rx, queue.clone(), totals, write_timeout));
        let out = Outbound {
            tx,
            queue,
            max_frames: max_frames.max(1),
            max_bytes,
        };
        (out, writer)
    }

    /// Queues `message` (of `len` bytes), unless the queue is full. One frame is always let
    /// into an empty queue, however large.
    pub(super) fn push(
        &self,
        message: Message,
        len: usize,
        totals: &OutboundTotals,
    ) -> Result<(), QueueError> {
        let frames = self.queue.frames.load(Ordering::Acquire);
        let bytes = self.queue.bytes.load(Ordering::Acquire);
        if frames > 0 && (frames >= self.max_frames || bytes.saturating_add(len) > self.max_bytes) {
            return Err(QueueError::Full { frames, bytes });
        }
        self.queue.frames.fetch_add(1, Ordering::AcqRel);
        self.queue.bytes.fetch_add(len, Ordering::AcqRel);
        totals.queued(len);
        self.tx
            .unbounded_send(Outgoing::Frame(message, len))
            .map_err(|_| QueueError::WriterGone)
    }

    /// Queues the frames of a callback, in order, counting their bytes in `sent` (the
    /// socket's app's counter, once a view joined).
    pub(super) fn send_all(
        &self,
        frames: Vec<Frame>,
        totals: &OutboundTotals,
        sent: Option<&Counter>,
    ) -> Result<(), QueueError> {
        for frame in frames {
            let text = frame.encode();
            let len = text.len();
            if let Some(sent) = sent {
                sent.inc_by(len as u64);
            }
            self.push(Message::Text(text.into()), len, totals)?;
        }
        Ok(())
    }

    /// True when nothing waits to be written.
    pub(super) fn is_idle(&self) -> bool {
        self.queue.frames.load(Ordering::Acquire) == 0
    }

    /// Asks the writer to close the socket with `code` and `reason` after what is queued.
    pub(super) fn close(&self, code: u16, reason: &str) {
        let _ = self
            .tx
            .unbounded_send(Outgoing::Close(code, reason.to_string()));
    }

    /// Takes the sink back from the writer once everything queued is written (the writer
    /// then stops); `None` when the writer stopped first (a write failed or timed out).
    pub(super) async fn take_back(self) -> Option<Sink> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.tx.unbounded_send(Outgoing::Return(tx)).ok()?;
        rx.await.ok()
    }

    /// Resolves when the writer has stopped on its own (a write failed or timed out).
    pub(super) async fn writer_gone(&self) {
        self.queue.writer_gone.notified().await;
    }
}

/// A close frame.
fn close_frame(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code: code.into(),
        reason: reason.into(),
    }))
}

/// Writes what the socket's task queues, each write bounded by `write_timeout`. Returns when
/// the queue closes, after a close frame, when the sink is asked back, or when a write fails
/// or times out (the socket then closes: the reader sees the writer gone).
async fn write_frames(
    mut sink: Sink,
    mut rx: futures_channel::mpsc::UnboundedReceiver<Outgoing>,
    queue: Arc<Queue>,
    totals: Arc<OutboundTotals>,
    write_timeout: Duration,
) {
    let release = |len: usize| {
        queue.frames.fetch_sub(1, Ordering::AcqRel);
        queue.bytes.fetch_sub(len, Ordering::AcqRel);
        totals.written(len);
    };
    while let Some(outgoing) = rx.next().await {
        match outgoing {
            Outgoing::Frame(message, len) => {
                let written = tokio::time::timeout(write_timeout, sink.send(message)).await;
                release(len);
                match written {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => {
                        tracing::debug!("socket write failed: {error}");
                        break;
                    }
                    Err(_) => {
                        tracing::info!(
                            timeout_ms = write_timeout.as_millis() as u64,
                            "socket closed: slow client (a write timed out)"
                        );
                        let close = close_frame(SLOW_CLIENT, "slow client: write timed out");
                        let _ = tokio::time::timeout(CLOSE_WRITE_TIMEOUT, sink.send(close)).await;
                        break;
                    }
                }
            }
            Outgoing::Close(code, reason) => {
                let close = close_frame(code, &reason);
                let _ = tokio::time::timeout(CLOSE_WRITE_TIMEOUT, sink.send(close)).await;
                break;
            }
            Outgoing::Return(to) => {
                // Nothing can be queued behind it: the socket's task is waiting for the sink.
                let _ = to.send(sink);
                return;
            }
        }
    }
    // Whatever is left is dropped with the queue: release its count.
    rx.close();
    while let Ok(outgoing) = rx.try_recv() {
        if let Outgoing::Frame(_, len) = outgoing {
            release(len);
        }
    }
    queue.writer_gone.notify_one();
}
