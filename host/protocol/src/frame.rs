//! Phoenix channels V2 text frames: `[join_ref, ref, topic, event, payload]`.

use serde_json::{Value, json};

/// Why a text frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Larger than allowed.
    #[error("malformed frame: {len} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// Size of the frame.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// Not JSON at all.
    #[error("malformed frame: not JSON ({0})")]
    NotJson(String),
    /// JSON, but not an array.
    #[error("malformed frame: expected a JSON array [join_ref, ref, topic, event, payload]")]
    NotArray,
    /// An array of the wrong length.
    #[error("malformed frame: expected 5 elements, got {0}")]
    WrongArity(usize),
    /// A field has the wrong type.
    #[error("malformed frame: {field} must be {expected}")]
    BadField {
        /// Which field.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// The payload is not an object. The frame's refs are kept so the sender can be answered.
    #[error("malformed frame: payload must be a JSON object")]
    PayloadNotObject {
        /// The frame's join ref.
        join_ref: Option<String>,
        /// The frame's ref.
        msg_ref: Option<String>,
        /// The frame's topic.
        topic: String,
    },
}

impl FrameError {
    /// The `(join_ref, ref, topic)` to reply to, when the frame got that far.
    pub fn reply_target(&self) -> Option<(Option<String>, String, String)> {
        match self {
            FrameError::PayloadNotObject {
                join_ref,
                msg_ref: Some(msg_ref),
                topic,
            } => Some((join_ref.clone(), msg_ref.clone(), topic.clone())),
            _ => None,
        }
    }
}

/// One Phoenix channels V2 message.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Ref of the join that opened the channel instance (`None` for heartbeats and broadcasts).
    pub join_ref: Option<String>,
    /// The message ref (`None` for server pushes).
    pub msg_ref: Option<String>,
    /// Topic, e.g. `lv:phx-…` or `phoenix`.
    pub topic: String,
    /// Event, e.g. `phx_join`, `event`, `phx_reply`, `diff`.
    pub event: String,
    /// Always a JSON object.
    pub payload: Value,
}

fn optional_string(value: &Value, field: &'static str) -> Result<Option<String>, FrameError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(FrameError::BadField {
            field,
            expected: "a string or null",
        }),
    }
}

fn string(value: &Value, field: &'static str) -> Result<String, FrameError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        _ => Err(FrameError::BadField {
            field,
            expected: "a string",
        }),
    }
}

impl Frame {
    /// Parses a text frame.
    pub fn parse(text: &str) -> Result<Frame, FrameError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| FrameError::NotJson(e.to_string()))?;
        let Value::Array(mut items) = value else {
            return Err(FrameError::NotArray);
        };
        if items.len() != 5 {
            return Err(FrameError::WrongArity(items.len()));
        }
        let payload = items.pop().unwrap_or(Value::Null);
        let join_ref = optional_string(&items[0], "join_ref")?;
        let msg_ref = optional_string(&items[1], "ref")?;
        let topic = string(&items[2], "topic")?;
        let event = string(&items[3], "event")?;
        if !payload.is_object() {
            return Err(FrameError::PayloadNotObject {
                join_ref,
                msg_ref,
                topic,
            });
        }
        Ok(Frame {
            join_ref,
            msg_ref,
            topic,
            event,
            payload,
        })
    }

    /// Parses a text frame no longer than `limit` bytes.
    pub fn parse_limited(text: &str, limit: usize) -> Result<Frame, FrameError> {
        if text.len() > limit {
            return Err(FrameError::TooLarge {
                len: text.len(),
                limit,
            });
        }
        Frame::parse(text)
    }

    /// The frame as JSON text.
    pub fn encode(&self) -> String {
        json!([
            self.join_ref,
            self.msg_ref,
            self.topic,
            self.event,
            self.payload
        ])
        .to_string()
    }

    /// A `phx_reply` to this frame (same join ref, ref and topic).
    pub fn reply(&self, status: &str, response: Value) -> Frame {
        Frame {
            join_ref: self.join_ref.clone(),
            msg_ref: self.msg_ref.clone(),
            topic: self.topic.clone(),
            event: crate::keys::events::REPLY.into(),
            payload: json!({"status": status, "response": response}),
        }
    }

    /// A server push (no ref).
    pub fn push(join_ref: Option<String>, topic: &str, event: &str, payload: Value) -> Frame {
        Frame {
            join_ref,
            msg_ref: None,
            topic: topic.into(),
            event: event.into(),
            payload,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_encodes_a_join() {
        let text = r#"["4","4","lv:phx-1","phx_join",{"url":"http://x/"}]"#;
        let frame = Frame::parse(text).unwrap();
        assert_eq!(frame.join_ref.as_deref(), Some("4"));
        assert_eq!(frame.topic, "lv:phx-1");
        assert_eq!(frame.event, "phx_join");
        assert_eq!(Frame::parse(&frame.encode()).unwrap(), frame);
    }

    #[test]
    fn heartbeat_has_null_join_ref() {
        let frame = Frame::parse(r#"[null,"7","phoenix","heartbeat",{}]"#).unwrap();
        assert_eq!(frame.join_ref, None);
        let reply = frame.reply("ok", json!({}));
        assert_eq!(
            reply.encode(),
            r#"[null,"7","phoenix","phx_reply",{"response":{},"status":"ok"}]"#
        );
    }

    #[test]
    fn malformed_frames_are_refused_with_reasons() {
        assert!(matches!(Frame::parse("nope"), Err(FrameError::NotJson(_))));
        assert_eq!(Frame::parse("{}"), Err(FrameError::NotArray));
        assert_eq!(Frame::parse("[1,2]"), Err(FrameError::WrongArity(2)));
        assert!(matches!(
            Frame::parse(r#"[1,"2","t","e",{}]"#),
            Err(FrameError::BadField {
                field: "join_ref",
                ..
            })
        ));
        assert!(matches!(
            Frame::parse(r#"[null,"2",5,"e",{}]"#),
            Err(FrameError::BadField { field: "topic", .. })
        ));
        let err = Frame::parse(r#"["1","2","t","e","x"]"#).unwrap_err();
        assert_eq!(
            err.reply_target(),
            Some((Some("1".into()), "2".into(), "t".into()))
        );
        assert!(err.to_string().contains("payload must be a JSON object"));
        assert!(matches!(
            Frame::parse_limited(&"x".repeat(20), 10),
            Err(FrameError::TooLarge { len: 20, limit: 10 })
        ));
    }
}
