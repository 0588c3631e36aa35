//! `<.table>`: rows of any type, a column per `<:col label=…>` slot, optional `<:action>`s.

use crate::components::{RowFn, Slot, render_slot};
use crate::js::JS;
use crate::render::Rendered;
use crate::{component, html};

/// A table of `rows`: one `<:col :let={row} label="…">` slot per column and optional
/// `<:action :let={row}>` slots; `row_id` gives each `<tr>` an id, `row_click` a `phx-click`.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// pub struct User {
///     id: u32,
///     name: String,
/// }
///
/// let users = vec![User { id: 1, name: "Ada".into() }, User { id: 2, name: "Grace".into() }];
/// let table = html!(r#"<.table id="users" rows={&users} row_id={row_fn(|u: &User| format!("user-{}", u.id))}>
///   <:col :let={u} label="Name">{u.name}</:col>
///   <:action :let={u}><.link navigate={format!("/users/{}", u.id)}>Show</.link></:action>
/// </.table>"#);
/// let html = table.to_html();
/// assert!(html.starts_with(r#"<table class="table"><thead><tr><th>Name</th>"#));
/// assert!(html.contains(r#"<tr id="user-2"><td>Grace</td>"#));
/// assert!(html.contains(r#"<a href="/users/2" data-phx-link="redirect" data-phx-link-state="push">Show</a>"#));
/// ```
#[component]
pub fn table<'a, T>(
    id: String,
    rows: &'a [T],
    row_id: Option<RowFn<'a, T, String>>,
    row_click: Option<RowFn<'a, T, JS>>,
    #[slot] col: Vec<Slot<'a, &'a T>>,
    #[slot] action: Vec<Slot<'a, &'a T>>,
) -> Rendered {
    let has_actions = !action.is_empty();
    let clickable = row_click.is_some().then_some("clickable");
    html!(
        r#"<table class="table"><thead><tr><th :for={c in col.iter()}>{c.attr("label").unwrap_or_default()}</th><th :if={has_actions}><span class="sr-only">Actions</span></th></tr></thead><tbody id={id}><tr :for={row in rows.iter()} id={row_id.as_ref().map(|f| f.call(row))}><td :for={c in col.iter()} phx-click={row_click.as_ref().map(|f| f.call(row))} class={clickable}>{render_slot(c, row)}</td><td :if={has_actions} class="actions">{render_slot(&action, row)}</td></tr></tbody></table>"#
    )
}
