//! `<.modal>`: a dialog shown and hidden with JS commands, closed by Escape, a click away, or
//! its close button (each running `on_cancel`).

use crate::components::{Slot, focus_wrap, render_slot};
use crate::js::{JS, JsChain};
use crate::render::Rendered;
use crate::{component, html};

/// The JS that shows modal `id` (what `show` does on mount): shows it and its parts, locks the
/// page scroll, and focuses its first focusable element.
pub fn show_modal(id: &str) -> JS {
    JS::show(&format!("#{id}"))
        .show(&format!("#{id}-bg"))
        .with_transition3("fade-in", "opacity-0", "opacity-100")
        .show(&format!("#{id}-container"))
        .with_transition3("fade-in", "opacity-0", "opacity-100")
        .add_class("body", "overflow-hidden")
        .focus_first(&format!("#{id}-content"))
}

/// The JS that hides modal `id` and returns the focus.
pub fn hide_modal(id: &str) -> JS {
    JS::hide(&format!("#{id}-bg"))
        .with_transition3("fade-out", "opacity-100", "opacity-0")
        .hide(&format!("#{id}-container"))
        .with_transition3("fade-out", "opacity-100", "opacity-0")
        .hide(&format!("#{id}"))
        .with_transition3("fade-out", "", "")
        .remove_class("body", "overflow-hidden")
        .pop_focus()
}

/// A modal dialog, shown when it mounts (render it under an `:if`, as the seed does; pass
/// `show={false}` to keep it hidden until [`show_modal`] runs). Escape, a click outside and the
/// close button run `on_cancel` (e.g. `JS::patch("/articles")`) and hide it.
///
/// ```text
/// <.modal :if={@live_action == "new"} id="article-modal" on_cancel={JS::patch("/articles")}>…</.modal>
/// ```
#[component]
pub fn modal<'a>(
    id: String,
    #[attr(default = true)] show: bool,
    #[attr(default)] on_cancel: JS,
    #[slot] inner_block: Slot<'a>,
) -> Rendered {
    let mounted = show.then(|| show_modal(&id));
    let remove = hide_modal(&id);
    let cancel = on_cancel.exec("phx-remove", "");
    let close = JS::exec("data-cancel", &format!("#{id}"));
    html!(
        r#"<div id={id.as_str()} phx-mounted={mounted} phx-remove={remove} data-cancel={cancel} class="modal" style="display: none;"><div id={format!("{id}-bg")} class="modal-backdrop" aria-hidden="true"></div><div class="modal-dialog" aria-labelledby={format!("{id}-title")} aria-describedby={format!("{id}-description")} role="dialog" aria-modal="true" tabindex="0"><.focus_wrap id={format!("{id}-container")} phx-window-keydown={close.clone()} phx-key="escape" phx-click-away={close.clone()} class="modal-container"><div class="modal-close"><button phx-click={close.clone()} type="button" aria-label="close">&times;</button></div><div id={format!("{id}-content")}>{render_slot(&inner_block, ())}</div></.focus_wrap></div></div>"#
    )
}
