//! `<.form>` and `<.input>`: forms from a [`Form`], inputs from a [`FormField`].

use crate::components::{Slot, render_slot};
use crate::form::{Form, FormField};
use crate::html::Attrs;
use crate::render::Rendered;
use crate::{component, html};

/// A `<form>` for a [`Form`]: its id (unless `id` is given), `phx-change`/`phx-submit`,
/// `action`/`method` (a form posted over HTTP, e.g. with `phx-trigger-action`); `:let={f}`
/// binds the form for the inputs. Each `<:actions>` entry (buttons, links) comes after the
/// fields in a `<div class="form-actions">`, as in Phoenix's generated `simple_form`.
///
/// ```text
/// <.form for={@form} phx-change="validate" phx-submit="save" :let={f}>
///   <.input field={f.field("email")} type="email" label="Email" />
///   <:actions><.button phx-disable-with="Saving...">Save</.button></:actions>
/// </.form>
/// ```
#[component]
pub fn form<'a>(
    r#for: &'a Form,
    id: Option<String>,
    action: Option<String>,
    method: Option<String>,
    #[attr(rest, include = "autocomplete novalidate target enctype")] rest: Attrs,
    #[slot] inner_block: Option<Slot<'a, &'a Form>>,
    #[slot] actions: Vec<Slot<'a, &'a Form>>,
) -> Rendered {
    let id = id.or_else(|| (!r#for.id.is_empty()).then(|| r#for.id.clone()));
    let method = method.or_else(|| action.as_ref().map(|_| "post".to_string()));
    html!(
        r#"<form id={id} action={action} method={method} {rest}>{render_slot(&inner_block, r#for)}<div :for={a in actions.iter()} class="form-actions">{render_slot(a, r#for)}</div></form>"#
    )
}

/// An input for a [`FormField`], with its label and errors (`<p class="error">`):
/// `type` is `text` (default), `email`, `password`, `number`, `date`…, `checkbox` (a hidden
/// `false` then the box with value `true`), `select` (`options` as `(label, value)`, `prompt`,
/// `multiple`), `textarea` or `hidden`.
#[component]
pub fn input(
    field: FormField,
    #[attr(default = "text".to_string())] r#type: String,
    label: Option<String>,
    id: Option<String>,
    value: Option<String>,
    prompt: Option<String>,
    #[attr(default)] options: Vec<(String, String)>,
    #[attr(default)] multiple: bool,
    #[attr(
        rest,
        include = "autocomplete placeholder disabled readonly required min max step pattern minlength maxlength rows cols size accept form"
    )]
    rest: Attrs,
) -> Rendered {
    let id = id.unwrap_or_else(|| field.id.clone());
    let value = value.or_else(|| field.value.clone());
    let errors = &field.errors;
    let for_field = field.field.as_str();
    match r#type.as_str() {
        "hidden" => html!(
            r#"<input type="hidden" id={id} name={field.name.as_str()} value={value} {rest}>"#
        ),
        "checkbox" => {
            let checked = value.as_deref() == Some("true");
            html!(
                r#"<div class="field"><label><input type="hidden" name={field.name.as_str()} value="false" disabled={rest.has("disabled")}><input type="checkbox" id={id} name={field.name.as_str()} value="true" checked={checked} {rest}>{label}</label><p :for={message in errors.iter()} class="error" data-for={for_field}>{message}</p></div>"#
            )
        }
        "select" => {
            let name = if multiple {
                format!("{}[]", field.name)
            } else {
                field.name.clone()
            };
            let selected = |v: &str| value.as_deref() == Some(v);
            html!(
                r#"<div class="field"><label for={id.as_str()}>{label}</label><select id={id.as_str()} name={name} multiple={multiple} {rest}><option :if={prompt.is_some()} value="">{prompt}</option><option :for={(text, v) in options.iter()} value={v} selected={selected(v)}>{text}</option></select><p :for={message in errors.iter()} class="error" data-for={for_field}>{message}</p></div>"#
            )
        }
        "textarea" => {
            let text = format!("\n{}", value.unwrap_or_default());
            html!(
                r#"<div class="field"><label for={id.as_str()}>{label}</label><textarea id={id.as_str()} name={field.name.as_str()} {rest}>{text}</textarea><p :for={message in errors.iter()} class="error" data-for={for_field}>{message}</p></div>"#
            )
        }
        kind => html!(
            r#"<div class="field"><label for={id.as_str()}>{label}</label><input type={kind} id={id.as_str()} name={field.name.as_str()} value={value} {rest}><p :for={message in errors.iter()} class="error" data-for={for_field}>{message}</p></div>"#
        ),
    }
}
