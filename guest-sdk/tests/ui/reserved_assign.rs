use livewasm_sdk::prelude::*;

#[derive(Assigns, Default)]
pub struct Page {
    title: String,
    live_action: String,
}

fn main() {}
