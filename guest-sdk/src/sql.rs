//! The app's own SQL database (SQLite dialect), kept by the host across restarts and deploys;
//! no other app can reach it. Its schema is the `migrations` list of [`app!`](crate::app),
//! which the host applies before a version serves. Parameters are `?` or `?NNN`; values are
//! [`Value`]s (`.into()` from integers, floats, strings, bytes, bools and `Option`s).
//!
//! The host holds each call to a time limit (1 s by default), each query to 1,000 rows and
//! 4 MiB, and the database to a size (64 MiB by default); `ATTACH`, `PRAGMA` (but schema
//! ones) and extensions are refused. An error names the limit hit or carries SQLite's message.
//! Every call is a host call: read in `mount`/`handle_event`, not in `render`.
//!
//! ```no_run
//! use livewasm_sdk::prelude::*;
//!
//! // In `app!`: migrations: ["CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT NOT NULL)"]
//!
//! struct Article {
//!     id: i64,
//!     title: String,
//! }
//!
//! fn create(title: &str) -> Result<i64> {
//!     sql::execute("INSERT INTO articles (title) VALUES (?)", &[title.into()])?;
//!     let id = sql::query("SELECT last_insert_rowid()", &[])?.scalar::<i64>()?;
//!     Ok(id)
//! }
//!
//! fn list() -> Result<Vec<Article>> {
//!     sql::query("SELECT id, title FROM articles ORDER BY id", &[])?
//!         .iter()
//!         .map(|row| Ok(Article { id: row.get("id")?, title: row.get("title")? }))
//!         .collect()
//! }
//!
//! fn rename_all(prefix: &str) -> Result {
//!     // One transaction: both statements, or neither.
//!     sql::batch(&[
//!         sql::Statement::new("UPDATE articles SET title = ? || title", &[prefix.into()]),
//!         sql::Statement::new("DELETE FROM articles WHERE title = ''", &[]),
//!     ])?;
//!     Ok(())
//! }
//! # create("x")?; list()?; rename_all("y")?;
//! # Ok::<(), livewasm_sdk::Error>(())
//! ```
//!
//! `last_insert_rowid()` belongs to the connection, and an app's calls may use different
//! connections: prefer `INSERT … RETURNING id` through [`query()`](fn@query), as the examples do.

use crate::bindings::livewasm::view::sql as wit;
use crate::{Error, Result};

pub use wit::SqlValue as Value;

/// Runs one statement and returns the rows it produced.
pub fn query(sql: &str, params: &[Value]) -> Result<Rows> {
    let rows = wit::query(sql, params).map_err(Error::new)?;
    Ok(Rows {
        columns: rows.columns,
        rows: rows.rows,
    })
}

/// Runs one statement and returns the number of rows it changed.
pub fn execute(sql: &str, params: &[Value]) -> Result<u64> {
    wit::execute(sql, params).map_err(Error::new)
}

/// One statement of a [`batch`].
#[derive(Debug, Clone)]
pub struct Statement(wit::SqlStatement);

impl Statement {
    /// `sql` with its parameters.
    pub fn new(sql: &str, params: &[Value]) -> Statement {
        Statement(wit::SqlStatement {
            sql: sql.to_string(),
            params: params.to_vec(),
        })
    }
}

/// Runs `statements` in one transaction: all of them, or (on the first error) none. Returns
/// the rows each changed.
pub fn batch(statements: &[Statement]) -> Result<Vec<u64>> {
    let statements: Vec<wit::SqlStatement> = statements.iter().map(|s| s.0.clone()).collect();
    wit::batch(&statements).map_err(Error::new)
}

/// The rows of a [`query`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
}

impl Rows {
    /// Column names, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// How many rows there are.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the query returned no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Each row, in order.
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|values| Row {
            columns: &self.columns,
            values,
        })
    }

    /// The first row, if any.
    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }

    /// The first column of the first row (`SELECT count(*) …`); an error without a row.
    pub fn scalar<T: FromValue>(&self) -> Result<T> {
        let row = self
            .first()
            .ok_or_else(|| Error::new("the query returned no row"))?;
        row.get(0usize)
    }
}

/// A column by name or position.
pub trait ColumnIndex {
    /// Its position among `columns`.
    fn position(&self, columns: &[String]) -> Option<usize>;
    /// How to name it in an error.
    fn describe(&self) -> String;
}

impl ColumnIndex for usize {
    fn position(&self, columns: &[String]) -> Option<usize> {
        (*self < columns.len()).then_some(*self)
    }
    fn describe(&self) -> String {
        format!("column {self}")
    }
}

