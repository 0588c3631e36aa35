//! Dev live reload's bookkeeping (see [`dev_reload`](crate::dev_reload)): the generation of each
//! app of the default site, bumped when the app is swapped, and the notices of those swaps that
//! sockets listen to.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::broadcast;

/// Reload notices buffered per socket; a socket further behind reloads anyway (see
/// [`Listener`](crate::dev_reload::Listener)).
const BACKLOG: usize = 64;

/// Apps replaced in place: their names before and after the swap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    /// The names of the apps whose pages must reload (the old name and the new one).
    pub apps: Vec<String>,
}

/// The generations of the default site's apps and the notices of their swaps.
pub(crate) struct Reloads {
    /// Differs between runs of the host, so a page of an earlier run reloads.
    epoch: String,
    generations: Mutex<HashMap<String, u64>>,
    notices: broadcast::Sender<Reloaded>,
}

impl Default for Reloads {
    fn default() -> Self {
        Reloads {
            epoch: crate::session::random_token().chars().take(12).collect(),
            generations: Mutex::default(),
            notices: broadcast::channel(BACKLOG).0,
        }
    }
}

/// The generations of the default site's apps at one moment.
pub(crate) struct Snapshot {
    epoch: String,
    generations: HashMap<String, u64>,
}

impl Snapshot {
    /// The token a dev page of `app` carries: the host's run, the app's generation, its name.
    pub(crate) fn token(&self, app: &str) -> String {
        let generation = self.generations.get(app).copied().unwrap_or(0);
        format!("{}:{generation}:{app}", self.epoch)
    }
}

impl Reloads {
    /// The generations now. A dead render takes them *before* routing: a swap bumps them
    /// after replacing the routes, so a page never carries a generation newer than its app.
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            epoch: self.epoch.clone(),
            generations: self
                .generations
                .lock()
                .map(|g| g.clone())
                .unwrap_or_default(),
        }
    }

    /// The current token of `app` (see [`Snapshot::token`]).
    pub(crate) fn token(&self, app: &str) -> String {
        self.snapshot().token(app)
    }

    /// Records that `old` was replaced by `new` and tells every listening page.
    pub(crate) fn swapped(&self, old: &str, new: &str) {
        let mut apps = vec![old.to_string()];
        if new != old {
            apps.push(new.to_string());
        }
        if let Ok(mut generations) = self.generations.lock() {
            for app in &apps {
                *generations.entry(app.clone()).or_insert(0) += 1;
            }
        }
        // Nobody listening is fine: no page is open.
        let _ = self.notices.send(Reloaded { apps });
    }

    /// A receiver of the swaps from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Reloaded> {
        self.notices.subscribe()
    }
}
