use livewasm_sdk::prelude::*;

fn main() {
    let _ = html!(
        r#"<div>
  <.card title="x"></div>"#
    );
    let _ = html!(r#"<:col>x</:col>"#);
}
