//! `ArticleShow`, reached by live navigation (a second view of the same live session), and
//! `ArchiveLive`, in another live session (navigating there is a full page load).

use livewasm_sdk::prelude::*;

use crate::data::{self, Article};
use crate::flash::flash_group;

/// The assigns of one article's page.
#[derive(Assigns, Default)]
pub struct ArticleShow {
    article: Article,
}

impl LiveView for ArticleShow {
    fn mount(_socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        Ok(())
    }

    fn handle_params(socket: &mut Socket<Self>, params: &Params, _url: &str) -> Result {
        match data::find(params.str("id"))? {
            Some(article) => {
                socket.page_title(article.title.clone());
                assign!(socket, article = article);
            }
            None => {
                socket.put_flash("error", "Article not found");
                socket.push_navigate(p!("/articles"));
            }
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="article-show">
  {flash_group(assigns.flash())}
  <h1>{&@article.title}</h1>
  <p class="body">{&@article.body}</p>
  <a id="back" href="/articles" data-phx-link="redirect" data-phx-link-state="push">Back to articles</a>
  <a id="edit" href={format!("/articles/{}/edit", @article.id)} data-phx-link="redirect" data-phx-link-state="push">Edit</a>
</div>
"#
        )
    }
}

/// The archive: its own live session.
#[derive(Assigns, Default)]
pub struct ArchiveLive {
    connected: bool,
}

impl LiveView for ArchiveLive {
    fn mount(socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        let connected = socket.connected();
        socket.page_title("Archive");
        assign!(socket, connected = connected);
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="archive">
  <h1>Archive</h1>
  <p>Nothing archived yet.</p>
  <p id="mode">{if @connected { "live" } else { "static" }}</p>
  <a id="back" href="/articles" data-phx-link="redirect" data-phx-link-state="push">Back to articles</a>
</div>
"#
        )
    }
}
