//! [`GuestPool`]: where guest code runs — never on the async I/O workers — shared fairly
//! between tenants.
//!
//! A few dedicated threads (one per core by default) take jobs from per-tenant queues in
//! round-robin order, and no tenant may hold more than `per_tenant` threads at once. A tenant
//! whose views burn their whole fuel budget on every callback therefore queues behind itself:
//! it gets its share of the threads, never all of them, and every other tenant's callbacks
//! still find a free thread. Fuel and the wall-clock deadline keep bounding each callback.

use std::collections::{HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

/// Who a job is charged to: a tenant on a platform site, an app on the default site.
pub(crate) type Tenant = Arc<str>;

/// A job for a pool thread.
type Job = Box<dyn FnOnce() + Send>;

/// Why a job did not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuestPoolError {
    /// The pool is shutting down.
    #[error("the guest pool is shut down")]
    Closed,
    /// The job panicked (a host bug; the guest's own traps are errors, not panics).
    #[error("a guest job panicked")]
    Panicked,
    /// The tenant already has as many jobs waiting as it may.
    #[error("too many guest calls are waiting for this tenant")]
    Backlog,
}

#[derive(Default)]
struct Queues {
    /// Waiting jobs per tenant.
    waiting: HashMap<Tenant, VecDeque<Job>>,
    /// Tenants with waiting jobs, in the order they get a turn.
    turns: VecDeque<Tenant>,
    /// Threads each tenant holds now.
    running: HashMap<Tenant, usize>,
    /// Set when the pool is dropped.
    closed: bool,
}

struct Shared {
    queues: Mutex<Queues>,
    wake: Condvar,
    per_tenant: usize,
    max_waiting: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        // A poisoned lock only means a thread panicked while holding it; the queues are
        // still consistent (every change is a single push or pop).
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Dedicated threads running guest code, fair between tenants.
pub struct GuestPool {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for GuestPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestPool")
            .field("threads", &self.threads.len())
            .field("per_tenant", &self.shared.per_tenant)
            .finish()
    }
}

impl GuestPool {
    /// A pool of `threads` threads (at least 1) where one tenant holds at most `per_tenant`
    /// of them (at least 1) and may have at most `max_waiting` jobs queued.
    pub fn new(threads: usize, per_tenant: usize, max_waiting: usize) -> GuestPool {
        let shared = Arc::new(Shared {
            queues: Mutex::new(Queues::default()),
            wake: Condvar::new(),
            per_tenant: per_tenant.max(1),
            max_waiting: max_waiting.max(1),
        });
        let threads = (0..threads.max(1))
            .filter_map(|i| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("livewasm-guest-{i}"))
                    .spawn(move || work(&shared))
                    .map_err(|e| tracing::error!("cannot start a guest thread: {e}"))
                    .ok()
            })
            .collect();
        GuestPool { shared, threads }
    }

    /// A pool sized by `threads` (0: one per core, at least 2) of which a tenant may hold
    /// `per_tenant` (0: half, at least 1), with at most `max_waiting` jobs queued per tenant.
    pub fn sized(threads: usize, per_tenant: usize, max_waiting: usize) -> GuestPool {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let threads = if threads == 0 { cores.max(2) } else { threads };
        let per_tenant = if per_tenant == 0 {
            threads / 2
        } else {
            per_tenant.min(threads)
        };
        GuestPool::new(threads, per_tenant, max_waiting)
    }

    /// The pool's occupancy now, for metrics: `(threads running a job, threads, jobs waiting)`.
    pub(crate) fn occupancy(&self) -> (usize, usize, usize) {
        let queues = self.shared.lock();
        let busy = queues.running.values().sum();
        let waiting = queues.waiting.values().map(VecDeque::len).sum();
        (busy, self.threads.len(), waiting)
    }

    /// Runs `job` on a pool thread, charged to `tenant`, and returns its result.
    pub async fn run<T, F>(&self, tenant: &Tenant, job: F) -> Result<T, GuestPoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        // The job's log lines belong to whoever asked for it (its socket, its request).
        let span = tracing::Span::current();
        self.submit(
            tenant,
            Box::new(move || {
                let _entered = span.enter();
                let result = catch_unwind(AssertUnwindSafe(job)).map_err(|_| {
                    tracing::error!("a guest job panicked");
                    GuestPoolError::Panicked
                });
                // The caller may have gone (its socket closed): nothing to tell.
                let _ = tx.send(result);
            }),
        )?;
        rx.await.map_err(|_| GuestPoolError::Closed)?
    }

    /// Queues a job for `tenant`.
    fn submit(&self, tenant: &Tenant, job: Job) -> Result<(), GuestPoolError> {
        let mut queues = self.shared.lock();
        if queues.closed {
            return Err(GuestPoolError::Closed);
        }
        let waiting = queues.waiting.entry(tenant.clone()).or_default();
        if waiting.len() >= self.shared.max_waiting {
            return Err(GuestPoolError::Backlog);
        }
        waiting.push_back(job);
        if waiting.len() == 1 {
            queues.turns.push_back(tenant.clone());
        }
        drop(queues);
        self.shared.wake.notify_one();
        Ok(())
    }
}

