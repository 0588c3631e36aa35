//! A joined view's instance, awake or hibernated ([`ViewInstance`]), and when a view may
//! hibernate: idle for `hibernate_after` (`--hibernate-after-secs`), no timer due within
//! [`TIMER_MARGIN`], no task running or about to start, no upload entry open. A hibernated view
//! wakes for the next thing that needs it (an event, a patch, a timer, a PubSub message, a
//! task result), invisibly to the client: same state, minimal diff.
//!
//! On a platform site only a live view counts against its tenant's `max_concurrent_instances`:
//! the slot goes with the instance when the view hibernates and is taken again to wake it. When
//! the tenant is at its quota, the socket waits for a slot to be given back
//! ([`ServerConfig::wake_wait`](crate::ServerConfig::wake_wait), 5 s by default) before handing
//! the event, message or timer over, and the slot it got is the view's
//! ([`Connection::reserve`](super::Connection::reserve)); the client sees a slower reply. When
//! none comes in time, the view crashes as any failed wake does (its client rejoins, and the
//! join is refused `capacity` while the tenant stays at its quota).

use std::sync::Arc;
use std::time::Duration;

use livewasm_runtime::{
    App, CallError, HibernateRefusal, Hibernated, Instance, StillLive, WakeError,
};
use tokio::time::Instant;

use crate::metrics::{AppMetrics, HibernatedView, LiveInstance};
use crate::sites::{InstanceSlot, TenantUsage};

/// A view whose next timer is due sooner than this stays live.
pub(super) const TIMER_MARGIN: Duration = Duration::from_secs(5);

/// A joined view's instance.
pub(super) enum ViewInstance {
    /// Live: an instance in the pool.
    Awake {
        instance: Box<Instance>,
        _live: LiveInstance,
        /// Its tenant's instance slot (platform sites).
        _slot: Option<InstanceSlot>,
    },
    /// Hibernated: a snapshot, no instance.
    Asleep {
        view: Box<Hibernated>,
        _counted: HibernatedView,
    },
    /// Only while changing state (a failed wake leaves it, and the view crashes).
    Gone,
}

impl ViewInstance {
    /// A live view's instance, counted in the app's metrics and, with `slot`, against its
    /// tenant's quota.
    pub(super) fn awake(
        instance: Instance,
        metrics: &AppMetrics,
        slot: Option<InstanceSlot>,
    ) -> ViewInstance {
        ViewInstance::Awake {
            instance: Box::new(instance),
            _live: LiveInstance::new(metrics),
            _slot: slot,
        }
    }

    /// The app (and version) the view runs.
    pub(super) fn app(&self) -> Option<&App> {
        match self {
            ViewInstance::Awake { instance, .. } => Some(instance.app()),
            ViewInstance::Asleep { view, .. } => Some(view.app()),
            ViewInstance::Gone => None,
        }
    }

    /// True while hibernated.
    pub(super) fn is_asleep(&self) -> bool {
        matches!(self, ViewInstance::Asleep { .. })
    }

    /// A one-shot timer fired.
    pub(super) fn timer_fired(&mut self, id: u64) {
        match self {
            ViewInstance::Awake { instance, .. } => instance.timer_fired(id),
            ViewInstance::Asleep { view, .. } => view.timer_fired(id),
            ViewInstance::Gone => {}
        }
    }

    /// True when live component `cid` is on the page.
    pub(super) fn has_component(&self, cid: u32) -> bool {
        match self {
            ViewInstance::Awake { instance, .. } => instance.has_component(cid),
            ViewInstance::Asleep { view, .. } => view.has_component(cid),
            ViewInstance::Gone => false,
        }
    }

    /// The live instance, waking the view first when it sleeps (with the slot `reserved` for
    /// it, else one of `usage`, its tenant's quota, on a platform site); a view that cannot
    /// wake is an error (the channel crashes and the client rejoins, remounting it).
    pub(super) fn live(
        &mut self,
        metrics: &AppMetrics,
        usage: Option<&Arc<TenantUsage>>,
        reserved: &mut Option<InstanceSlot>,
    ) -> Result<&mut Instance, CallError> {
        if let ViewInstance::Asleep { .. } = self {
            let slot = match reserved.take() {
                Some(slot) => Some(Some(slot)),
                None => take_slot(usage),
            };
            let slot = slot.ok_or_else(|| {
                CallError::Guest(
                    "the view could not wake: its tenant is at its instance quota".into(),
                )
            })?;
            let ViewInstance::Asleep { view, .. } = std::mem::replace(self, ViewInstance::Gone)
            else {
                return Err(CallError::Dead);
            };
            let instance = view
                .wake()
                .map_err(|e| CallError::Guest(format!("the view could not wake: {e}")))?;
            *self = ViewInstance::awake(instance, metrics, slot);
        }
        match self {
            ViewInstance::Awake { instance, .. } => Ok(instance),
            _ => Err(CallError::Dead),
        }
    }

