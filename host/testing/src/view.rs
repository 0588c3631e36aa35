//! [`LiveView`]: one joined view, driven like the official client drives it.

use std::time::Duration;

use livewasm_protocol::client::ClientRendered;
use livewasm_protocol::frame::Frame;
use livewasm_server::Connection;
use serde_json::{Value, json};

use crate::HarnessError;
use crate::element::Element;
use crate::navigation::{Redirect, RedirectKind, redirect_in};

mod upload;
pub use upload::{Upload, UploadFile};

/// What a join needs from the dead-rendered page.
#[derive(Debug, Clone)]
pub(crate) struct JoinInfo {
    pub(crate) id: String,
    pub(crate) session: String,
    pub(crate) static_token: Option<String>,
    pub(crate) csrf: String,
}

/// A connected view under test.
pub struct LiveView {
    connection: Connection,
    url: String,
    join: JoinInfo,
    topic: String,
    join_ref: String,
    next_ref: u64,
    rendered: Option<ClientRendered>,
    events: Vec<(String, Value)>,
    replies: Vec<Value>,
    crashed: Option<Value>,
    last_diff: Option<Value>,
    /// Paths patched to (`live_patch`), oldest first, not yet asserted.
    patches: Vec<String>,
    /// Redirects received, oldest first, not yet asserted.
    redirects: Vec<Redirect>,
    /// Join with `redirect` (after a live navigation) instead of `url`.
    navigated: bool,
    /// The flash token the next join carries.
    join_flash: Option<String>,
}

impl LiveView {
    pub(crate) fn new(connection: Connection, url: String, join: JoinInfo) -> LiveView {
        let topic = format!("lv:{}", join.id);
        LiveView {
            connection,
            url,
            join,
            topic,
            join_ref: String::new(),
            next_ref: 0,
            rendered: None,
            events: Vec::new(),
            replies: Vec::new(),
            crashed: None,
            last_diff: None,
            patches: Vec::new(),
            redirects: Vec::new(),
            navigated: false,
            join_flash: None,
        }
    }

    /// Joins carrying this flash token (as after a live redirect).
    pub(crate) fn with_join_flash(mut self, token: Option<String>) -> LiveView {
        self.join_flash = token;
        self
    }

    /// The view's current URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Records the navigation a reply or join carried: a patch updates the URL; a redirect
    /// is returned as [`HarnessError::Redirect`].
    fn navigation(&mut self, response: &Value) -> Result<(), HarnessError> {
        if let Some(to) = response
            .get("live_patch")
            .and_then(|p| p.get("to"))
            .and_then(Value::as_str)
        {
            self.patched(to);
        }
        match redirect_in(response) {
            Some(redirect) => {
                self.redirects.push(redirect.clone());
                Err(HarnessError::Redirect(redirect))
            }
            None => Ok(()),
        }
    }

    fn patched(&mut self, to: &str) {
        self.url = absolute(&self.url, to);
        self.patches.push(to.to_string());
    }

    /// `render_patch(view, path)`: a client-side live patch (a `patch` link, back/forward).
    /// Returns the HTML, or [`HarnessError::Redirect`] (live) when the path is not this view's.
    pub fn render_patch(&mut self, path: &str) -> Result<String, HarnessError> {
        let url = absolute(&self.url, path);
        let msg_ref = self.fresh_ref();
        let frame = Frame {
            join_ref: Some(self.join_ref.clone()),
            msg_ref: Some(msg_ref.clone()),
            topic: self.topic.clone(),
            event: "live_patch".into(),
            payload: json!({"url": url}),
        };
        let frames = self.connection.handle_text(&frame.encode());
        let reply = self.absorb(frames, &msg_ref)?;
        match reply_status(&reply) {
            ("ok", response) => {
                if response.get("link_redirect").and_then(Value::as_bool) == Some(true) {
                    let redirect = Redirect {
                        kind: RedirectKind::Live,
                        to: path.to_string(),
                        flash_token: None,
                        replace: false,
                    };
                    self.redirects.push(redirect.clone());
                    return Err(HarnessError::Redirect(redirect));
                }
                self.url = url;
                self.patches.push(path.to_string());
                self.last_diff = response.get("diff").cloned();
                if let Some(diff) = response.get("diff") {
                    self.merge(diff.clone())?;
                }
                self.navigation(response)?;
                Ok(self.render())
            }
            (_, response) => Err(HarnessError::PushRefused(response.clone())),
        }
    }

