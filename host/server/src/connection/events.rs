//! A joined view's traffic after the join: user events (`event`, forms decoded as Plug does,
//! `phx-target` components), client-side live patches, the client's component clean-up, and
//! the server's own deliveries (messages, task results, timers). Each guest callback goes
//! through the [pipeline](super::pipeline).

use livewasm_protocol::frame::Frame;
use livewasm_protocol::keys::{EventPayload, cid_of, status};
use serde_json::{Value, json};

use super::Connection;
use super::outbound::refuse;
use super::uploads;
use crate::form::{decode_form, target_path};

/// The only built-in event a client may send; any other `lv:` name is refused, as Phoenix does.
const CLEAR_FLASH: &str = "lv:clear-flash";

/// An event's value as the view gets it: a form's urlencoded string decoded into nested params
/// (with `_target` and the other meta fields), anything else as sent. The error is the reason
/// for the reply.
fn event_value(payload: EventPayload) -> Result<(String, Value, Option<Value>), String> {
    let value = if payload.is_form() {
        let Value::String(encoded) = &payload.value else {
            return Err("malformed form event: `value` must be an urlencoded string".into());
        };
        let mut map = decode_form(encoded).map_err(|e| format!("malformed form event: {e}"))?;
        for (key, value) in payload.meta {
            let value = match (key.as_str(), value) {
                ("_target", Value::String(target)) => target_path(&target),
                (_, value) => value,
            };
            map.insert(key, value);
        }
        Value::Object(map)
    } else {
        payload.value
    };
    Ok((payload.event, value, payload.cid))
}

impl Connection {
    /// `event`: a user event for the view, or for one of its live components.
    pub(super) fn event(&mut self, frame: Frame, out: &mut Vec<Frame>) {
        let payload: EventPayload = match serde_json::from_value(frame.payload.clone()) {
            Ok(payload) => payload,
            Err(_) => {
                out.push(frame.reply(
                    status::ERROR,
                    refuse("malformed event: the payload needs a string `event`"),
                ));
                return;
            }
        };
        let (event, value, cid) = match event_value(payload) {
            Ok(parts) => parts,
            Err(reason) => {
                out.push(frame.reply(status::ERROR, refuse(&reason)));
                return;
            }
        };
        if event.starts_with("lv:") && event != CLEAR_FLASH {
            out.push(frame.reply(status::ERROR, refuse(&format!("unknown event `{event}`"))));
            return;
        }
        // `cid`: the event targets a live component (`phx-target`), not the view.
        let cid = match cid_of(cid.as_ref()) {
            Ok(cid) => cid,
            Err(error) => {
                let reason = format!("malformed event: {error}");
                out.push(frame.reply(status::ERROR, refuse(&reason)));
                return;
            }
        };
        let topic = frame.topic.clone();
        let Some(channel) = self.channels.get_mut(&topic) else {
            return;
        };
        if let Some(cid) = cid
            && !channel.instance.has_component(cid)
        {
            // A stale or forged target: refuse it, the view lives on.
            let reason = format!("no live component with cid {cid}");
            out.push(frame.reply(status::ERROR, refuse(&reason)));
            return;
        }
        channel.metrics.events.inc();
        // Files chosen in the form reach the view's uploads before the event.
        if let Err(error) = uploads::put_form_entries(channel, &frame.payload) {
            return self.crash(&topic, &error, out);
        }
        let step = self.run(&topic, out, |instance| match cid {
            Some(cid) => instance.handle_component_event(cid, &event, &value),
            None => instance.handle_event(&event, &value),
        });
        if let Some(step) = step {
            out.push(step.reply_to(&frame));
        }
    }

    /// `live_patch`: the client changed the URL (a `patch` link, back/forward). A patch stays
    /// in this view and its live session; anything else is a live navigation, which the
    /// client then asks for with a join (checked there).
    pub(super) fn live_patch(&mut self, frame: Frame, out: &mut Vec<Frame>) {
        let topic = frame.topic.clone();
        let Some(url) = frame
            .payload
            .get("url")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            out.push(frame.reply(status::ERROR, refuse("live_patch needs a `url`")));
            return;
        };
        let routed = self.scope().route(&url);
        let Some(channel) = self.channels.get(&topic) else {
            return;
        };
        let Some(routed) = routed.filter(|r| channel.keeps(&r.route_app, &r.route)) else {
            out.push(frame.reply(status::OK, json!({"link_redirect": true})));
            return;
        };
        // A patch clears the flash (Phoenix's behaviour), then runs handle_params.
        let step = self.run_channel(&topic, out, |channel| {
            channel.live()?.handle_event(CLEAR_FLASH, &json!({}))?;
            channel.patch_to(url, routed).map(|()| None)
        });
        if let Some(step) = step {
            out.push(step.reply_to(&frame));
        }
    }

    /// `cids_destroyed`: the client removed components from its page: the view forgets those
    /// nothing shows any more and the reply lists them (the client then prunes exactly those).
    pub(super) fn cids_destroyed(&mut self, frame: Frame, out: &mut Vec<Frame>) {
        let cids: Option<Vec<u32>> = match frame.payload.get("cids") {
            Some(Value::Array(list)) => list
                .iter()
                .map(|cid| cid_of(Some(cid)).ok().flatten())
                .collect(),
            _ => None,
        };
        let Some(cids) = cids else {
            out.push(frame.reply(
                status::ERROR,
                refuse("cids_destroyed needs `cids`, a list of component ids"),
            ));
            return;
        };
        let topic = frame.topic.clone();
        let Some(channel) = self.channels.get_mut(&topic) else {
            return;
        };
        match channel
            .live()
            .and_then(|instance| instance.destroy_components(&cids))
        {
            Ok(removed) => out.push(frame.reply(status::OK, json!({"cids": removed}))),
            Err(error) => self.crash(&topic, &error, out),
        }
    }

    /// `handle-info` of the view on `topic` with `message`; its diff is pushed.
    pub(super) fn info(&mut self, topic: &str, message: &str, out: &mut Vec<Frame>) {
        if let Some(step) = self.run(topic, out, |instance| {
            instance.handle_info(message).map(|()| None)
        }) {
            step.push_to(topic, out);
        }
    }
}
