use livewasm_sdk::prelude::*;

#[component]
pub fn card(title: String) -> Rendered {
    html!(r#"<h2>{title}</h2>"#)
}

fn main() {
    let _ = html!(r#"<.card title="x"><:footer>f</:footer></.card>"#);
    let _ = html!(r#"<.card title="x" phx-click="go" />"#);
    let _ = html!(r#"<.card title="x">content</.card>"#);
}
