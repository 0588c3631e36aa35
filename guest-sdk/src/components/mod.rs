//! Function components: the pieces `#[component]` functions and their call sites use
//! ([`Slot`](crate::components::Slot), [`render_slot`](crate::components::render_slot), [`IntoProp`](crate::components::IntoProp)), and the core components of a Phoenix app
//! (`<.button>`, `<.link>`, `<.header>`, `<.form>`, `<.input>`, `<.error>`, `<.modal>`,
//! `<.focus_wrap>`, `<.flash_group>`, `<.table>`, `<.async_result>`, `<.live_file_input>`,
//! `<.live_img_preview>`).
//!
//! A function component is a `#[component]` function returning [`Rendered`](crate::Rendered),
//! called from templates as `<.name attr=…>…</.name>`. Each parameter is an attribute or a slot:
//! a plain parameter is required, an `Option` one optional, `#[attr(default = …)]` has a default,
//! `#[attr(rest)]` collects global attributes (`id`, `class`, `phx-*`, `data-*` …), and
//! `#[slot]` takes template content (`inner_block` between the tags, `<:name>` for the others):
//!
//! ```
//! use livewasm_sdk::prelude::*;
//!
//! /// A card: a title, its content and any number of actions.
//! #[component]
//! pub fn card<'a>(
//!     title: String,
//!     #[attr(default = 2)] level: u8,
//!     #[attr(rest)] rest: Attrs,
//!     #[slot] inner_block: Slot<'a>,
//!     #[slot] actions: Vec<Slot<'a>>,
//! ) -> Rendered {
//!     html!(r#"<section class="card" {rest}><h2 data-level={level}>{title}</h2>{render_slot(&inner_block, ())}<footer :if={!actions.is_empty()}>{render_slot(&actions, ())}</footer></section>"#)
//! }
//!
//! # fn main() {
//! let html = html!(r#"<.card title="Hello" id="c1">Body<:actions><button>OK</button></:actions></.card>"#);
//! assert_eq!(
//!     html.to_html(),
//!     r#"<section class="card" id="c1"><h2 data-level="2">Hello</h2>Body<footer><button>OK</button></footer></section>"#
//! );
//! # }
//! ```
//!
//! A slot's type parameter is what the component passes to it, which the caller binds with
//! `:let`; slot tags may carry attributes of their own ([`Slot::attr`](crate::components::Slot::attr)):
//!
//! ```
//! use livewasm_sdk::prelude::*;
//!
//! /// A list of any items, each rendered by the caller.
//! #[component]
//! pub fn list<'a, T>(items: &'a [T], #[slot] inner_block: Slot<'a, &'a T>) -> Rendered {
//!     html!(r#"<ul><li :for={item in items.iter()}>{render_slot(&inner_block, item)}</li></ul>"#)
//! }
//!
//! /// A definition list: one `<:term title=…>` slot per entry.
//! #[component]
//! pub fn terms<'a>(#[slot] term: Vec<Slot<'a>>) -> Rendered {
//!     html!(r#"<dl><div :for={t in term.iter()}><dt>{t.attr("title").unwrap_or_default()}</dt><dd>{render_slot(t, ())}</dd></div></dl>"#)
//! }
//!
//! # fn main() {
//! let names = vec!["Ada".to_string(), "Grace".to_string()];
//! let list = html!(r#"<.list items={&names} :let={name}><b>{name}</b></.list>"#);
//! assert_eq!(list.to_html(), "<ul><li><b>Ada</b></li><li><b>Grace</b></li></ul>");
//!
//! let terms = html!(r#"<.terms><:term title="HEEx">Templates</:term><:term title="JS">Commands</:term></.terms>"#);
//! assert_eq!(
//!     terms.to_html(),
//!     "<dl><div><dt>HEEx</dt><dd>Templates</dd></div><div><dt>JS</dt><dd>Commands</dd></div></dl>"
//! );
//! # }
//! ```
//!
//! A call with an unknown attribute or slot, or without a required attribute, does not
//! compile; the error names the component and the attribute:
//!
//! ```compile_fail
//! use livewasm_sdk::prelude::*;
//!
//! #[component]
//! pub fn badge(label: String) -> Rendered {
//!     html!(r#"<span class="badge">{label}</span>"#)
//! }
//!
//! # fn main() {
//! // error: <.badge> has no attribute `colour`
//! let _ = html!(r#"<.badge label="New" colour="red" />"#);
//! # }
//! ```

mod prop;
mod slot;

#[doc(hidden)]
pub use prop::{__contains, __rest_accepts, __str_eq};
pub use prop::{IntoProp, RowFn, row_fn};
#[doc(hidden)]
pub use slot::__slot_attr;
pub use slot::{RenderSlot, Slot, render_slot};

mod awaiting;
mod basic;
mod dialog;
mod inputs;
mod tables;
mod upload;

pub use awaiting::async_result;
pub use basic::{button, error, flash_group, focus_wrap, header, link, safe_url};
pub use dialog::{hide_modal, modal, show_modal};
pub use inputs::{form, input};
pub use tables::table;
pub use upload::{UploadConfig, UploadEntry, live_file_input, live_img_preview};
