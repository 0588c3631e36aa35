//! The runtime the apps' SQL and outgoing HTTP run on: one small tokio runtime of the host's
//! own, so a guest thread (no runtime), a worker of the host's runtime or a test's
//! single-threaded runtime can all wait for a call the same way, without blocking the runtime
//! the call needs.

use std::future::Future;
use std::sync::{Arc, OnceLock, mpsc};
use std::time::Duration;

use tokio::runtime::{Handle, RuntimeFlavor};

/// Extra time a caller waits past a call's own limit before giving up on it (acquiring a
/// connection, a slow disk).
const GRACE: Duration = Duration::from_secs(5);

/// A one-thread tokio runtime for capability calls; shut down in the background when dropped.
pub(crate) struct Runner {
    runtime: Option<tokio::runtime::Runtime>,
}

impl Runner {
    /// Starts the runtime's thread, named `name`.
    pub(crate) fn new(name: &str) -> std::io::Result<Runner> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(name)
            .enable_all()
            .build()?;
        Ok(Runner {
            runtime: Some(runtime),
        })
    }

    /// Runs `f` inside the runtime's context (to make a pool whose tasks run there).
    pub(crate) fn enter<T>(&self, f: impl FnOnce() -> T) -> T {
        match &self.runtime {
            Some(runtime) => {
                let _entered = runtime.enter();
                f()
            }
            None => f(),
        }
    }

    /// Runs `call` with the runtime's I/O and timers and waits for it, at most `limit` and a
    /// grace period; `Err` says why there is no answer.
    ///
    /// A caller that may block (a guest thread, a worker of a multi-threaded runtime, which
    /// first hands its other tasks over) polls `call` itself: a SQL query is then one hop to
    /// its connection and back, not two more to this runtime's thread and back. A caller on
    /// a single-threaded runtime cannot lend its thread, so `call` runs on this runtime's.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        limit: Duration,
        call: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, String> {
        let Some(runtime) = &self.runtime else {
            return Err("the host is stopping".into());
        };
        let patience = limit + GRACE;
        let late = || format!("no answer in {} s", patience.as_secs());
        let here = Handle::try_current().ok().map(|h| h.runtime_flavor());
        if here == Some(RuntimeFlavor::CurrentThread) {
            let (done, result) = mpsc::sync_channel(1);
            runtime.spawn(async move {
                let _ = done.send(call.await);
            });
            return result.recv_timeout(patience).map_err(|_| late());
        }
        let wait = || {
            runtime
                .block_on(async { tokio::time::timeout(patience, call).await })
                .map_err(|_| late())
        };
        match here {
            Some(_) => tokio::task::block_in_place(wait),
            None => wait(),
        }
    }
}

/// A [`Runner`] started on its first use, so a host whose apps never make the calls it serves
/// runs no extra thread; a failure to start is kept and given to every caller.
pub(crate) struct LazyRunner {
    /// The runtime thread's name (`livewasm-sql`, `livewasm-fetch`).
    name: &'static str,
    runner: OnceLock<Result<Arc<Runner>, String>>,
}

impl LazyRunner {
    /// A runner whose thread will be named `name`; nothing starts yet.
    pub(crate) fn new(name: &'static str) -> LazyRunner {
        LazyRunner {
            name,
            runner: OnceLock::new(),
        }
    }

    /// The runner, started now if it is not yet; `Err` says why it could not start.
    pub(crate) fn get(&self) -> Result<Arc<Runner>, String> {
        self.runner
            .get_or_init(|| {
                Runner::new(self.name)
                    .map(Arc::new)
                    .map_err(|e| format!("could not start the {} runtime: {e}", self.name))
            })
            .clone()
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
