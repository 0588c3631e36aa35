//! `ArticleFormComponent`: the seed's form component for a new or an edited article, placed
//! by `ArticlesLive` inside `<.modal on_cancel={JS::patch("/articles")}>`. It validates as the
//! user types (`phx-change`), saves to the database on submit, and tells its parent
//! (`send_parent`, Phoenix's `notify_parent`), which puts the flash, updates its list and
//! patches to the article, as Phoenix's generated `FormComponent` and its `Index` do.

use livewasm_sdk::json;
use livewasm_sdk::prelude::*;

use crate::data::{self, Article};

/// What the parent passes: `article={…} action={…}` (Phoenix's `article={@article}
/// action={@live_action}`).
#[derive(Debug, Clone, Default)]
pub struct FormProps {
    /// The article to edit (`id` 0: a new one).
    pub article: Article,
    /// The parent's live action: `new` or `edit`.
    pub action: String,
}

/// The form's assigns.
#[derive(Assigns, Default)]
pub struct ArticleFormComponent {
    article: Article,
    action: String,
    /// The title as typed (the field keeps it across re-renders).
    title: String,
    /// The body as typed.
    body: String,
    error: Option<String>,
}

/// A field of the `article[...]` params.
fn field(value: &Value, name: &str) -> String {
    value
        .get("article")
        .and_then(|a| a.get(name))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Why `title` cannot be saved, if it cannot.
fn title_error(title: &str) -> Option<String> {
    title.is_empty().then(|| "Title can't be blank".to_string())
}

impl LiveComponent for ArticleFormComponent {
    type Props = FormProps;

    fn update(socket: &mut ComponentSocket<Self>, props: FormProps) -> Result {
        // A different article (new → edit, or another one): the form starts from it.
        let fresh = socket.assigns().article.id != props.article.id
            || socket.assigns().action != props.action;
        if fresh {
            let (title, body) = (props.article.title.clone(), props.article.body.clone());
            assign!(socket, title = title, body = body, error = None);
        }
        assign!(socket, article = props.article, action = props.action);
        Ok(())
    }

    fn handle_event(socket: &mut ComponentSocket<Self>, event: &str, value: &Value) -> Result {
        let (title, body) = (field(value, "title"), field(value, "body"));
        match event {
            "validate" => {
                // Phoenix shows a field's error once it was used; the title is the one checked.
                let used = value
                    .get("_target")
                    .and_then(|t| t.as_array())
                    .is_some_and(|t| t.iter().any(|p| p == "title"));
                let error = if used { title_error(&title) } else { None };
                assign!(socket, title = title, body = body, error = error);
            }
            "save" => {
                if let Some(error) = title_error(&title) {
                    assign!(socket, title = title, body = body, error = Some(error));
                    return Ok(());
                }
                let editing = socket.assigns().article.clone();
                let (saved, created) = if editing.id == 0 {
                    (data::create(title, body)?, true)
                } else {
                    let article = Article {
                        id: editing.id,
                        title,
                        body,
                    };
                    data::update(&article)?;
                    (article, false)
                };
                socket.send_parent(json!({
                    "saved": {"id": saved.id, "title": saved.title, "body": saved.body},
                    "created": created,
                }));
            }
            other => return Err(format!("unknown event `{other}`").into()),
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="article-form-component">
  <form id="article-form" phx-change="validate" phx-submit="save" phx-target={@myself}>
    <label>Title <input type="text" name="article[title]" value={@title.as_str()}></label>
    <label>Body <textarea name="article[body]">{@body.as_str()}</textarea></label>
    <p :if={@error.is_some()} class="error">{@error.clone().unwrap_or_default()}</p>
    <button type="submit" phx-disable-with="Saving...">Save</button>
    <a id="cancel" href="/articles" data-phx-link="patch" data-phx-link-state="push">Cancel</a>
  </form>
</div>
"#
        )
    }
}
