//! [`Connection`]: Phoenix channels V2 for one socket, free of any transport.
//!
//! Text frames go in, frames to send come out. Each joined `lv:` topic is a channel owning one
//! guest instance and its timers. A guest trap ends only its channel (`phx_error`); the client
//! rejoins and the view mounts fresh.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use livewasm_protocol::frame::Frame;
use livewasm_runtime::{CallError, Instance, MountRequest, RuntimeError, TimerCommand};
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use crate::Host;
use crate::form::{decode_form, target_path};
use crate::routes::query_params;
use crate::sites::{InstanceSlot, SiteRef};
use crate::tokens::{self, TokenError};

/// The client version we speak; sent in join replies.
const LIVEVIEW_VERSION: &str = "1.2.12";

/// A scheduled message for a view.
struct Timer {
    id: u64,
    due: Instant,
    every: Option<Duration>,
    message: Value,
}

/// One joined view.
struct Channel {
    join_ref: Option<String>,
    instance: Instance,
    app: String,
    view: String,
    url: String,
    timers: Vec<Timer>,
    /// Counts this view against its tenant's instance quota while it lives (platform sites).
    _slot: Option<InstanceSlot>,
}

/// The channels of one socket.
pub struct Connection {
    host: Arc<Host>,
    site: SiteRef,
    session: Option<Value>,
    channels: HashMap<String, Channel>,
}

/// Why a join was refused: the reply's `reason`.
fn refuse(reason: &str) -> Value {
    json!({"reason": reason})
}

/// Splits an absolute URL into path and query.
fn path_and_query(url: &str) -> Option<(String, Option<String>)> {
    let parsed = url::Url::parse(url).ok()?;
    Some((
        parsed.path().to_string(),
        parsed.query().map(str::to_string),
    ))
}

impl Connection {
    /// A connection whose views see `session` (None: the cookie or CSRF check failed, and every
    /// join is answered `stale`).
    /// The connection serves the default site (the apps loaded with `--app`).
    pub fn new(host: Arc<Host>, session: Option<Value>) -> Connection {
        Connection::for_site(host, SiteRef::Default, session)
    }

    /// A connection that only joins views of `site`.
    pub(crate) fn for_site(host: Arc<Host>, site: SiteRef, session: Option<Value>) -> Connection {
        Connection {
            host,
            site,
            session,
            channels: HashMap::new(),
        }
    }

    /// Handles one text frame; returns the frames to send, in order.
    pub fn handle_text(&mut self, text: &str) -> Vec<Frame> {
        let frame = match Frame::parse_limited(text, self.host.config().max_frame_bytes) {
            Ok(frame) => frame,
            Err(error) => {
                tracing::debug!("malformed frame: {error}");
                let reason = json!({"reason": error.to_string()});
                return vec![match error.reply_target() {
                    Some((join_ref, msg_ref, topic)) => Frame {
                        join_ref,
                        msg_ref: Some(msg_ref),
                        topic,
                        event: "phx_reply".into(),
                        payload: json!({"status": "error", "response": reason}),
                    },
                    None => Frame::push(None, "phoenix", "phx_error", reason),
                }];
            }
        };
        let mut out = Vec::new();
        match (frame.topic.as_str(), frame.event.as_str()) {
            ("phoenix", "heartbeat") => out.push(frame.reply("ok", json!({}))),
            (_, "phx_join") => self.join(frame, &mut out),
            (_, "phx_leave") => {
                if let Some(channel) = self.channels.remove(&frame.topic) {
                    out.push(frame.reply("ok", json!({})));
                    out.push(close(&channel, &frame.topic));
                } else {
                    out.push(frame.reply("ok", json!({})));
                }
            }
            _ => self.channel_message(frame, &mut out),
        }
        out
    }

