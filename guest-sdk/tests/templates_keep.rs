//! Per-entry change tracking in keyed comprehensions (`guest-sdk/src/keep.rs`), through the
//! real export glue and the host's diff engine and client model (`livewasm-protocol`): entries
//! whose item and assigns did not change are not evaluated, and what the client shows after
//! every render is exactly a full render of the view's state.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;

mod support;

use livewasm_sdk::bindings::livewasm::view::types as wit;
use livewasm_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use support::HostSide;

thread_local! {
    /// How many entry templates evaluated a row's name.
    static EVALUATED: Cell<usize> = const { Cell::new(0) };
}

fn evaluated() -> usize {
    EVALUATED.with(Cell::take)
}

/// A row: its fingerprint covers every field.
#[derive(Debug, Clone, PartialEq, Fingerprint, Serialize, Deserialize)]
pub struct Row {
    id: u32,
    name: String,
}

impl Row {
    /// The name, counting evaluations (a method call reads only the item).
    fn shown(&self) -> &str {
        EVALUATED.with(|c| c.set(c.get() + 1));
        &self.name
    }
}

/// A row type without a fingerprint: its entries always render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plain(u32, String);

impl Plain {
    fn shown(&self) -> &str {
        EVALUATED.with(|c| c.set(c.get() + 1));
        &self.1
    }
}

/// The view's state, also what the test sends to change it.
#[derive(Assigns, Default, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    rows: Vec<Row>,
    label: String,
    show: bool,
    tags: Vec<String>,
    plain: Vec<Plain>,
    title: String,
}

impl LiveView for Table {
    fn mount(socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        assign!(socket, label = "L".to_string());
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, _event: &str, value: &Value) -> Result {
        let next: Table = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        assign!(
            socket,
            rows = next.rows,
            label = next.label,
            show = next.show,
            tags = next.tags,
            plain = next.plain,
            title = next.title
        );
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"<section>
  <h1>{@title}</h1>
  <table><tr :for={r in @rows} :key={r.id} id={format!("r{}", r.id)}><td>{r.shown()}</td><td>{@label}</td></tr></table>
  <div :if={@show}><i :for={(n, r) in @rows.iter().enumerate()} :key={r.id}>{n}:{r.shown()}</i></div>
  <ol><li :for={t in @tags} :key={t}>{t}</li></ol>
  <p :for={p in @plain} :key={p.0}>{p.shown()}</p>
</section>"#
        )
    }
}

/// A keyed comprehension built by a helper that the view places in different spots.
#[derive(Assigns, Default, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Moving {
    rows: Vec<Row>,
    flip: bool,
    title: String,
}

