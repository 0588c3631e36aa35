//! Binary frames of Phoenix channels V2 (serializer 2.0.0): the client sends upload chunks as
//! `kind 0 | len(join_ref) | len(ref) | len(topic) | len(event) | join_ref | ref | topic | event |
//! bytes`.

use thiserror::Error;

/// A client push carried by a binary frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryPush<'a> {
    /// The join ref of the channel it belongs to.
    pub join_ref: String,
    /// The message ref to reply to.
    pub msg_ref: String,
    /// The topic, e.g. `lvu:0`.
    pub topic: String,
    /// The event, e.g. `chunk`.
    pub event: String,
    /// The raw payload.
    pub data: &'a [u8],
}

/// Why a binary frame could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BinaryFrameError {
    /// Shorter than its header says.
    #[error("binary frame is truncated")]
    Truncated,
    /// A kind other than 0 (push): the server only accepts pushes.
    #[error("binary frame of kind {0}: only pushes (kind 0) are accepted")]
    Kind(u8),
    /// A header string is not UTF-8.
    #[error("binary frame header is not UTF-8")]
    NotUtf8,
}

/// Decodes a client push.
pub fn decode(bytes: &[u8]) -> Result<BinaryPush<'_>, BinaryFrameError> {
    let (&kind, rest) = bytes.split_first().ok_or(BinaryFrameError::Truncated)?;
    if kind != 0 {
        return Err(BinaryFrameError::Kind(kind));
    }
    if rest.len() < 4 {
        return Err(BinaryFrameError::Truncated);
    }
    let lens = [rest[0], rest[1], rest[2], rest[3]].map(usize::from);
    let mut at = 4;
    let mut parts = Vec::with_capacity(4);
    for len in lens {
        let part = rest.get(at..at + len).ok_or(BinaryFrameError::Truncated)?;
        parts.push(
            std::str::from_utf8(part)
                .map_err(|_| BinaryFrameError::NotUtf8)?
                .to_string(),
        );
        at += len;
    }
    let mut parts = parts.into_iter();
    let mut next = || parts.next().unwrap_or_default();
    Ok(BinaryPush {
        join_ref: next(),
        msg_ref: next(),
        topic: next(),
        event: next(),
        data: &rest[at..],
    })
}

/// Encodes a client push (what the official client sends; used by tests and the harness).
/// Header strings longer than 255 bytes are cut to 255.
pub fn encode(join_ref: &str, msg_ref: &str, topic: &str, event: &str, data: &[u8]) -> Vec<u8> {
    let cut = |s: &str| -> Vec<u8> { s.as_bytes().iter().take(255).copied().collect() };
    let parts = [cut(join_ref), cut(msg_ref), cut(topic), cut(event)];
    let mut out = Vec::with_capacity(5 + parts.iter().map(Vec::len).sum::<usize>() + data.len());
    out.push(0);
    for part in &parts {
        out.push(part.len() as u8);
    }
    for part in &parts {
        out.extend_from_slice(part);
    }
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_round_trips() {
        let bytes = encode("12", "13", "lvu:0", "chunk", b"hel");
        let push = decode(&bytes).expect("decodes");
        assert_eq!(push.join_ref, "12");
        assert_eq!(push.msg_ref, "13");
        assert_eq!(push.topic, "lvu:0");
        assert_eq!(push.event, "chunk");
        assert_eq!(push.data, b"hel");
    }

    #[test]
    fn bad_frames_are_errors() {
        assert_eq!(decode(&[]), Err(BinaryFrameError::Truncated));
        assert_eq!(decode(&[1, 0, 0, 0, 0]), Err(BinaryFrameError::Kind(1)));
        assert_eq!(decode(&[0, 2, 0]), Err(BinaryFrameError::Truncated));
        assert_eq!(
            decode(&[0, 9, 0, 0, 0, b'a']),
            Err(BinaryFrameError::Truncated)
        );
        assert_eq!(
            decode(&[0, 1, 0, 0, 0, 0xff]),
            Err(BinaryFrameError::NotUtf8)
        );
    }
}
