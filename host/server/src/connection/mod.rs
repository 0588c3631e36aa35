//! [`Connection`]: Phoenix channels V2 for one socket, free of any transport.
//!
//! Text frames go in, frames to send come out. Each joined `lv:` topic is a [`Channel`] owning
//! one guest instance and its timers. The files follow Phoenix's own seam:
//!
//! - `verify`: a join's tokens, route and live session are checked;
//! - `join`: the view mounts (instance slot, `mount`, first `handle-params` and render);
//! - `events`: user events, live patches, component clean-up, server deliveries;
//! - `uploads`: preflights, `lvu:` channels, binary chunks and progress;
//! - `pipeline`: the one path every guest callback takes (call → navigation → render →
//!   effects → diff → frames);
//! - `outbound`: refusals, `phx_close`, and `phx_error` when a guest traps (the client rejoins
//!   and the view mounts fresh).

use std::collections::HashMap;
use std::sync::Arc;

use livewasm_protocol::frame::Frame;
use livewasm_protocol::keys::{events as event, status, topics};
use livewasm_runtime::CallError;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::guest_pool::Tenant;
use crate::host::Host;
use crate::inbox::{Inbound, InboxBudget, InboxReceiver, InboxSender};
use crate::pubsub::INBOX_CAPACITY;
use crate::sites::SiteId;

mod channel;
mod events;
mod join;
mod outbound;
mod pipeline;
mod scope;
mod sleep;
mod upgrade;
mod uploads;
mod verify;
mod wake;

use channel::Channel;
pub use channel::PendingTask;
use pipeline::Step;
use scope::Scope;
pub(crate) use wake::Pending;

