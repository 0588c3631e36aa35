//! The `tasks` capability: background work a view starts or cancels, checked against the
//! limits here and recorded as [`TaskCommand`]s for the server to run in fresh instances.

use std::collections::HashSet;

use crate::bindings::livewasm::view::tasks;
use crate::capabilities::budget::Budget;
use crate::json_text::JsonText;

/// Tasks one view may have running at once.
pub const MAX_TASKS: usize = 16;
/// Largest task argument, in bytes of JSON.
pub const MAX_TASK_ARGS_BYTES: usize = 64 * 1024;
/// Largest value a task may return, in bytes of JSON; a larger one becomes a failed result.
pub const MAX_TASK_RESULT_BYTES: usize = 1 << 20;
/// Longest task or task-name string, in bytes.
pub const MAX_TASK_NAME_BYTES: usize = 256;

/// A background task change requested by a view.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskCommand {
    /// Run task `task` with `args`; its result goes to `handle-async(name, …)`.
    Start {
        /// The name the result is delivered under (replaces a running task of that name).
        name: String,
        /// Which task of the app (`run-task`'s `task`).
        task: String,
        /// Its argument.
        args: JsonText,
    },
    /// Cancel the task running under `name`: its result becomes the error `cancelled`.
    Cancel {
        /// The name it runs under.
        name: String,
    },
}

/// The names of one view's running tasks, and the commands not yet taken.
#[derive(Debug)]
pub(crate) struct TasksState {
    budget: Budget,
    running: HashSet<String>,
    commands: Vec<TaskCommand>,
}

impl TasksState {
    /// The running tasks, kept while the view hibernates.
    pub(crate) fn kept(self) -> HashSet<String> {
        self.running
    }

    /// Takes over the tasks a hibernated view kept ([`Self::kept`]).
    pub(crate) fn carry(&mut self, running: HashSet<String>) {
        self.running = running;
    }

    /// No tasks yet; calls charge `budget`.
    pub(crate) fn new(budget: Budget) -> TasksState {
        TasksState {
            budget,
            running: HashSet::new(),
            commands: Vec::new(),
        }
    }

    /// The task under `name` finished (its result is being delivered).
    pub(crate) fn done(&mut self, name: &str) {
        self.running.remove(name);
    }

    /// The commands recorded since the last call, in order.
    pub(crate) fn take_commands(&mut self) -> Vec<TaskCommand> {
        std::mem::take(&mut self.commands)
    }
}

impl tasks::Host for TasksState {
    fn start(
        &mut self,
        name: String,
        task: String,
        args: String,
    ) -> wasmtime::Result<Result<(), String>> {
        self.budget
            .command("tasks.start", name.len() + task.len() + args.len())?;
        Ok(self.start_checked(name, task, args))
    }

    fn cancel(&mut self, name: String) -> wasmtime::Result<bool> {
        self.budget.command("tasks.cancel", name.len())?;
        let known = self.running.remove(&name);
        if known {
            self.commands.push(TaskCommand::Cancel { name });
        }
        Ok(known)
    }
}

impl TasksState {
    fn start_checked(&mut self, name: String, task: String, args: String) -> Result<(), String> {
        if name.is_empty() || name.len() > MAX_TASK_NAME_BYTES {
            return Err(format!(
                "a task name must have 1 to {MAX_TASK_NAME_BYTES} bytes"
            ));
        }
        if task.is_empty() || task.len() > MAX_TASK_NAME_BYTES {
            return Err(format!("a task must have 1 to {MAX_TASK_NAME_BYTES} bytes"));
        }
        if !self.running.contains(&name) && self.running.len() >= MAX_TASKS {
            return Err(format!(
                "too many tasks: a view may run at most {MAX_TASKS} at once"
            ));
        }
        if args.len() > MAX_TASK_ARGS_BYTES {
            return Err(format!(
                "task argument of {} bytes exceeds the limit of {MAX_TASK_ARGS_BYTES} bytes",
                args.len()
            ));
        }
        let args = JsonText::parse(args).map_err(|e| format!("task argument is not JSON: {e}"))?;
        self.running.insert(name.clone());
        self.commands.push(TaskCommand::Start { name, task, args });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tasks::Host as _;

    #[test]
    fn tasks_are_capped_and_cancel_knows_only_running_ones() {
        let mut state = TasksState::new(Budget::default());
        for n in 0..MAX_TASKS {
            state
                .start(format!("job{n}"), "task".into(), "null".into())
                .expect("budget")
                .expect("within the cap");
        }
        // Restarting a running name does not count twice.
        state
            .start("job0".into(), "task".into(), "1".into())
            .expect("budget")
            .expect("restart");
        let error = state
            .start("extra".into(), "task".into(), "null".into())
            .expect("budget")
            .expect_err("over the cap");
        assert!(error.contains("at most 16"), "{error}");
        assert!(state.cancel("job1".into()).expect("budget"));
        assert!(!state.cancel("job1".into()).expect("budget"));
        state.done("job2");
        assert!(!state.cancel("job2".into()).expect("budget"));
        let args = format!("\"{}\"", "a".repeat(MAX_TASK_ARGS_BYTES));
        assert!(
            state
                .start("big".into(), "task".into(), args)
                .expect("budget")
                .is_err()
        );
        assert_eq!(state.take_commands().len(), MAX_TASKS + 2);
    }
}
