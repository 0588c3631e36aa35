//! The articles, kept in the app's SQL database (`sql`): one table, its schema and three
//! first articles declared as migrations in `app!` (`MIGRATIONS`), applied by the host before
//! the app serves.

use livewasm_sdk::sql::{self, Row};
use livewasm_sdk::{Error, Result};

/// The app's schema, in order (only ever append).
pub const MIGRATIONS: [&str; 2] = [
    "CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        body TEXT NOT NULL DEFAULT ''
    )",
    "INSERT INTO articles (title, body) VALUES
        ('Hello, Livewasm', 'Views in Rust, run as WebAssembly.'),
        ('Live navigation', 'Patch stays, navigate remounts.'),
        ('Flash', 'Messages shown once, carried across redirects.')",
];

/// One article.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Article {
    /// Its id (`0` for a new one not yet saved).
    pub id: u32,
    /// Title.
    pub title: String,
    /// Body text.
    pub body: String,
}

impl Article {
    fn from_row(row: Row<'_>) -> Result<Article> {
        Ok(Article {
            id: row.get("id")?,
            title: row.get("title")?,
            body: row.get("body")?,
        })
    }
}

/// Every article, by id.
pub fn all() -> Result<Vec<Article>> {
    sql::query("SELECT id, title, body FROM articles ORDER BY id", &[])?
        .iter()
        .map(Article::from_row)
        .collect()
}

/// The article with id `id` (as a URL gives it).
pub fn find(id: Option<&str>) -> Result<Option<Article>> {
    let Some(id) = id.and_then(|id| id.parse::<u32>().ok()) else {
        return Ok(None);
    };
    sql::query(
        "SELECT id, title, body FROM articles WHERE id = ?",
        &[id.into()],
    )?
    .first()
    .map(Article::from_row)
    .transpose()
}

/// Saves a new article under the next id.
pub fn create(title: String, body: String) -> Result<Article> {
    let id = sql::query(
        "INSERT INTO articles (title, body) VALUES (?, ?) RETURNING id",
        &[(&title).into(), (&body).into()],
    )?
    .scalar::<u32>()
    .map_err(|e| Error::new(format!("saving the article: {e}")))?;
    Ok(Article { id, title, body })
}

/// Saves an edited article.
pub fn update(article: &Article) -> Result {
    sql::execute(
        "UPDATE articles SET title = ?, body = ? WHERE id = ?",
        &[
            (&article.title).into(),
            (&article.body).into(),
            article.id.into(),
        ],
    )?;
    Ok(())
}

/// Deletes article `id`; false when it was not there.
pub fn delete(id: u32) -> Result<bool> {
    Ok(sql::execute("DELETE FROM articles WHERE id = ?", &[id.into()])? > 0)
}
