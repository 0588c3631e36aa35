use livewasm_sdk::prelude::*;

#[component]
pub fn card<'a>(title: String, #[slot] inner_block: Slot<'a>) -> Rendered {
    html!(r#"<h2>{title}{render_slot(&inner_block, ())}</h2>"#)
}

fn main() {
    let _ = html!(r#"<.card>Body</.card>"#);
    let _ = html!(r#"<.card title="x"></.card>"#);
}