    /// The earliest timer deadline of any view.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.channels
            .values()
            .flat_map(|c| c.timers.iter().map(|t| t.due))
            .min()
    }

    /// Fires every timer due at `now`: `handle-info`, render, and `diff` pushes.
    pub fn fire_due(&mut self, now: Instant) -> Vec<Frame> {
        let mut out = Vec::new();
        let topics: Vec<String> = self
            .channels
            .iter()
            .filter(|(_, c)| c.timers.iter().any(|t| t.due <= now))
            .map(|(topic, _)| topic.clone())
            .collect();
        for topic in topics {
            while let Some(channel) = self.channels.get_mut(&topic) {
                let Some(index) = channel.timers.iter().position(|t| t.due <= now) else {
                    break;
                };
                let message = {
                    let timer = &mut channel.timers[index];
                    let message = timer.message.clone();
                    match timer.every {
                        Some(every) => {
                            timer.due += every;
                            if timer.due <= now {
                                timer.due = now + every;
                            }
                        }
                        None => {
                            let id = timer.id;
                            channel.timers.swap_remove(index);
                            channel.instance.timer_fired(id);
                        }
                    }
                    message
                };
                self.info(&topic, &message, &mut out);
            }
        }
        out
    }

    /// Delivers `message` to the view on `topic` (like `send(view.pid, message)`).
    pub fn deliver_info(&mut self, topic: &str, message: Value) -> Vec<Frame> {
        let mut out = Vec::new();
        self.info(topic, &message, &mut out);
        out
    }

    /// Number of joined views.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    fn info(&mut self, topic: &str, message: &Value, out: &mut Vec<Frame>) {
        let Some(channel) = self.channels.get_mut(topic) else {
            return;
        };
        let result = channel
            .instance
            .handle_info(message)
            .and_then(|()| render(channel));
        match result {
            Ok(diff) => {
                if !diff.as_object().is_some_and(Map::is_empty) {
                    out.push(Frame::push(channel.join_ref.clone(), topic, "diff", diff));
                }
            }
            Err(error) => self.crash(topic, &error, out),
        }
    }

    /// Drops a crashed view and tells the client.
    fn crash(&mut self, topic: &str, error: &CallError, out: &mut Vec<Frame>) {
        if let Some(channel) = self.channels.remove(topic) {
            tracing::warn!(app = %channel.app, view = %channel.view, topic, "view crashed: {error}");
            out.push(Frame {
                join_ref: channel.join_ref.clone(),
                msg_ref: channel.join_ref.clone(),
                topic: topic.to_string(),
                event: "phx_error".into(),
                payload: json!({"reason": crash_reason(error)}),
            });
        }
    }

    fn join(&mut self, frame: Frame, out: &mut Vec<Frame>) {
        let Some(id) = frame.topic.strip_prefix("lv:").map(str::to_string) else {
            out.push(frame.reply("error", refuse("unmatched topic")));
            return;
        };
        // A second join on a joined topic closes the old channel first.
        if let Some(old) = self.channels.remove(&frame.topic) {
            out.push(close(&old, &frame.topic));
        }
        match self.mount(&frame, &id) {
            Ok((channel, rendered)) => {
                self.channels.insert(frame.topic.clone(), channel);
                out.push(frame.reply(
                    "ok",
                    json!({"rendered": rendered, "liveview_version": LIVEVIEW_VERSION}),
                ));
            }
            Err(reason) => out.push(frame.reply("error", reason)),
        }
    }

    /// Verifies a view token of this connection's site; the error is the join reply's
    /// response: `unauthorized` for a token issued by another site, `stale` for one that
    /// does not verify.
    fn verify(&self, token: &str, kind: &str) -> Result<Map<String, Value>, Value> {
        let claims = tokens::peek(token).map_err(|_| refuse("stale"))?;
        let token_site = claims.get("site").and_then(Value::as_str);
        if token_site != self.site.label().as_deref() {
            tracing::debug!(
                token_site,
                "join refused: the token was issued by another site"
            );
            return Err(refuse("unauthorized"));
        }
        let app = claims
            .get("app")
            .and_then(Value::as_str)
            .ok_or_else(|| refuse("stale"))?;
        let check = || -> Result<Map<String, Value>, TokenError> {
            let data = tokens::verify(
                &self.host.site_token_key(&self.site, app),
                token,
                self.host.config().token_max_age,
            )?;
            if data.get("kind").and_then(Value::as_str) != Some(kind) {
                return Err(TokenError::BadFormat);
            }
            Ok(data)
        };
        check().map_err(|e| {
            tracing::debug!("join refused: {kind} token: {e}");
            refuse("stale")
        })
    }

    /// Verifies a join and mounts its view; the error is the reply's response.
    fn mount(&self, frame: &Frame, id: &str) -> Result<(Channel, Value), Value> {
        let Some(user_session) = self.session.clone() else {
            return Err(refuse("stale"));
        };
        if self.channels.len() >= self.host.config().max_channels_per_socket {
            return Err(refuse("too many views on this socket"));
        }
        let payload = &frame.payload;
        let token = payload
            .get("session")
            .and_then(Value::as_str)
            .ok_or_else(|| refuse("stale"))?;
        let data = self.verify(token, "session")?;
        if data.get("id").and_then(Value::as_str) != Some(id) {
            return Err(refuse("unauthorized"));
        }
        if let Some(static_token) = payload.get("static").and_then(Value::as_str) {
            let static_data = self.verify(static_token, "static")?;
            if static_data.get("id").and_then(Value::as_str) != Some(id) {
                return Err(refuse("unauthorized"));
            }
        }
        let app_name = data.get("app").and_then(Value::as_str).unwrap_or_default();
        let token_view = data.get("view").and_then(Value::as_str).unwrap_or_default();
        let (url, redirect) = match (
            payload.get("url").and_then(Value::as_str),
            payload.get("redirect").and_then(Value::as_str),
        ) {
            (Some(url), _) => (url.to_string(), false),
            (None, Some(url)) => (url.to_string(), true),
            (None, None) => return Err(refuse("unauthorized")),
        };
        let (path, query) = path_and_query(&url).ok_or_else(|| refuse("unauthorized"))?;
        let matched = self
            .host
            .route_in(&self.site, &path)
            .ok_or_else(|| refuse("unauthorized"))?;
        if matched.app.manifest().name != app_name {
            return Err(refuse("unauthorized"));
        }
        if redirect {
            // Live navigation stays inside one live session of the token's app.
            let original = self
                .host
                .route_of_view_in(&self.site, app_name, token_view)
                .and_then(|r| r.live_session);
            if original.is_none() || original != matched.route.live_session {
                return Err(refuse("unauthorized"));
            }
        } else if matched.route.view != token_view {
            return Err(refuse("unauthorized"));
        }
        let slot = match &matched.site {
            Some(site) => Some(site.usage.try_acquire().ok_or_else(|| {
                tracing::info!(tenant = %site.tenant, app = %site.app, "join refused: tenant at its instance quota");
                refuse("capacity")
            })?),
            None => None,
        };
        let mut instance = matched.app.instantiate().map_err(|e| match e {
            RuntimeError::PoolExhausted(_) => refuse("capacity"),
            other => {
                tracing::error!(app = app_name, "instantiate failed: {other}");
                refuse("join crashed")
            }
        })?;
        let mut params = matched.path_params.clone();
        params.extend(query_params(query.as_deref()));
        let params = Value::Object(params);
        let request = MountRequest {
            view: matched.route.view.clone(),
            action: matched.route.action.clone(),
            params: params.clone(),
            session: user_session,
            url: url.clone(),
            connected: true,
        };
        let mut channel = Channel {
            join_ref: frame.join_ref.clone(),
            instance: {
                let mounted = instance
                    .mount(&request)
                    .and_then(|()| instance.handle_params(&params, &url));
                if let Err(error) = mounted {
                    tracing::warn!(app = app_name, view = %request.view, "mount failed: {error}");
                    return Err(refuse("join crashed"));
                }
                instance
            },
            app: app_name.to_string(),
            view: matched.route.view.clone(),
            url,
            timers: Vec::new(),
            _slot: slot,
        };
        let rendered = render(&mut channel).map_err(|error| {
            tracing::warn!(app = app_name, "first render failed: {error}");
            refuse("join crashed")
        })?;
        tracing::debug!(app = app_name, view = %channel.view, topic = %frame.topic, "joined");
        Ok((channel, rendered))
    }

    fn channel_message(&mut self, frame: Frame, out: &mut Vec<Frame>) {
        let joined = self
            .channels
            .get(&frame.topic)
            .is_some_and(|c| c.join_ref == frame.join_ref);
        if !joined {
            out.push(frame.reply("error", refuse("unmatched topic")));
            return;
        }
        match frame.event.as_str() {
            "event" => self.event(frame, out),
            "live_patch" => self.live_patch(frame, out),
            "cids_will_destroy" => out.push(frame.reply("ok", json!({}))),
            "cids_destroyed" => {
                let cids = frame.payload.get("cids").cloned().unwrap_or(json!([]));
                out.push(frame.reply("ok", json!({"cids": cids})));
            }
            other => {
                let reason = format!("unknown event `{other}`");
                out.push(frame.reply("error", json!({"reason": reason})));
            }
        }
    }

    fn event(&mut self, frame: Frame, out: &mut Vec<Frame>) {
        let payload = &frame.payload;
        let Some(event) = payload.get("event").and_then(Value::as_str) else {
            out.push(frame.reply(
                "error",
                refuse("malformed event: the payload needs a string `event`"),
            ));
            return;
        };
        let value = match (
            payload.get("type").and_then(Value::as_str),
            payload.get("value"),
        ) {
            (Some("form"), Some(Value::String(encoded))) => {
                let mut map = match decode_form(encoded) {
                    Ok(map) => map,
                    Err(error) => {
                        out.push(
                            frame.reply("error", refuse(&format!("malformed form event: {error}"))),
                        );
                        return;
                    }
                };
                if let Some(Value::Object(meta)) = payload.get("meta") {
                    for (key, value) in meta {
                        let value = match (key.as_str(), value) {
                            ("_target", Value::String(target)) => target_path(target),
                            _ => value.clone(),
                        };
                        map.insert(key.clone(), value);
                    }
                }
                Value::Object(map)
            }
            (Some("form"), Some(_)) => {
                out.push(frame.reply(
                    "error",
                    refuse("malformed form event: `value` must be an urlencoded string"),
                ));
                return;
            }
            (_, Some(value)) => value.clone(),
            (_, None) => Value::Object(Map::new()),
        };
        if event == "lv:clear-flash" {
            out.push(frame.reply("ok", json!({})));
            return;
        }
        let topic = frame.topic.clone();
        let Some(channel) = self.channels.get_mut(&topic) else {
            return;
        };
        let result = channel
            .instance
            .handle_event(event, &value)
            .and_then(|reply| render(channel).map(|diff| (reply, diff)));
        match result {
            Ok((reply, mut diff)) => {
                if let (Some(reply), Some(map)) = (reply, diff.as_object_mut()) {
                    map.insert("r".into(), reply);
                }
                out.push(frame.reply("ok", diff_response(diff)));
            }
            Err(error) => self.crash(&topic, &error, out),
        }
    }

    fn live_patch(&mut self, frame: Frame, out: &mut Vec<Frame>) {
        let topic = frame.topic.clone();
        let Some(url) = frame
            .payload
            .get("url")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            out.push(frame.reply("error", refuse("live_patch needs a `url`")));
            return;
        };
        let matched = path_and_query(&url)
            .and_then(|(path, query)| self.host.route_in(&self.site, &path).map(|m| (m, query)));
        let Some(channel) = self.channels.get_mut(&topic) else {
            return;
        };
        let Some((matched, query)) = matched
            .filter(|(m, _)| m.app.manifest().name == channel.app && m.route.view == channel.view)
        else {
            out.push(frame.reply("ok", json!({"link_redirect": true})));
            return;
        };
        let mut params = matched.path_params;
        params.extend(query_params(query.as_deref()));
        channel.url = url.clone();
        let result = channel
            .instance
            .handle_params(&Value::Object(params), &url)
            .and_then(|()| render(channel));
        match result {
            Ok(diff) => out.push(frame.reply("ok", diff_response(diff))),
            Err(error) => self.crash(&topic, &error, out),
        }
    }
}

