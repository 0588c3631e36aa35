//! Joining and leaving a view's topic: after [`verify`](super::verify) passed, mount — take a
//! tenant instance slot, instantiate, `mount`, then the first `handle-params` and render
//! through the [pipeline](super::pipeline) — and reply with the rendered tree.

use std::collections::HashMap;
use std::sync::Arc;

use livewasm_protocol::frame::Frame;
use livewasm_protocol::keys::{JoinPayload, status};
use livewasm_runtime::{CallError, MountRequest, RuntimeError};
use serde_json::{Map, Value, json};

use super::channel::Channel;
use super::outbound::{close, refuse};
use super::sleep::{Idle, ViewInstance};
use super::verify::join_flash;
use super::{Connection, uploads};
use crate::metrics::LOCAL_TENANT;
use crate::navigate::{self, Outcome};
use crate::pubsub::Subscriptions;
use crate::routes::query_params;

/// The client version we speak; sent in join replies.
const LIVEVIEW_VERSION: &str = "1.2.12";

/// A mounted view, ready to be kept, and its join reply.
struct Mounted {
    channel: Channel,
    response: Map<String, Value>,
}

impl Connection {
    /// `phx_join` on `lv:<id>`.
    pub(super) fn join(&mut self, frame: Frame, out: &mut Vec<Frame>) {
        let Some(id) = frame
            .topic
            .strip_prefix(livewasm_protocol::keys::topics::VIEW_PREFIX)
            .map(str::to_string)
        else {
            out.push(frame.reply(status::ERROR, refuse("unmatched topic")));
            return;
        };
        if let Some(Err(refusal)) = self.peer.as_ref().map(|peer| peer.join()) {
            tracing::info!(topic = %frame.topic, "join refused: {refusal}");
            out.push(frame.reply(status::ERROR, refuse(&refusal.to_string())));
            return;
        }
        // A second join on a joined topic closes the old channel first.
        if let Some(old) = self.channels.remove(&frame.topic) {
            out.push(close(old.join_ref.clone(), &frame.topic));
        }
        match self.mount(&frame, &id) {
            Ok(Mounted { channel, response }) => {
                if self.charged.is_none() {
                    self.charged = Some(self.site.charged_to(&channel.app));
                }
                channel.metrics.joins.inc();
                if self.metrics.is_none() {
                    self.metrics = Some(channel.metrics.clone());
                }
                self.channels.insert(frame.topic.clone(), Box::new(channel));
                out.push(frame.reply(status::OK, Value::Object(response)));
            }
            Err(reason) => out.push(frame.reply(status::ERROR, reason)),
        }
    }

    /// `phx_leave` on a view's topic.
    pub(super) fn leave(&mut self, frame: &Frame, out: &mut Vec<Frame>) {
        out.push(frame.reply(status::OK, json!({})));
        if let Some(channel) = self.channels.remove(&frame.topic) {
            out.push(close(channel.join_ref.clone(), &frame.topic));
        }
    }

