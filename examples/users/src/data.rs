//! The users, kept in the app's SQL database (`sql`): one table, its schema and the three
//! users of the seed declared as migrations in `app!` (`MIGRATIONS`), applied by the host
//! before the app serves. Every view of the app, on every socket, reads and writes the same
//! rows, and on a host that keeps its apps' databases they outlive a restart.

use livewasm_sdk::sql::{self, Row};
use livewasm_sdk::{Error, Result};
use serde::{Deserialize, Serialize};

/// The app's schema, in order (only ever append).
///
/// `AUTOINCREMENT` keeps ids from ever being reused: a user deleted on one page may still be
/// listed on another, whose edits must not land on a newer user that took its id. A user added
/// with "Add user" has no name or email of its own (`NULL`): it is shown as `User <id>` and
/// `user<id>@example.com` until it is renamed.
pub const MIGRATIONS: [&str; 2] = [
    "CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT,
        email TEXT,
        bio TEXT NOT NULL DEFAULT ''
    )",
    "INSERT INTO users (name, email, bio) VALUES
        ('Alice', 'alice@example.com', 'Likes Rust.'),
        ('Bob', 'bob@example.com', 'Writes Elixir.'),
        ('Carol', 'carol@example.com', 'Ships WebAssembly.')",
];

/// The most users a page lists (a query returns at most 1,000 rows).
pub const MAX_LISTED: u32 = 500;

/// The columns every query reads, in [`User::from_row`]'s names.
const COLUMNS: &str = "id, name, email, bio";

/// One user of the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Stable id, never reused.
    pub id: u32,
    /// Display name.
    pub name: String,
    /// Email address (shown when the parent says so).
    pub email: String,
    /// A line about the user.
    pub bio: String,
}

impl User {
    fn from_row(row: Row<'_>) -> Result<User> {
        let id: u32 = row.get("id")?;
        let name: Option<String> = row.get("name")?;
        let email: Option<String> = row.get("email")?;
        Ok(User {
            id,
            name: name.unwrap_or_else(|| format!("User {id}")),
            email: email.unwrap_or_else(|| format!("user{id}@example.com")),
            bio: row.get("bio")?,
        })
    }
}

/// The first [`MAX_LISTED`] users, by id.
pub fn all() -> Result<Vec<User>> {
    sql::query(
        &format!("SELECT {COLUMNS} FROM users ORDER BY id LIMIT ?"),
        &[MAX_LISTED.into()],
    )?
    .iter()
    .map(User::from_row)
    .collect()
}

/// User `id`, if there is one.
pub fn find(id: u32) -> Result<Option<User>> {
    sql::query(
        &format!("SELECT {COLUMNS} FROM users WHERE id = ?"),
        &[id.into()],
    )?
    .first()
    .map(User::from_row)
    .transpose()
}

/// Saves a new user, without a name or an email of its own, under the next id.
pub fn create(bio: &str) -> Result<User> {
    let rows = sql::query(
        &format!("INSERT INTO users (bio) VALUES (?) RETURNING {COLUMNS}"),
        &[bio.into()],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| Error::new("saving the user returned no row"))?;
    User::from_row(row)
}

/// Renames user `id`; the user as saved, or `None` when it is gone (deleted elsewhere).
pub fn rename(id: u32, name: &str) -> Result<Option<User>> {
    sql::query(
        &format!("UPDATE users SET name = ? WHERE id = ? RETURNING {COLUMNS}"),
        &[name.into(), id.into()],
    )?
    .first()
    .map(User::from_row)
    .transpose()
}

/// Deletes user `id`; false when it was not there.
pub fn delete(id: u32) -> Result<bool> {
    Ok(sql::execute("DELETE FROM users WHERE id = ?", &[id.into()])? > 0)
}
