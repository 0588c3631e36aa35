use livewasm_sdk::prelude::*;

#[derive(Assigns, Default)]
pub struct Profile {}

impl LiveView for Profile {
    fn mount(_: &mut Socket<Self>, _: &Params, _: &Session) -> Result {
        Ok(())
    }
    fn render(_: &Tracked<'_, Self>) -> Rendered {
        html!("<p>Profile</p>")
    }
}

fn require_user(_: &HttpRequest) -> Plug {
    Plug::Cont
}

// `require_user` is declared; `require_admin` (a pipeline nobody declared) is not.
livewasm_sdk::app! {
    name: "accounts",
    pipelines: {
        "require_user" => [require_user];
    },
    routes: {
        "/profile" => Profile, pipe_through: ["require_user"];
        "/admin" => Profile, pipe_through: ["require_user", "require_admin"];
    },
}

fn main() {}
