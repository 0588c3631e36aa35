//! Waking a hibernated view when its tenant is at its instance quota: before the transport
//! hands a frame, a message or the due timers to the connection on a guest thread, it asks
//! which sleeping views that work would wake while no slot is free ([`Connection::slots_wanted`]),
//! waits (on its async task, bounded by `ServerConfig::wake_wait`) for a slot to be given back,
//! and reserves it for the view ([`Connection::reserve`]). A reserved slot not used by the work
//! goes back right after it ([`Connection::release_reserved`]).

use std::sync::Arc;

use livewasm_protocol::keys::events as event;
use serde::de::IgnoredAny;
use tokio::time::Instant;

use super::Connection;
use crate::inbox::Inbound;
use crate::sites::{InstanceSlot, TenantUsage};

/// Work the transport is about to hand to a connection.
pub(crate) enum Pending<'a> {
    /// A text frame from the client.
    Text(&'a str),
    /// A PubSub message or a task result.
    Inbound(&'a Inbound),
    /// The timers due at this instant.
    Due(Instant),
}

impl Connection {
    /// The hibernated views `work` would wake whose tenant has no slot free now, each with the
    /// quota to wait on (usually none: nothing sleeps, or the tenant has room).
    pub(crate) fn slots_wanted(&self, work: &Pending<'_>) -> Vec<(String, Arc<TenantUsage>)> {
        // The common case, cheaply: no sleeping view here has a full tenant.
        let full = self
            .channels
            .values()
            .any(|c| c.instance.is_asleep() && c.usage.as_ref().is_some_and(|u| u.at_quota()));
        if !full {
            return Vec::new();
        }
        let topics: Vec<&str> = match work {
            Pending::Text(text) => frame_waking(text)
                .and_then(|topic| {
                    self.channels
                        .get_key_value(topic.as_str())
                        .map(|(t, _)| t.as_str())
                })
                .into_iter()
                .collect(),
            Pending::Inbound(inbound) => {
                let id = inbound.channel();
                self.channels
                    .iter()
                    .filter(|(_, c)| c.bus.id() == id)
                    .map(|(topic, _)| topic.as_str())
                    .collect()
            }
            Pending::Due(now) => self
                .channels
                .iter()
                .filter(|(_, c)| c.timers.iter().any(|t| t.due <= *now))
                .map(|(topic, _)| topic.as_str())
                .collect(),
        };
        topics
            .into_iter()
            .filter_map(|topic| {
                let channel = self.channels.get(topic)?;
                let usage = channel.usage.as_ref()?;
                (channel.instance.is_asleep() && channel.reserved.is_none() && usage.at_quota())
                    .then(|| (topic.to_string(), usage.clone()))
            })
            .collect()
    }

    /// Gives the view on `topic` `slot` to wake with (its tenant's quota was full).
    pub(crate) fn reserve(&mut self, topic: &str, slot: InstanceSlot) {
        if let Some(channel) = self.channels.get_mut(topic) {
            channel.reserved = Some(slot);
        }
    }

    /// Gives back every reserved slot the last work did not use.
    pub(crate) fn release_reserved(&mut self) {
        for channel in self.channels.values_mut() {
            channel.reserved = None;
        }
    }
}

/// The topic of a frame that makes its view run (an event, a patch, an upload step), read
/// without parsing its payload; `None` for joins, leaves, heartbeats and what does not parse
/// (the connection answers those itself).
fn frame_waking(text: &str) -> Option<String> {
    let (_, _, topic, name, _): (IgnoredAny, IgnoredAny, String, String, IgnoredAny) =
        serde_json::from_str(text).ok()?;
    let answered_alone = [
        event::JOIN,
        event::LEAVE,
        event::HEARTBEAT,
        event::CIDS_WILL_DESTROY,
    ];
    (!answered_alone.contains(&name.as_str())).then_some(topic)
}

#[cfg(test)]
mod tests {
    use super::frame_waking;

    #[test]
    fn only_frames_that_run_their_view_name_it() {
        let click = r#"["4","7","lv:phx-1","event",{"type":"click","event":"inc","value":{}}]"#;
        assert_eq!(frame_waking(click).as_deref(), Some("lv:phx-1"));
        let patch = r#"["4","8","lv:phx-1","live_patch",{"url":"http://x/a"}]"#;
        assert_eq!(frame_waking(patch).as_deref(), Some("lv:phx-1"));
        for alone in [
            r#"[null,"9","phoenix","heartbeat",{}]"#,
            r#"["4","10","lv:phx-1","phx_leave",{}]"#,
            r#"["4","4","lv:phx-1","phx_join",{"url":"http://x/a"}]"#,
            r#"["4","11","lv:phx-1","cids_will_destroy",{"cids":[1]}]"#,
            "not json",
            r#"["4","12"]"#,
        ] {
            assert_eq!(frame_waking(alone), None, "{alone}");
        }
    }
}