fn moving_rows(assigns: &Tracked<'_, Moving>) -> Rendered {
    html!(r#"<ul><li :for={r in @rows} :key={r.id}>{r.shown()}</li></ul>"#)
}

impl LiveView for Moving {
    fn mount(_socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, _event: &str, value: &Value) -> Result {
        let next: Moving = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        assign!(
            socket,
            rows = next.rows,
            flip = next.flip,
            title = next.title
        );
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        let list = moving_rows(assigns);
        html!(r#"<main><h1>{@title}</h1>{wrap(@flip, list)}</main>"#)
    }
}

/// The list inside a `<div>` or a `<span>`.
fn wrap(flip: bool, list: Rendered) -> Rendered {
    if flip {
        html!(r#"<div>{list}</div>"#)
    } else {
        html!(r#"<span>{list}</span>"#)
    }
}

/// Who owns the rows: read by the entries through a slot's `:let`, not through an assign.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Owner {
    name: String,
}

/// A keyed comprehension inside a `:let` slot, whose entries read the slot's value.
#[derive(Assigns, Default, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slotted {
    rows: Vec<Row>,
    owner: Owner,
}

/// Renders its inner block with `value`.
#[component]
pub fn boxed<'a, T>(value: &'a T, #[slot] inner_block: Slot<'a, &'a T>) -> Rendered {
    html!(r#"<div>{render_slot(&inner_block, value)}</div>"#)
}

impl LiveView for Slotted {
    fn mount(_socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, _event: &str, value: &Value) -> Result {
        let next: Slotted = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        assign!(socket, rows = next.rows, owner = next.owner);
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"<.boxed value={&@owner} :let={o}><p :for={r in @rows} :key={r.id}>{&o.name}: {r.shown()}</p></.boxed>"#
        )
    }
}

livewasm_sdk::app! {
    name: "keep",
    routes: {
        "/keep" => Table;
        "/moving" => Moving;
        "/slotted" => Slotted;
    }
}

/// The host's side: the kept tree, the statics it fetched, and the client's copy.
struct Host<V> {
    side: HostSide,
    state: V,
    /// Every diff with the HTML it must produce (for the official client's check).
    steps: Vec<serde_json::Value>,
}

impl Host<Table> {
    fn mount() -> Host<Table> {
        Host::mount_view(
            "Table",
            Table {
                label: "L".into(),
                ..Table::default()
            },
        )
    }
}

impl<V: LiveView + Serialize + Clone + std::fmt::Debug> Host<V> {
    fn mount_view(view: &str, state: V) -> Host<V> {
        livewasm_sdk::export::mount::<__LivewasmApp>(wit::MountRequest {
            view: view.into(),
            action: None,
            params: "{}".into(),
            session: "{}".into(),
            url: "http://localhost/keep".into(),
            connected: true,
            live_session: None,
            flash: "{}".into(),
        })
        .expect("mount");
        let mut host = Host {
            side: HostSide::default(),
            state,
            steps: Vec::new(),
        };
        host.render();
        host
    }

    /// Renders, diffs as the host does, merges as the client does, and checks the client shows
    /// a full render of the state. Returns the diff.
    fn render(&mut self) -> serde_json::Value {
        let (diff, shown) = self.side.render().expect("the host accepts");
        let shown = Some(shown);
        let before = evaluated();
        let expected = V::render(&Tracked::all(&self.state)).to_html();
        EVALUATED.with(|c| c.set(before));
        assert_eq!(
            shown.as_deref(),
            Some(expected.as_str()),
            "state {:?}",
            self.state
        );
        self.steps
            .push(serde_json::json!({"diff": diff, "html": expected, "title": null}));
        diff
    }

    /// Sets the view's state (only changed assigns are marked) and renders.
    fn set(&mut self, state: V) -> serde_json::Value {
        evaluated();
        livewasm_sdk::export::handle_event("set".into(), serde_json::to_string(&state).unwrap())
            .expect("event");
        self.state = state;
        self.render()
    }
}

fn rows(n: u32) -> Vec<Row> {
    (1..=n)
        .map(|id| Row {
            id,
            name: format!("row {id}"),
        })
        .collect()
}

#[test]
fn only_changed_entries_are_evaluated() {
    let mut host = Host::mount();
    let mut state = host.state.clone();
    state.rows = rows(50);
    host.set(state.clone());
    assert_eq!(
        evaluated(),
        50,
        "the first render of the rows evaluates them all"
    );

    state.title = "t".into();
    state.rows[7].name = "changed".into();
    let diff = host.set(state.clone());
    assert_eq!(evaluated(), 1, "only the changed row renders again");
    let text = diff.to_string();
    assert!(text.contains("changed"), "{text}");
    assert!(!text.contains("row 9"), "{text}");

    // A move and an insert: only the new row renders.
    state.rows.swap(0, 49);
    state.rows.insert(
        3,
        Row {
            id: 99,
            name: "new".into(),
        },
    );
    host.set(state.clone());
    assert_eq!(evaluated(), 1);

    // An assign the entries read changed: every entry renders.
    state.label = "M".into();
    host.set(state.clone());
    assert_eq!(evaluated(), 51);

    // The `:if` block appears: its comprehension is new to the host, so everything renders,
    // and the table keeps all but the changed row.
    state.show = true;
    state.rows[10].name = "again".into();
    host.set(state.clone());
    assert_eq!(evaluated(), 1 + 51);
    state.rows[11].name = "once more".into();
    host.set(state.clone());
    assert_eq!(evaluated(), 2, "one row in each comprehension");

    // It disappears and comes back: nothing is kept from before it disappeared.
    state.show = false;
    host.set(state.clone());
    assert_eq!(evaluated(), 0);
    state.show = true;
    host.set(state.clone());
    assert_eq!(evaluated(), 51);
}

#[test]
fn items_without_a_fingerprint_always_render() {
    let mut host = Host::mount();
    let mut state = host.state.clone();
    state.plain = (1..=5).map(|i| Plain(i, format!("p{i}"))).collect();
    host.set(state.clone());
    assert_eq!(evaluated(), 5);
    state.plain[2].1 = "x".into();
    host.set(state.clone());
    assert_eq!(evaluated(), 5);
}

#[test]
fn duplicate_keys_fall_back_to_evaluating() {
    let mut host = Host::mount();
    let mut state = host.state.clone();
    state.rows = rows(4);
    state.rows.push(Row {
        id: 2,
        name: "twin".into(),
    });
    host.set(state.clone());
    state.title = "x".into();
    state.rows[0].name = "first".into();
    host.set(state.clone());
    // Rows 1 (changed) and both rows keyed 2 render; 3 and 4 are kept.
    assert_eq!(evaluated(), 3);
    state.rows.remove(4);
    state.rows[2].name = "three".into();
    host.set(state.clone());
    // Key 2 was duplicated last time, so it is not kept this time; row 3 changed.
    assert_eq!(evaluated(), 2);
    state.title = "y".into();
    host.set(state.clone());
    assert_eq!(evaluated(), 0);
}

#[test]
fn an_empty_comprehension_is_not_sent_again() {
    let mut host = Host::mount();
    let mut state = host.state.clone();
    state.title = "a".into();
    let diff = host.set(state.clone());
    assert!(!diff.to_string().contains("\"\""), "{diff}");
    state.tags = vec!["x".into()];
    host.set(state.clone());
    state.tags.clear();
    host.set(state.clone());
    state.title = "b".into();
    state.tags.clear();
    let diff = host.set(state.clone());
    assert_eq!(diff.to_string(), r#"{"0":"b"}"#);
}

#[test]
fn a_comprehension_that_moves_renders_again_in_full() {
    let mut host = Host::mount_view("Moving", Moving::default());
    let mut state = host.state.clone();
    state.rows = rows(20);
    host.set(state.clone());
    assert_eq!(evaluated(), 20);
    state.title = "a".into();
    state.rows[3].name = "x".into();
    host.set(state.clone());
    assert_eq!(evaluated(), 1);
    // The list lands under another template: what was kept is not where the host would look,
    // so the view renders again keeping nothing (the host would otherwise reject the render).
    state.flip = true;
    state.rows[4].name = "y".into();
    host.set(state.clone());
    assert_eq!(evaluated(), 1 + 20);
    state.rows[5].name = "z".into();
    host.set(state.clone());
    assert_eq!(evaluated(), 1, "kept again at its new place");
}

#[test]
fn entries_reading_a_slot_value_render_when_it_changes() {
    let mut host = Host::mount_view("Slotted", Slotted::default());
    let mut state = host.state.clone();
    state.rows = rows(3);
    host.set(state.clone());
    assert_eq!(evaluated(), 3);
    // Only the owner changes: the entries read it through `:let`, so they all render (the
    // check in `Host::render` would see a stale name otherwise).
    state.owner.name = "Ada".into();
    host.set(state.clone());
    assert_eq!(evaluated(), 3);
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

#[test]
fn random_changes_stay_in_lockstep_with_the_host() {
    let mut cases = Vec::new();
    for seed in 1..=40u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut host = Host::mount();
        let mut state = host.state.clone();
        let mut next_id = 1;
        for _ in 0..25 {
            for _ in 0..=rng.next(4) {
                match rng.next(9) {
                    0 | 1 => {
                        let at = rng.next(state.rows.len() as u64 + 1) as usize;
                        // Sometimes a duplicate key.
                        let id = if rng.next(6) == 0 && !state.rows.is_empty() {
                            state.rows[0].id
                        } else {
                            next_id += 1;
                            next_id
                        };
                        state.rows.insert(
                            at,
                            Row {
                                id,
                                name: format!("n{id}"),
                            },
                        );
                    }
                    2 if !state.rows.is_empty() => {
                        let at = rng.next(state.rows.len() as u64) as usize;
                        state.rows.remove(at);
                    }
                    3 if state.rows.len() > 1 => {
                        let a = rng.next(state.rows.len() as u64) as usize;
                        let b = rng.next(state.rows.len() as u64) as usize;
                        state.rows.swap(a, b);
                    }
                    4 if !state.rows.is_empty() => {
                        let at = rng.next(state.rows.len() as u64) as usize;
                        state.rows[at].name = format!("v{}", rng.next(3));
                    }
                    5 => state.show = !state.show,
                    6 => state.label = format!("L{}", rng.next(2)),
                    7 => {
                        state.tags = (0..rng.next(3)).map(|i| format!("t{i}")).collect();
                    }
                    _ => state.title = format!("T{}", rng.next(3)),
                }
            }
            host.set(state.clone());
        }
        cases.push(serde_json::json!({"name": format!("keep seed {seed}"), "steps": host.steps}));
    }
    // `LIVEWASM_KEEP_CASES=file.json`, then `node tests/conformance/check.mjs file.json`: the
    // official client merges the same diffs.
    if let Ok(path) = std::env::var("LIVEWASM_KEEP_CASES") {
        std::fs::write(path, serde_json::to_vec(&cases).unwrap()).unwrap();
    }
}
