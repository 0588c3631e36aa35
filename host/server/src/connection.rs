//! [`Connection`]: Phoenix channels V2 for one socket, free of any transport.
//!
//! Text frames go in, frames to send come out. Each joined `lv:` topic is a channel owning one
//! guest instance and its timers. A guest trap ends only its channel (`phx_error`); the client
//! rejoins and the view mounts fresh.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use livewasm_protocol::frame::Frame;
use livewasm_runtime::{
    CallError, Instance, MountRequest, NavigationKind, RuntimeError, TimerCommand,
};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::claims::{TokenKind, ViewClaims};
use crate::form::{decode_form, target_path};
use crate::host::Host;
use crate::inbox::{Inbound, TaskDone};
use crate::navigate::{self, Outcome};
use crate::pubsub::{INBOX_CAPACITY, Subscriptions};
use crate::routes::query_params;
use crate::session;
use crate::sites::{InstanceSlot, SiteId, TenantUsage};

mod uploads;

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
    /// The live session of the route mounted; patches and live navigation stay inside it.
    live_session: Option<String>,
    timers: Vec<Timer>,
    /// Counts this view against its tenant's instance quota while it lives (platform sites).
    _slot: Option<InstanceSlot>,
    /// The view's pub/sub subscriptions (dropped with the channel); its id names the channel.
    bus: Subscriptions,
    /// Background tasks running, by name: the tag of the current run (older results are stale).
    tasks: HashMap<String, u64>,
    /// Tasks started by the last callback, not yet handed to a runner.
    pending: Vec<PendingTask>,
    /// The tenant's instance counter (platform sites): a task's instance counts too.
    usage: Option<Arc<TenantUsage>>,
    /// The view's upload entries and their received bytes (deleted with the channel).
    uploads: crate::uploads::SharedUploads,
}

/// A background task a view started: run it off the socket's task ([`PendingTask::run`]) and
/// give the result to [`Connection::handle_inbound`].
pub struct PendingTask {
    channel: u64,
    name: String,
    tag: u64,
    app: livewasm_runtime::App,
    task: String,
    args: Value,
    usage: Option<Arc<TenantUsage>>,
}

impl PendingTask {
    /// Runs the task in a fresh instance of its app (blocking: fuel and a deadline bound it).
    /// On a platform site the instance counts against the tenant's instance quota while it
    /// runs; a tenant at its quota gets a failed result.
    pub fn run(self) -> Inbound {
        let slot = self.usage.as_ref().map(|usage| usage.try_acquire());
        let result = match slot {
            Some(None) => Err("the tenant is at its instance quota".to_string()),
            _ => self.app.run_task(&self.task, &self.args),
        };
        drop(slot);
        Inbound::Task(TaskDone {
            channel: self.channel,
            name: self.name,
            tag: self.tag,
            result,
        })
    }
}

