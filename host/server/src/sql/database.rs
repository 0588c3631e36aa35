//! One app's SQL database: a SQLite pool whose connections carry the guard
//! ([`guard`](super::guard)), and the three calls of the `sql` capability on it, each held to
//! the statement time (a progress handler interrupts past the deadline), the rows and bytes a
//! query may return, and the database's size.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use livewasm_runtime::{SqlError, SqlRows, SqlStatement, SqlStore, SqlValue};
use sqlx::pool::PoolConnection;
use sqlx::query::Query;
use sqlx::sqlite::{Sqlite, SqliteArguments, SqliteConnection, SqlitePool};
use sqlx::{Column, Connection, Decode, Executor, Row, Statement, TypeInfo, ValueRef};

use super::SqlLimits;
use super::rows::collect;
use crate::runner::Runner;

/// SQLite virtual-machine steps between two checks of the deadline.
const STEPS_PER_CHECK: i32 = 1000;

/// One app's database, shared by every instance of the app.
pub(crate) struct AppDatabase {
    pub(super) pool: SqlitePool,
    pub(super) limits: SqlLimits,
    pub(super) runner: Arc<Runner>,
}

impl AppDatabase {
    /// Runs `call` with a connection of the pool, its deadline armed for `limit`.
    pub(super) fn call<T: Send + 'static>(
        &self,
        limit: Duration,
        call: impl for<'c> FnOnce(
            &'c mut SqliteConnection,
            SqlLimits,
        ) -> BoxFuture<'c, Result<T, SqlError>>
        + Send
        + 'static,
    ) -> Result<T, SqlError> {
        let pool = self.pool.clone();
        let limits = self.limits;
        let answer = self.runner.run(limit, async move {
            let mut conn = pool.acquire().await.map_err(unavailable)?;
            let deadline = arm(&mut conn, limit).await?;
            // The handler stays until the next call arms its own deadline: nothing of the
            // app's runs on the connection in between, and a deadline long past only stops
            // what sqlx might run there (a rollback of a transaction left open, after which
            // it closes the connection, which rolls back too), saving a round trip per call.
            let result = call(&mut conn, limits).await;
            result.map_err(|e| match e {
                SqlError::Statement(_) if Instant::now() >= deadline => SqlError::Timeout {
                    limit_ms: limit.as_millis() as u64,
                },
                other => other,
            })
        });
        answer.map_err(|e| SqlError::Unavailable(format!("the database: {e}")))?
    }
}

impl SqlStore for AppDatabase {
    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<SqlRows, SqlError> {
        let (sql, params) = (sql.to_string(), params.to_vec());
        self.call(self.limits.statement_timeout, move |conn, limits| {
            Box::pin(async move { query(conn, &limits, &sql, &params).await })
        })
    }

    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, SqlError> {
        let (sql, params) = (sql.to_string(), params.to_vec());
        self.call(self.limits.statement_timeout, move |conn, limits| {
            Box::pin(async move { execute(conn, &limits, &sql, &params).await })
        })
    }

    fn batch(&self, statements: &[SqlStatement]) -> Result<Vec<u64>, SqlError> {
        let statements = statements.to_vec();
        self.call(self.limits.statement_timeout, move |conn, limits| {
            Box::pin(async move { batch(conn, &limits, &statements).await })
        })
    }
}

/// Runs `statements` in one transaction; the rows each changed.
async fn batch(
    conn: &mut SqliteConnection,
    limits: &SqlLimits,
    statements: &[SqlStatement],
) -> Result<Vec<u64>, SqlError> {
    let mut tx = conn.begin().await.map_err(|e| error(e, limits))?;
    let mut changed = Vec::with_capacity(statements.len());
    for statement in statements {
        match execute(&mut tx, limits, &statement.sql, &statement.params).await {
            Ok(n) => changed.push(n),
            Err(e) => {
                // Dropping the transaction would roll back later; do it now, while the
                // connection is ours.
                let _ = tx.rollback().await;
                return Err(e);
            }
        }
    }
    tx.commit().await.map_err(|e| error(e, limits))?;
    Ok(changed)
}

/// Arms `conn`'s progress handler to interrupt whatever runs past `limit` from now (one round
/// trip to the connection's thread); the deadline.
async fn arm(conn: &mut PoolConnection<Sqlite>, limit: Duration) -> Result<Instant, SqlError> {
    let deadline = Instant::now() + limit;
    let mut handle = conn.lock_handle().await.map_err(unavailable)?;
    handle.set_progress_handler(STEPS_PER_CHECK, move || Instant::now() < deadline);
    Ok(deadline)
}

