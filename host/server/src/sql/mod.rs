//! The SQL databases the host grants its apps (the `sql` capability): one SQLite database per
//! tenant app, as a file under [`ServerConfig::sql_dir`] (durable) or in memory for as long
//! as the host runs (no directory: the dev and test default). A platform app's database is
//! scoped by its registry id, an `--app` component's by `local/<name>`; no app can name
//! another's file (`ATTACH` is refused, see [`guard`]).
//!
//! A database opens on the app's first call, or when a version that declares migrations loads
//! ([`SqlStores::migrate`]): a migration that fails keeps that version from serving. Deleting
//! a platform app deletes its database ([`SqlStores::remove`]).
//!
//! [`ServerConfig::sql_dir`]: crate::ServerConfig::sql_dir

mod database;
mod dialect;
mod guard;
mod migrate;
mod postgres;
mod rows;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use livewasm_runtime::{SqlError, SqlRows, SqlStatement, SqlStore, SqlValue};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::ServerConfig;
use crate::runner::{LazyRunner, Runner};
use database::AppDatabase;

#[cfg(test)]
use rows::MAX_RESULT_BYTES;

/// Longest the migrations of one version may run, all together.
const MIGRATION_TIMEOUT: Duration = Duration::from_secs(30);
/// SQLite page size of the apps' databases (the size quota counts pages).
const PAGE_BYTES: u64 = 4096;
/// Connections one app's file database may have open at once (readers run side by side).
const FILE_CONNECTIONS: u32 = 4;

/// Characters of a scope kept as they are in its database's file name.
const FILE_NAME: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_');

/// What each app's database is held to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SqlLimits {
    /// Largest size of the database, in bytes.
    pub(crate) max_bytes: u64,
    /// Longest one call may run.
    pub(crate) statement_timeout: Duration,
    /// Most rows one query may return.
    pub(crate) max_rows: usize,
}

impl SqlLimits {
    /// The limits of `config`.
    pub(crate) fn of(config: &ServerConfig) -> SqlLimits {
        SqlLimits {
            max_bytes: config.sql_max_bytes,
            statement_timeout: config.sql_statement_timeout,
            max_rows: config.sql_max_rows,
        }
    }
}

/// Every app's database, opened on first use: SQLite files (or memory), or schemas in the
/// registry's Postgres ([`postgres`]).
pub(crate) struct SqlStores {
    inner: Arc<Inner>,
    /// Set when the apps' databases are schemas in Postgres (then `inner` is unused).
    postgres: Option<Arc<postgres::PgStores>>,
    /// Put before every scope (`<namespace>/<scope>`), so hosts sharing a Postgres without
    /// sharing a registry (tests) keep apart; empty: none.
    namespace: String,
    /// Every scope (namespaced) given out or migrated, for [`SqlStores::remove_all`].
    used: Mutex<HashSet<String>>,
}

struct Inner {
    /// Where the files go; `None`: in memory.
    dir: Option<PathBuf>,
    limits: SqlLimits,
    /// Started on first use: a host whose apps never call `sql` runs no extra thread.
    runner: LazyRunner,
    open: Mutex<HashMap<String, Arc<AppDatabase>>>,
    /// Scopes of deleted apps: their views still running get an error, not a new database.
    deleted: Mutex<HashSet<String>>,
}

impl SqlStores {
    /// Databases under `dir` (in memory without one), each held to `limits`.
    pub(crate) fn new(dir: Option<PathBuf>, limits: SqlLimits) -> SqlStores {
        SqlStores {
            inner: Arc::new(Inner {
                dir,
                limits,
                runner: LazyRunner::new("livewasm-sql"),
                open: Mutex::default(),
                deleted: Mutex::default(),
            }),
            postgres: None,
            namespace: String::new(),
            used: Mutex::default(),
        }
    }

