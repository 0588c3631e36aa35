//! The articles, kept in the app's key-value store (`kv`): each article as JSON under
//! `article/<id>` (ids zero-padded, so keys list in id order), ids from the atomic counter
//! `article_id`. The store is seeded with three articles the first time any view asks.

use livewasm_sdk::kv;
use livewasm_sdk::{Error, Result};
use serde::{Deserialize, Serialize};

/// One article.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Article {
    /// Its id (`0` for a new one not yet saved).
    pub id: u32,
    /// Title.
    pub title: String,
    /// Body text.
    pub body: String,
}

/// Where article `id` is kept.
fn key(id: u32) -> String {
    format!("article/{id:010}")
}

/// Writes the three first articles, once per store: the first view to claim `seeded` does.
fn seed() -> Result {
    if !kv::compare_and_set("seeded", None, Some(b"1"))? {
        return Ok(());
    }
    let seeds = [
        ("Hello, Livewasm", "Views in Rust, run as WebAssembly."),
        ("Live navigation", "Patch stays, navigate remounts."),
        ("Flash", "Messages shown once, carried across redirects."),
    ];
    for (title, body) in seeds {
        create(title.into(), body.into())?;
    }
    Ok(())
}

/// Every article, by id.
pub fn all() -> Result<Vec<Article>> {
    seed()?;
    kv::keys("article/")?
        .iter()
        .filter_map(|key| kv::get_json::<Article>(key).transpose())
        .collect()
}

/// The article with id `id` (as a URL gives it).
pub fn find(id: Option<&str>) -> Result<Option<Article>> {
    let Some(id) = id.and_then(|id| id.parse::<u32>().ok()) else {
        return Ok(None);
    };
    seed()?;
    kv::get_json(&key(id))
}

/// Saves a new article under the next id.
pub fn create(title: String, body: String) -> Result<Article> {
    let id = kv::increment("article_id", 1)?;
    let id = u32::try_from(id).map_err(|_| Error::new("out of article ids"))?;
    let article = Article { id, title, body };
    kv::set_json(&key(id), &article)?;
    Ok(article)
}

/// Saves an edited article.
pub fn update(article: &Article) -> Result {
    kv::set_json(&key(article.id), article)
}

/// Deletes article `id`; false when it was not there.
pub fn delete(id: u32) -> Result<bool> {
    kv::delete(&key(id))
}
