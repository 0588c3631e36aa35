//! The `sql` capability: an SQL database of the app's own. The runtime checks what a guest
//! passes (statement and parameter sizes, batch length), charges the callback's budget, and
//! hands the call to the [`SqlStore`] the server granted the instance (one SQLite database per
//! tenant app). A store enforces the rest itself: statement time, rows and bytes returned,
//! database size, and what SQL may do (no `ATTACH`, `PRAGMA` or extensions).

use std::sync::Arc;

use crate::bindings::livewasm::view::sql;
use crate::capabilities::budget::Budget;

/// Longest statement text, in bytes.
pub const MAX_SQL_STATEMENT_BYTES: usize = 100 * 1024;
/// Most parameters one statement may bind.
pub const MAX_SQL_PARAMS: usize = 999;
/// Most statements in one `sql.batch`.
pub const MAX_SQL_BATCH: usize = 100;
/// Most bytes of parameters one call may pass (all statements of a batch together).
pub const MAX_SQL_PARAM_BYTES: usize = 4 << 20;

/// A value bound to a parameter or read from a column (SQLite's storage classes).
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// `NULL`.
    Null,
    /// A 64-bit signed integer.
    Integer(i64),
    /// A 64-bit float.
    Real(f64),
    /// UTF-8 text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl SqlValue {
    /// Bytes this value takes, for budgets and result limits.
    pub fn size(&self) -> usize {
        match self {
            SqlValue::Null => 1,
            SqlValue::Integer(_) | SqlValue::Real(_) => 8,
            SqlValue::Text(text) => text.len(),
            SqlValue::Blob(bytes) => bytes.len(),
        }
    }
}

/// The rows a query returned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SqlRows {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Each row's values, one per column.
    pub rows: Vec<Vec<SqlValue>>,
}

impl SqlRows {
    /// Bytes of every value and column name.
    pub fn size(&self) -> usize {
        self.columns.iter().map(String::len).sum::<usize>()
            + self
                .rows
                .iter()
                .flat_map(|row| row.iter().map(SqlValue::size))
                .sum::<usize>()
    }
}

/// One statement of a batch and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlStatement {
    /// The SQL text.
    pub sql: String,
    /// Its parameters, in order.
    pub params: Vec<SqlValue>,
}

/// Why a store refused a call; the guest gets its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    /// The statement ran past the time limit and was interrupted (a batch rolls back).
    #[error("sql statement interrupted: it ran longer than {limit_ms} ms")]
    Timeout {
        /// The limit, in milliseconds.
        limit_ms: u64,
    },
    /// A query produced more rows than one call may return.
    #[error("sql query returned more than {limit} rows (add a LIMIT, or page with OFFSET)")]
    TooManyRows {
        /// The limit.
        limit: usize,
    },
    /// A query's rows take more bytes than one call may return.
    #[error("sql query returned more than {limit} bytes")]
    ResultTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A write would take the app's database past its size.
    #[error("sql quota exceeded: the app's database may hold at most {limit} bytes")]
    DatabaseFull {
        /// The limit.
        limit: u64,
    },
    /// The statement does what apps may not (`ATTACH`, `PRAGMA`, loading an extension …).
    #[error("sql statement refused: {0}")]
    Denied(String),
    /// The database refused the statement (syntax, constraint, type …): its message.
    #[error("sql error: {0}")]
    Statement(String),
    /// A migration the app declares failed or was changed after it was applied.
    #[error("sql migration {index} failed: {message}")]
    Migration {
        /// Its position in the app's list, from 1.
        index: usize,
        /// Why.
        message: String,
    },
    /// The database could not be opened or reached.
    #[error("sql database unavailable: {0}")]
    Unavailable(String),
}

/// Where an instance's `sql` calls go: one app's database. Implementations are shared by every
/// instance of the app and called from guest threads (blocking is fine).
pub trait SqlStore: Send + Sync {
    /// Runs one statement and returns its rows.
    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<SqlRows, SqlError>;
    /// Runs one statement and returns the rows it changed.
    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, SqlError>;
    /// Runs statements in one transaction, all or none; the rows each changed.
    fn batch(&self, statements: &[SqlStatement]) -> Result<Vec<u64>, SqlError>;
}

/// The store an instance was granted, if any, and the budget its calls charge.
pub(crate) struct SqlState {
    budget: Budget,
    store: Option<Arc<dyn SqlStore>>,
}

impl SqlState {
    /// No store yet; calls charge `budget`.
    pub(crate) fn new(budget: Budget) -> SqlState {
        SqlState {
            budget,
            store: None,
        }
    }

    /// Grants the instance `store`.
    pub(crate) fn set_store(&mut self, store: Arc<dyn SqlStore>) {
        self.store = Some(store);
    }

    fn store(&self) -> Result<&Arc<dyn SqlStore>, String> {
        self.store
            .as_ref()
            .ok_or_else(|| "sql is not available to this view".to_string())
    }
}

fn from_wit(value: sql::SqlValue) -> SqlValue {
    match value {
        sql::SqlValue::Null => SqlValue::Null,
        sql::SqlValue::Integer(n) => SqlValue::Integer(n),
        sql::SqlValue::Real(x) => SqlValue::Real(x),
        sql::SqlValue::Text(text) => SqlValue::Text(text),
        sql::SqlValue::Blob(bytes) => SqlValue::Blob(bytes),
    }
}