    /// One schema per app in the Postgres at `url` (the registry's), each owned by a role of
    /// the app's own whose password derives from `secret`; each held to `limits`.
    pub(crate) fn postgres(
        url: &str,
        secret: &[u8],
        limits: SqlLimits,
    ) -> Result<SqlStores, SqlError> {
        let mut stores = SqlStores::new(None, limits);
        stores.postgres = Some(Arc::new(postgres::PgStores::new(url, secret, limits)?));
        Ok(stores)
    }

    /// These stores with every scope under `namespace` (`<namespace>/<scope>`), each database
    /// deleted when the stores are dropped (a test host's).
    pub(crate) fn namespaced(mut self, namespace: &str) -> SqlStores {
        self.namespace = namespace.to_string();
        self
    }

    /// `scope` under the namespace, recorded as used.
    fn scoped(&self, scope: &str) -> String {
        let scope = if self.namespace.is_empty() {
            scope.to_string()
        } else {
            format!("{}/{scope}", self.namespace)
        };
        lock(&self.used).insert(scope.clone());
        scope
    }

    /// Deletes every database these stores gave out.
    fn remove_all(&self) {
        let used: Vec<String> = lock(&self.used).drain().collect();
        for scope in used {
            self.remove_scoped(&scope);
        }
    }

    /// The store of `scope` (a registry app id, or `local/<app>`); it opens the database on
    /// its first call.
    pub(crate) fn store(&self, scope: &str) -> Arc<dyn SqlStore> {
        let scope = &self.scoped(scope);
        if let Some(postgres) = &self.postgres {
            return Arc::new(ScopedPg {
                stores: postgres.clone(),
                scope: scope.to_string(),
            });
        }
        Arc::new(ScopedSql {
            inner: self.inner.clone(),
            scope: scope.to_string(),
        })
    }