/// `{}` or `{"diff": …}`.
fn diff_response(diff: Value) -> Value {
    if diff.as_object().is_some_and(Map::is_empty) {
        json!({})
    } else {
        json!({"diff": diff})
    }
}

/// `phx_close` for a channel.
fn close(channel: &Channel, topic: &str) -> Frame {
    Frame {
        join_ref: channel.join_ref.clone(),
        msg_ref: channel.join_ref.clone(),
        topic: topic.to_string(),
        event: "phx_close".into(),
        payload: json!({}),
    }
}

fn crash_reason(error: &CallError) -> &'static str {
    match error {
        CallError::Trap { .. } | CallError::Dead => "view crashed",
        CallError::Guest(_) => "view error",
        CallError::Render(_) | CallError::Json(_) => "bad render",
    }
}

/// Renders, applies the effects the callbacks recorded, and returns the diff.
fn render(channel: &mut Channel) -> Result<Value, CallError> {
    let mut diff = channel.instance.render()?;
    let effects = channel.instance.take_effects();
    for command in effects.timers {
        match command {
            TimerCommand::Schedule {
                id,
                after,
                every,
                message,
            } => channel.timers.push(Timer {
                id,
                due: Instant::now() + after,
                every,
                message,
            }),
            TimerCommand::Cancel { id } => channel.timers.retain(|t| t.id != id),
        }
    }
    diff.push_events(effects.events);
    Ok(diff.into_value())
}
