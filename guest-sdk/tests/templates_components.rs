//! Golden tests: function components (`#[component]`, `<.name>` calls, slots, `:let`, rest).

use livewasm_sdk::prelude::*;
use livewasm_sdk::{Assigns, Attrs, Dyn};

/// A header with a title (required), an optional class, optional subtitle and many actions.
#[component]
pub fn card<'a>(
    title: String,
    class: Option<String>,
    #[attr(default = 2)] level: u8,
    #[slot] inner_block: Option<Slot<'a>>,
    #[slot] subtitle: Option<Slot<'a>>,
    #[slot] actions: Vec<Slot<'a>>,
    #[attr(rest)] rest: Attrs,
) -> Rendered {
    html!(
        r#"<section class={class_list([Some("card"), class.as_deref()])} {rest}><h2 data-level={level}>{title}</h2><p :if={subtitle.is_some()}>{render_slot(&subtitle, ())}</p>{render_slot(&inner_block, ())}<div class="actions">{render_slot(&actions, ())}</div></section>"#
    )
}

/// A user row for the table test.
#[derive(Clone)]
pub struct User {
    id: u32,
    name: String,
}

/// A generic list with `:col` slots taking a row.
#[component]
pub fn grid<'a, T>(rows: &'a [T], #[slot] col: Vec<Slot<'a, &'a T>>) -> Rendered {
    html!(
        r#"<table><tr><th :for={c in col.iter()}>{c.attr("label").unwrap_or("")}</th></tr><tr :for={row in rows.iter()}><td :for={c in col.iter()}>{render_slot(c, row)}</td></tr></table>"#
    )
}

