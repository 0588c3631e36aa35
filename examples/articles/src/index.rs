//! `ArticlesLive`: the list, with `new`, `edit` and `show` as live actions of the same view.

use livewasm_sdk::prelude::*;

use crate::data::{self, Article};
use crate::flash::flash_group;

/// The assigns of the articles page.
#[derive(Assigns, Default)]
pub struct ArticlesLive {
    page_title: String,
    articles: Vec<Article>,
    /// The article being created, edited or shown.
    article: Option<Article>,
    error: Option<String>,
}

fn field(value: &Value, name: &str) -> String {
    value
        .get("article")
        .and_then(|a| a.get(name))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string()
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
                socket.push_patch_replace("/articles");
            }
            _ => {
                socket.page_title("Articles");
                assign!(socket, page_title = "Articles".to_string(), article = None);
            }
        }
        assign!(socket, error = None);
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
            "save" => {
                let (title, body) = (field(value, "title"), field(value, "body"));
                let Some(editing) = socket.assigns().article.clone() else {
                    return Ok(());
                };
                if title.is_empty() {
                    assign!(socket, error = Some("Title can't be blank".to_string()));
                    return Ok(());
                }
                let id = if editing.id == 0 {
                    let article = data::create(title, body)?;
                    let id = article.id;
                    update!(socket, articles, |list: &mut Vec<Article>| list
                        .push(article));
                    socket.put_flash("info", "Article created!");
                    id
                } else {
                    let article = Article {
                        id: editing.id,
                        title,
                        body,
                    };
                    data::update(&article)?;
                    update!(socket, articles, |list: &mut Vec<Article>| {
                        if let Some(a) = list.iter_mut().find(|a| a.id == article.id) {
                            *a = article;
                        }
                    });
                    socket.put_flash("info", "Article updated");
                    editing.id
                };
                // Push patch: the URL changes, the view stays (handle_params runs).
                socket.push_patch(format!("/articles/{id}"));
            }
            "delete" => {
                let id = id_of(value).ok_or("delete needs an id")?;
                data::delete(id)?;
                update!(socket, articles, |list: &mut Vec<Article>| list
                    .retain(|a| a.id != id));
                socket.put_flash("info", "Article deleted");
                // Push navigate: a fresh mount of the list, the flash going along.
                socket.push_navigate("/articles");
            }
            // Full page redirect (for external URLs).
            "export" => socket.redirect("https://example.com/export"),
            other => return Err(format!("unknown event `{other}`").into()),
        }
        Ok(())
    }

    /// `{"show": id}` from the host (or a timer) patches to that article.
    fn handle_info(socket: &mut Socket<Self>, message: &Value) -> Result {
        if let Some(id) = message.get("show").and_then(Value::as_u64) {
            socket.push_patch(format!("/articles/{id}"));
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
    <a id="new-article" href="/articles/new" data-phx-link="patch" data-phx-link-state="push">New Article</a>
    <a id="archive-link" href="/articles-archive" data-phx-link="redirect" data-phx-link-state="push">Archive</a>
    <button id="export" phx-click="export">Export</button>
  </nav>
  <div :if={@live_action.is_any(&["new", "edit"])} id="article-modal" class="modal">
    <div class="modal-content">
      <h2>{@page_title}</h2>
      <form id="article-form" phx-submit="save">
        <label>Title <input type="text" name="article[title]" value={title_of(&@article)}></label>
        <label>Body <textarea name="article[body]">{body_of(&@article)}</textarea></label>
        <p :if={@error.is_some()} class="error">{@error.clone().unwrap_or_default()}</p>
        <button type="submit">Save</button>
        <a id="cancel" href="/articles" data-phx-link="patch" data-phx-link-state="push">Cancel</a>
      </form>
    </div>
  </div>
  <section :if={@live_action == "show"} id="current-article">
    <h2>{title_of(&@article)}</h2>
    <p>{body_of(&@article)}</p>
  </section>
  <table id="article-list">
    <tr :for={a in @articles.iter()} :key={a.id} id={format!("article-{}", a.id)}>
      <td class="title">{&a.title}</td>
      <td>
        <a href={format!("/articles/{}/show", a.id)} data-phx-link="redirect" data-phx-link-state="push">Show</a>
        <a href={format!("/articles/{}/edit", a.id)} data-phx-link="patch" data-phx-link-state="push">Edit</a>
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

fn title_of(article: &Option<Article>) -> String {
    article
        .as_ref()
        .map(|a| a.title.clone())
        .unwrap_or_default()
}

fn body_of(article: &Option<Article>) -> String {
    article.as_ref().map(|a| a.body.clone()).unwrap_or_default()
}