fn to_wit(value: SqlValue) -> sql::SqlValue {
    match value {
        SqlValue::Null => sql::SqlValue::Null,
        SqlValue::Integer(n) => sql::SqlValue::Integer(n),
        SqlValue::Real(x) => sql::SqlValue::Real(x),
        SqlValue::Text(text) => sql::SqlValue::Text(text),
        SqlValue::Blob(bytes) => sql::SqlValue::Blob(bytes),
    }
}

/// Checks one statement's size and parameter count.
fn check_statement(sql: &str, params: &[SqlValue]) -> Result<(), String> {
    if sql.trim().is_empty() {
        return Err("an sql statement may not be empty".into());
    }
    if sql.len() > MAX_SQL_STATEMENT_BYTES {
        return Err(format!(
            "an sql statement of {} bytes exceeds the limit of {MAX_SQL_STATEMENT_BYTES} bytes",
            sql.len()
        ));
    }
    if params.len() > MAX_SQL_PARAMS {
        return Err(format!(
            "an sql statement may bind at most {MAX_SQL_PARAMS} parameters, not {}",
            params.len()
        ));
    }
    Ok(())
}

/// Checks the parameter bytes of a call.
fn check_param_bytes(bytes: usize) -> Result<(), String> {
    if bytes > MAX_SQL_PARAM_BYTES {
        return Err(format!(
            "sql parameters of {bytes} bytes exceed the limit of {MAX_SQL_PARAM_BYTES} bytes per call"
        ));
    }
    Ok(())
}

fn params_size(params: &[SqlValue]) -> usize {
    params.iter().map(SqlValue::size).sum()
}

impl sql::Host for SqlState {
    fn query(
        &mut self,
        sql: String,
        params: Vec<sql::SqlValue>,
    ) -> wasmtime::Result<Result<sql::SqlRows, String>> {
        let params: Vec<SqlValue> = params.into_iter().map(from_wit).collect();
        let bytes = params_size(&params);
        self.budget.call("sql.query", sql.len() + bytes)?;
        let result = check_statement(&sql, &params)
            .and_then(|()| check_param_bytes(bytes))
            .and_then(|()| self.store())
            .and_then(|store| store.query(&sql, &params).map_err(|e| e.to_string()));
        Ok(result.map(|rows| {
            self.budget.produced(rows.size());
            sql::SqlRows {
                columns: rows.columns,
                rows: rows
                    .rows
                    .into_iter()
                    .map(|row| row.into_iter().map(to_wit).collect())
                    .collect(),
            }
        }))
    }

    fn execute(
        &mut self,
        sql: String,
        params: Vec<sql::SqlValue>,
    ) -> wasmtime::Result<Result<u64, String>> {
        let params: Vec<SqlValue> = params.into_iter().map(from_wit).collect();
        let bytes = params_size(&params);
        self.budget.command("sql.execute", sql.len() + bytes)?;
        Ok(check_statement(&sql, &params)
            .and_then(|()| check_param_bytes(bytes))
            .and_then(|()| self.store())
            .and_then(|store| store.execute(&sql, &params).map_err(|e| e.to_string())))
    }

    fn batch(
        &mut self,
        statements: Vec<sql::SqlStatement>,
    ) -> wasmtime::Result<Result<Vec<u64>, String>> {
        let statements: Vec<SqlStatement> = statements
            .into_iter()
            .map(|s| SqlStatement {
                sql: s.sql,
                params: s.params.into_iter().map(from_wit).collect(),
            })
            .collect();
        let bytes: usize = statements
            .iter()
            .map(|s| s.sql.len() + params_size(&s.params))
            .sum();
        self.budget.command("sql.batch", bytes)?;
        if statements.len() > MAX_SQL_BATCH {
            return Ok(Err(format!(
                "an sql batch may hold at most {MAX_SQL_BATCH} statements, not {}",
                statements.len()
            )));
        }
        let checked = statements
            .iter()
            .try_for_each(|s| check_statement(&s.sql, &s.params))
            .and_then(|()| {
                check_param_bytes(statements.iter().map(|s| params_size(&s.params)).sum())
            });
        Ok(checked
            .and_then(|()| self.store())
            .and_then(|store| store.batch(&statements).map_err(|e| e.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_checked_before_the_store() {
        assert!(check_statement("SELECT 1", &[]).is_ok());
        assert!(check_statement("  ", &[]).is_err());
        let long = "x".repeat(MAX_SQL_STATEMENT_BYTES + 1);
        assert!(check_statement(&long, &[]).is_err());
        let params = vec![SqlValue::Null; MAX_SQL_PARAMS + 1];
        assert!(check_statement("SELECT ?", &params).is_err());
        assert!(check_param_bytes(MAX_SQL_PARAM_BYTES + 1).is_err());
    }

    #[test]
    fn sizes_count_values_and_names() {
        let rows = SqlRows {
            columns: vec!["id".into(), "title".into()],
            rows: vec![vec![SqlValue::Integer(1), SqlValue::Text("hello".into())]],
        };
        assert_eq!(rows.size(), 2 + 5 + 8 + 5);
    }

    #[test]
    fn a_view_without_a_store_gets_an_error() {
        let mut state = SqlState::new(Budget::default());
        let result = sql::Host::query(&mut state, "SELECT 1".into(), Vec::new()).expect("no trap");
        assert_eq!(
            result.expect_err("no store"),
            "sql is not available to this view"
        );
    }
}