/// The channels of one socket.
pub struct Connection {
    host: Arc<Host>,
    site: SiteId,
    session: Option<Value>,
    channels: HashMap<String, Channel>,
    inbox_tx: mpsc::Sender<Inbound>,
    inbox_rx: Option<mpsc::Receiver<Inbound>>,
    /// The dev reload channel, once the page's glue joined it.
    reload: Option<crate::dev_reload::Joined>,
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
        Connection::for_site(host, SiteId::Default, session)
    }

    /// A connection that only joins views of `site`.
    pub(crate) fn for_site(host: Arc<Host>, site: SiteId, session: Option<Value>) -> Connection {
        let (inbox_tx, inbox_rx) = mpsc::channel(INBOX_CAPACITY);
        Connection {
            host,
            site,
            session,
            channels: HashMap::new(),
            inbox_tx,
            inbox_rx: Some(inbox_rx),
            reload: None,
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
            (crate::dev_reload::TOPIC, "phx_join") => {
                let default_site = self.site == SiteId::Default;
                let (frames, joined) = crate::dev_reload::join(&self.host, default_site, &frame);
                out.extend(frames);
                self.reload = joined;
            }
            (crate::dev_reload::TOPIC, "phx_leave") => {
                self.reload = None;
                out.push(frame.reply("ok", json!({})));
            }
            (topic, "phx_join") if topic.starts_with("lvu:") => self.join_upload(&frame, &mut out),
            (topic, "phx_leave") if topic.starts_with("lvu:") => {
                self.leave_upload(&frame, &mut out)
            }
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
        self.flush_upload_closes(&mut out);
        out
    }

    /// Frames telling this socket's page that its app was replaced (dev live reload).
    pub(crate) fn dev_reloaded(&self, reloaded: &crate::dev_reload::Reloaded) -> Vec<Frame> {
        crate::dev_reload::on_reloaded(self.reload.as_ref(), reloaded)
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

    /// The socket's inbox (pub/sub messages, task results), for the transport to poll; `None`
    /// once taken. Until it is taken, [`Self::settle`] reads it.
    pub fn take_inbox(&mut self) -> Option<mpsc::Receiver<Inbound>> {
        self.inbox_rx.take()
    }

    /// Where task results go (the transport sends [`PendingTask::run`]'s result here).
    pub fn inbox_sender(&self) -> mpsc::Sender<Inbound> {
        self.inbox_tx.clone()
    }

    /// Background tasks the views started since the last call, to run off this task.
    pub fn take_tasks(&mut self) -> Vec<PendingTask> {
        self.channels
            .values_mut()
            .flat_map(|c| std::mem::take(&mut c.pending))
            .collect()
    }

    /// Delivers a pub/sub message or a task's result to its view: `handle-info` or
    /// `handle-async`, render, and `diff` pushes. A stale task result (the task was cancelled
    /// or restarted since) and anything for a view that left are dropped.
    pub fn handle_inbound(&mut self, inbound: Inbound) -> Vec<Frame> {
        let mut out = Vec::new();
        let id = match &inbound {
            Inbound::Message { channel, .. } => *channel,
            Inbound::Task(done) => done.channel,
        };
        let Some(topic) = self
            .channels
            .iter()
            .find(|(_, c)| c.bus.id() == id)
            .map(|(topic, _)| topic.clone())
        else {
            return out;
        };
        match inbound {
            Inbound::Message { message, .. } => self.info(&topic, &message, &mut out),
            Inbound::Task(done) => {
                let Some(channel) = self.channels.get_mut(&topic) else {
                    return out;
                };
                if channel.tasks.get(&done.name) != Some(&done.tag) {
                    return out;
                }
                channel.tasks.remove(&done.name);
                self.callback(
                    &topic,
                    |instance| instance.handle_async(&done.name, &done.result),
                    &mut out,
                );
            }
        }
        out
    }

    /// Runs every pending task inline and delivers everything in the inbox, until nothing is
    /// left (at most `rounds` rounds): what the test harness does instead of a transport.
    /// Does nothing with the inbox once [`Self::take_inbox`] took it.
    pub fn settle(&mut self, rounds: usize) -> Vec<Frame> {
        let mut out = Vec::new();
        for _ in 0..rounds {
            let mut inbound: Vec<Inbound> = self
                .take_tasks()
                .into_iter()
                .map(PendingTask::run)
                .collect();
            if let Some(rx) = self.inbox_rx.as_mut() {
                while let Ok(message) = rx.try_recv() {
                    inbound.push(message);
                }
            }
            if inbound.is_empty() {
                break;
            }
            for message in inbound {
                out.extend(self.handle_inbound(message));
            }
        }
        out
    }

    fn info(&mut self, topic: &str, message: &Value, out: &mut Vec<Frame>) {
        self.callback(topic, |instance| instance.handle_info(message), out);
    }

    /// Runs one server-side callback of the view on `topic` (`handle-info`, `handle-async`),
    /// then follows its navigation and pushes its diff.
    fn callback(
        &mut self,
        topic: &str,
        call: impl FnOnce(&mut Instance) -> Result<(), CallError>,
        out: &mut Vec<Frame>,
    ) {
        let Some(channel) = self.channels.get_mut(topic) else {
            return;
        };
        let (host, site) = (&self.host, &self.site);
        let result = call(&mut channel.instance)
            .and_then(|()| follow_navigation(host, site, channel))
            .and_then(|outcome| render(channel).map(|diff| (outcome, diff)));
        match result {
            Ok((outcome, diff)) => {
                // As Phoenix: the history change first, then the diff it caused.
                if let Some(outcome) = outcome {
                    out.push(Frame::push(
                        channel.join_ref.clone(),
                        topic,
                        outcome.event(),
                        outcome.payload(),
                    ));
                }
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
            Ok((channel, rendered, patch, container)) => {
                self.channels.insert(frame.topic.clone(), channel);
                let mut response =
                    json!({"rendered": rendered, "liveview_version": LIVEVIEW_VERSION});
                // After live navigation the client swaps the container for the new route's.
                if let (Some(container), Some(map)) = (container, response.as_object_mut()) {
                    map.insert("container".into(), container);
                }
                if let (Some(patch), Some(map)) = (patch, response.as_object_mut()) {
                    let (key, value) = patch.reply_entry();
                    map.insert(key, value);
                }
                out.push(frame.reply("ok", response));
            }
            Err(reason) => out.push(frame.reply("error", reason)),
        }
    }

    /// Verifies a view token of this connection's site; the error is the join reply's
    /// response: `unauthorized` for a token issued by another site, `stale` for one that
    /// does not verify.
    fn verify(&self, token: &str, kind: TokenKind) -> Result<ViewClaims, Value> {
        let claims = ViewClaims::peek(token).map_err(|_| refuse("stale"))?;
        if claims.site != self.site.label() {
            tracing::debug!(
                token_site = claims.site,
                "join refused: the token was issued by another site"
            );
            return Err(refuse("unauthorized"));
        }
        ViewClaims::verify(
            &self.host.keys(&self.site).view_tokens(&claims.app),
            token,
            self.host.config().token_max_age,
            kind,
        )
        .map_err(|e| {
            tracing::debug!("join refused: {kind:?} token: {e}");
            refuse("stale")
        })
    }

    /// Verifies a join and mounts its view; the error is the reply's response (a refusal, or
    /// the redirect an `on_mount` hook or the mount asked for). A `push_patch` from the first
    /// `handle_params` comes back as the join's `live_patch`.
    #[allow(clippy::type_complexity)]
    fn mount(
        &self,
        frame: &Frame,
        id: &str,
    ) -> Result<(Channel, Value, Option<Outcome>, Option<Value>), Value> {
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
        let data = self.verify(token, TokenKind::Session)?;
        if data.id != id {
            return Err(refuse("unauthorized"));
        }
        let mut static_flash = None;
        if let Some(static_token) = payload.get("static").and_then(Value::as_str) {
            let static_data = self.verify(static_token, TokenKind::Static)?;
            if static_data.id != id {
                return Err(refuse("unauthorized"));
            }
            static_flash = static_data.flash.map(Value::Object);
        }
        let app_name = data.app.as_str();
        let token_view = data.view.as_deref().unwrap_or_default();
        let (url, redirect) = match (
            payload.get("url").and_then(Value::as_str),
            payload.get("redirect").and_then(Value::as_str),
        ) {
            (Some(url), _) => (url.to_string(), false),
            (None, Some(url)) => (url.to_string(), true),
            (None, None) => return Err(refuse("unauthorized")),
        };
        let (path, query) = path_and_query(&url).ok_or_else(|| refuse("unauthorized"))?;
        // The site as served now: a socket joins the version deployed last.
        let site = self
            .host
            .site(&self.site)
            .ok_or_else(|| refuse("unauthorized"))?;
        let matched = site.route(&path).ok_or_else(|| refuse("unauthorized"))?;
        if matched.app.manifest().name != app_name {
            return Err(refuse("unauthorized"));
        }
        if redirect {
            // Live navigation stays inside one live session of the token's app: the one the
            // page was rendered in (named in the token).
            let original = match &data.live_session {
                Some(name) => Some(name.clone()),
                None => site
                    .routes()
                    .route_of_view(app_name, token_view)
                    .and_then(|r| r.live_session),
            };
            if original.is_none() || original != matched.route.live_session {
                tracing::debug!(
                    from = ?original,
                    to = ?matched.route.live_session,
                    "live navigation refused: another live session"
                );
                return Err(refuse("unauthorized"));
            }
        } else if matched.route.view != token_view {
            return Err(refuse("unauthorized"));
        }
        // The flash: from a live navigation's token, else (first mount of a dead-rendered
        // page) the one the dead render showed.
        let mounts = payload
            .get("params")
            .and_then(|p| p.get("_mounts"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let flash = match payload.get("flash").and_then(Value::as_str) {
            Some(token) => session::verify_flash(&self.host.keys(&self.site), token),
            None if !redirect && mounts == 0 => static_flash.unwrap_or_else(|| json!({})),
            None => json!({}),
        };
        let slot = match site.usage() {
            Some(usage) => Some(usage.try_acquire().ok_or_else(|| {
                tracing::info!(
                    site = site.label(),
                    "join refused: tenant at its instance quota"
                );
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
            live_session: matched.route.live_session.clone(),
            flash,
        };
        let failed = |error: CallError| {
            tracing::warn!(app = app_name, view = %request.view, "mount failed: {error}");
            refuse("join crashed")
        };
        instance.mount(&request).map_err(failed)?;
        // An `on_mount` hook or `mount` itself may send the client elsewhere.
        if let Some(navigation) = instance.take_navigation().and_then(navigate::checked) {
            let outcome = leave_to(&self.host, &self.site, navigation);
            let (key, value) = outcome.reply_entry();
            return Err(json!({ key: value }));
        }
        let scope: Arc<str> = Arc::from(format!("{}#{app_name}", site.label().unwrap_or_default()));
        let bus = Subscriptions::new(
            self.host.broker.clone(),
            scope,
            self.host.broker.channel_id(),
            self.inbox_tx.clone(),
        );
        let mut channel = Channel {
            join_ref: frame.join_ref.clone(),
            instance,
            app: app_name.to_string(),
            view: matched.route.view.clone(),
            url: url.clone(),
            live_session: matched.route.live_session.clone(),
            timers: Vec::new(),
            _slot: slot,
            bus,
            tasks: HashMap::new(),
            pending: Vec::new(),
            usage: site.usage().cloned(),
            uploads: self.new_view_uploads(&site),
        };
        uploads::attach(&mut channel.instance, &channel.uploads);
        let outcome = channel
            .instance
            .handle_params(&params, &url, matched.route.action.as_deref())
            .and_then(|()| follow_navigation(&self.host, &self.site, &mut channel))
            .map_err(failed)?;
        let patch = match outcome {
            Some(outcome @ Outcome::Patch { .. }) => Some(outcome),
            Some(other) => {
                let (key, value) = other.reply_entry();
                return Err(json!({ key: value }));
            }
            None => None,
        };
        let rendered = render(&mut channel).map_err(|error| {
            tracing::warn!(app = app_name, "first render failed: {error}");
            refuse("join crashed")
        })?;
        tracing::debug!(app = app_name, view = %channel.view, topic = %frame.topic, "joined");
        // After live navigation the client takes the new route's container attributes; it
        // cannot change the element's tag (the official client keeps the page's element), so
        // a route with another tag keeps the page's container until a full page load.
        let page_tag = data.container.as_deref().unwrap_or("div");
        let route_tag = matched
            .route
            .container
            .as_ref()
            .map_or("div", |c| c.tag.as_str());
        let container = (redirect && page_tag == route_tag)
            .then(|| container_json(matched.route.container.as_ref()));
        Ok((channel, rendered, patch, container))
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
            "cids_destroyed" => self.cids_destroyed(frame, out),
            "allow_upload" => self.allow_upload(frame, out),
            "progress" => self.upload_progress(frame, out),
            other => {
                let reason = format!("unknown event `{other}`");
                out.push(frame.reply("error", json!({"reason": reason})));
            }
        }
    }

    /// The client removed components from its page: the view forgets those nothing shows any
    /// more and the reply lists them (the client then prunes exactly those).
    fn cids_destroyed(&mut self, frame: Frame, out: &mut Vec<Frame>) {
        let cids: Option<Vec<u32>> = match frame.payload.get("cids") {
            Some(Value::Array(list)) => list.iter().map(cid_of).collect(),
            _ => None,
        };
        let Some(cids) = cids else {
            out.push(frame.reply(
                "error",
                refuse("cids_destroyed needs `cids`, a list of component ids"),
            ));
            return;
        };
        let topic = frame.topic.clone();
        let Some(channel) = self.channels.get_mut(&topic) else {
            return;
        };
        match channel.instance.destroy_components(&cids) {
            Ok(removed) => out.push(frame.reply("ok", json!({"cids": removed}))),
            Err(error) => self.crash(&topic, &error, out),
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
        if event.starts_with("lv:") && event != "lv:clear-flash" {
            // The only built-in event; any other `lv:` name is refused, as Phoenix does.
            out.push(frame.reply("error", refuse(&format!("unknown event `{event}`"))));
            return;
        }
        // `cid`: the event targets a live component (`phx-target`), not the view.
        let cid = match payload.get("cid") {
            None | Some(Value::Null) => None,
            Some(cid) => match cid_of(cid) {
                Some(cid) => Some(cid),
                None => {
                    out.push(frame.reply(
                        "error",
                        refuse(&format!(
                            "malformed event: `cid` {cid} is not a component id"
                        )),
                    ));
                    return;
                }
            },
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
            out.push(frame.reply("error", refuse(&reason)));
            return;
        }
        // Files chosen in the form reach the view's uploads before the event.
        if let Err(error) = uploads::put_form_entries(channel, payload) {
            return self.crash(&topic, &error, out);
        }
        let (host, site) = (&self.host, &self.site);
        let handled = match cid {
            Some(cid) => channel.instance.handle_component_event(cid, event, &value),
            None => channel.instance.handle_event(event, &value),
        };
        let result = handled.and_then(|reply| {
            let outcome = follow_navigation(host, site, channel)?;
            render(channel).map(|diff| (reply, outcome, diff))
        });
        match result {
            Ok((reply, outcome, mut diff)) => {
                if let (Some(reply), Some(map)) = (reply, diff.as_object_mut()) {
                    map.insert("r".into(), reply);
                }
                let mut response = diff_response(diff);
                if let (Some(outcome), Some(map)) = (outcome, response.as_object_mut()) {
                    let (key, value) = outcome.reply_entry();
                    map.insert(key, value);
                }
                out.push(frame.reply("ok", response));
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
        let matched = path_and_query(&url).and_then(|(path, query)| {
            let site = self.host.site(&self.site)?;
            site.route(&path).map(|m| (m, query))
        });
        let Some(channel) = self.channels.get_mut(&topic) else {
            return;
        };
        // A patch stays in this view and its live session; anything else is a live
        // navigation, which the client then asks for with a join (checked there).
        let Some((matched, query)) = matched.filter(|(m, _)| {
            m.app.manifest().name == channel.app
                && m.route.view == channel.view
                && m.route.live_session == channel.live_session
        }) else {
            out.push(frame.reply("ok", json!({"link_redirect": true})));
            return;
        };
        let mut params = matched.path_params;
        params.extend(query_params(query.as_deref()));
        channel.url = url.clone();
        let (host, site) = (&self.host, &self.site);
        // A patch clears the flash (Phoenix's behaviour), then runs handle_params.
        let result = channel
            .instance
            .handle_event("lv:clear-flash", &json!({}))
            .and_then(|_| {
                channel.instance.handle_params(
                    &Value::Object(params),
                    &url,
                    matched.route.action.as_deref(),
                )
            })
            .and_then(|()| follow_navigation(host, site, channel))
            .and_then(|outcome| render(channel).map(|diff| (outcome, diff)));
        match result {
            Ok((outcome, diff)) => {
                let mut response = diff_response(diff);
                if let (Some(outcome), Some(map)) = (outcome, response.as_object_mut()) {
                    let (key, value) = outcome.reply_entry();
                    map.insert(key, value);
                }
                out.push(frame.reply("ok", response));
            }
            Err(error) => self.crash(&topic, &error, out),
        }
    }
}

/// Most patches one callback may chain (a `handle_params` patching again …).
const MAX_PATCHES: usize = 8;

/// Carries out the navigation the view asked for in its last callback: a patch of this view
/// runs `handle-params` (again, if that patches too); anything else leaves the view. `None`
/// when the view asked for nothing.
fn follow_navigation(
    host: &Host,
    site: &SiteId,
    channel: &mut Channel,
) -> Result<Option<Outcome>, CallError> {
    let mut outcome = None;
    for _ in 0..MAX_PATCHES {
        let Some(navigation) = channel
            .instance
            .take_navigation()
            .and_then(navigate::checked)
        else {
            return Ok(outcome);
        };
        if navigation.kind != NavigationKind::Patch {
            return Ok(Some(leave_to(host, site, navigation)));
        }
        let target = navigate::absolute(&channel.url, &navigation.to)
            .and_then(|url| path_and_query(&url).map(|pq| (url, pq)))
            .and_then(|(url, (path, query))| {
                let current = host.site(site)?;
                current.route(&path).map(|m| (url, m, query))
            })
            .filter(|(_, m, _)| {
                m.app.manifest().name == channel.app
                    && m.route.view == channel.view
                    && m.route.live_session == channel.live_session
            });
        let Some((url, matched, query)) = target else {
            // A patch to another view is a live navigation, as the client would do.
            let navigation = livewasm_runtime::Navigation {
                kind: NavigationKind::Navigate,
                ..navigation
            };
            return Ok(Some(leave_to(host, site, navigation)));
        };
        let mut params = matched.path_params;
        params.extend(query_params(query.as_deref()));
        channel.url = url.clone();
        channel.instance.handle_params(
            &Value::Object(params),
            &url,
            matched.route.action.as_deref(),
        )?;
        outcome = Some(Outcome::Patch {
            to: navigation.to,
            kind: navigate::history_kind(navigation.replace),
        });
    }
    tracing::warn!(app = %channel.app, view = %channel.view, "more than {MAX_PATCHES} chained patches; the rest are ignored");
    Ok(outcome)
}

/// A navigation that leaves the view (or, at mount, never enters it), with its flash signed.
fn leave_to(host: &Host, site: &SiteId, navigation: livewasm_runtime::Navigation) -> Outcome {
    let flash = session::sign_flash(&host.keys(site), &navigation.flash);
    match navigation.kind {
        NavigationKind::Redirect => Outcome::Redirect {
            to: navigation.to,
            flash,
        },
        NavigationKind::Navigate | NavigationKind::Patch => Outcome::LiveRedirect {
            to: navigation.to,
            kind: navigate::history_kind(navigation.replace),
            flash,
        },
    }
}

/// A component id as the client sends it: a number, or digits in a string (`phx-target="3"`).
fn cid_of(value: &Value) -> Option<u32> {
    match value {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// `[tag, {attrs}]` of a route's container, as a join reply's `container` (a `div` by default).
fn container_json(container: Option<&livewasm_runtime::Container>) -> Value {
    match container {
        Some(container) => {
            let attrs: Map<String, Value> = container
                .attrs
                .iter()
                .filter(|(name, _)| !crate::page::reserved_attr(name))
                .map(|(name, value)| (name.clone(), Value::String(value.clone())))
                .collect();
            json!([container.tag, attrs])
        }
        None => json!(["div", {}]),
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
    for command in effects.pubsub {
        channel.bus.apply(command);
    }
    for command in effects.tasks {
        apply_task(channel, command);
    }
    if !effects.released_uploads.is_empty() {
        let mut uploads = channel.uploads.lock();
        for (upload_ref, entry_ref) in &effects.released_uploads {
            uploads.release(upload_ref, entry_ref);
        }
    }
    diff.push_events(effects.events);
    Ok(diff.into_value())
}

/// Records a task the view started (to run after this callback) or cancelled.
fn apply_task(channel: &mut Channel, command: livewasm_runtime::TaskCommand) {
    use livewasm_runtime::TaskCommand;
    static NEXT_TAG: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    match command {
        TaskCommand::Start { name, task, args } => {
            let tag = NEXT_TAG.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            channel.tasks.insert(name.clone(), tag);
            channel.pending.retain(|p| p.name != name);
            channel.pending.push(PendingTask {
                channel: channel.bus.id(),
                name,
                tag,
                app: channel.instance.app().clone(),
                task,
                args,
                usage: channel.usage.clone(),
            });
        }
        TaskCommand::Cancel { name } => {
            channel.pending.retain(|p| p.name != name);
            if let Some(tag) = channel.tasks.get(&name).copied() {
                // The cancellation reaches `handle-async` like a result, after this callback.
                let done = TaskDone {
                    channel: channel.bus.id(),
                    name,
                    tag,
                    result: Err("cancelled".into()),
                };
                if channel.bus.inbox().try_send(Inbound::Task(done)).is_err() {
                    tracing::warn!(app = %channel.app, "task cancellation dropped: inbox full");
                }
            }
        }
    }
}
