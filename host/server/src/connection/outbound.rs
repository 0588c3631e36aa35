//! Frames a socket sends that are not a callback's result: refusals, `phx_close`, and the
//! `phx_error` of a crashed view.

use livewasm_protocol::frame::Frame;
use livewasm_protocol::keys::events;
use livewasm_runtime::CallError;
use serde_json::{Value, json};

/// Why something was refused: a reply's `{"reason": …}`.
pub(super) fn refuse(reason: &str) -> Value {
    json!({"reason": reason})
}

/// `phx_close` for a channel joined with `join_ref`.
pub(super) fn close(join_ref: Option<String>, topic: &str) -> Frame {
    Frame {
        msg_ref: join_ref.clone(),
        join_ref,
        topic: topic.to_string(),
        event: events::CLOSE.into(),
        payload: json!({}),
    }
}

/// `phx_error` for a view that crashed: the client rejoins and the view mounts fresh.
pub(super) fn crashed(join_ref: Option<String>, topic: &str, error: &CallError) -> Frame {
    let reason = match error {
        CallError::Trap { .. } | CallError::Dead => "view crashed",
        CallError::Guest(_) => "view error",
        CallError::Render(_) | CallError::Json(_) => "bad render",
    };
    Frame {
        msg_ref: join_ref.clone(),
        join_ref,
        topic: topic.to_string(),
        event: events::ERROR.into(),
        payload: json!({ "reason": reason }),
    }
}