impl Drop for GuestPool {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_all();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// The next job a thread may run: the first tenant in turn order that holds fewer than
/// `per_tenant` threads. Its turn moves to the back while it has more jobs waiting.
fn next_job(queues: &mut Queues, per_tenant: usize) -> Option<(Tenant, Job)> {
    let at = queues
        .turns
        .iter()
        .position(|t| queues.running.get(t).copied().unwrap_or(0) < per_tenant)?;
    let tenant = queues.turns.remove(at)?;
    let waiting = queues.waiting.get_mut(&tenant)?;
    let job = waiting.pop_front()?;
    if waiting.is_empty() {
        queues.waiting.remove(&tenant);
    } else {
        queues.turns.push_back(tenant.clone());
    }
    *queues.running.entry(tenant.clone()).or_default() += 1;
    Some((tenant, job))
}

fn work(shared: &Shared) {
    let mut queues = shared.lock();
    loop {
        if queues.closed {
            return;
        }
        let Some((tenant, job)) = next_job(&mut queues, shared.per_tenant) else {
            queues = shared.wake.wait(queues).unwrap_or_else(|e| e.into_inner());
            continue;
        };
        drop(queues);
        job();
        queues = shared.lock();
        if let Some(count) = queues.running.get_mut(&tenant) {
            *count -= 1;
            if *count == 0 {
                queues.running.remove(&tenant);
            }
        }
        // The tenant may now be under its share again: another thread may take its work.
        shared.wake.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    fn tenant(name: &str) -> Tenant {
        Arc::from(name)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_busy_tenant_never_holds_every_thread() {
        let pool = Arc::new(GuestPool::new(2, 1, 64));
        let busy = tenant("busy");
        let peak = Arc::new(AtomicUsize::new(0));
        let now = Arc::new(AtomicUsize::new(0));
        let busy_done = Arc::new(AtomicUsize::new(0));
        let mut burners = Vec::new();
        for _ in 0..4 {
            let (pool, busy) = (pool.clone(), busy.clone());
            let (peak, now, busy_done) = (peak.clone(), now.clone(), busy_done.clone());
            burners.push(tokio::spawn(async move {
                for _ in 0..3 {
                    let (peak, now, busy_done) = (peak.clone(), now.clone(), busy_done.clone());
                    pool.run(&busy, move || {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(30));
                        now.fetch_sub(1, Ordering::SeqCst);
                        busy_done.fetch_add(1, Ordering::SeqCst);
                    })
                    .await
                    .unwrap();
                }
            }));
        }
        // Once the busy tenant has work queued, another tenant's jobs run beside it: they wait
        // for no more than the busy job in progress, not for its backlog of 12.
        while now.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let quiet = tenant("quiet");
        for i in 0..5 {
            assert_eq!(pool.run(&quiet, move || i * 2).await.unwrap(), i * 2);
        }
        let busy_before_quiet_finished = busy_done.load(Ordering::SeqCst);
        for burner in burners {
            burner.await.unwrap();
        }
        assert_eq!(
            peak.load(Ordering::SeqCst),
            1,
            "the busy tenant held 2 threads"
        );
        assert!(
            busy_before_quiet_finished <= 2,
            "the quiet tenant waited for {busy_before_quiet_finished} busy jobs"
        );
        assert_eq!(busy_done.load(Ordering::SeqCst), 12);
    }

    #[test]
    fn turns_go_round_robin_between_tenants() {
        let mut queues = Queues::default();
        let (a, b) = (tenant("a"), tenant("b"));
        for t in [&a, &a, &a, &b] {
            let waiting = queues.waiting.entry(t.clone()).or_default();
            waiting.push_back(Box::new(|| {}));
            if waiting.len() == 1 {
                queues.turns.push_back(t.clone());
            }
        }
        let order: Vec<String> = std::iter::from_fn(|| {
            let (t, _) = next_job(&mut queues, 8)?;
            Some(t.to_string())
        })
        .collect();
        assert_eq!(order, ["a", "b", "a", "a"]);
        assert!(queues.waiting.is_empty() && queues.turns.is_empty());
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_pool_lives_on() {
        let pool = GuestPool::new(1, 1, 8);
        let t = tenant("t");
        let failed = pool.run(&t, || -> u8 { panic!("boom") }).await;
        assert_eq!(failed, Err(GuestPoolError::Panicked));
        assert_eq!(pool.run(&t, || 7u8).await, Ok(7));
    }

    #[test]
    fn a_tenant_backlog_is_bounded() {
        let pool = GuestPool::new(1, 1, 2);
        let t = tenant("t");
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = std::sync::mpsc::channel::<()>();
        pool.submit(
            &t,
            Box::new(move || {
                let _ = started_tx.send(());
                let _ = gate.recv_timeout(Duration::from_secs(5));
            }),
        )
        .unwrap();
        // The first job runs (and blocks): two more may wait, the next is refused.
        started.recv_timeout(Duration::from_secs(5)).unwrap();
        pool.submit(&t, Box::new(|| {})).unwrap();
        pool.submit(&t, Box::new(|| {})).unwrap();
        assert_eq!(
            pool.submit(&t, Box::new(|| {})),
            Err(GuestPoolError::Backlog)
        );
        // Another tenant is not refused for it.
        assert!(pool.submit(&tenant("other"), Box::new(|| {})).is_ok());
        release.send(()).unwrap();
    }
}
