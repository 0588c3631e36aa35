//! The migrations an app declares (`app!{ migrations: [...] }`), applied to its database when
//! a version of it is loaded, before it serves: each one not yet applied runs in its own
//! transaction and is recorded, with its SHA-256, in `_livewasm_migrations`. A migration
//! changed after it was applied is refused (the version does not load); migrations past the
//! app's list (an older version rolled back to) stay applied.

use std::collections::HashMap;

use livewasm_runtime::SqlError;
use sha2::{Digest, Sha256};
use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, Executor, Row};

use super::SqlLimits;
use super::database::error;

/// The table recording applied migrations.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS _livewasm_migrations (
    version INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL,
    applied_at INTEGER NOT NULL DEFAULT (unixepoch())
)";

pub(super) fn digest(migration: &str) -> String {
    Sha256::digest(migration.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Applies the migrations of `migrations` that `conn`'s database has not seen; how many ran.
pub(super) async fn migrate(
    conn: &mut SqliteConnection,
    limits: &SqlLimits,
    migrations: Vec<String>,
) -> Result<usize, SqlError> {
    let failed = |index: usize, e: sqlx::Error| SqlError::Migration {
        index,
        message: error(e, limits).to_string(),
    };
    // `Executor`'s own (boxed, `Send`) futures: the generic `Query::execute` ones lose `Send`
    // behind the higher-ranked closure of `AppDatabase::call`.
    Executor::execute(&mut *conn, CREATE_TABLE)
        .await
        .map_err(|e| failed(0, e))?;
    let rows = Executor::fetch_all(
        &mut *conn,
        "SELECT version, sha256 FROM _livewasm_migrations",
    )
    .await
    .map_err(|e| failed(0, e))?;
    let applied: HashMap<i64, String> = rows
        .into_iter()
        .filter_map(|row| Some((row.try_get(0).ok()?, row.try_get(1).ok()?)))
        .collect();
    let mut ran = 0;
    for (n, migration) in migrations.into_iter().enumerate() {
        let index = n + 1;
        let sha = digest(&migration);
        match applied.get(&(index as i64)) {
            Some(known) if *known == sha => continue,
            Some(_) => {
                return Err(SqlError::Migration {
                    index,
                    message: "it was changed after it was applied (add a new migration instead)"
                        .into(),
                });
            }
            None => {}
        }
        apply(conn, index, &migration, &sha)
            .await
            .map_err(|e| failed(index, e))?;
        ran += 1;
    }
    Ok(ran)
}

/// Runs migration `index` and records it, in one transaction.
async fn apply(
    conn: &mut SqliteConnection,
    index: usize,
    migration: &str,
    sha: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    if let Err(e) = Executor::execute(&mut *tx, sqlx::raw_sql(migration)).await {
        let _ = tx.rollback().await;
        return Err(e);
    }
    let record = sqlx::query("INSERT INTO _livewasm_migrations (version, sha256) VALUES (?, ?)")
        .bind(index as i64)
        .bind(sha);
    Executor::execute(&mut *tx, record).await?;
    tx.commit().await
}
