//! Live reload in development (`livewasm serve --dev`): the component files given with `--app`
//! are watched; a changed file that loads is swapped in place of the app it held (new page
//! loads and joins get the new version), and the pages of that app are told to reload.
//!
//! The browser side is a channel on the page's own `/live` socket, [`TOPIC`]. A dev page carries
//! a `<meta name="livewasm-reload">` naming its app and the generation it was rendered with; the
//! client glue joins the topic with it and reloads the page when the host pushes `reloaded`
//! (at once when the page is already out of date: it was rendered before a swap, or by an
//! earlier run of the host). Outside dev mode pages carry no such meta and the join is refused.
//! On a dev host the tenant apps' pages take part too, named by their site (`tenant/app`): a
//! deploy, activation or rollback that installs another version is their swap.
//!
//! Build errors reach the open pages the same way: whoever builds the components (`cargo xtask
//! dev`) writes the compiler's message beside a component that failed to rebuild, as
//! `<name>.build-error`, and deletes it after a good build. The watcher pushes `build_error`
//! (with the message) to the pages of that app when the file appears or changes, and
//! `build_fixed` when it goes; the client glue shows the message over the page until then. A
//! page that joins while its app's source is broken gets `build_error` at once. A view of a dev
//! page that crashes sends `guest_error` with the trap (and a Rust guest's panic message and
//! place, which the SDK's panic hook logs just before the trap) for the overlay too.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use livewasm_protocol::frame::Frame;
use serde_json::{Value, json};
use tokio::sync::broadcast;

pub use crate::generations::{Notice, Reloaded};
use crate::host::Host;
use crate::sites::SiteId;

/// The topic of the dev reload channel.
pub const TOPIC: &str = "livewasm:reload";

/// The event pushed on [`TOPIC`] when the page's app was replaced.
pub const RELOADED: &str = "reloaded";

/// The event pushed on [`TOPIC`] when the page's app no longer builds (payload: `app`,
/// `message`).
pub const BUILD_ERROR: &str = "build_error";

/// The event pushed on [`TOPIC`] when the page's app builds again.
pub const BUILD_FIXED: &str = "build_fixed";

/// The longest build message sent to pages (the rest is cut).
const MAX_BUILD_MESSAGE: usize = 64 * 1024;

/// How often the watcher looks at the component files (a look is a `stat` and reading a small
/// file, if any; a change is acted on one look later, so a save shows within 200 ms here).
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// One socket's membership of [`TOPIC`].
#[derive(Debug, Clone)]
pub(crate) struct Joined {
    join_ref: Option<String>,
    app: String,
}

/// Answers a `phx_join` on [`TOPIC`]: refused outside dev mode, without a well-formed token,
/// or, on a platform site, with a token of another site; else joined, followed by `reloaded`
/// when the page is out of date.
pub(crate) fn join(host: &Host, site: &SiteId, frame: &Frame) -> (Vec<Frame>, Option<Joined>) {
    if !host.config().dev {
        return (
            vec![frame.reply("error", json!({"reason": "unmatched topic"}))],
            None,
        );
    }
    let token = frame
        .payload
        .get("token")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(app) = token
        .splitn(3, ':')
        .nth(2)
        .filter(|a| !a.is_empty())
        .filter(|a| site.label().is_none_or(|label| label == *a))
    else {
        return (
            vec![frame.reply("error", json!({"reason": "bad token"}))],
            None,
        );
    };
    let joined = Joined {
        join_ref: frame.join_ref.clone(),
        app: app.to_string(),
    };
    let mut out = vec![frame.reply("ok", json!({}))];
    if host.dev_reloads().token(app) != token {
        out.push(notice(&joined));
    } else if let Some(message) = host.dev_reloads().build_error(app) {
        out.push(build_notice(&joined, Some(&message)));
    }
    (out, Some(joined))
}

/// The frames a socket sends for a notice: a push when its page shows one of the apps.
pub(crate) fn on_reloaded(joined: Option<&Joined>, reloaded: &Reloaded) -> Vec<Frame> {
    match joined {
        Some(joined) if reloaded.apps.contains(&joined.app) => match &reloaded.kind {
            Notice::Swapped => vec![notice(joined)],
            Notice::BuildFailed(message) => vec![build_notice(joined, Some(message))],
            Notice::BuildFixed => vec![build_notice(joined, None)],
        },
        _ => Vec::new(),
    }
}