fn bind<'q>(
    query: Query<'q, Sqlite, SqliteArguments<'q>>,
    value: &'q SqlValue,
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    match value {
        SqlValue::Null => query.bind(None::<i64>),
        SqlValue::Integer(n) => query.bind(*n),
        SqlValue::Real(x) => query.bind(*x),
        SqlValue::Text(text) => query.bind(text.as_str()),
        SqlValue::Blob(bytes) => query.bind(bytes.as_slice()),
    }
}

/// Runs `sql` and returns its rows, at most `limits.max_rows` and
/// [`MAX_RESULT_BYTES`](super::rows::MAX_RESULT_BYTES).
pub(super) async fn query(
    conn: &mut SqliteConnection,
    limits: &SqlLimits,
    sql: &str,
    params: &[SqlValue],
) -> Result<SqlRows, SqlError> {
    let mut query = sqlx::query(sql);
    for value in params {
        query = bind(query, value);
    }
    let (columns, rows) = collect(query.fetch(&mut *conn), limits, None, read_value, |e| {
        error(e, limits)
    })
    .await?;
    let columns = match columns {
        Some(columns) => columns,
        // No rows: the statement (cached by the fetch) still names its columns.
        None => (&mut *conn)
            .prepare(sql)
            .await
            .map_err(|e| error(e, limits))?
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect(),
    };
    Ok(SqlRows { columns, rows })
}

/// Runs `sql` and returns the rows it changed.
pub(super) async fn execute(
    conn: &mut SqliteConnection,
    limits: &SqlLimits,
    sql: &str,
    params: &[SqlValue],
) -> Result<u64, SqlError> {
    let mut query = sqlx::query(sql);
    for value in params {
        query = bind(query, value);
    }
    let done = query.execute(conn).await.map_err(|e| error(e, limits))?;
    Ok(done.rows_affected())
}

/// Column `index` of `row`, by the storage class of its value.
fn read_value(row: &sqlx::sqlite::SqliteRow, index: usize) -> Result<SqlValue, SqlError> {
    let raw = row
        .try_get_raw(index)
        .map_err(|e| SqlError::Statement(e.to_string()))?;
    if raw.is_null() {
        return Ok(SqlValue::Null);
    }
    let decoded = match raw.type_info().name() {
        "INTEGER" => <i64 as Decode<Sqlite>>::decode(raw).map(SqlValue::Integer),
        "REAL" => <f64 as Decode<Sqlite>>::decode(raw).map(SqlValue::Real),
        "TEXT" => <String as Decode<Sqlite>>::decode(raw).map(SqlValue::Text),
        _ => <Vec<u8> as Decode<Sqlite>>::decode(raw).map(SqlValue::Blob),
    };
    decoded.map_err(|e| SqlError::Statement(e.to_string()))
}

/// SQLite's primary result codes we tell apart.
const SQLITE_INTERRUPT: i64 = 9;
const SQLITE_FULL: i64 = 13;
const SQLITE_AUTH: i64 = 23;

/// The error the guest gets for `e`.
pub(super) fn error(e: sqlx::Error, limits: &SqlLimits) -> SqlError {
    match &e {
        sqlx::Error::Database(db) => {
            let code = db
                .code()
                .and_then(|c| c.parse::<i64>().ok())
                .map(|c| c & 0xff);
            match code {
                Some(SQLITE_FULL) => SqlError::DatabaseFull {
                    limit: limits.max_bytes,
                },
                // A denied function is a plain error carrying the authorizer's words.
                _ if db.message().starts_with("not authorized") => SqlError::Denied(
                    "apps may not ATTACH, run PRAGMAs (but schema ones) or load extensions".into(),
                ),
                Some(SQLITE_AUTH) => SqlError::Denied(
                    "apps may not ATTACH, run PRAGMAs (but schema ones) or load extensions".into(),
                ),
                Some(SQLITE_INTERRUPT) => SqlError::Timeout {
                    limit_ms: limits.statement_timeout.as_millis() as u64,
                },
                _ => SqlError::Statement(db.message().to_string()),
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => unavailable(e),
        _ => SqlError::Statement(e.to_string()),
    }
}

/// The database could not be reached.
pub(super) fn unavailable(e: sqlx::Error) -> SqlError {
    SqlError::Unavailable(e.to_string())
}
