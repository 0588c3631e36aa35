//! The articles every view starts with.

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

/// The three articles a view mounts with.
pub fn seed() -> Vec<Article> {
    [
        (1, "Hello, Livewasm", "Views in Rust, run as WebAssembly."),
        (2, "Live navigation", "Patch stays, navigate remounts."),
        (3, "Flash", "Messages shown once, carried across redirects."),
    ]
    .into_iter()
    .map(|(id, title, body)| Article {
        id,
        title: title.into(),
        body: body.into(),
    })
    .collect()
}

/// The article with id `id` in `articles`.
pub fn find(articles: &[Article], id: Option<&str>) -> Option<Article> {
    let id: u32 = id?.parse().ok()?;
    articles.iter().find(|a| a.id == id).cloned()
}
