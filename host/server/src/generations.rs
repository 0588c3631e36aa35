//! Dev live reload's bookkeeping (see [`dev_reload`](crate::dev_reload)): the generation of each
//! app of the default site, bumped when the app is swapped, the build error each app's source
//! has now (if any), and the notices of those swaps and errors that sockets listen to.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

/// Reload notices buffered per socket; a socket further behind reloads anyway (see
/// [`Listener`](crate::dev_reload::Listener)).
const BACKLOG: usize = 64;

/// A notice for the dev pages of some apps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    /// The names of the apps whose pages it is for (for a swap, the old name and the new one).
    pub apps: Vec<String>,
    /// What happened.
    pub kind: Notice,
}

/// What a [`Reloaded`] notice says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The apps were replaced in place: their pages reload.
    Swapped,
    /// The app's source no longer builds: its pages show the compiler's message.
    BuildFailed(String),
    /// The app's source builds again (and may not have changed the component): the message
    /// goes away.
    BuildFixed,
}

/// The generations of the default site's apps and the notices of their swaps.
pub(crate) struct Reloads {
    /// Differs between runs of the host, so a page of an earlier run reloads.
    epoch: String,
    generations: Mutex<HashMap<String, u64>>,
    /// The build error of each app whose source does not build now.
    errors: Mutex<HashMap<String, String>>,
    notices: broadcast::Sender<Reloaded>,
    /// Rung after each notice, for the parked sockets (see `Host::parked_bell`).
    bell: Arc<tokio::sync::Notify>,
}

impl Reloads {
    /// No generations yet; each notice also rings `bell`.
    pub(crate) fn new(bell: Arc<tokio::sync::Notify>) -> Reloads {
        Reloads {
            epoch: crate::session::random_token().chars().take(12).collect(),
            generations: Mutex::default(),
            errors: Mutex::default(),
            notices: broadcast::channel(BACKLOG).0,
            bell,
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
        let _ = self.notices.send(Reloaded {
            apps,
            kind: Notice::Swapped,
        });
        self.bell.notify_waiters();
    }

    /// Records that `app`'s source fails to build with `message` (or, with `None`, builds
    /// again) and tells its pages; nothing when that was already known.
    pub(crate) fn build_result(&self, app: &str, message: Option<String>) {
        let changed = match self.errors.lock() {
            Ok(mut errors) => match &message {
                Some(text) => errors.insert(app.to_string(), text.clone()).as_ref() != Some(text),
                None => errors.remove(app).is_some(),
            },
            Err(_) => false,
        };
        if changed {
            let kind = message.map_or(Notice::BuildFixed, Notice::BuildFailed);
            let _ = self.notices.send(Reloaded {
                apps: vec![app.to_string()],
                kind,
            });
            self.bell.notify_waiters();
        }
    }

    /// The build error `app`'s source has now, if any.
    pub(crate) fn build_error(&self, app: &str) -> Option<String> {
        self.errors.lock().ok()?.get(app).cloned()
    }

    /// A receiver of the swaps from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Reloaded> {
        self.notices.subscribe()
    }
}
