//! The data of one instance's wasmtime `Store`: the memory limiter and one state struct per
//! capability. The linker reaches each capability through its own field ([`add_to_linker`]),
//! so no capability sees another's state or the store's.

use crate::capabilities::uploads::UploadSource;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use wasmtime::component::{HasSelf, Linker};

use crate::bindings::livewasm::view::{
    blobs, clock, effects, fetch, kv, log, operator, pubsub, sql, tasks, timers, types, uploads,
};
use crate::capabilities::blobs::BlobsState;
use crate::capabilities::budget::Budget;
use crate::capabilities::clock::ClockState;
use crate::capabilities::effects::{EffectsState, Navigation};
use crate::capabilities::fetch::FetchState;
use crate::capabilities::kv::KvState;
use crate::capabilities::log::LogState;
use crate::capabilities::operator::OperatorState;
use crate::capabilities::pubsub::{PubSubCommand, PubSubState};
use crate::capabilities::sql::SqlState;
use crate::capabilities::tasks::{TaskCommand, TasksState};
use crate::capabilities::timers::{TimerCommand, TimersState};
use crate::capabilities::uploads::UploadsState;
use crate::meter::MeteredLimits;

/// What the view asked for during callbacks, for the caller to carry out: every capability's
/// recorded commands, gathered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effects {
    /// Timer changes, in order.
    pub timers: Vec<TimerCommand>,
    /// Push events (`phx:<name>` on the client), in order.
    pub events: Vec<(String, Value)>,
    /// The navigation asked for (the last one wins).
    pub navigation: Option<Navigation>,
    /// Pub/sub subscriptions and broadcasts, in order.
    pub pubsub: Vec<PubSubCommand>,
    /// Background tasks started or cancelled, in order.
    pub tasks: Vec<TaskCommand>,
    /// Upload entries the view consumed or cancelled: `(upload ref, entry ref)`; their bytes
    /// and upload channels are to be dropped.
    pub released_uploads: Vec<(String, String)>,
}

/// Store data of one instance.
pub(crate) struct HostState {
    /// The instance's memory and table limits (reporting its memory to the app's meter).
    pub(crate) limits: MeteredLimits,
    /// The per-callback budget every capability charges.
    pub(crate) budget: Budget,
    pub(crate) log: LogState,
    pub(crate) clock: ClockState,
    pub(crate) timers: TimersState,
    pub(crate) effects: EffectsState,
    pub(crate) pubsub: PubSubState,
    pub(crate) tasks: TasksState,
    pub(crate) uploads: UploadsState,
    pub(crate) kv: KvState,
    pub(crate) blobs: BlobsState,
    pub(crate) sql: SqlState,
    pub(crate) fetch: FetchState,
    pub(crate) operator: OperatorState,
}

/// What a hibernated view keeps of its last instance's host state, for the next instance: its
/// live timers (and their id counter), subscribed topics, running tasks and upload source. The
/// rest (limits, budget, log, clock, effects, stores) is dropped with the instance: only these
/// values are kept, as boxed slices rather than sets, since every sleeping view holds them.
pub(crate) struct Carried {
    /// Live timer ids.
    pub(crate) timers: Box<[u64]>,
    /// The next timer id.
    next_timer: u64,
    topics: Box<[String]>,
    tasks: Box<[String]>,
    /// The upload source, as the uploads and blobs capabilities each held it.
    uploads: Option<Arc<dyn UploadSource>>,
    blob_uploads: Option<Arc<dyn UploadSource>>,
}

impl Carried {
    /// Hands what was kept to `state` (a fresh instance's).
    pub(crate) fn carry_into(self, state: &mut HostState) {
        state
            .timers
            .carry(self.timers.into_iter().collect(), self.next_timer);
        state.pubsub.carry(self.topics.into_iter().collect());
        state.tasks.carry(self.tasks.into_iter().collect());
        state.uploads.carry(self.uploads);
        state.blobs.carry(self.blob_uploads);
    }
}

