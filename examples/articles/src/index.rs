//! `ArticlesLive`: the list, with `new`, `edit` and `show` as live actions of the same view.
//!
//! Its paths are checked (`p!`, Phoenix's `~p`) against the app's routes, except the seed's
//! PDF link: no route of this app serves PDFs, so `p!` refuses it, as `~p` would.

use livewasm_sdk::prelude::*;

use crate::data::{self, Article};
use crate::flash::flash_group;
use crate::form::ArticleFormComponent;

/// The assigns of the articles page.
#[derive(Assigns, Default)]
pub struct ArticlesLive {
    page_title: String,
    articles: Vec<Article>,
    /// The article being created, edited or shown.
    article: Option<Article>,
}

fn id_of(value: &Value) -> Option<u32> {
    let id = value.get("id")?;
    id.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .or_else(|| id.as_str()?.parse().ok())
}

impl ArticlesLive {
    /// `apply_action` of the seed: what each live action shows.
    fn apply_action(socket: &mut Socket<Self>, params: &Params) -> Result {
        let action = socket.live_action().unwrap_or("index").to_string();
        let found = data::find(params.str("id"))?;
        match (action.as_str(), found) {
            ("new", _) => {
                socket.page_title("New Article");
                assign!(
                    socket,
                    page_title = "New Article".to_string(),
                    article = Some(Article::default())
                );
            }
            ("edit", Some(article)) => {
                socket.page_title("Edit Article");
                assign!(
                    socket,
                    page_title = "Edit Article".to_string(),
                    article = Some(article)
                );
            }
            ("show", Some(article)) => {
                socket.page_title(article.title.clone());
                assign!(
                    socket,
                    page_title = article.title.clone(),
                    article = Some(article)
                );
            }
            ("edit" | "show", None) => {
                socket.put_flash("error", "Article not found");
                socket.push_patch_replace(p!("/articles"));
            }
            _ => {
                socket.page_title("Articles");
                assign!(socket, page_title = "Articles".to_string(), article = None);
            }
        }
        Ok(())
    }
}

impl LiveView for ArticlesLive {
    fn mount(socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        assign!(socket, articles = data::all()?);
        Ok(())
    }

    fn handle_params(socket: &mut Socket<Self>, params: &Params, _url: &str) -> Result {
        Self::apply_action(socket, params)
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
        match event {
            "delete" => {
                let id = id_of(value).ok_or("delete needs an id")?;
                data::delete(id)?;
                update!(socket, articles, |list: &mut Vec<Article>| list
                    .retain(|a| a.id != id));
                socket.put_flash("info", "Article deleted");
                // Push navigate: a fresh mount of the list, the flash going along.
                socket.push_navigate(p!("/articles"));
            }
            // Full page redirect (for external URLs).
            "export" => socket.redirect("https://example.com/export"),
            other => return Err(format!("unknown event `{other}`").into()),
        }
        Ok(())
    }

    /// `{"saved": article, "created": bool}` from `ArticleFormComponent` (Phoenix's
    /// `handle_info({FormComponent, {:saved, article}}, socket)`): the list takes it, the flash
    /// says so, and a patch shows it. `{"show": id}` from the host (or a timer) patches to that
    /// article.
    fn handle_info(socket: &mut Socket<Self>, message: &Value) -> Result {
        if let Some(saved) = message.get("saved") {
            let article = saved_article(saved).ok_or("a saved article without an id")?;
            let id = article.id;
            if message.get("created").and_then(Value::as_bool) == Some(true) {
                update!(socket, articles, |list: &mut Vec<Article>| list
                    .push(article));
                socket.put_flash("info", "Article created!");
            } else {
                update!(socket, articles, |list: &mut Vec<Article>| {
                    if let Some(a) = list.iter_mut().find(|a| a.id == id) {
                        *a = article;
                    }
                });
                socket.put_flash("info", "Article updated");
            }
            // Push patch: the URL changes, the view stays (handle_params runs).
            socket.push_patch(p!("/articles/{id}"));
        } else if let Some(id) = message.get("show").and_then(Value::as_u64) {
            socket.push_patch(p!("/articles/{id}"));
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="articles">
  {flash_group(@flash)}
  <h1>{@page_title}</h1>
  <nav>
    <a id="new-article" href={p!("/articles/new")} data-phx-link="patch" data-phx-link-state="push">New Article</a>
    <a id="archive-link" href="/articles-archive" data-phx-link="redirect" data-phx-link-state="push">Archive</a>
    <button id="export" phx-click="export">Export</button>
  </nav>
  <.modal :if={@live_action.is_any(&["new", "edit"])} id="article-modal" on_cancel={JS::patch(&p!("/articles"))}>
    <h2 id="article-modal-title">{@page_title}</h2>
    <.live_component module={ArticleFormComponent} id={form_id(&@article)} article={@article.clone().unwrap_or_default()} action={@live_action.as_str().unwrap_or("new").to_string()}/>
  </.modal>
  <section :if={@live_action == "show"} id="current-article">
    <h2>{title_of(&@article)}</h2>
    <p>{body_of(&@article)}</p>
  </section>
  <table id="article-list">
    <tr :for={a in @articles.iter()} :key={a.id} id={format!("article-{}", a.id)}>
      <td class="title">{&a.title}</td>
      <td>
        <a href={p!("/articles/{a.id}/show")} data-phx-link="redirect" data-phx-link-state="push">Show</a>
        <a href={p!("/articles/{a.id}/edit")} data-phx-link="patch" data-phx-link-state="push">Edit</a>
        <a href={format!("/articles/{}/pdf", a.id)} download>PDF</a>
        <button phx-click="delete" phx-value-id={a.id}>Delete</button>
      </td>
    </tr>
  </table>
</div>
"#
        )
    }
}

/// The form component's id: the article's, or `new` (Phoenix's `@article.id || :new`).
fn form_id(article: &Option<Article>) -> String {
    match article {
        Some(a) if a.id != 0 => format!("article-{}", a.id),
        _ => "new".to_string(),
    }
}

/// The article in a `saved` message.
fn saved_article(saved: &Value) -> Option<Article> {
    let text = |name: &str| saved.get(name).and_then(Value::as_str).unwrap_or_default();
    Some(Article {
        id: u32::try_from(saved.get("id")?.as_u64()?).ok()?,
        title: text("title").to_string(),
        body: text("body").to_string(),
    })
}

fn title_of(article: &Option<Article>) -> String {
    article
        .as_ref()
        .map(|a| a.title.clone())
        .unwrap_or_default()
}

fn body_of(article: &Option<Article>) -> String {
    article.as_ref().map(|a| a.body.clone()).unwrap_or_default()
}
