//! `<.async_result>`: renders an [`AsyncResult`] as loaded content, a `<:loading>` or a
//! `<:failed>` slot.

use crate::AsyncResult;
use crate::component;
use crate::components::{Slot, render_slot};
use crate::render::Rendered;

/// The content for `assign`'s state: the inner block with the value once loaded (also while
/// reloading), else `<:loading>` while loading, else `<:failed :let={reason}>`.
///
/// ```text
/// <.async_result assign={@org} :let={org}>
///   <:loading>Loading…</:loading>
///   <:failed :let={reason}>Failed: {reason}</:failed>
///   {org.name}
/// </.async_result>
/// ```
#[component]
pub fn async_result<'a, T>(
    assign: &'a AsyncResult<T>,
    #[slot] inner_block: Slot<'a, &'a T>,
    #[slot] loading: Option<Slot<'a>>,
    #[slot] failed: Option<Slot<'a, &'a str>>,
) -> Rendered {
    match (&assign.result, assign.loading, &assign.failed) {
        (Some(value), _, _) => render_slot(&inner_block, value),
        (None, true, _) => render_slot(&loading, ()),
        (None, false, Some(reason)) => render_slot(&failed, reason.as_str()),
        (None, false, None) => Rendered::nothing(),
    }
}