/// The channels of one socket.
pub struct Connection {
    host: Arc<Host>,
    site: SiteId,
    /// The verified session, as compact JSON text: an idle socket keeps it for its next join,
    /// and text costs a fraction of a parsed map's nodes.
    session: Option<Box<str>>,
    /// The joined views by topic, boxed: the table's spare slots stay pointer-sized.
    channels: HashMap<String, Box<Channel>>,
    inbox_tx: InboxSender,
    inbox_rx: Option<InboxReceiver>,
    /// The dev reload channel, once the page's glue joined it.
    reload: Option<crate::dev_reload::Joined>,
    /// Who this socket's guest work is charged to, once its first view joined (its app, on
    /// the default site); until then the site's tenant, or the default site as a whole.
    charged: Option<Tenant>,
    /// The client address's socket slot, which also pays for joins (sockets served by
    /// [`serve`](crate::serve)).
    peer: Option<crate::peers::PeerSocket>,
    /// The metrics of the socket's app (its first view's, on the default site), once a view
    /// joined: what the socket sends is counted there.
    metrics: Option<Arc<crate::metrics::AppMetrics>>,
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
        let budget = InboxBudget::new(
            host.config().inbox_bytes_per_socket,
            host.inbox_totals().clone(),
        );
        let (inbox_tx, inbox_rx) = crate::inbox::inbox(INBOX_CAPACITY, budget);
        Connection {
            host,
            site,
            session: session.map(|session| session.to_string().into_boxed_str()),
            channels: HashMap::new(),
            inbox_tx,
            inbox_rx: Some(inbox_rx),
            reload: None,
            charged: None,
            peer: None,
            metrics: None,
        }
    }

    /// Counts this socket's joins against its client address's rate (and holds the address's
    /// socket slot while the connection lives).
    pub(crate) fn set_peer(&mut self, peer: crate::peers::PeerSocket) {
        self.peer = Some(peer);
    }

    /// Who this socket's guest work is charged to in the guest pool: its tenant on a
    /// platform site; on the default site, the app of the first view it joined.
    pub(crate) fn charged_to(&self) -> Tenant {
        match &self.charged {
            Some(tenant) => tenant.clone(),
            None => self.site.charged_to(""),
        }
    }

    /// The metrics of the socket's app, once a view joined (its first view's app on the
    /// default site).
    pub(crate) fn metrics(&self) -> Option<&Arc<crate::metrics::AppMetrics>> {
        self.metrics.as_ref()
    }

    /// The socket's site, as its channels see it.
    fn scope(&self) -> Scope<'_> {
        Scope {
            host: &self.host,
            site: &self.site,
        }
    }

    /// Handles one text frame; returns the frames to send, in order.
    pub fn handle_text(&mut self, text: &str) -> Vec<Frame> {
        let frame = match Frame::parse_limited(text, self.host.config().max_frame_bytes) {
            Ok(frame) => frame,
            Err(error) => {
                tracing::debug!("malformed frame: {error}");
                let reason = outbound::refuse(&error.to_string());
                return vec![match error.reply_target() {
                    Some((join_ref, msg_ref, topic)) => Frame {
                        join_ref,
                        msg_ref: Some(msg_ref),
                        topic,
                        event: event::REPLY.into(),
                        payload: json!({"status": status::ERROR, "response": reason}),
                    },
                    None => Frame::push(None, topics::PHOENIX, event::ERROR, reason),
                }];
            }
        };
        let mut out = Vec::new();
        // A span per frame (not heartbeats): a trace shows each event, join and patch with its
        // time inside the socket's span.
        let span = if frame.event == event::HEARTBEAT {
            tracing::Span::none()
        } else {
            tracing::info_span!("message", event = %frame.event, topic = %frame.topic)
        };
        let _entered = span.enter();
        let topic = frame.topic.as_str();
        match frame.event.as_str() {
            event::HEARTBEAT if topic == topics::PHOENIX => {
                out.push(frame.reply(status::OK, json!({})))
            }
            event::JOIN if topic == crate::dev_reload::TOPIC => {
                let (frames, joined) = crate::dev_reload::join(&self.host, &self.site, &frame);
                out.extend(frames);
                self.reload = joined;
            }
            event::LEAVE if topic == crate::dev_reload::TOPIC => {
                self.reload = None;
                out.push(frame.reply(status::OK, json!({})));
            }
            event::JOIN if topic.starts_with(topics::UPLOAD_PREFIX) => {
                self.join_upload(&frame, &mut out)
            }
            event::LEAVE if topic.starts_with(topics::UPLOAD_PREFIX) => {
                self.leave_upload(&frame, &mut out)
            }
            event::JOIN => self.join(frame, &mut out),
            event::LEAVE => self.leave(&frame, &mut out),
            _ => self.channel_message(frame, &mut out),
        }
        self.flush_upload_closes(&mut out);
        out
    }

    /// A message on a joined view's topic.
    fn channel_message(&mut self, frame: Frame, out: &mut Vec<Frame>) {
        let joined = self
            .channels
            .get(&frame.topic)
            .is_some_and(|c| c.join_ref == frame.join_ref);
        if !joined {
            out.push(frame.reply(status::ERROR, outbound::refuse("unmatched topic")));
            return;
        }
        match frame.event.as_str() {
            event::EVENT => self.event(frame, out),
            event::LIVE_PATCH => self.live_patch(frame, out),
            event::CIDS_WILL_DESTROY => out.push(frame.reply(status::OK, json!({}))),
            event::CIDS_DESTROYED => self.cids_destroyed(frame, out),
            event::ALLOW_UPLOAD => self.allow_upload(frame, out),
            event::PROGRESS => self.upload_progress(frame, out),
            other => {
                let reason = format!("unknown event `{other}`");
                out.push(frame.reply(status::ERROR, outbound::refuse(&reason)));
            }
        }
    }

    /// Runs a guest callback of the view on `topic` through the [pipeline](pipeline). A crash
    /// ends the channel (`phx_error` in `out`) and gives `None`; so does an unknown topic.
    fn run(
        &mut self,
        topic: &str,
        out: &mut Vec<Frame>,
        call: impl FnOnce(&mut livewasm_runtime::Instance) -> Result<Option<Value>, CallError>,
    ) -> Option<Step> {
        self.run_channel(topic, out, |channel| call(channel.live()?))
    }

    /// [`Self::run`] for a callback that needs the whole channel (a patch moves its URL).
    fn run_channel(
        &mut self,
        topic: &str,
        out: &mut Vec<Frame>,
        call: impl FnOnce(&mut Channel) -> Result<Option<Value>, CallError>,
    ) -> Option<Step> {
        let scope = Scope {
            host: &self.host,
            site: &self.site,
        };
        let channel = self.channels.get_mut(topic)?;
        match channel.run(&scope, call) {
            Ok(step) => Some(step),
            Err(error) => {
                self.crash(topic, &error, out);
                None
            }
        }
    }

    /// Drops a crashed view and tells the client (and, on a dev page, shows why over it).
    fn crash(&mut self, topic: &str, error: &CallError, out: &mut Vec<Frame>) {
        if let Some(channel) = self.channels.remove(topic) {
            channel.metrics.errors.inc();
            tracing::warn!(component = %channel.app, view = %channel.view, topic, "view crashed: {error}");
            out.push(outbound::crashed(channel.join_ref.clone(), topic, error));
            out.extend(crate::dev_reload::on_crash(
                self.reload.as_ref(),
                &channel.app,
                &channel.view,
                error,
            ));
        }
    }

    /// Frames telling this socket's page that its app was replaced (dev live reload).
    pub(crate) fn dev_reloaded(&self, reloaded: &crate::dev_reload::Reloaded) -> Vec<Frame> {
        crate::dev_reload::on_reloaded(self.reload.as_ref(), reloaded)
    }

    /// When the next view may hibernate (`hibernate_after` past its last callback), if any
    /// view is live and may; the transport wakes then and calls [`Self::hibernate_idle`].
    pub fn next_hibernation(&self) -> Option<Instant> {
        let after = self.host.config().hibernate_after;
        if after.is_zero() {
            return None;
        }
        self.channels
            .values()
            .filter(|c| !c.idle.never && !c.instance.is_asleep())
            .map(|c| c.idle.last_active + after)
            .min()
    }

    /// Hibernates the views idle since `hibernate_after` before `now` that may: no timer due
    /// within [`sleep::TIMER_MARGIN`], no task running or starting, no upload entry. A view
    /// that cannot is looked at again after another `hibernate_after` (or never, when its
    /// component has no hibernation export). Returns how many went to sleep.
    pub fn hibernate_idle(&mut self, now: Instant) -> usize {
        let after = self.host.config().hibernate_after;
        if after.is_zero() {
            return 0;
        }
        let mut slept = 0;
        for channel in self.channels.values_mut() {
            if channel.idle.never
                || channel.instance.is_asleep()
                || now < channel.idle.last_active + after
            {
                continue;
            }
            let timer_soon = channel
                .timers
                .iter()
                .any(|t| t.due < now + sleep::TIMER_MARGIN);
            let busy = timer_soon
                || !channel.tasks.is_empty()
                || !channel.pending.is_empty()
                || channel.uploads.lock().len() > 0;
            if busy {
                channel.idle.last_active = now;
                continue;
            }
            match channel.instance.hibernate(&channel.metrics) {
                Ok(bytes) => {
                    slept += 1;
                    tracing::debug!(view = %channel.view, bytes, "view hibernated");
                }
                Err(livewasm_runtime::HibernateRefusal::Unsupported) => channel.idle.never = true,
                Err(why) => {
                    tracing::debug!(view = %channel.view, "view stays live: {why}");
                    channel.idle.last_active = now;
                }
            }
        }
        slept
    }

    /// When the socket may park although views are live: `park_after` past the last callback
    /// of the view called last. `None` when no view is live (a socket whose views all
    /// hibernated parks at once) or when parking live views is off (`park_after` zero).
    pub fn next_park(&self) -> Option<Instant> {
        let after = self.host.config().park_after;
        if after.is_zero() {
            return None;
        }
        self.channels
            .values()
            .filter(|c| !c.instance.is_asleep())
            .map(|c| c.idle.last_callback + after)
            .max()
    }

    /// True while a view has a task started or running: the socket stays live for it.
    pub fn has_tasks(&self) -> bool {
        self.channels
            .values()
            .any(|c| !c.pending.is_empty() || !c.tasks.is_empty())
    }

    /// Views of this socket hibernated now.
    pub fn hibernated_count(&self) -> usize {
        self.channels
            .values()
            .filter(|c| c.instance.is_asleep())
            .count()
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
            while let Some(message) = self
                .channels
                .get_mut(&topic)
                .and_then(|channel| channel.take_due(now))
            {
                self.info(&topic, message.as_str(), &mut out);
            }
        }
        out
    }

    /// Delivers `message` to the view on `topic` (like `send(view.pid, message)`).
    pub fn deliver_info(&mut self, topic: &str, message: Value) -> Vec<Frame> {
        let mut out = Vec::new();
        self.info(topic, &message.to_string(), &mut out);
        out
    }

    /// Number of joined views.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// The socket's inbox (pub/sub messages, task results), for the transport to poll; `None`
    /// once taken. Until it is taken, [`Self::settle`] reads it.
    pub fn take_inbox(&mut self) -> Option<InboxReceiver> {
        self.inbox_rx.take()
    }

    /// Where task results go (the transport sends [`PendingTask::run`]'s result here).
    pub(crate) fn inbox_sender(&self) -> InboxSender {
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
    /// `handle-async` through the pipeline, and `diff` pushes. A stale task result (the task
    /// was cancelled or restarted since) and anything for a view that left are dropped.
    pub fn handle_inbound(&mut self, inbound: Inbound) -> Vec<Frame> {
        let mut out = Vec::new();
        let id = inbound.channel();
        let Some(topic) = self
            .channels
            .iter()
            .find(|(_, c)| c.bus.id() == id)
            .map(|(topic, _)| topic.clone())
        else {
            return out;
        };
        match inbound {
            Inbound::Message { message, .. } => {
                if let Some(channel) = self.channels.get(&topic) {
                    channel.metrics.pubsub_messages.inc();
                }
                // The shared text goes to the guest as it is; its charge ends once delivered.
                self.info(&topic, message.json(), &mut out);
            }
            Inbound::Task(done) => {
                let current = self
                    .channels
                    .get_mut(&topic)
                    .is_some_and(|channel| channel.finish_task(&done));
                if !current {
                    return out;
                }
                if let Some(step) = self.run(&topic, &mut out, |instance| {
                    instance
                        .handle_async(
                            &done.name,
                            done.result
                                .as_ref()
                                .map(|value| value.json())
                                .map_err(String::as_str),
                        )
                        .map(|()| None)
                }) {
                    step.push_to(&topic, &mut out);
                }
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
}