/// The event pushed on [`TOPIC`] when a view of the page crashed (payload: `app`, `view`,
/// `message`: the trap, and a Rust guest's panic message and place).
pub const GUEST_ERROR: &str = "guest_error";

/// The frames a dev page's socket sends when one of its views crashed: why, for the overlay.
/// Nothing when the page did not join [`TOPIC`] (production pages never do).
pub(crate) fn on_crash(
    joined: Option<&Joined>,
    app: &str,
    view: &str,
    error: &livewasm_runtime::CallError,
) -> Vec<Frame> {
    match joined {
        Some(joined) => vec![Frame::push(
            joined.join_ref.clone(),
            TOPIC,
            GUEST_ERROR,
            json!({"app": app, "view": view, "message": error.to_string()}),
        )],
        None => Vec::new(),
    }
}

/// `build_error` with `message`, or `build_fixed` without.
fn build_notice(joined: &Joined, message: Option<&str>) -> Frame {
    match message {
        Some(message) => Frame::push(
            joined.join_ref.clone(),
            TOPIC,
            BUILD_ERROR,
            json!({"app": joined.app, "message": message}),
        ),
        None => Frame::push(
            joined.join_ref.clone(),
            TOPIC,
            BUILD_FIXED,
            json!({"app": joined.app}),
        ),
    }
}

fn notice(joined: &Joined) -> Frame {
    Frame::push(
        joined.join_ref.clone(),
        TOPIC,
        RELOADED,
        json!({"app": joined.app}),
    )
}

/// What a socket's transport waits on for swaps (in dev mode only).
pub(crate) struct Listener(Option<broadcast::Receiver<Reloaded>>);

impl Listener {
    /// Listens on `host` when it runs in dev mode; else never yields.
    pub(crate) fn new(host: &Host) -> Listener {
        Listener(host.config().dev.then(|| host.dev_reloads().subscribe()))
    }

    /// The next swap already announced, if any, without waiting (a parked socket reads it
    /// when the host's bell rings; see [`Listener::next`] for one that fell behind).
    pub(crate) fn try_next(&mut self) -> Option<Reloaded> {
        let receiver = self.0.as_mut()?;
        match receiver.try_recv() {
            Ok(reloaded) => Some(reloaded),
            Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                tracing::debug!("dev reload: {missed} notice(s) missed");
                Some(Reloaded {
                    apps: Vec::new(),
                    kind: Notice::Swapped,
                })
            }
            Err(_) => None,
        }
    }

    /// The next swap. A socket that fell behind gets a notice naming no app, which reloads
    /// nothing; the pages it missed reload when they next join.
    pub(crate) async fn next(&mut self) -> Reloaded {
        let Some(receiver) = self.0.as_mut() else {
            return std::future::pending().await;
        };
        match receiver.recv().await {
            Ok(reloaded) => reloaded,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::debug!("dev reload: {missed} notice(s) missed");
                Reloaded {
                    apps: Vec::new(),
                    kind: Notice::Swapped,
                }
            }
            Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
        }
    }
}

/// A component file served with `--app`, watched for changes.
#[derive(Debug)]
pub struct AppFile {
    path: PathBuf,
    /// The name of the app loaded from it (the manifest's), replaced on a swap.
    app: String,
    /// Modification time and length when last loaded (or found broken).
    seen: Option<(SystemTime, u64)>,
    /// A changed stamp seen once; acted on when the next look finds it unchanged (the file is
    /// no longer being written).
    pending: Option<(SystemTime, u64)>,
    /// The build error last read beside the file.
    build_error: Option<String>,
}

impl AppFile {
    /// `path`, which holds app `app`. Take it before reading the file, so a change made while
    /// the host starts is still noticed.
    pub fn new(path: impl Into<PathBuf>, app: impl Into<String>) -> AppFile {
        let path = path.into();
        let seen = stamp(&path);
        AppFile {
            path,
            app: app.into(),
            seen,
            pending: None,
            build_error: None,
        }
    }

    /// Where a builder leaves the message of a failed build of this component:
    /// `<name>.build-error` beside it.
    pub fn build_error_path(&self) -> PathBuf {
        self.path.with_extension("build-error")
    }

