//! Function components: the pieces `#[component]` functions and their call sites use
//! ([`Slot`](crate::components::Slot), [`render_slot`](crate::components::render_slot), [`IntoProp`](crate::components::IntoProp)), and the core components of a Phoenix app
//! (`<.button>`, `<.link>`, `<.header>`, `<.form>`, `<.input>`, `<.error>`, `<.modal>`,
//! `<.focus_wrap>`, `<.flash_group>`, `<.table>`, `<.async_result>`, `<.live_file_input>`,
//! `<.live_img_preview>`).

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