    /// A live navigation to `path` on the same socket and topic, as the client does for a
    /// `navigate` link or a `live_redirect`: leave, then join with `redirect` (and the flash
    /// token). Returns the new view's HTML; a refusal is [`HarnessError::JoinRefused`].
    pub fn live_redirect(
        &mut self,
        path: &str,
        flash_token: Option<&str>,
    ) -> Result<String, HarnessError> {
        let leave_ref = self.fresh_ref();
        let leave = Frame {
            join_ref: Some(self.join_ref.clone()),
            msg_ref: Some(leave_ref),
            topic: self.topic.clone(),
            event: "phx_leave".into(),
            payload: json!({}),
        };
        let _ = self.connection.handle_text(&leave.encode());
        self.url = absolute(&self.url, path);
        self.navigated = true;
        self.join_flash = flash_token.map(str::to_string);
        self.rendered = None;
        self.join()
    }

    /// Follows a live redirect in place ([`Self::live_redirect`] with its flash).
    pub fn follow_live_redirect(&mut self, redirect: &Redirect) -> Result<String, HarnessError> {
        self.live_redirect(&redirect.to, redirect.flash_token.as_deref())
    }

    /// `assert_patch(view)`: the path of the oldest patch not yet asserted.
    pub fn assert_patch(&mut self) -> Option<String> {
        (!self.patches.is_empty()).then(|| self.patches.remove(0))
    }

    /// `assert_redirect(view)`: the oldest redirect not yet asserted.
    pub fn assert_redirect(&mut self) -> Option<Redirect> {
        (!self.redirects.is_empty()).then(|| self.redirects.remove(0))
    }

    fn fresh_ref(&mut self) -> String {
        self.next_ref += 1;
        self.next_ref.to_string()
    }

    /// Sends `phx_join` (a first join, or a rejoin after a crash) and returns the HTML.
    pub(crate) fn join(&mut self) -> Result<String, HarnessError> {
        let msg_ref = self.fresh_ref();
        self.join_ref = msg_ref.clone();
        // A rejoin starts a fresh channel: the crash it recovers from is over.
        self.crashed = None;
        let mounts = u64::from(self.rendered.is_some());
        let mut payload = json!({
            "params": {"_csrf_token": self.join.csrf, "_mounts": mounts, "_mount_attempts": 0},
            "session": self.join.session,
            "static": self.join.static_token,
            "sticky": false,
        });
        if let Some(map) = payload.as_object_mut() {
            let key = if self.navigated { "redirect" } else { "url" };
            map.insert(key.into(), json!(self.url));
            if let Some(flash) = self.join_flash.take() {
                map.insert("flash".into(), json!(flash));
            }
        }
        let frame = Frame {
            join_ref: Some(msg_ref.clone()),
            msg_ref: Some(msg_ref.clone()),
            topic: self.topic.clone(),
            event: "phx_join".into(),
            payload,
        };
        let frames = self.connection.handle_text(&frame.encode());
        let reply = self.absorb(frames, &msg_ref)?;
        match reply_status(&reply) {
            ("ok", response) => {
                let rendered = response.get("rendered").cloned().unwrap_or(Value::Null);
                // Events ride on the join render as on a diff.
                collect_top_level(&rendered, &mut self.events, &mut self.replies);
                let client = ClientRendered::new(rendered)
                    .map_err(|e| HarnessError::Merge(e.to_string()))?;
                self.rendered = Some(client);
                let response = response.clone();
                self.navigation(&response)?;
                Ok(self.render())
            }
            (_, response) => match redirect_in(response) {
                Some(redirect) => {
                    self.redirects.push(redirect.clone());
                    Err(HarnessError::Redirect(redirect))
                }
                None => Err(HarnessError::JoinRefused(response.clone())),
            },
        }
    }

