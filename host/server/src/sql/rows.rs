//! What both backends do with the rows of a query: collect them as the guest gets them, held
//! to the rows and bytes one call may return, each column read by the backend's own reader.

use futures_util::{Stream, TryStreamExt};
use livewasm_runtime::{SqlError, SqlValue};
use sqlx::{Column, Row};

use super::SqlLimits;

/// Most bytes one query may return (values and column names), on either backend.
pub(crate) const MAX_RESULT_BYTES: usize = 4 << 20;

/// Collects the rows of `stream`, at most `limits.max_rows` and [`MAX_RESULT_BYTES`] (column
/// names included), reading each column with `read`; `error` turns the driver's errors into
/// the guest's. The column names are `columns` when the caller knows them (a prepared
/// statement), else the first row's; `None` when there are neither.
pub(super) async fn collect<R, S>(
    mut stream: S,
    limits: &SqlLimits,
    columns: Option<Vec<String>>,
    read: impl Fn(&R, usize) -> Result<SqlValue, SqlError>,
    error: impl Fn(sqlx::Error) -> SqlError,
) -> Result<(Option<Vec<String>>, Vec<Vec<SqlValue>>), SqlError>
where
    R: Row,
    S: Stream<Item = Result<R, sqlx::Error>> + Unpin,
{
    let mut bytes: usize = columns.iter().flatten().map(String::len).sum();
    let mut columns = columns;
    let mut rows = Vec::new();
    while let Some(row) = stream.try_next().await.map_err(&error)? {
        if rows.len() == limits.max_rows {
            return Err(SqlError::TooManyRows {
                limit: limits.max_rows,
            });
        }
        if columns.is_none() {
            let names: Vec<String> = row.columns().iter().map(|c| c.name().to_string()).collect();
            bytes += names.iter().map(String::len).sum::<usize>();
            columns = Some(names);
        }
        let mut values = Vec::with_capacity(row.len());
        for index in 0..row.len() {
            let value = read(&row, index)?;
            bytes += value.size();
            values.push(value);
        }
        if bytes > MAX_RESULT_BYTES {
            return Err(SqlError::ResultTooLarge {
                limit: MAX_RESULT_BYTES,
            });
        }
        rows.push(values);
    }
    Ok((columns, rows))
}
