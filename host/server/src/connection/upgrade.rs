//! Live upgrade: when the socket's site starts serving another version of its app, each open
//! view moves onto it in place. The view (awake or hibernated) is snapshotted on its version,
//! the snapshot goes to the new version's `migrate` (or `restore`), and the view renders
//! there; the kept tree carries over, so the client gets one diff holding only what the new
//! version renders differently. The user keeps the page, its state and its form input.
//!
//! A view that cannot move is remounted instead, as a page load would: the client is told to
//! live-redirect to the view's own URL (`replace`), which joins it afresh on the new version.
//! That happens when the new version refuses the snapshot or when the old component has no
//! hibernation export. A view whose URL the new version routes elsewhere (or nowhere), and
//! one that cannot be snapshotted at that moment (see the SDK's `hibernate` module), stay on
//! their version until their client reconnects: the user is not sent to a page that is gone.

use livewasm_protocol::frame::Frame;
use livewasm_runtime::HibernateRefusal;

use super::Connection;
use super::scope::Scope;
use super::sleep::Upgraded;
use crate::metrics::UpgradeOutcome;
use crate::navigate::Outcome;
use crate::sites::SiteId;

impl Connection {
    /// True when this socket serves views of `site`.
    pub(crate) fn serves(&self, site: &SiteId) -> bool {
        self.site == *site
    }

    /// The site this socket was opened on.
    pub(crate) fn site(&self) -> &SiteId {
        &self.site
    }

    /// Moves every open view whose app now runs another component onto it (or remounts it);
    /// returns the frames for the client: a diff per moved view, a `live_redirect` per
    /// remounted one. Views whose component did not change are left alone.
    pub fn upgrade_views(&mut self) -> Vec<Frame> {
        let mut out = Vec::new();
        let mut topics: Vec<String> = self.channels.keys().cloned().collect();
        topics.sort();
        for topic in topics {
            self.upgrade_view(&topic, &mut out);
        }
        out
    }

    /// [`Self::upgrade_views`] for the view on `topic`.
    fn upgrade_view(&mut self, topic: &str, out: &mut Vec<Frame>) {
        let scope = Scope {
            host: &self.host,
            site: &self.site,
        };
        let Some(channel) = self.channels.get_mut(topic) else {
            return;
        };
        let Some(running) = channel.instance.app().map(|app| app.digest().to_string()) else {
            return;
        };
        let routed = scope.route(&channel.url);
        if routed
            .as_ref()
            .is_some_and(|routed| routed.app.digest() == running)
        {
            return;
        }
        let upgraded = match &routed {
            Some(routed) if channel.keeps(&routed.route_app, &routed.route) => channel
                .instance
                .upgrade(&routed.app, &channel.metrics, channel.usage.as_ref()),
            // The URL routes to another view (or nowhere) on the new version.
            _ => {
                channel.metrics.upgraded(UpgradeOutcome::Kept);
                tracing::debug!(component = %channel.app, view = %channel.view, topic, "view kept on its version: the new version routes its URL elsewhere");
                return;
            }
        };
        let metrics = channel.metrics.clone();
        match upgraded {
            Upgraded::Migrated => {
                metrics.upgraded(UpgradeOutcome::Migrated);
                tracing::debug!(component = %channel.app, view = %channel.view, topic, "view upgraded in place");
                // A fresh start for the idle clock: the new instance just ran.
                channel.idle = super::sleep::Idle::new();
                match channel.run(&scope, |_| Ok(None)) {
                    Ok(step) => step.push_to(topic, out),
                    Err(error) => self.crash(topic, &error, out),
                }
            }
            Upgraded::Kept(HibernateRefusal::NotNow) => {
                metrics.upgraded(UpgradeOutcome::Kept);
                tracing::debug!(component = %channel.app, view = %channel.view, topic, "view kept on its version: it cannot be snapshotted now");
            }
            Upgraded::Kept(why) => {
                metrics.upgraded(UpgradeOutcome::Remounted);
                tracing::debug!(component = %channel.app, view = %channel.view, topic, "view remounted on the new version: {why}");
                out.push(remount(channel.join_ref.clone(), topic, &channel.url));
            }
            Upgraded::Lost(error) => {
                metrics.upgraded(UpgradeOutcome::Remounted);
                tracing::debug!(component = %channel.app, view = %channel.view, topic, "view remounted on the new version: {error}");
                out.push(remount(channel.join_ref.clone(), topic, &channel.url));
                // Its state is gone with the old instance: the client's rejoin mounts it anew.
                self.channels.remove(topic);
            }
        }
    }
}

/// `live_redirect` to the view's own URL (`replace`): the client joins it again, which mounts
/// it on the version served now.
fn remount(join_ref: Option<String>, topic: &str, url: &str) -> Frame {
    let to = url::Url::parse(url)
        .map(|parsed| match parsed.query() {
            Some(query) => format!("{}?{query}", parsed.path()),
            None => parsed.path().to_string(),
        })
        .unwrap_or_else(|_| url.to_string());
    let outcome = Outcome::LiveRedirect {
        to,
        kind: crate::navigate::history_kind(true),
        flash: None,
    };
    Frame::push(join_ref, topic, outcome.event(), outcome.payload())
}
