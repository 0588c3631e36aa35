//! `start_async`, `assign_async!`, `cancel_async` and `attach_hook` on a live component's
//! socket, as Phoenix LiveView 1.2 has them.
//!
//! - A task a component starts is the component's: its outcome reaches the component's
//!   [`LiveComponent::handle_async`] (or the field of its `assign_async!`), not the parent
//!   view's. Its name is the component's own: two components (or a component and its view)
//!   may each run a task called `"load"`. A component removed before its task ends never
//!   hears of it. (On the wire the task carries the component's cid, as Phoenix tags a
//!   component's async result with its cid.)
//! - A component's socket takes hooks on two stages only, `handle_event` (before the
//!   component's own `handle_event`; the first hook that halts handles the event) and
//!   `after_render` (after each render of the component). Phoenix raises for any other stage
//!   on a component; here attaching one is a [`ComponentHookError::UnsupportedStage`].
//!
//! ```
//! use livewasm_sdk::prelude::*;
//!
//! /// A task: counts the team's members (run by the host in a fresh instance).
//! pub fn count_members(team: String) -> std::result::Result<u32, String> {
//!     Ok(team.len() as u32)
//! }
//!
//! #[derive(Assigns, Default)]
//! pub struct Team {
//!     members: AsyncResult<u32>,
//!     clicks: u32,
//! }
//!
//! /// Counts every event the component gets, then lets it through.
//! fn count_clicks(socket: &mut Socket<Team>, _event: &str, _value: &Value) -> Result<HookResult> {
//!     update!(socket, clicks, |c| *c += 1);
//!     Ok(HookResult::Cont)
//! }
//!
//! /// Not a stage a component supports.
//! fn on_info(_: &mut Socket<Team>, _: &Value) -> Result<HookResult> {
//!     Ok(HookResult::Cont)
//! }
//!
//! impl LiveComponent for Team {
//!     type Props = String;
//!
//!     fn mount(socket: &mut ComponentSocket<Self>) -> Result {
//!         socket.attach_hook("clicks", Hook::HandleEvent(count_clicks))?;
//!         // Phoenix raises here; the SDK answers with a typed error.
//!         assert_eq!(
//!             socket.attach_hook("info", Hook::HandleInfo(on_info)),
//!             Err(ComponentHookError::UnsupportedStage { stage: Stage::HandleInfo }),
//!         );
//!         Ok(())
//!     }
//!
//!     fn update(socket: &mut ComponentSocket<Self>, team: String) -> Result {
//!         update!(socket, members, |m| m.loading = true);
//!         // The outcome comes back to this component's `handle_async`.
//!         socket.start_async("members", count_members, team)
//!     }
//!
//!     fn handle_async(socket: &mut ComponentSocket<Self>, name: &str, outcome: AsyncOutcome) -> Result {
//!         if name == "members" {
//!             let count = outcome.and_then(decode_async::<u32>);
//!             update!(socket, members, |m| *m = match count {
//!                 Ok(n) => AsyncResult::ok(n),
//!                 Err(reason) => AsyncResult::failed(reason),
//!             });
//!         }
//!         Ok(())
//!     }
//!
//!     fn render(assigns: &Tracked<'_, Self>) -> Rendered {
//!         html!(r#"<div><.async_result assign={&@members} :let={n}><:loading>Loading…</:loading>{n} members</.async_result></div>"#)
//!     }
//! }
//! ```

use serde::Serialize;

use crate::async_ops::AsyncField;
use crate::attach_hook::{Hook, SharedHook, Stage};
use crate::{ComponentSocket, LiveComponent, Socket};

/// What starts the task name of a live component's task: `"<prefix><cid>:<its name>"`.
const TASK_PREFIX: &str = "livewasm:component:";

/// The task name a component's task `name` runs under.
pub(crate) fn task_name(cid: u32, name: &str) -> String {
    format!("{TASK_PREFIX}{cid}:{name}")
}

/// The component (cid) and its own name of a task name [`task_name`] made; `None` for a
/// view's task.
pub(crate) fn split_task_name(full: &str) -> Option<(u32, &str)> {
    let (cid, name) = full.strip_prefix(TASK_PREFIX)?.split_once(':')?;
    Some((cid.parse().ok()?, name))
}