    /// Rejoins after a crash, as the client does after `phx_error`; returns the fresh HTML.
    pub fn rejoin(&mut self) -> Result<String, HarnessError> {
        self.join()
    }

    /// Processes the server's frames: merges pushed diffs, records crashes, and returns the
    /// reply to `msg_ref`.
    fn absorb(&mut self, frames: Vec<Frame>, msg_ref: &str) -> Result<Value, HarnessError> {
        let mut reply = None;
        for frame in frames {
            self.absorb_push(&frame)?;
            if frame.event == "phx_reply" && frame.msg_ref.as_deref() == Some(msg_ref) {
                reply = Some(frame.payload);
            }
        }
        if let Some(reason) = &self.crashed {
            return Err(HarnessError::Crashed(reason.clone()));
        }
        reply.ok_or_else(|| HarnessError::NoReply(msg_ref.to_string()))
    }

    /// Handles one server frame that is not a reply we wait for.
    fn absorb_push(&mut self, frame: &Frame) -> Result<(), HarnessError> {
        if frame.topic != self.topic || frame.join_ref.as_deref() != Some(self.join_ref.as_str()) {
            return Ok(());
        }
        match frame.event.as_str() {
            "diff" => self.merge(frame.payload.clone()),
            "live_patch" => {
                if let Some(to) = frame.payload.get("to").and_then(Value::as_str) {
                    self.patched(to);
                }
                Ok(())
            }
            "live_redirect" | "redirect" => {
                let kind = if frame.event == "redirect" {
                    RedirectKind::Full
                } else {
                    RedirectKind::Live
                };
                if let Some(redirect) = Redirect::from_payload(kind, &frame.payload) {
                    self.redirects.push(redirect);
                }
                Ok(())
            }
            "phx_error" => {
                self.crashed = Some(frame.payload.clone());
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn merge(&mut self, diff: Value) -> Result<(), HarnessError> {
        collect_top_level(&diff, &mut self.events, &mut self.replies);
        match &mut self.rendered {
            Some(client) => client
                .merge(diff)
                .map_err(|e| HarnessError::Merge(e.to_string())),
            None => Err(HarnessError::Merge("diff before join".into())),
        }
    }

    /// Pushes an `event` on the view's topic and applies the reply; returns the HTML.
    pub fn push_event(
        &mut self,
        kind: &str,
        event: &str,
        value: Value,
    ) -> Result<String, HarnessError> {
        self.push_payload(json!({"type": kind, "event": event, "value": value}))
    }

    /// Pushes an `event` targeted at live component `cid` (what `phx-target={@myself}` makes the
    /// client send) and applies the reply; returns the HTML.
    pub fn push_event_to(
        &mut self,
        cid: u32,
        kind: &str,
        event: &str,
        value: Value,
    ) -> Result<String, HarnessError> {
        self.push_payload(json!({"type": kind, "event": event, "value": value, "cid": cid}))
    }

    /// Reports live components gone from the page, as the client does (`cids_will_destroy`, then
    /// `cids_destroyed`); returns the cids the server removed (the client model forgets them).
    pub fn destroy_components(&mut self, cids: &[u32]) -> Result<Vec<u32>, HarnessError> {
        for event in ["cids_will_destroy", "cids_destroyed"] {
            let msg_ref = self.fresh_ref();
            let frame = Frame {
                join_ref: Some(self.join_ref.clone()),
                msg_ref: Some(msg_ref.clone()),
                topic: self.topic.clone(),
                event: event.into(),
                payload: json!({"cids": cids}),
            };
            let frames = self.connection.handle_text(&frame.encode());
            let reply = self.absorb(frames, &msg_ref)?;
            let ("ok", response) = reply_status(&reply) else {
                return Err(HarnessError::PushRefused(reply.clone()));
            };
            if event == "cids_destroyed" {
                let removed: Vec<u32> = response
                    .get("cids")
                    .and_then(Value::as_array)
                    .map(|l| {
                        l.iter()
                            .filter_map(|c| c.as_u64().and_then(|c| u32::try_from(c).ok()))
                            .collect()
                    })
                    .unwrap_or_default();
                if let Some(client) = &mut self.rendered {
                    client.prune(&removed);
                }
                return Ok(removed);
            }
        }
        Ok(Vec::new())
    }

    /// Pushes an `event` frame with this payload and applies the reply; returns the HTML.
    pub(crate) fn push_payload(&mut self, payload: Value) -> Result<String, HarnessError> {
        let msg_ref = self.fresh_ref();
        let frame = Frame {
            join_ref: Some(self.join_ref.clone()),
            msg_ref: Some(msg_ref.clone()),
            topic: self.topic.clone(),
            event: "event".into(),
            payload,
        };
        let frames = self.connection.handle_text(&frame.encode());
        let reply = self.absorb(frames, &msg_ref)?;
        match reply_status(&reply) {
            ("ok", response) => {
                self.last_diff = response.get("diff").cloned();
                if let Some(diff) = response.get("diff") {
                    self.merge(diff.clone())?;
                }
                let response = response.clone();
                self.navigation(&response)?;
                Ok(self.render())
            }
            (_, response) => Err(HarnessError::PushRefused(response.clone())),
        }
    }

    /// Pushes a form event (`type: "form"`, `value` urlencoded, `meta` as the client adds it:
    /// `_target`, the form's `phx-value-*`) and applies the reply; returns the HTML.
    pub fn push_form(
        &mut self,
        event: &str,
        encoded: &str,
        meta: Value,
    ) -> Result<String, HarnessError> {
        self.push_payload(json!({"type": "form", "event": event, "value": encoded, "meta": meta}))
    }

    /// [`Self::push_form`] to live component `cid` when given (a form with
    /// `phx-target={@myself}`), else to the view.
    pub fn push_form_to(
        &mut self,
        cid: Option<u32>,
        event: &str,
        encoded: &str,
        meta: Value,
    ) -> Result<String, HarnessError> {
        let mut payload = json!({"type": "form", "event": event, "value": encoded, "meta": meta});
        if let (Some(cid), Some(map)) = (cid, payload.as_object_mut()) {
            map.insert("cid".into(), Value::from(cid));
        }
        self.push_payload(payload)
    }

    /// `render_blur(view, event, value)`: a `phx-blur` event.
    pub fn render_blur(&mut self, event: &str, value: Value) -> Result<String, HarnessError> {
        self.push_event("blur", event, value)
    }

    /// `render_focus(view, event, value)`: a `phx-focus` event.
    pub fn render_focus(&mut self, event: &str, value: Value) -> Result<String, HarnessError> {
        self.push_event("focus", event, value)
    }

    /// `render_click(view, event, value)`: a `phx-click` event sent straight to the view.
    pub fn render_click(&mut self, event: &str, value: Value) -> Result<String, HarnessError> {
        self.push_event("click", event, value)
    }

    /// `render_keyup(view, event, value)`.
    pub fn render_keyup(&mut self, event: &str, value: Value) -> Result<String, HarnessError> {
        self.push_event("keyup", event, value)
    }

    /// `render_keydown(view, event, value)`.
    pub fn render_keydown(&mut self, event: &str, value: Value) -> Result<String, HarnessError> {
        self.push_event("keydown", event, value)
    }

    /// `render_hook(view, event, value)`: a hook's `pushEvent`; its reply is in [`Self::last_reply`].
    pub fn render_hook(&mut self, event: &str, value: Value) -> Result<String, HarnessError> {
        self.push_event("hook", event, value)
    }

    /// `element(view, selector, text_filter)`: a handle to one element of the current HTML.
    pub fn element<'a>(&'a mut self, selector: &str, text: Option<&str>) -> Element<'a> {
        Element::new(self, selector, text)
    }

    /// `has_element?(view, selector, text_filter)`.
    pub fn has_element(&self, selector: &str, text: Option<&str>) -> Result<bool, HarnessError> {
        crate::element::count_matches(&self.render(), selector, text).map(|n| n > 0)
    }

    /// Delivers a message to the view's `handle_info`, like `send(view.pid, msg)`; returns the HTML.
    pub fn send_info(&mut self, message: Value) -> Result<String, HarnessError> {
        let frames = self.connection.deliver_info(&self.topic, message);
        self.absorb_pushes(frames)
    }

    /// Lets `by` pass for the view's timers (without sleeping) and returns the HTML.
    pub fn advance(&mut self, by: Duration) -> Result<String, HarnessError> {
        let now = tokio::time::Instant::now() + by;
        let frames = self.connection.fire_due(now);
        self.absorb_pushes(frames)
    }

    /// `render_async(view)`: runs the background tasks the view started (`assign_async!`,
    /// `start_async`) to completion, delivers their results and any PubSub messages waiting
    /// for it (broadcasts by other views, cancellations), and returns the HTML. Tasks started
    /// while handling those run too, up to 32 rounds.
    pub fn render_async(&mut self) -> Result<String, HarnessError> {
        let frames = self.connection.settle(32);
        self.absorb_pushes(frames)
    }

    fn absorb_pushes(&mut self, frames: Vec<Frame>) -> Result<String, HarnessError> {
        for frame in frames {
            self.absorb_push(&frame)?;
        }
        match &self.crashed {
            Some(reason) => Err(HarnessError::Crashed(reason.clone())),
            None => Ok(self.render()),
        }
    }

    /// The view's current HTML (the container's content), as the client has it.
    pub fn render(&self) -> String {
        self.rendered
            .as_ref()
            .map(ClientRendered::to_html)
            .unwrap_or_default()
    }

    /// `page_title(view)`.
    pub fn page_title(&self) -> Option<String> {
        self.rendered
            .as_ref()
            .and_then(|r| r.title().map(str::to_string))
    }

    /// Push events (`push_event`) received so far, oldest first; draining them.
    pub fn take_push_events(&mut self) -> Vec<(String, Value)> {
        std::mem::take(&mut self.events)
    }

    /// The most recent reply value (`"r"`) sent to a push.
    pub fn last_reply(&self) -> Option<&Value> {
        self.replies.last()
    }

    /// The diff carried by the reply to the last push, exactly as the server sent it (`None` when
    /// that reply carried no diff): lets tests assert what went over the wire, not only the HTML.
    pub fn last_diff(&self) -> Option<&Value> {
        self.last_diff.as_ref()
    }

    /// The reason of the last `phx_error`, if the view crashed.
    pub fn crash_reason(&self) -> Option<&Value> {
        self.crashed.as_ref()
    }
}

/// `to` resolved against the absolute URL `base` (`to` is a path, or already absolute).
fn absolute(base: &str, to: &str) -> String {
    if to.contains("://") {
        return to.to_string();
    }
    let origin_end = base
        .find("://")
        .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
        .unwrap_or(base.len());
    format!("{}{to}", &base[..origin_end])
}

/// Splits a `phx_reply` payload into its status and response.
fn reply_status(payload: &Value) -> (&str, &Value) {
    let status = payload
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("error");
    let response = payload.get("response").unwrap_or(&Value::Null);
    (status, response)
}

/// Records the top-level `e` (push events) and `r` (reply) of a diff.
fn collect_top_level(diff: &Value, events: &mut Vec<(String, Value)>, replies: &mut Vec<Value>) {
    if let Some(list) = diff.get("e").and_then(Value::as_array) {
        for event in list {
            if let (Some(name), Some(payload)) =
                (event.get(0).and_then(Value::as_str), event.get(1))
            {
                events.push((name.to_string(), payload.clone()));
            }
        }
    }
    if let Some(reply) = diff.get("r") {
        replies.push(reply.clone());
    }
}