impl ColumnIndex for &str {
    fn position(&self, columns: &[String]) -> Option<usize> {
        columns.iter().position(|c| c == self)
    }
    fn describe(&self) -> String {
        format!("column `{self}`")
    }
}

/// One row of [`Rows`].
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

impl Row<'_> {
    /// The value of a column (by name or position) as `T`; an error names the column when it
    /// is missing or holds another type.
    pub fn get<T: FromValue>(&self, column: impl ColumnIndex) -> Result<T> {
        let value = column
            .position(self.columns)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| Error::new(format!("no {} in the row", column.describe())))?;
        T::from_value(value).ok_or_else(|| {
            Error::new(format!(
                "{} holds {}, not {}",
                column.describe(),
                kind(value),
                T::KIND
            ))
        })
    }

    /// The raw values, one per column.
    pub fn values(&self) -> &[Value] {
        self.values
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "NULL",
        Value::Integer(_) => "an integer",
        Value::Real(_) => "a real",
        Value::Text(_) => "text",
        Value::Blob(_) => "a blob",
    }
}

/// A Rust type read from a column.
pub trait FromValue: Sized {
    /// What it expects, for errors.
    const KIND: &'static str;
    /// The value as `Self`, or `None` when it holds another type.
    fn from_value(value: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    const KIND: &'static str = "an integer";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Integer(n) => Some(*n),
            _ => None,
        }
    }
}

impl FromValue for i32 {
    const KIND: &'static str = "a 32-bit integer";
    fn from_value(value: &Value) -> Option<Self> {
        i64::from_value(value).and_then(|n| i32::try_from(n).ok())
    }
}

impl FromValue for u32 {
    const KIND: &'static str = "an unsigned 32-bit integer";
    fn from_value(value: &Value) -> Option<Self> {
        i64::from_value(value).and_then(|n| u32::try_from(n).ok())
    }
}

impl FromValue for bool {
    const KIND: &'static str = "a boolean (0 or 1)";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Integer(0) => Some(false),
            Value::Integer(1) => Some(true),
            _ => None,
        }
    }
}

impl FromValue for f64 {
    const KIND: &'static str = "a number";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Real(x) => Some(*x),
            Value::Integer(n) => Some(*n as f64),
            _ => None,
        }
    }
}

impl FromValue for String {
    const KIND: &'static str = "text";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Text(text) => Some(text.clone()),
            _ => None,
        }
    }
}

impl FromValue for Vec<u8> {
    const KIND: &'static str = "a blob";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Blob(bytes) => Some(bytes.clone()),
            _ => None,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    const KIND: &'static str = T::KIND;
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Integer(n)
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Value {
        Value::Integer(n.into())
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Value {
        Value::Integer(n.into())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Integer(b.into())
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Real(x)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::Text(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::Text(text)
    }
}

impl From<&String> for Value {
    fn from(text: &String) -> Value {
        Value::Text(text.clone())
    }
}

impl From<Vec<u8>> for Value {
    fn from(bytes: Vec<u8>) -> Value {
        Value::Blob(bytes)
    }
}

impl From<&[u8]> for Value {
    fn from(bytes: &[u8]) -> Value {
        Value::Blob(bytes.to_vec())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Value {
        value.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Rows {
        Rows {
            columns: vec!["id".into(), "title".into(), "note".into()],
            rows: vec![vec![Value::Integer(7), "hello".into(), Value::Null]],
        }
    }

    #[test]
    fn rows_read_by_name_and_position() {
        let rows = rows();
        let row = rows.first().expect("a row");
        assert_eq!(row.get::<i64>("id").expect("id"), 7);
        assert_eq!(row.get::<String>(1usize).expect("title"), "hello");
        assert_eq!(row.get::<Option<String>>("note").expect("note"), None);
        assert_eq!(rows.scalar::<i64>().expect("scalar"), 7);
    }

    #[test]
    fn mismatches_name_the_column() {
        let rows = rows();
        let row = rows.first().expect("a row");
        let error = row.get::<String>("id").expect_err("integer, not text");
        assert_eq!(error.to_string(), "column `id` holds an integer, not text");
        let error = row.get::<i64>("nope").expect_err("missing");
        assert_eq!(error.to_string(), "no column `nope` in the row");
        assert!(Rows::default().scalar::<i64>().is_err());
    }

    #[test]
    fn values_convert_from_rust_types() {
        assert_eq!(Value::from(Some(3_i64)), Value::Integer(3));
        assert_eq!(Value::from(None::<&str>), Value::Null);
        assert_eq!(Value::from(true), Value::Integer(1));
        assert_eq!(Value::from(&b"ab"[..]), Value::Blob(b"ab".to_vec()));
    }
}
