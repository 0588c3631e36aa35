//! Opening the store: the [`Registry`] handle, which backend it runs on, where its database
//! lives, and the migrations. Transactions that change it are in `change.rs`; the helpers
//! every table module shares (ids, clock, column decoding) in `sql.rs`.

use std::path::Path;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection, Executor};

use crate::error::{RegistryError, Result};
use crate::limits::QuotaDefaults;

/// How long a pooled connection may sit idle and still be used without a ping.
const PING_AFTER_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// A pool's `before_acquire` (with `test_before_acquire(false)`): a connection back from a
/// call within the last second is lent as it is, one idle longer is pinged first, in case the
/// server went away meanwhile (a failed ping closes it and the pool tries another). A ping on
/// every acquire is a round trip per call. The registry's pool and the apps' Postgres pools
/// use it.
pub fn ping_when_idle<C: Connection>(
    conn: &mut C,
    meta: sqlx::pool::PoolConnectionMetadata,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = std::result::Result<bool, sqlx::Error>> + Send + '_>,
> {
    Box::pin(async move {
        if meta.idle_for >= PING_AFTER_IDLE {
            conn.ping().await?;
        }
        Ok(true)
    })
}

/// The migrations in `host/registry/migrations`, the same set for both backends.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Which database a [`Registry`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// An embedded SQLite file (WAL mode, foreign keys on).
    Sqlite,
    /// A Postgres server.
    Postgres,
}

/// The host's registry: tenants, apps, API tokens, component versions, quotas and the audit
/// log, in SQLite or Postgres behind one API.
///
/// Cheap to clone (the connection pool is shared). Mutating operations take the acting
/// [`Principal`](crate::Principal), check that it is allowed, and write an audit row in the
/// same transaction as the change.
#[derive(Clone, Debug)]
pub struct Registry {
    pub(crate) pool: AnyPool,
    backend: Backend,
    defaults: QuotaDefaults,
    /// The connection URL, for the Postgres change listener (`changes.rs`); never shown.
    pub(crate) url: String,
}

impl Registry {
    /// Opens (creating it if needed) the registry at `location` and runs pending migrations.
    ///
    /// `location` is a `postgres://` (or `postgresql://`) URL, a `sqlite:` URL, or a plain
    /// file path for SQLite. A SQLite file and its parent directories are created on first
    /// open and the file is put in WAL mode.
    pub async fn open(location: &str, defaults: QuotaDefaults) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let (backend, url) = resolve_location(location)?;
        let options: AnyConnectOptions = url.parse().map_err(RegistryError::Database)?;
        let listen_url = url.clone();
        let options = options.disable_statement_logging();
        if backend == Backend::Sqlite {
            // journal_mode needs an exclusive lock that busy_timeout does not wait for, so set
            // it once, on a lone connection, before the pool exists. WAL mode is persistent.
            let mut conn = AnyConnection::connect_with(&options).await?;
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode = WAL")
                .fetch_one(&mut conn)
                .await?;
            conn.close().await?;
            if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
                return Err(RegistryError::InvalidValue {
                    what: "sqlite database",
                    reason: format!("could not switch to WAL mode (journal_mode is {mode})"),
                });
            }
        }
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 8,
            })
            // No ping per call (most of a kv read's cost): only after a while idle.
            .test_before_acquire(false)
            .before_acquire(ping_when_idle)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    if conn.backend_name().eq_ignore_ascii_case("sqlite") {
                        // sqlx already turns foreign keys on and sets a busy timeout; say so
                        // anyway, since the schema relies on both.
                        conn.execute(
                            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
                             PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let registry = Registry {
            pool,
            backend,
            defaults,
            url: listen_url,
        };
        registry.migrate().await?;
        Ok(registry)
    }

    /// Runs the migrations not yet applied; a no-op when the schema is current.
    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// The Postgres URL of this registry (`None` on SQLite), for a host that keeps other
    /// data in the same Postgres (the apps' `sql` schemas). It may carry a password: never
    /// log it.
    pub fn postgres_url(&self) -> Option<&str> {
        (self.backend == Backend::Postgres).then_some(self.url.as_str())
    }

    /// Which database this registry runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The quotas a tenant gets where it has no override.
    pub fn quota_defaults(&self) -> &QuotaDefaults {
        &self.defaults
    }

    /// Runs the cheapest query there is (`SELECT 1`) on a pooled connection: whether the
    /// store answers at all (the host's readiness probe). Fails once [`Registry::close`]d,
    /// or when the database cannot be reached.
    pub async fn ping(&self) -> Result<()> {
        self.pool.execute("SELECT 1").await?;
        Ok(())
    }

    /// Closes every pooled connection; the registry is unusable afterwards.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Turns what the operator configured into a backend and a URL sqlx understands.
fn resolve_location(location: &str) -> Result<(Backend, String)> {
    let invalid = |reason: &str| RegistryError::InvalidValue {
        what: "database location",
        reason: reason.to_owned(),
    };
    if location.starts_with("postgres://") || location.starts_with("postgresql://") {
        return Ok((Backend::Postgres, location.to_owned()));
    }
    if location.starts_with("sqlite:") {
        if location.contains(":memory:") || location.contains("mode=memory") {
            // Through sqlx's Any driver every pooled connection would get its own in-memory
            // database; a temp file behaves as expected.
            return Err(invalid("in-memory SQLite is not supported; use a file"));
        }
        let has_mode = location
            .split_once('?')
            .is_some_and(|(_, q)| q.split('&').any(|kv| kv.starts_with("mode=")));
        let url = match (has_mode, location.contains('?')) {
            (true, _) => location.to_owned(),
            (false, true) => format!("{location}&mode=rwc"),
            (false, false) => format!("{location}?mode=rwc"),
        };
        return Ok((Backend::Sqlite, url));
    }
    if location.contains("://") {
        return Err(invalid(
            "expected a postgres:// or sqlite: URL, or a file path",
        ));
    }
    if location.is_empty() {
        return Err(invalid("empty"));
    }
    let path = Path::new(location);
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| invalid(&format!("no current directory: {e}")))?
            .join(path)
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| invalid(&format!("cannot create {}: {e}", parent.display())))?;
    }
    let text = path
        .to_str()
        .ok_or_else(|| invalid("SQLite file path is not UTF-8"))?;
    Ok((
        Backend::Sqlite,
        format!("sqlite://{}?mode=rwc", encode_path(text)),
    ))
}

/// Percent-encodes what a URL would otherwise read as syntax; sqlx decodes the path again.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        let (b, url) = resolve_location("postgres://u@h/db").unwrap();
        assert_eq!((b, url.as_str()), (Backend::Postgres, "postgres://u@h/db"));
        let (b, url) = resolve_location("sqlite:x.db").unwrap();
        assert_eq!((b, url.as_str()), (Backend::Sqlite, "sqlite:x.db?mode=rwc"));
        let (_, url) = resolve_location("sqlite:x.db?mode=ro").unwrap();
        assert_eq!(url, "sqlite:x.db?mode=ro");
        assert!(resolve_location("mysql://h/db").is_err());
        assert!(resolve_location("sqlite::memory:").is_err());
        assert_eq!(encode_path("/a b/c?#%.db"), "/a%20b/c%3F%23%25.db");
    }
}
