//! The feed's stand-in for a database: posts are made up from their id, so the view stores
//! only what changed (deleted ids, like counts, how many posts exist), never the posts it shows.

use std::collections::{BTreeMap, BTreeSet};

use livewasm_sdk::StreamItem;

const AUTHORS: &[&str] = &["Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret"];
const LINES: &[&str] = &[
    "Shipped the new release today.",
    "Streams keep the server's memory flat.",
    "Reading about the BEAM scheduler.",
    "WebAssembly components are neat.",
    "Who else is at the meetup tonight?",
    "Refactored the diff engine again.",
    "Coffee first, then code review.",
];

/// One post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// Its id (newer posts have larger ids).
    pub id: u32,
    /// Who wrote it.
    pub author: String,
    /// Its text.
    pub body: String,
    /// When it was written (ISO 8601).
    pub inserted_at: String,
    /// Its like count.
    pub likes: u32,
}

impl StreamItem for Post {
    fn stream_id(&self) -> String {
        self.id.to_string()
    }
}

/// The timeline: posts `newest` down to 1, except the deleted ones.
#[derive(Debug, Default)]
pub struct Posts {
    newest: u32,
    deleted: BTreeSet<u32>,
    likes: BTreeMap<u32, u32>,
}

impl Posts {
    /// A timeline of `total` posts.
    pub fn new(total: u32) -> Posts {
        Posts {
            newest: total,
            ..Posts::default()
        }
    }

    /// Post `id`, if it exists.
    pub fn get(&self, id: u32) -> Option<Post> {
        if id == 0 || id > self.newest || self.deleted.contains(&id) {
            return None;
        }
        let n = id as usize;
        Some(Post {
            id,
            author: AUTHORS[n % AUTHORS.len()].to_string(),
            body: format!("#{id}: {}", LINES[n % LINES.len()]),
            inserted_at: format!(
                "2026-11-{:02}T{:02}:{:02}:00Z",
                1 + n / 1440 % 28,
                n / 60 % 24,
                n % 60
            ),
            likes: self.likes.get(&id).copied().unwrap_or(0),
        })
    }

    /// Up to `limit` posts, newest first, after skipping `offset`.
    pub fn list(&self, offset: usize, limit: usize) -> Vec<Post> {
        (1..=self.newest)
            .rev()
            .filter_map(|id| self.get(id))
            .skip(offset)
            .take(limit)
            .collect()
    }

    /// Publishes a new post.
    pub fn create(&mut self) -> Post {
        self.newest += 1;
        let id = self.newest;
        self.get(id).unwrap_or_else(|| Post {
            id,
            author: String::new(),
            body: String::new(),
            inserted_at: String::new(),
            likes: 0,
        })
    }

    /// Deletes post `id`; the post as it was, if it existed.
    pub fn delete(&mut self, id: u32) -> Option<Post> {
        let post = self.get(id)?;
        self.deleted.insert(id);
        Some(post)
    }

    /// Likes post `id`; the updated post, if it exists.
    pub fn like(&mut self, id: u32) -> Option<Post> {
        self.get(id)?;
        *self.likes.entry(id).or_insert(0) += 1;
        self.get(id)
    }
}
