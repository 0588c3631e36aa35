use livewasm_sdk::prelude::*;

#[derive(Assigns, Default)]
pub struct Articles {}

impl LiveView for Articles {
    fn mount(_: &mut Socket<Self>, _: &Params, _: &Session) -> Result {
        Ok(())
    }
    fn render(_: &Tracked<'_, Self>) -> Rendered {
        html!("<p>Articles</p>")
    }
}

livewasm_sdk::app! {
    name: "articles",
    routes: {
        "/articles" => Articles;
        "/articles/:id/edit" => Articles, action: "edit";
    },
}

fn main() {
    let id = 4;
    // Known: a literal or an interpolation fills `:id`.
    let _ = p!("/articles/{id}/edit");
    let _ = p!("/articles/4/edit");
    // Unknown: a typo, and an interpolation where the route has a literal.
    let _ = p!("/article/{id}/edit");
    let _ = p!("/articles/{id}");
}