    /// Hibernates a live view; the reason it stayed live otherwise.
    pub(super) fn hibernate(&mut self, metrics: &AppMetrics) -> Result<usize, HibernateRefusal> {
        let ViewInstance::Awake { .. } = self else {
            return Err(HibernateRefusal::NotNow);
        };
        let ViewInstance::Awake {
            instance,
            _live,
            _slot,
        } = std::mem::replace(self, ViewInstance::Gone)
        else {
            return Err(HibernateRefusal::NotNow);
        };
        match (*instance).hibernate() {
            Ok(view) => {
                // The instance is gone, and with it the view's share of its tenant's quota.
                drop((_live, _slot));
                let bytes = view.snapshot_bytes();
                *self = ViewInstance::Asleep {
                    view: Box::new(view),
                    _counted: HibernatedView::new(metrics),
                };
                Ok(bytes)
            }
            Err(still) => {
                let StillLive { instance, why } = *still;
                *self = ViewInstance::Awake {
                    instance: Box::new(instance),
                    _live,
                    _slot,
                };
                Err(why)
            }
        }
    }
}

/// How a live upgrade of one view went ([`ViewInstance::upgrade`]).
pub(super) enum Upgraded {
    /// The view runs the new version, its state carried over.
    Migrated,
    /// The view cannot be snapshotted now: it stays, untouched, on its version.
    Kept(HibernateRefusal),
    /// The new version refused the snapshot or could not be instantiated: the view is lost
    /// ([`ViewInstance::Gone`]) and must be remounted.
    Lost(WakeError),
}

impl ViewInstance {
    /// Live upgrade: carries the view, awake or hibernated, into a fresh instance of `app`
    /// (another version of its app) through its snapshot and the new version's `migrate`. A
    /// hibernated view takes a slot of `usage` for its new instance; with its tenant at its
    /// quota it stays asleep on its version.
    pub(super) fn upgrade(
        &mut self,
        app: &App,
        metrics: &AppMetrics,
        usage: Option<&Arc<TenantUsage>>,
    ) -> Upgraded {
        let (migrated, slot) = match std::mem::replace(self, ViewInstance::Gone) {
            ViewInstance::Awake {
                instance,
                _live,
                _slot,
            } => match (*instance).upgrade(app) {
                Ok(migrated) => (migrated, _slot),
                Err(still) => {
                    let StillLive { instance, why } = *still;
                    *self = ViewInstance::Awake {
                        instance: Box::new(instance),
                        _live,
                        _slot,
                    };
                    return Upgraded::Kept(why);
                }
            },
            ViewInstance::Asleep { view, _counted } => match take_slot(usage) {
                Some(slot) => ((*view).upgrade(app), slot),
                None => {
                    *self = ViewInstance::Asleep { view, _counted };
                    return Upgraded::Kept(HibernateRefusal::NotNow);
                }
            },
            ViewInstance::Gone => return Upgraded::Kept(HibernateRefusal::NotNow),
        };
        match migrated {
            Ok(instance) => {
                *self = ViewInstance::awake(instance, metrics, slot);
                Upgraded::Migrated
            }
            Err(error) => Upgraded::Lost(error),
        }
    }
}

/// A slot of `usage` for one more live instance: `Some(None)` off a platform site (nothing to
/// count), `None` when the tenant is at its quota.
fn take_slot(usage: Option<&Arc<TenantUsage>>) -> Option<Option<InstanceSlot>> {
    match usage {
        Some(usage) => usage.try_acquire().map(Some),
        None => Some(None),
    }
}

/// What decides whether a view may hibernate now.
pub(super) struct Idle {
    /// When it last ran a callback, or was last found unable to hibernate: the hibernation
    /// clock starts again from here.
    pub(super) last_active: Instant,
    /// When it last ran a callback: its socket may park `park_after` past this (a view that
    /// keeps failing to hibernate still lets its socket park).
    pub(super) last_callback: Instant,
    /// It can never hibernate (its component has no hibernation export).
    pub(super) never: bool,
}

impl Idle {
    /// Fresh: active now.
    pub(super) fn new() -> Idle {
        let now = Instant::now();
        Idle {
            last_active: now,
            last_callback: now,
            never: false,
        }
    }
}
