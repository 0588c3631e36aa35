//! The one callback pipeline every guest callback of a joined view goes through, as
//! phoenix_live_view's channel does it:
//!
//! call → follow the navigation it asked for (a patch of this view runs `handle-params`
//! again; anything else leaves the view) → render → carry out its effects (timers, pub/sub,
//! tasks, released uploads; push events ride on the diff) → diff → frames ([`Step`]).
//!
//! Events, live patches, server messages, task results, timers, upload preflights and
//! progress, and the first `handle-params` of a mount all take this one path, so navigation,
//! flash, push events and replies behave the same whichever callback asked for them.

use livewasm_protocol::frame::Frame;
use livewasm_protocol::keys::{events, rendered, status};
use livewasm_runtime::{CallError, Navigation, NavigationKind};
use serde_json::{Map, Value};

use super::channel::Channel;
use super::scope::Scope;
use crate::navigate::{self, Outcome};
use crate::routes::query_params;

/// Most patches one callback may chain (a `handle_params` patching again …).
const MAX_PATCHES: usize = 8;

/// What one callback produced, ready to frame.
#[derive(Debug)]
pub(super) struct Step {
    /// The channel's join ref (pushes carry it).
    join_ref: Option<String>,
    /// A hook's reply (`pushEvent(…, reply => …)`), only for events.
    pub(super) reply: Option<Value>,
    /// Where the view asked to go: a patch already carried out, or a navigation leaving it.
    pub(super) outcome: Option<Outcome>,
    /// The diff, with push events (`{}` when nothing changed).
    pub(super) diff: Map<String, Value>,
}

impl Step {
    /// A reply's response: `{diff?, live_patch | live_redirect | redirect?}`, the hook reply
    /// inside the diff (`r`), as the client reads it.
    pub(super) fn into_response(mut self) -> Map<String, Value> {
        if let Some(reply) = self.reply.take() {
            self.diff.insert(rendered::REPLY.into(), reply);
        }
        let mut response = Map::new();
        if !self.diff.is_empty() {
            response.insert(events::DIFF.into(), Value::Object(self.diff));
        }
        if let Some(outcome) = self.outcome {
            let (key, value) = outcome.reply_entry();
            response.insert(key, value);
        }
        response
    }

    /// The `ok` reply to the frame that caused this step.
    pub(super) fn reply_to(self, frame: &Frame) -> Frame {
        frame.reply(status::OK, Value::Object(self.into_response()))
    }

    /// Pushes for a callback the server started (info, async result, timer, upload error): the
    /// history change first, then the diff it caused, as Phoenix orders them.
    pub(super) fn push_to(self, topic: &str, out: &mut Vec<Frame>) {
        if let Some(outcome) = &self.outcome {
            out.push(Frame::push(
                self.join_ref.clone(),
                topic,
                outcome.event(),
                outcome.payload(),
            ));
        }
        if !self.diff.is_empty() {
            out.push(Frame::push(
                self.join_ref,
                topic,
                events::DIFF,
                Value::Object(self.diff),
            ));
        }
    }
}

impl Channel {
    /// Runs `call` (a guest callback of this view, returning a hook's reply if any) through
    /// the pipeline. The error is the guest's: the caller crashes the channel with it.
    pub(super) fn run(
        &mut self,
        scope: &Scope<'_>,
        call: impl FnOnce(&mut Channel) -> Result<Option<Value>, CallError>,
    ) -> Result<Step, CallError> {
        let now = tokio::time::Instant::now();
        self.idle.last_active = now;
        self.idle.last_callback = now;
        let reply = call(self)?;
        let outcome = self.follow_navigation(scope)?;
        let diff = self.render()?;
        Ok(Step {
            join_ref: self.join_ref.clone(),
            reply,
            outcome,
            diff,
        })
    }

    /// Renders, carries out the effects the callbacks recorded, and returns the diff.
    fn render(&mut self) -> Result<Map<String, Value>, CallError> {
        let mut diff = self.live()?.render()?;
        let effects = self.live()?.take_effects();
        diff.push_events(self.apply(effects));
        Ok(match diff.into_value() {
            Value::Object(map) => map,
            _ => Map::new(),
        })
    }

    /// Carries out the navigation the view asked for in its last callback: a patch of this
    /// view runs `handle-params` (again, if that patches too); anything else leaves the view.
    /// `None` when the view asked for nothing.
    fn follow_navigation(&mut self, scope: &Scope<'_>) -> Result<Option<Outcome>, CallError> {
        let mut outcome = None;
        for _ in 0..MAX_PATCHES {
            let Some(navigation) = self.live()?.take_navigation().and_then(navigate::checked)
            else {
                return Ok(outcome);
            };
            if navigation.kind != NavigationKind::Patch {
                return Ok(Some(scope.leave_to(navigation)));
            }
            let target = navigate::absolute(&self.url, &navigation.to).and_then(|url| {
                let matched = scope.route(&url)?;
                self.keeps(&matched.route_app, &matched.route)
                    .then_some((url, matched))
            });
            let Some((url, matched)) = target else {
                // A patch to another view is a live navigation, as the client would do.
                let navigation = Navigation {
                    kind: NavigationKind::Navigate,
                    ..navigation
                };
                return Ok(Some(scope.leave_to(navigation)));
            };
            self.patch_to(url, matched)?;
            outcome = Some(Outcome::Patch {
                to: navigation.to,
                kind: navigate::history_kind(navigation.replace),
            });
        }
        tracing::warn!(component = %self.app, view = %self.view, "more than {MAX_PATCHES} chained patches; the rest are ignored");
        Ok(outcome)
    }

    /// True when a route of app `app` stays in this view and its live session (a patch).
    pub(super) fn keeps(&self, app: &str, route: &livewasm_runtime::Route) -> bool {
        app == self.app && route.view == self.view && route.live_session == self.live_session
    }

    /// Moves the view to `url` (a route of this view) and runs `handle-params` there.
    pub(super) fn patch_to(
        &mut self,
        url: String,
        matched: super::scope::Routed,
    ) -> Result<(), CallError> {
        let mut params = matched.path_params;
        params.extend(query_params(matched.query.as_deref()));
        self.url = url.clone();
        self.live()?.handle_params(
            &Value::Object(params),
            &url,
            matched.route.action.as_deref(),
        )
    }
}