    /// The message of the failed build now beside the file, if any (cut to a size pages take).
    fn read_build_error(&self) -> Option<String> {
        let mut text = std::fs::read_to_string(self.build_error_path()).ok()?;
        if text.len() > MAX_BUILD_MESSAGE {
            let mut end = MAX_BUILD_MESSAGE;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push_str("\n…");
        }
        Some(text)
    }

    /// Records the app loaded from the file (its manifest's name).
    pub fn set_app(&mut self, app: impl Into<String>) {
        self.app = app.into();
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Why a changed component file was not swapped in.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The file could not be read.
    #[error("reading the file: {0}")]
    Read(#[from] std::io::Error),
    /// It is not a loadable component of our world.
    #[error("{0}")]
    Load(#[from] livewasm_runtime::RuntimeError),
    /// Its routes clash with another app's, or its name with another app's.
    #[error("{0}")]
    Routes(#[from] crate::error::ServerError),
    /// Loading was interrupted.
    #[error("the loader stopped: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Loads `file` again and swaps it in for the app it held. `Ok(None)` when its bytes make the
/// same component as the one served (nothing to reload); else the new app's name.
pub async fn reload(host: &Arc<Host>, file: &AppFile) -> Result<Option<String>, ReloadError> {
    let wasm = tokio::fs::read(&file.path).await?;
    let runtime = host.runtime().clone();
    let app = tokio::task::spawn_blocking(move || runtime.load_app(&wasm)).await??;
    let name = app.manifest().name.clone();
    if host.replace_app(&file.app, app)? {
        Ok(Some(name))
    } else {
        Ok(None)
    }
}

/// Watches `files` every [`POLL_INTERVAL`] until the task is dropped: a changed file (stable for
/// one look) is swapped in with [`reload`]; one that does not load is logged and the previous
/// version keeps serving.
pub async fn watch(host: Arc<Host>, mut files: Vec<AppFile>) {
    let mut ticks = tokio::time::interval(POLL_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        for file in &mut files {
            let error = file.read_build_error();
            if error != file.build_error {
                match &error {
                    Some(_) => {
                        tracing::info!(app = %file.app, "build error: shown on its open pages")
                    }
                    None => tracing::info!(app = %file.app, "builds again"),
                }
                file.build_error = error.clone();
                host.dev_reloads().build_result(&file.app, error);
            }
            let now = stamp(&file.path);
            if now.is_none() || now == file.seen {
                file.pending = None;
                continue;
            }
            if file.pending != now {
                file.pending = now;
                continue;
            }
            file.pending = None;
            file.seen = now;
            match reload(&host, file).await {
                Ok(Some(name)) => {
                    tracing::info!(
                        app = %name,
                        "reloaded {}: new page loads and joins use it; open pages reload",
                        file.path.display()
                    );
                    file.app = name;
                }
                Ok(None) => {
                    tracing::debug!(
                        "{} changed but holds the same component",
                        file.path.display()
                    )
                }
                Err(e) => tracing::error!(
                    "{} changed but was not loaded; still serving the previous version of {}: {e}",
                    file.path.display(),
                    file.app
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ServerConfig;
    use crate::generations::Reloads;
    use livewasm_runtime::{Runtime, RuntimeConfig};

    fn host(dev: bool) -> Host {
        let runtime = Runtime::new(RuntimeConfig {
            max_instances: 1,
            ..RuntimeConfig::default()
        })
        .expect("runtime");
        Host::new(
            runtime,
            ServerConfig {
                secret_key: vec![7; 32],
                dev,
                ..ServerConfig::default()
            },
        )
    }

    fn join_frame(token: &str) -> Frame {
        Frame {
            join_ref: Some("4".into()),
            msg_ref: Some("4".into()),
            topic: TOPIC.into(),
            event: livewasm_protocol::keys::events::JOIN.into(),
            payload: json!({"token": token}),
        }
    }

    fn status(frame: &Frame) -> &str {
        frame.payload["status"].as_str().unwrap_or_default()
    }

    #[test]
    fn a_swap_moves_the_generation_of_both_names_only() {
        let reloads = Reloads::new(std::sync::Arc::default());
        let before = reloads.snapshot();
        reloads.swapped("thermostat", "rows");
        assert_ne!(reloads.token("thermostat"), before.token("thermostat"));
        assert_ne!(reloads.token("rows"), before.token("rows"));
        assert_eq!(reloads.token("users"), before.token("users"));
        assert!(reloads.token("rows").ends_with(":1:rows"));
        // Another run of the host: every page of the old one is out of date.
        assert_ne!(
            Reloads::new(std::sync::Arc::default()).token("users"),
            reloads.token("users")
        );
    }

    #[test]
    fn a_current_page_joins_quietly_and_a_stale_one_is_told_at_once() {
        let host = host(true);
        let token = host.dev_reloads().token("thermostat");
        let (frames, joined) = join(&host, &SiteId::Default, &join_frame(&token));
        assert_eq!(frames.len(), 1, "{frames:?}");
        assert_eq!(status(&frames[0]), "ok");
        assert!(joined.is_some());

        host.dev_reloads().swapped("thermostat", "thermostat");
        let (frames, _) = join(&host, &SiteId::Default, &join_frame(&token));
        assert_eq!(frames.len(), 2, "{frames:?}");
        assert_eq!(frames[1].event, RELOADED);
        assert_eq!(frames[1].topic, TOPIC);
        assert_eq!(frames[1].join_ref.as_deref(), Some("4"));
    }

    #[test]
    fn the_topic_is_refused_outside_dev_with_another_sites_token_and_without_a_token() {
        let token = "x:0:thermostat";
        let (frames, joined) = join(&host(false), &SiteId::Default, &join_frame(token));
        assert_eq!(status(&frames[0]), "error");
        assert!(joined.is_none());
        let dev = host(true);
        let (frames, joined) = join(&dev, &SiteId::app("acme", "blog"), &join_frame(token));
        assert_eq!(status(&frames[0]), "error");
        assert!(joined.is_none());
        let (frames, joined) = join(&dev, &SiteId::Default, &join_frame("nonsense"));
        assert_eq!(status(&frames[0]), "error");
        assert!(joined.is_none());
    }

    #[test]
    fn only_pages_of_a_swapped_app_are_told() {
        let joined = Joined {
            join_ref: Some("2".into()),
            app: "users".into(),
        };
        let other = Reloaded {
            apps: vec!["thermostat".into(), "rows".into()],
            kind: Notice::Swapped,
        };
        assert!(on_reloaded(Some(&joined), &other).is_empty());
        assert!(on_reloaded(None, &other).is_empty());
        let mine = Reloaded {
            apps: vec!["users".into()],
            kind: Notice::Swapped,
        };
        let frames = on_reloaded(Some(&joined), &mine);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].payload["app"], "users");
    }

    #[test]
    fn build_errors_reach_the_pages_of_their_app_and_clear() {
        let host = host(true);
        let token = host.dev_reloads().token("users");
        let mut notices = host.dev_reloads().subscribe();
        host.dev_reloads().build_result(
            "users",
            Some("error: expected `}` at src/lib.rs:12:7".into()),
        );
        let failed = notices.try_recv().expect("a notice");
        let joined = Joined {
            join_ref: Some("2".into()),
            app: "users".into(),
        };
        let frames = on_reloaded(Some(&joined), &failed);
        assert_eq!(frames[0].event, BUILD_ERROR);
        assert_eq!(
            frames[0].payload["message"],
            "error: expected `}` at src/lib.rs:12:7"
        );
        // The same error again is no news.
        host.dev_reloads().build_result(
            "users",
            Some("error: expected `}` at src/lib.rs:12:7".into()),
        );
        assert!(notices.try_recv().is_err());
        // A page joining now is told at once.
        let (frames, _) = join(&host, &SiteId::Default, &join_frame(&token));
        assert_eq!(frames.len(), 2, "{frames:?}");
        assert_eq!(frames[1].event, BUILD_ERROR);
        // Fixed: the pages hear it, and a later join is quiet.
        host.dev_reloads().build_result("users", None);
        let fixed = notices.try_recv().expect("a notice");
        assert_eq!(on_reloaded(Some(&joined), &fixed)[0].event, BUILD_FIXED);
        let (frames, _) = join(&host, &SiteId::Default, &join_frame(&token));
        assert_eq!(frames.len(), 1, "{frames:?}");
        // Another app's pages hear nothing.
        let other = Joined {
            join_ref: None,
            app: "thermostat".into(),
        };
        assert!(on_reloaded(Some(&other), &failed).is_empty());
    }
}