    /// Applies `migrations` to `scope`'s database (those it has not seen); how many ran.
    pub(crate) fn migrate(&self, scope: &str, migrations: &[String]) -> Result<usize, SqlError> {
        let scope = &self.scoped(scope);
        if let Some(postgres) = &self.postgres {
            return postgres.migrate(scope, migrations);
        }
        let database = self.inner.database(scope)?;
        let migrations = migrations
            .iter()
            .enumerate()
            .map(|(n, migration)| {
                dialect::migration_for(migration, dialect::Dialect::Sqlite)
                    .map(str::to_string)
                    .map_err(|message| SqlError::Migration {
                        index: n + 1,
                        message,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        database.call(MIGRATION_TIMEOUT, move |conn, limits| {
            Box::pin(async move { migrate::migrate(conn, &limits, migrations).await })
        })
    }

    /// Closes and deletes `scope`'s database (its app was deleted); later calls fail.
    pub(crate) fn remove(&self, scope: &str) {
        let scope = &self.scoped(scope);
        lock(&self.used).remove(scope);
        self.remove_scoped(scope);
    }

    /// [`SqlStores::remove`] of a scope already namespaced.
    fn remove_scoped(&self, scope: &str) {
        if let Some(postgres) = &self.postgres {
            postgres.remove(scope);
            return;
        }
        lock(&self.inner.deleted).insert(scope.to_string());
        let database = lock(&self.inner.open).remove(scope);
        if let Some(database) = database {
            let pool = database.pool.clone();
            let _ = database
                .runner
                .run(Duration::from_secs(5), async move { pool.close().await });
        }
        if let Some(path) = self.inner.path(scope) {
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.clone().into_os_string();
                file.push(suffix);
                if let Err(error) = std::fs::remove_file(&file)
                    && error.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::warn!(%error, file = %Path::new(&file).display(), "could not delete an app's sql database");
                }
            }
        }
    }
}

impl Drop for SqlStores {
    fn drop(&mut self) {
        // Namespaced stores belong to one host (a test's): nothing else will use them.
        if !self.namespace.is_empty() {
            self.remove_all();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every change under these locks is one step: a panic leaves consistent data.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The runtime every call of either backend runs on, started on first use.
fn runner(lazy: &LazyRunner) -> Result<Arc<Runner>, SqlError> {
    lazy.get().map_err(SqlError::Unavailable)
}

impl Inner {
    /// The file of `scope`'s database, when databases are files.
    fn path(&self, scope: &str) -> Option<PathBuf> {
        let name = utf8_percent_encode(scope, FILE_NAME).to_string();
        self.dir
            .as_ref()
            .map(|dir| dir.join(format!("{name}.sqlite3")))
    }

    /// `scope`'s database, opened now if it is not yet.
    fn database(&self, scope: &str) -> Result<Arc<AppDatabase>, SqlError> {
        if lock(&self.deleted).contains(scope) {
            return Err(SqlError::Unavailable("the app was deleted".into()));
        }
        let mut open = lock(&self.open);
        if let Some(database) = open.get(scope) {
            return Ok(database.clone());
        }
        let runner = runner(&self.runner)?;
        let pool = self.pool(scope, &runner)?;
        let database = Arc::new(AppDatabase {
            pool,
            limits: self.limits,
            runner,
        });
        open.insert(scope.to_string(), database.clone());
        Ok(database)
    }

    /// A lazy pool on `scope`'s database (nothing is opened until the first call).
    fn pool(&self, scope: &str, runner: &Runner) -> Result<SqlitePool, SqlError> {
        let max_pages = (self.limits.max_bytes / PAGE_BYTES).max(1);
        let (options, pool) = match self.path(scope) {
            Some(path) => {
                if let Some(dir) = &self.dir {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        SqlError::Unavailable(format!("creating {}: {e}", dir.display()))
                    })?;
                }
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal);
                let pool = SqlitePoolOptions::new()
                    .max_connections(FILE_CONNECTIONS)
                    .idle_timeout(Some(Duration::from_secs(60)));
                (options, pool)
            }
            None => {
                // Each connection to `:memory:` is a database of its own: keep exactly one,
                // open for as long as the host runs.
                let options = SqliteConnectOptions::from_str("sqlite::memory:")
                    .map_err(|e| SqlError::Unavailable(e.to_string()))?;
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None);
                (options, pool)
            }
        };
        let options = options
            .page_size(PAGE_BYTES as u32)
            .foreign_keys(true)
            .busy_timeout(self.limits.statement_timeout)
            .pragma("max_page_count", max_pages.to_string());
        // A SQLite connection is a file handle in this process: nothing between two calls
        // can break it, so the pool does not ping it (one round trip to its thread) first.
        let pool = pool
            .test_before_acquire(false)
            .acquire_timeout(self.limits.statement_timeout + Duration::from_secs(2))
            .after_connect(|conn, _| Box::pin(guard::install(conn)));
        Ok(runner.enter(|| pool.connect_lazy_with(options)))
    }
}

/// One app's store as the runtime holds it: the database is looked up (and opened) per call.
struct ScopedSql {
    inner: Arc<Inner>,
    scope: String,
}

impl SqlStore for ScopedSql {
    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<SqlRows, SqlError> {
        self.inner.database(&self.scope)?.query(sql, params)
    }

    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, SqlError> {
        self.inner.database(&self.scope)?.execute(sql, params)
    }

    fn batch(&self, statements: &[SqlStatement]) -> Result<Vec<u64>, SqlError> {
        self.inner.database(&self.scope)?.batch(statements)
    }
}

/// One app's schema as the runtime holds it: looked up (and set up) per call.
struct ScopedPg {
    stores: Arc<postgres::PgStores>,
    scope: String,
}

impl SqlStore for ScopedPg {
    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<SqlRows, SqlError> {
        self.stores.database(&self.scope)?.query(sql, params)
    }

    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, SqlError> {
        self.stores.database(&self.scope)?.execute(sql, params)
    }

    fn batch(&self, statements: &[SqlStatement]) -> Result<Vec<u64>, SqlError> {
        self.stores.database(&self.scope)?.batch(statements)
    }
}

#[cfg(test)]
mod tests;
