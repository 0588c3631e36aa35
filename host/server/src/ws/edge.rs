//! [`Edge`]: a socket's byte stream, followed frame by frame as the client's bytes are read, so
//! the socket knows when everything read so far forms whole messages, and how many. Only when
//! the bytes end a message and the socket has handled as many messages as were read may it
//! take the stream back out of the WebSocket library (which drops its read buffer): a message
//! begun but not finished, or read whole but not yet handed out, would be lost with it.

use std::io::Cursor;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
use tokio_tungstenite::tungstenite::protocol::frame::coding::OpCode;

/// The longest frame header: 2 bytes, an 8-byte length and a 4-byte mask.
const MAX_HEADER: usize = 14;

/// Where the bytes read so far end, in the client's frames.
#[derive(Debug, Default)]
struct FrameCursor {
    /// The header read so far of the frame that comes next.
    header: [u8; MAX_HEADER],
    header_len: u8,
    /// Payload bytes of the current frame not read yet.
    payload_left: u64,
    /// A data frame without FIN was read: the message continues in later frames.
    fragmented: bool,
    /// The current frame, once its payload is read, ends a message (a control frame, or a
    /// data frame with FIN).
    ends_message: bool,
    /// Messages whose last byte was read.
    messages: u64,
    /// The bytes are not WebSocket frames (the library closes the socket on them).
    broken: bool,
}

impl FrameCursor {
    /// Follows `bytes`, the next ones read from the client.
    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && !self.broken {
            if self.payload_left > 0 {
                let skip = bytes
                    .len()
                    .min(self.payload_left.try_into().unwrap_or(usize::MAX));
                self.payload_left -= skip as u64;
                bytes = &bytes[skip..];
                if self.payload_left == 0 {
                    self.frame_done();
                }
                continue;
            }
            let at = usize::from(self.header_len);
            if at == MAX_HEADER {
                self.broken = true;
                return;
            }
            self.header[at] = bytes[0];
            self.header_len += 1;
            bytes = &bytes[1..];
            let mut cursor = Cursor::new(&self.header[..usize::from(self.header_len)]);
            match FrameHeader::parse(&mut cursor) {
                Ok(None) => {}
                Ok(Some((header, payload))) => {
                    self.header_len = 0;
                    self.payload_left = payload;
                    // Control frames may come between a message's fragments.
                    self.ends_message = match header.opcode {
                        OpCode::Data(_) => {
                            self.fragmented = !header.is_final;
                            header.is_final
                        }
                        OpCode::Control(_) => true,
                    };
                    if payload == 0 {
                        self.frame_done();
                    }
                }
                Err(_) => self.broken = true,
            }
        }
    }

    /// The current frame's last byte was read.
    fn frame_done(&mut self) {
        if self.ends_message {
            self.messages += 1;
        }
    }

    /// True when the bytes read end a message (or nothing was read).
    fn at_rest(&self) -> bool {
        !self.broken && self.header_len == 0 && self.payload_left == 0 && !self.fragmented
    }
}

/// A byte stream whose reads are followed frame by frame ([`Edge::tally`]).
pub(crate) struct Edge<S> {
    inner: S,
    cursor: FrameCursor,
    tally: Arc<ReadTally>,
}

/// What the bytes read so far hold, for the socket's task to see while the stream is in the
/// WebSocket library's hands.
#[derive(Debug)]
pub(crate) struct ReadTally {
    /// [`FrameCursor::at_rest`] after the last read.
    rest: AtomicBool,
    /// Messages read whole.
    messages: AtomicU64,
}

impl ReadTally {
    /// True when the bytes read end a message and `handled` (the messages the WebSocket
    /// library handed out) is all of them: nothing read is left in the library's buffer.
    pub(crate) fn all_handled(&self, handled: u64) -> bool {
        self.rest.load(Ordering::Acquire) && self.messages.load(Ordering::Acquire) == handled
    }
}

impl<S> Edge<S> {
    /// Follows `inner` from its first byte.
    pub(crate) fn new(inner: S) -> Edge<S> {
        Edge {
            inner,
            cursor: FrameCursor::default(),
            tally: Arc::new(ReadTally {
                rest: AtomicBool::new(true),
                messages: AtomicU64::new(0),
            }),
        }
    }

    /// Where the bytes read so far end: in a message or not, after how many messages.
    pub(crate) fn tally(&self) -> Arc<ReadTally> {
        self.tally.clone()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Edge<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            this.cursor.feed(&buf.filled()[before..]);
            this.tally
                .messages
                .store(this.cursor.messages, Ordering::Release);
            this.tally
                .rest
                .store(this.cursor.at_rest(), Ordering::Release);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Edge<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::FrameCursor;

    /// A masked client frame: `opcode` (with FIN when `fin`), `payload`.
    fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
        match payload.len() {
            n @ 0..=125 => out.push(0x80 | n as u8),
            n @ 126..=0xffff => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&[1, 2, 3, 4]);
        out.extend(
            payload
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ [1, 2, 3, 4][i % 4]),
        );
        out
    }

    #[test]
    fn whole_frames_leave_it_at_rest_and_a_split_one_does_not() {
        let text = frame(true, 1, br#"[null,"5","phoenix","heartbeat",{}]"#);
        let long = frame(true, 1, &[b'x'; 70_000]);
        let mut cursor = FrameCursor::default();
        assert!(cursor.at_rest());
        cursor.feed(&text);
        assert!(cursor.at_rest());
        // Every split of a frame, header or payload, is noticed until its last byte.
        for whole in [&text, &long] {
            for cut in [1, 2, 5, 9, whole.len() - 1] {
                cursor.feed(&whole[..cut]);
                assert!(!cursor.at_rest(), "cut at {cut} of {}", whole.len());
                cursor.feed(&whole[cut..]);
                assert!(cursor.at_rest(), "rest after {cut} + {}", whole.len() - cut);
            }
        }
    }

    #[test]
    fn a_fragmented_message_rests_only_after_its_final_frame() {
        let mut cursor = FrameCursor::default();
        cursor.feed(&frame(false, 1, b"[null,"));
        assert!(!cursor.at_rest());
        // A ping between fragments does not end the message.
        cursor.feed(&frame(true, 9, b""));
        assert!(!cursor.at_rest());
        cursor.feed(&frame(false, 0, b"\"1\","));
        assert!(!cursor.at_rest());
        cursor.feed(&frame(true, 0, b"\"t\",\"e\",{}]"));
        assert!(cursor.at_rest());
        // The ping and the message, each counted once whole.
        assert_eq!(cursor.messages, 2);
    }

    #[test]
    fn messages_are_counted_once_their_last_byte_is_read() {
        let mut cursor = FrameCursor::default();
        let two = [frame(true, 1, b"one"), frame(true, 1, b"")].concat();
        cursor.feed(&two[..5]);
        assert_eq!(cursor.messages, 0);
        cursor.feed(&two[5..]);
        assert_eq!(cursor.messages, 2, "two messages in one read");
        let long = frame(true, 2, &[7; 300]);
        cursor.feed(&long[..100]);
        assert_eq!(cursor.messages, 2);
        cursor.feed(&long[100..]);
        assert_eq!(cursor.messages, 3);
        assert!(cursor.at_rest());
    }

    #[test]
    fn bytes_that_are_not_frames_never_rest() {
        let mut cursor = FrameCursor::default();
        // Reserved opcode 3.
        cursor.feed(&[0x83, 0x80, 0, 0, 0, 0]);
        assert!(!cursor.at_rest());
        cursor.feed(&frame(true, 1, b"x"));
        assert!(!cursor.at_rest());
    }
}