/// Why a hook could not be attached to a live component's socket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComponentHookError {
    /// A live component supports `handle_event` and `after_render` hooks only (Phoenix raises
    /// for the other stages on a component's socket).
    #[error(
        "lifecycle hooks are not supported on stage {stage} for live components \
         (only handle_event and after_render)"
    )]
    UnsupportedStage {
        /// The stage asked for.
        stage: Stage,
    },
    /// A hook of that name is already attached to that stage.
    #[error("a hook named `{name}` is already attached to {stage}")]
    AlreadyAttached {
        /// The hook's name.
        name: String,
        /// Its stage.
        stage: Stage,
    },
}

impl From<ComponentHookError> for crate::Error {
    fn from(error: ComponentHookError) -> crate::Error {
        crate::Error::new(error.to_string())
    }
}

/// Checks that a component may take a hook `name` on `stage`.
fn check_stage<C>(socket: &Socket<C>, name: &str, stage: Stage) -> Result<(), ComponentHookError> {
    if !matches!(stage, Stage::HandleEvent | Stage::AfterRender) {
        return Err(ComponentHookError::UnsupportedStage { stage });
    }
    if socket.has_hook(name, stage) {
        return Err(ComponentHookError::AlreadyAttached {
            name: name.to_string(),
            stage,
        });
    }
    Ok(())
}

impl<C: LiveComponent> ComponentSocket<C> {
    /// Starts `task(args)` in the background under `name` for this component (Phoenix's
    /// `start_async` on a component's socket): its outcome reaches this component's
    /// [`LiveComponent::handle_async`] with the same `name`, not the parent view's. A task of
    /// this component already running under `name` is replaced; other components' and the
    /// view's tasks of the same name are not touched. Nothing starts during the dead render.
    /// An error means the host refused the task (too many running, argument too large).
    pub fn start_async<A, T, E, F>(&mut self, name: &str, task: F, args: A) -> crate::Result
    where
        A: Serialize,
        F: Fn(A) -> std::result::Result<T, E>,
    {
        let full = task_name(self.cid(), name);
        let socket: &mut Socket<C> = self;
        socket.start_async_as(&full, task, args)
    }

    /// Cancels this component's task running under `name` (a `start_async` name or an
    /// `assign_async!` field): its outcome becomes `"cancelled"`. False when none runs.
    pub fn cancel_async(&mut self, name: &str) -> bool {
        let full = task_name(self.cid(), name);
        let socket: &mut Socket<C> = self;
        socket.cancel_async(&full)
    }

    /// `assign_async!` on a component's socket: the task's outcome sets the component's
    /// field.
    #[doc(hidden)]
    pub fn __assign_async<A, T, E, F>(
        &mut self,
        name: &'static str,
        fields: Vec<AsyncField<C>>,
        task: F,
        args: A,
    ) where
        A: Serialize,
        F: Fn(A) -> std::result::Result<T, E>,
    {
        let full = task_name(self.cid(), name);
        let socket: &mut Socket<C> = self;
        socket.assign_async_as(full, fields, task, args);
    }

    /// Attaches `hook` under `name` to the component (Phoenix's `attach_hook/4` on a
    /// component's socket): [`Hook::HandleEvent`] runs before the component's
    /// `handle_event` (halting handles the event), [`Hook::AfterRender`] after each of its
    /// renders. Any other stage is [`ComponentHookError::UnsupportedStage`], as Phoenix
    /// raises for it; a name already attached to the stage is
    /// [`ComponentHookError::AlreadyAttached`].
    pub fn attach_hook(&mut self, name: &str, hook: Hook<C>) -> Result<(), ComponentHookError> {
        check_stage(self, name, hook.stage())?;
        let socket: &mut Socket<C> = self;
        socket
            .attach_hook(name, hook)
            .map_err(|_| ComponentHookError::AlreadyAttached {
                name: name.to_string(),
                stage: hook.stage(),
            })
    }

    /// [`Self::attach_hook`] for a view-independent hook, with the same stages.
    pub fn attach_shared_hook(
        &mut self,
        name: &str,
        hook: SharedHook,
    ) -> Result<(), ComponentHookError> {
        check_stage(self, name, hook.stage())?;
        let socket: &mut Socket<C> = self;
        socket
            .attach_shared_hook(name, hook)
            .map_err(|_| ComponentHookError::AlreadyAttached {
                name: name.to_string(),
                stage: hook.stage(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_names_round_trip_and_views_names_are_not_components() {
        let full = task_name(7, "load:more");
        assert_eq!(split_task_name(&full), Some((7, "load:more")));
        assert_eq!(split_task_name("metrics_task"), None);
        assert_eq!(split_task_name("livewasm:component:x:load"), None);
    }
}