impl HostState {
    /// Keeps what a hibernated view needs of this state ([`Carried`]) and drops the rest: the
    /// memory meter hears at once that the instance's memory is gone.
    pub(crate) fn into_carried(self) -> Carried {
        let HostState {
            timers,
            pubsub,
            tasks,
            uploads,
            blobs,
            ..
        } = self;
        let (timers, next_timer) = timers.kept();
        Carried {
            timers: timers.into_iter().collect(),
            next_timer,
            topics: pubsub.kept().into_iter().collect(),
            tasks: tasks.kept().into_iter().collect(),
            uploads: uploads.kept(),
            blob_uploads: blobs.kept(),
        }
    }

    /// Fresh capability states for an instance of app `app_name`, with `limits`; monotonic
    /// time counts from `started`; a callback lasts at most `callback_deadline`.
    pub(crate) fn new(
        limits: MeteredLimits,
        app_name: Arc<str>,
        started: Instant,
        callback_deadline: Duration,
    ) -> HostState {
        let budget = Budget::default();
        HostState {
            limits,
            log: LogState::new(app_name.clone(), budget.clone()),
            clock: ClockState::new(started, budget.clone()),
            timers: TimersState::new(app_name.clone(), budget.clone()),
            effects: EffectsState::new(app_name.clone(), budget.clone()),
            pubsub: PubSubState::new(budget.clone()),
            tasks: TasksState::new(budget.clone()),
            uploads: UploadsState::new(app_name.clone(), budget.clone()),
            kv: KvState::new(budget.clone()),
            blobs: BlobsState::new(app_name, budget.clone()),
            sql: SqlState::new(budget.clone()),
            fetch: FetchState::new(budget.clone(), callback_deadline),
            operator: OperatorState::new(budget.clone()),
            budget,
        }
    }

    /// A new guest callback starts (per-callback budgets are whole again).
    pub(crate) fn new_callback(&mut self) {
        self.budget.reset();
        self.log.new_callback();
        self.pubsub.new_callback();
        self.fetch.new_callback();
    }

    /// Everything recorded since the last call.
    pub(crate) fn take_effects(&mut self) -> Effects {
        Effects {
            timers: self.timers.take_commands(),
            events: self.effects.take_events(),
            navigation: self.effects.take_navigation(),
            pubsub: self.pubsub.take_commands(),
            tasks: self.tasks.take_commands(),
            released_uploads: self.uploads.take_released(),
        }
    }
}

/// The `types` interface declares only types: nothing to implement.
impl types::Host for HostState {}

/// Grants every capability of the `view` world, each interface reaching its own state.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    types::add_to_linker::<_, HasSelf<HostState>>(linker, |s| s)?;
    log::add_to_linker::<_, HasSelf<LogState>>(linker, |s| &mut s.log)?;
    clock::add_to_linker::<_, HasSelf<ClockState>>(linker, |s| &mut s.clock)?;
    timers::add_to_linker::<_, HasSelf<TimersState>>(linker, |s| &mut s.timers)?;
    effects::add_to_linker::<_, HasSelf<EffectsState>>(linker, |s| &mut s.effects)?;
    pubsub::add_to_linker::<_, HasSelf<PubSubState>>(linker, |s| &mut s.pubsub)?;
    tasks::add_to_linker::<_, HasSelf<TasksState>>(linker, |s| &mut s.tasks)?;
    uploads::add_to_linker::<_, HasSelf<UploadsState>>(linker, |s| &mut s.uploads)?;
    kv::add_to_linker::<_, HasSelf<KvState>>(linker, |s| &mut s.kv)?;
    blobs::add_to_linker::<_, HasSelf<BlobsState>>(linker, |s| &mut s.blobs)?;
    sql::add_to_linker::<_, HasSelf<SqlState>>(linker, |s| &mut s.sql)?;
    fetch::add_to_linker::<_, HasSelf<FetchState>>(linker, |s| &mut s.fetch)?;
    operator::add_to_linker::<_, HasSelf<OperatorState>>(linker, |s| &mut s.operator)?;
    Ok(())
}