    /// Verifies a join and mounts its view; the error is the reply's response (a refusal, or
    /// the redirect an `on_mount` hook or the mount asked for). A `push_patch` from the first
    /// `handle_params` comes back as the join's `live_patch`.
    fn mount(&self, frame: &Frame, id: &str) -> Result<Mounted, Value> {
        let Some(user_session) = self
            .session
            .as_deref()
            .and_then(|text| serde_json::from_str::<Value>(text).ok())
        else {
            return Err(refuse("stale"));
        };
        if self.channels.len() >= self.host.config().max_channels_per_socket {
            return Err(refuse("too many views on this socket"));
        }
        let payload: JoinPayload =
            serde_json::from_value(frame.payload.clone()).unwrap_or_default();
        let authorized = self.authorize(&payload, id)?;
        let scope = self.scope();
        let flash = join_flash(&scope, &payload, &authorized);
        let routed = &authorized.routed;
        let app_name = routed.route_app.as_str();
        let metrics = match routed.site.id().tenant_app() {
            Some((tenant, app)) => self.host.metrics().app(tenant, app),
            None => self.host.metrics().app(LOCAL_TENANT, app_name),
        };
        let slot = match routed.site.usage() {
            Some(usage) => Some(usage.try_acquire().ok_or_else(|| {
                tracing::info!(
                    site = routed.site.label(),
                    "join refused: tenant at its instance quota"
                );
                refuse("capacity")
            })?),
            None => None,
        };
        let mut instance = routed.app.instantiate().map_err(|e| match e {
            RuntimeError::PoolExhausted(_) => refuse("capacity"),
            other => {
                tracing::error!(component = app_name, "instantiate failed: {other}");
                refuse("join crashed")
            }
        })?;
        let mut params = routed.path_params.clone();
        params.extend(query_params(routed.query.as_deref()));
        let params = Value::Object(params);
        let request = MountRequest {
            view: routed.route.view.clone(),
            action: routed.route.action.clone(),
            params: params.clone(),
            session: user_session,
            url: authorized.url.clone(),
            connected: true,
            live_session: routed.route.live_session.clone(),
            flash,
        };
        let failed = |error: CallError| {
            metrics.errors.inc();
            tracing::warn!(component = app_name, view = %request.view, "mount failed: {error}");
            refuse("join crashed")
        };
        instance.mount(&request).map_err(failed)?;
        // An `on_mount` hook or `mount` itself may send the client elsewhere.
        if let Some(navigation) = instance.take_navigation().and_then(navigate::checked) {
            let (key, value) = scope.leave_to(navigation).reply_entry();
            return Err(json!({ key: value }));
        }
        let bus_scope: Arc<str> =
            Arc::from(format!("{}#{app_name}", scope.label().unwrap_or_default()));
        let bus = Subscriptions::new(
            self.host.broker.clone(),
            bus_scope,
            self.host.broker.channel_id(),
            self.inbox_tx.clone(),
        );
        let view_uploads = self.new_view_uploads();
        uploads::attach(&mut instance, &view_uploads);
        let mut channel = Channel {
            join_ref: frame.join_ref.clone(),
            instance: ViewInstance::awake(instance, &metrics, slot),
            idle: Idle::new(),
            app: app_name.to_string(),
            view: routed.route.view.clone(),
            url: authorized.url.clone(),
            live_session: routed.route.live_session.clone(),
            timers: Vec::new(),
            bus,
            tasks: HashMap::new(),
            pending: Vec::new(),
            usage: routed.site.usage().cloned(),
            uploads: view_uploads,
            metrics: metrics.clone(),
            reserved: None,
        };
        let action = routed.route.action.clone();
        let url = authorized.url.clone();
        let step = channel
            .run(&scope, |channel| {
                channel
                    .live()?
                    .handle_params(&params, &url, action.as_deref())
                    .map(|()| None)
            })
            .map_err(failed)?;
        let mut response = Map::new();
        match &step.outcome {
            Some(Outcome::Patch { .. }) | None => {}
            Some(other) => {
                let (key, value) = other.reply_entry();
                return Err(json!({ key: value }));
            }
        }
        tracing::debug!(component = app_name, view = %channel.view, topic = %frame.topic, "joined");
        let patch = step.outcome.clone();
        response.insert("rendered".into(), Value::Object(step.diff));
        response.insert("liveview_version".into(), json!(LIVEVIEW_VERSION));
        // After live navigation the client takes the new route's container attributes; it
        // cannot change the element's tag (the official client keeps the page's element), so
        // a route with another tag keeps the page's container until a full page load.
        let route_tag = routed
            .route
            .container
            .as_ref()
            .map_or("div", |c| c.tag.as_str());
        if authorized.navigation && authorized.page_container == route_tag {
            response.insert(
                "container".into(),
                container_json(routed.route.container.as_ref()),
            );
        }
        if let Some(patch) = patch {
            let (key, value) = patch.reply_entry();
            response.insert(key, value);
        }
        Ok(Mounted { channel, response })
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
