//! ArticlesLive from the seed: one view serving four live actions (`index`, `new`, `edit`,
//! `show`) switched by patches, a second view (`ArticleShow`) reached by live navigation, the
//! seed's `<.modal on_cancel={JS.patch(…)}>` holding `ArticleFormComponent` (a live
//! component), page titles, and flash carried across `push_patch` / `push_navigate`.
//!
//! The articles live in the app's SQL database (`livewasm_sdk::sql`, schema in
//! `data::MIGRATIONS`): an article created or edited in one view is there for every other view
//! and socket, and, on a host that keeps its apps' databases, after the host restarts.

mod data;
mod flash;
mod form;
mod index;
mod show;

pub use form::{ArticleFormComponent, FormProps};
pub use index::ArticlesLive;
pub use show::{ArchiveLive, ArticleShow};

livewasm_sdk::app! {
    name: "articles",
    routes: {
        "/articles" => ArticlesLive, action: "index", live_session: "articles";
        "/articles/new" => ArticlesLive, action: "new", live_session: "articles";
        "/articles/:id/edit" => ArticlesLive, action: "edit", live_session: "articles";
        "/articles/:id/show" => ArticleShow, action: "show", live_session: "articles",
            container: ("div", "class" = "article-page");
        "/articles/:id" => ArticlesLive, action: "show", live_session: "articles";
        "/articles-archive" => ArchiveLive, live_session: "archive",
            container: ("main", "class" = "archive", "data-kind" = "archive");
    },
    migrations: data::MIGRATIONS,
    assets: [("app.css", include_bytes!("../assets/app.css"))],
}