#[test]
fn html_works_outside_a_view() {
    let name = "<b>";
    let r = html!(r#"<p>Hi {name}</p>"#);
    assert_eq!(r.to_html(), "<p>Hi &lt;b&gt;</p>");
}

#[test]
fn component_with_attributes_slots_and_rest() {
    let r = html!(
        r#"<.card title="Hello" class="wide" id="c1" phx-click={JS::push("go")}>Body<:subtitle>Sub &amp; more</:subtitle><:actions><button>A</button></:actions><:actions><button>B</button></:actions></.card>"#
    );
    assert_eq!(
        r.to_html(),
        r#"<section class="card wide" id="c1" phx-click="[[&quot;push&quot;,{&quot;event&quot;:&quot;go&quot;}]]"><h2 data-level="2">Hello</h2><p>Sub &amp; more</p>Body<div class="actions"><button>A</button><button>B</button></div></section>"#
    );
    // The component's output is one nested template.
    assert!(matches!(r.dynamics.as_slice(), [Dyn::Node(_)]));
    let minimal = html!(r#"<.card title={String::from("T")} level={3} />"#);
    assert_eq!(
        minimal.to_html(),
        r#"<section class="card"><h2 data-level="3">T</h2><div class="actions"></div></section>"#
    );
}

#[derive(Default, Assigns)]
struct Page {
    users: Vec<User>,
    heading: String,
}

#[test]
fn slots_with_let_and_attributes_in_a_view() {
    let page = Page {
        users: vec![
            User {
                id: 1,
                name: "Ann".into(),
            },
            User {
                id: 2,
                name: "<Bob>".into(),
            },
        ],
        heading: "People".into(),
    };
    let assigns = Tracked::all(&page);
    let assigns = &assigns;
    let r = html!(
        r#"<h1>{@heading}</h1><.grid rows={@users}><:col :let={u} label="Id">{u.id}</:col><:col :let={u} label={@heading}>{u.name}</:col></.grid>"#
    );
    assert_eq!(
        r.to_html(),
        "<h1>People</h1><table><tr><th>Id</th><th>People</th></tr><tr><td>1</td><td>Ann</td></tr><tr><td>2</td><td>&lt;Bob&gt;</td></tr></table>"
    );
    // Nothing changed: both dynamics are skipped without evaluation.
    let unchanged = Tracked::with_changes(&page, 0);
    let assigns = &unchanged;
    let r = html!(
        r#"<h1>{@heading}</h1><.grid rows={@users}><:col :let={u} label="Id">{u.id}</:col></.grid>"#
    );
    assert_eq!(r.dynamics, vec![Dyn::Unchanged, Dyn::Unchanged]);
}

mod widgets {
    use livewasm_sdk::prelude::*;

    /// A badge in another module, called by path.
    #[component]
    pub fn badge(#[attr(default = "info".to_string())] kind: String, text: String) -> Rendered {
        html!(r#"<span class={format!("badge badge-{kind}")}>{text}</span>"#)
    }
}

#[test]
fn path_calls_and_if_for_on_calls() {
    let names = ["a", "<b>"];
    let show = false;
    let r = html!(
        r#"<div><.widgets::badge text="x" kind="warn" /><.widgets::badge :for={n in names.iter()} text={n.to_string()} /><.widgets::badge :if={show} text="hidden" /></div>"#
    );
    assert_eq!(
        r.to_html(),
        r#"<div><span class="badge badge-warn">x</span><span class="badge badge-info">a</span><span class="badge badge-info">&lt;b&gt;</span></div>"#
    );
}

#[derive(Default, Assigns)]
struct Counter {
    count: u32,
    label: String,
    rows: Vec<User>,
}

#[test]
fn calls_and_loops_depend_only_on_the_assigns_they_read() {
    let state = Counter {
        count: 1,
        label: "L".into(),
        rows: vec![User {
            id: 7,
            name: "Q".into(),
        }],
    };
    let count_bit = state.__lw_bit("count");
    let changed = Tracked::with_changes(&state, count_bit);
    let assigns = &changed;
    let r = html!(
        r#"<p>{@count}</p><.card title={@label}>x</.card><li :for={u in @rows.iter()}>{u.name}</li><.grid rows={@rows}><:col :let={u}>{u.id}</:col></.grid><.widgets::badge text="const" />"#
    );
    assert_eq!(r.dynamics.len(), 5);
    assert_eq!(r.dynamics[0], Dyn::Html("1".into()));
    // The card reads @label, the loop and the grid @rows: none changed.
    assert_eq!(r.dynamics[1], Dyn::Unchanged);
    assert_eq!(r.dynamics[2], Dyn::Unchanged);
    assert_eq!(r.dynamics[3], Dyn::Unchanged);
    // A call reading nothing is simply rendered.
    assert!(matches!(r.dynamics[4], Dyn::Node(_)));
    // A loop reading a local (not a loop variable) always renders.
    let suffix = "!";
    let r = html!(r#"<li :for={u in @rows.iter()}>{u.name}{suffix}</li>"#);
    assert!(matches!(r.dynamics[0], Dyn::List(_)));
}

#[test]
fn spreads_into_a_component_and_conditional_slot_entries() {
    let extra = Attrs::new().with("data-role", "main").with("hidden", true);
    let admin = false;
    let r = html!(
        r#"<.card title="T" {extra}><:actions>Always</:actions><:actions :if={admin}>Admin only</:actions></.card>"#
    );
    assert_eq!(
        r.to_html(),
        r#"<section class="card" data-role="main" hidden><h2 data-level="2">T</h2><div class="actions">Always</div></section>"#
    );
}

/// Attribute names that match the builder's own vocabulary still work.
#[component]
pub fn odd(new: String, render: u8, r#type: String, r#for: Option<String>) -> Rendered {
    html!(r#"<i data-new={new} data-render={render} data-type={r#type} data-for={r#for}></i>"#)
}

#[test]
fn attribute_names_are_free() {
    let r = html!(r#"<.odd new="n" render={3} type="t" for="f" />"#);
    assert_eq!(
        r.to_html(),
        r#"<i data-new="n" data-render="3" data-type="t" data-for="f"></i>"#
    );
}
