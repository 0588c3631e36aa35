//! Rebuilds the crate when a migration is added or changed: `sqlx::migrate!` embeds the files
//! of `migrations/`, and on stable Rust a new file there would otherwise go unnoticed.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
