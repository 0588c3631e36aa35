//! Hibernation: an idle view gives its instance up and keeps only a snapshot of its state
//! (taken by the guest's optional `hibernation` export), its kept tree and what the host
//! tracked for its instance (live timers, subscribed topics, running tasks); waking it makes a
//! fresh instance of the same version and restores the snapshot into it, so the pool slot and
//! the instance's memory are free meanwhile. A component without the export (built before it,
//! or by another SDK), or a view that cannot be written down, simply stays live.
//!
//! The same snapshot carries a view across versions (live upgrade): [`Instance::upgrade`]
//! snapshots it on the old version and hands the snapshot to the new version's `migrate`.

use livewasm_protocol::rendered::Tree;

use crate::app::App;
use crate::error::{CallError, RuntimeError};
use crate::instance::Instance;
use crate::store::Carried;

/// The export the guest implements (`wit/view.wit`, world `hibernating-view`).
pub(crate) const INTERFACE: &str = "livewasm:view/hibernation@0.1.0";

/// Why a view did not hibernate.
#[derive(Debug, thiserror::Error)]
pub enum HibernateRefusal {
    /// The component has no `hibernation` export.
    #[error("the component cannot hibernate (no hibernation export)")]
    Unsupported,
    /// The view holds what a snapshot cannot carry (see the SDK's `hibernate` module).
    #[error("the view cannot be snapshotted now")]
    NotNow,
    /// The snapshot call failed (the instance is dead).
    #[error("snapshot failed: {0}")]
    Failed(CallError),
}

/// A view that stayed live: its instance back, and why.
pub struct StillLive {
    /// The instance, as usable as before.
    pub instance: Instance,
    /// Why it did not hibernate.
    pub why: HibernateRefusal,
}

/// A view without an instance: its snapshot, its kept tree and the host's state of its last
/// instance.
pub struct Hibernated {
    app: App,
    snapshot: Vec<u8>,
    tree: Option<Tree>,
    carried: Carried,
}

impl std::fmt::Debug for Hibernated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hibernated")
            .field("snapshot_bytes", &self.snapshot.len())
            .finish_non_exhaustive()
    }
}

/// Why a hibernated view could not wake.
#[derive(Debug, thiserror::Error)]
pub enum WakeError {
    /// No instance could be made (the pool is exhausted, …).
    #[error("{0}")]
    Instantiate(#[from] RuntimeError),
    /// The guest refused or failed the restore.
    #[error("restore failed: {0}")]
    Restore(CallError),
}

impl Instance {
    /// Snapshots the view and gives the instance up; the instance back with the reason when
    /// it cannot.
    pub fn hibernate(mut self) -> Result<Hibernated, Box<StillLive>> {
        let still = |instance: Instance, why| Box::new(StillLive { instance, why });
        if self.is_dead() {
            return Err(still(self, HibernateRefusal::NotNow));
        }
        let snapshot = match self.call_optional::<(), (Option<Vec<u8>>,)>(INTERFACE, "snapshot", ())
        {
            Ok(Some((Some(bytes),))) => bytes,
            Ok(Some((None,))) => return Err(still(self, HibernateRefusal::NotNow)),
            Ok(None) => return Err(still(self, HibernateRefusal::Unsupported)),
            Err(error) => return Err(still(self, HibernateRefusal::Failed(error))),
        };
        let (app, tree, state) = self.into_parts();
        Ok(Hibernated {
            app,
            snapshot,
            tree,
            // The instance's memory is gone: its meter hears so now (dropping the old limits
            // reports it), not when the view wakes.
            carried: state.into_carried(),
        })
    }
}

impl Hibernated {
    /// The app (and version) the view runs.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The snapshot's size in bytes.
    pub fn snapshot_bytes(&self) -> usize {
        self.snapshot.len()
    }

    /// A one-shot timer fired while the view slept: it is no longer live.
    pub fn timer_fired(&mut self, id: u64) {
        let timers = std::mem::take(&mut self.carried.timers);
        self.carried.timers = timers.into_iter().filter(|live| *live != id).collect();
    }

    /// True when live component `cid` is held in the kept tree.
    pub fn has_component(&self, cid: u32) -> bool {
        self.tree
            .as_ref()
            .is_some_and(|tree| tree.components.contains_key(&cid))
    }

    /// A fresh instance of the same version holding the view again: the snapshot restored,
    /// the kept tree and the host's state of the old instance carried over. On failure the
    /// view is lost (the caller treats it as a crash: the client rejoins and remounts).
    pub fn wake(self) -> Result<Instance, WakeError> {
        let app = self.app.clone();
        self.wake_into(&app, "restore")
    }

    /// Live upgrade: a fresh instance of `app` — another version of the view's app — holding
    /// the view, through the new version's `migrate` (which hears the old version's snapshot
    /// and adapts it), or its `restore` when it has no `migrate`. The kept tree carries over,
    /// so the next render sends only what the new version renders differently (new templates
    /// whole). A new version that refuses the snapshot is an error, and the view is lost: the
    /// caller remounts it.
    pub fn upgrade(self, app: &App) -> Result<Instance, WakeError> {
        self.wake_into(app, "migrate")
    }

    /// Instantiates `app`, carries the host's state over and hands the snapshot to export
    /// `function` (`restore` when the component has no such export).
    fn wake_into(self, app: &App, function: &str) -> Result<Instance, WakeError> {
        let mut instance = app.instantiate()?;
        self.carried.carry_into(instance.state_mut());
        let call = |instance: &mut Instance, name: &str, bytes: Vec<u8>| {
            instance
                .call_optional::<(Vec<u8>,), (Result<(), String>,)>(INTERFACE, name, (bytes,))
                .map_err(WakeError::Restore)
        };
        let restored = match call(&mut instance, function, self.snapshot.clone())? {
            None if function != "restore" => call(&mut instance, "restore", self.snapshot)?,
            restored => restored,
        };
        match restored {
            Some((Ok(()),)) => {}
            Some((Err(reason),)) => return Err(WakeError::Restore(CallError::Guest(reason))),
            None => {
                return Err(WakeError::Restore(CallError::Guest(
                    "the component has no hibernation export".into(),
                )));
            }
        }
        instance.tree = self.tree;
        Ok(instance)
    }
}

impl Instance {
    /// Live upgrade of a live view: snapshots it and restores it into a fresh instance of
    /// `app` (see [`Hibernated::upgrade`]). The instance back, untouched, when it cannot be
    /// snapshotted now.
    pub fn upgrade(self, app: &App) -> Result<Result<Instance, WakeError>, Box<StillLive>> {
        Ok(self.hibernate()?.upgrade(app))
    }
}
