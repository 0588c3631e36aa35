//! A dynamic that chooses between templates (`if`/`else`, `match`, a helper or function
//! component returning one of several templates), driven through the real export glue, the
//! host's diff engine and the client model (`livewasm-protocol`): when the choice changes but
//! the assigns the new template reads do not, the new template must still reach the host
//! complete (the host has no previous value for its slots), and the client must show exactly a
//! full render of the state after every render. Covers the view, a keyed `:for` entry and a
//! live component.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use livewasm_sdk::bindings::livewasm::view::types as wit;
use livewasm_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use support::HostSide;

/// A row of the keyed comprehension.
#[derive(Debug, Clone, PartialEq, Fingerprint, Serialize, Deserialize)]
pub struct Row {
    id: u32,
    name: String,
}

/// The view's state, also what the test sends to change it.
#[derive(Assigns, Default, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Switch {
    editing: bool,
    name: String,
    mode: u8,
    label: String,
    title: String,
    rows: Vec<Row>,
    /// What the live component shows, passed as its props.
    badge: bool,
    /// How the rows show.
    row_edit: bool,
}

/// `if`/`else` between two templates reading the same assign, in a helper.
fn field(assigns: &Tracked<'_, Switch>) -> Rendered {
    if assigns.editing {
        html!(r#"<input value={@name}>"#)
    } else {
        html!(r#"<span>{@name}</span>"#)
    }
}

/// `match` over three templates.
fn by_mode(assigns: &Tracked<'_, Switch>) -> Rendered {
    match assigns.mode % 3 {
        0 => html!(r#"<b>{@label}</b>"#),
        1 => html!(r#"<i title={@label}>{@name}</i>"#),
        _ => html!(r#"<u>{@label}-{@name}</u>"#),
    }
}

/// A function component whose output template switches with its attribute.
#[component]
pub fn status<'a>(on: bool, #[slot] inner_block: Slot<'a>) -> Rendered {
    if on {
        html!(r#"<em class="on">{render_slot(&inner_block, ())}</em>"#)
    } else {
        html!(r#"<small>{render_slot(&inner_block, ())}</small>"#)
    }
}

/// Inside each entry of a keyed comprehension: a helper switching templates.
fn row_cell(assigns: &Tracked<'_, Switch>, row: &Row) -> Rendered {
    if assigns.row_edit {
        html!(r#"<input name={row.name.clone()} value={@label}>"#)
    } else {
        html!(r#"<span>{row.name.clone()}: {@label}</span>"#)
    }
}

/// A live component switching templates on its own assign.
#[derive(Assigns, Default)]
pub struct Badge {
    on: bool,
    text: String,
}

impl LiveComponent for Badge {
    type Props = (bool, String);

    fn update(socket: &mut ComponentSocket<Self>, props: (bool, String)) -> Result {
        assign!(socket, on = props.0, text = props.1);
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(r#"<div id="badge">{badge_body(assigns)}</div>"#)
    }
}

fn badge_body(assigns: &Tracked<'_, Badge>) -> Rendered {
    if assigns.on {
        html!(r#"<strong>{@text}</strong>"#)
    } else {
        html!(r#"<p>{@text}</p>"#)
    }
}

impl LiveView for Switch {
    fn mount(_socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, _event: &str, value: &Value) -> Result {
        let next: Switch = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        assign!(
            socket,
            editing = next.editing,
            name = next.name,
            mode = next.mode,
            label = next.label,
            title = next.title,
            rows = next.rows,
            badge = next.badge,
            row_edit = next.row_edit
        );
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r##"<main>
  <h1>{@title}</h1>
  <div id="if">{field(assigns)}</div>
  <div id="inline">{if @editing { html!(r#"<input value={@name}>"#) } else { html!(r#"<span>{@name}</span>"#) }}</div>
  <div id="match">{by_mode(assigns)}</div>
  <div id="component"><.status on={@editing}>{@label}</.status></div>
  <ul><li :for={r in @rows} :key={r.id}>{row_cell(assigns, r)}</li></ul>
  <.live_component module={Badge} id="badge" props={(@badge, @name.clone())} />
</main>"##
        )
    }
}

livewasm_sdk::app! {
    name: "switch",
    routes: {
        "/switch" => Switch;
    }
}

/// The host's side: the kept tree, the statics it fetched, and the client's copy.
struct Host {
    side: HostSide,
    state: Switch,
}

/// What a full render of `state` shows, the live component inlined at its spot (at the end).
fn expected(state: &Switch) -> String {
    let view = Switch::render(&Tracked::all(state)).to_html();
    let badge = Badge {
        on: state.badge,
        text: state.name.clone(),
    };
    let badge = Badge::render(&Tracked::all(&badge)).to_html();
    let end = "\n</main>";
    let body = view.strip_suffix(end).expect("the view ends with </main>");
    format!("{body}{badge}{end}")
}

impl Host {
    fn mount() -> Host {
        livewasm_sdk::export::mount::<__LivewasmApp>(wit::MountRequest {
            view: "Switch".into(),
            action: None,
            params: "{}".into(),
            session: "{}".into(),
            url: "http://localhost/switch".into(),
            connected: true,
            live_session: None,
            flash: "{}".into(),
        })
        .expect("mount");
        let mut host = Host {
            side: HostSide::default(),
            state: Switch::default(),
        };
        host.render();
        host
    }

    /// Renders, diffs as the host does (which fails on an unchanged slot it cannot fill),
    /// merges as the client does, and checks what the client shows. Returns the diff.
    fn render(&mut self) -> serde_json::Value {
        let (diff, shown) = self
            .side
            .render()
            .unwrap_or_else(|e| panic!("the host rejects the render of {:?}: {e}", self.state));
        let shown = Some(shown);
        assert_eq!(
            shown.as_deref(),
            Some(expected(&self.state).as_str()),
            "state {:?}",
            self.state
        );
        diff
    }

    /// Sets the view's state (only changed assigns are marked) and renders.
    fn set(&mut self, state: Switch) -> serde_json::Value {
        livewasm_sdk::export::handle_event("set".into(), serde_json::to_string(&state).unwrap())
            .expect("event");
        self.state = state;
        self.render()
    }
}

fn base() -> Switch {
    Switch {
        editing: false,
        name: "Ada".into(),
        mode: 0,
        label: "L".into(),
        title: "T".into(),
        rows: vec![
            Row {
                id: 1,
                name: "one".into(),
            },
            Row {
                id: 2,
                name: "two".into(),
            },
        ],
        badge: false,
        row_edit: false,
    }
}

#[test]
fn if_else_between_templates_toggles() {
    let mut host = Host::mount();
    let mut state = base();
    host.set(state.clone());
    for _ in 0..3 {
        state.editing = !state.editing;
        let diff = host.set(state.clone());
        // The new template reached the client with its value.
        let text = diff.to_string();
        assert!(text.contains("Ada"), "{text}");
    }
    // Change tracking still saves work when the template stays: only the title changes.
    state.title = "T2".into();
    let diff = host.set(state.clone());
    assert!(!diff.to_string().contains("Ada"), "{diff}");
}

#[test]
fn match_over_three_templates() {
    let mut host = Host::mount();
    let mut state = base();
    host.set(state.clone());
    for mode in [1, 2, 0, 2, 1, 0, 1] {
        state.mode = mode;
        host.set(state.clone());
    }
}

#[test]
fn function_component_switches() {
    let mut host = Host::mount();
    let mut state = base();
    host.set(state.clone());
    for _ in 0..3 {
        state.editing = !state.editing;
        host.set(state.clone());
        state.label = format!("{}+", state.label);
        host.set(state.clone());
    }
}

#[test]
fn keyed_entries_switch() {
    let mut host = Host::mount();
    let mut state = base();
    host.set(state.clone());
    state.row_edit = true;
    host.set(state.clone());
    // A new row while the choice flips back.
    state.rows.push(Row {
        id: 3,
        name: "three".into(),
    });
    state.row_edit = false;
    host.set(state.clone());
    state.label = "M".into();
    host.set(state.clone());
    state.row_edit = true;
    host.set(state.clone());
}

#[test]
fn live_component_switches_templates() {
    let mut host = Host::mount();
    let mut state = base();
    host.set(state.clone());
    for _ in 0..3 {
        state.badge = !state.badge;
        host.set(state.clone());
    }
    state.name = "Bo".into();
    host.set(state.clone());
    state.badge = !state.badge;
    host.set(state.clone());
}

#[test]
fn random_toggles_stay_in_lockstep_with_the_host() {
    let mut host = Host::mount();
    let mut state = base();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for step in 0..200u32 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        match seed % 8 {
            7 => state.row_edit = !state.row_edit,
            0 => state.editing = !state.editing,
            1 => state.mode = state.mode.wrapping_add(1),
            2 => state.label = format!("L{step}"),
            3 => state.name = format!("N{}", step % 3),
            4 => state.badge = !state.badge,
            5 => state.title = format!("T{step}"),
            _ => {
                let id = (seed % 5) as u32;
                match state.rows.iter().position(|r| r.id == id) {
                    Some(at) => {
                        state.rows.remove(at);
                    }
                    None => state.rows.push(Row {
                        id,
                        name: format!("r{id}"),
                    }),
                }
            }
        }
        host.set(state.clone());
    }
}
