//! `<.live_component module={…} id={…} …/>` in templates (Phoenix's call): props from
//! `props={…}`, from the attributes as the fields of the component's `Props`, or the default;
//! with `:for` each entry is the component alone, and `:if` shows it or not; through the real
//! export glue and the host's diff engine, `update_many` gets every card a render placed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::cell::RefCell;

use livewasm_sdk::bindings::livewasm::view::types as wit;
use livewasm_sdk::prelude::*;
use livewasm_sdk::{Dyn, LiveComponentRef};
use support::HostSide;

/// A card's props, as attributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CardProps {
    name: String,
    stars: u32,
}

/// A card component.
#[derive(Assigns, Default)]
pub struct Card {
    name: String,
    stars: u32,
}

impl LiveComponent for Card {
    type Props = CardProps;

    fn update(socket: &mut ComponentSocket<Self>, props: CardProps) -> Result {
        assign!(socket, name = props.name, stars = props.stars);
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(r#"<p>{@name}: {@stars}</p>"#)
    }
}

fn cid(dynamic: &Dyn) -> u32 {
    match dynamic {
        Dyn::Component(cid) => *cid,
        other => panic!("not a component: {other:?}"),
    }
}

#[test]
fn attributes_props_and_default() {
    let name = "Ada".to_string();
    let by_attrs = html!(
        r#"<div><.live_component module={Card} id="ada" name={name.clone()} stars={3} /></div>"#
    );
    let by_props = html!(
        r#"<div><.live_component module={Card} id="ada" props={CardProps { name: name.clone(), stars: 3 }} /></div>"#
    );
    let by_hand: LiveComponentRef = live_component::<Card>(
        "ada",
        CardProps {
            name: name.clone(),
            stars: 3,
        },
    );
    // The same id of the same module is the same component.
    assert_eq!(cid(&by_attrs.dynamics[0]), by_hand.cid());
    assert_eq!(cid(&by_props.dynamics[0]), by_hand.cid());
    let defaults = html!(r#"<.live_component module={Card} id="nobody" />"#);
    assert_ne!(cid(&defaults.dynamics[0]), by_hand.cid());
    // A static attribute converts into the field's type.
    let fixed = html!(r#"<.live_component module={Card} id="grace" name="Grace" stars={1} />"#);
    assert_ne!(cid(&fixed.dynamics[0]), by_hand.cid());
}

#[test]
fn for_and_if() {
    let names = ["a".to_string(), "b".to_string(), "c".to_string()];
    let list = html!(
        r#"<ul><.live_component :for={n in names.iter()} module={Card} id={format!("card-{n}")} name={n.clone()} stars={0} /></ul>"#
    );
    let Dyn::List(list) = &list.dynamics[0] else {
        panic!("a comprehension: {:?}", list.dynamics)
    };
    // Each entry is the component alone, as Phoenix sends it.
    assert_eq!(list.template.statics, ["", ""]);
    let cids: Vec<u32> = list.entries.iter().map(|e| cid(&e.dynamics[0])).collect();
    assert_eq!(cids.len(), 3);
    assert!(cids[0] != cids[1] && cids[1] != cids[2], "{cids:?}");
    assert_eq!(
        cids[1],
        live_component::<Card>("card-b", CardProps::default()).cid()
    );

    let shown = true;
    let on = html!(r#"<.live_component :if={shown} module={Card} id="maybe" />"#);
    let Dyn::Node(node) = &on.dynamics[0] else {
        panic!("{:?}", on.dynamics)
    };
    cid(&node.dynamics[0]);
    let hidden = false;
    let off = html!(r#"<.live_component :if={hidden} module={Card} id="maybe" />"#);
    assert_eq!(off.dynamics[0], Dyn::empty());
}

thread_local! {
    /// The ids of each batch `Row::update_many` got, in order.
    static BATCHES: RefCell<Vec<Vec<String>>> = const { RefCell::new(Vec::new()) };
}

/// A row that loads what all rows need in one go.
#[derive(Assigns, Default)]
pub struct Row {
    label: String,
    of: usize,
}

impl LiveComponent for Row {
    type Props = String;

    fn update(_socket: &mut ComponentSocket<Self>, _label: String) -> Result {
        Err("update_many handles rows".into())
    }

    fn update_many(batch: Vec<(&mut ComponentSocket<Self>, String)>) -> Result {
        let of = batch.len();
        BATCHES.with(|b| {
            b.borrow_mut()
                .push(batch.iter().map(|(s, _)| s.id().to_string()).collect())
        });
        for (socket, label) in batch {
            assign!(socket, label = label, of = of);
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(r#"<li phx-target={@myself}>{@label} of {@of}</li>"#)
    }
}

/// A list of rows, and a card.
#[derive(Assigns, Default, serde::Deserialize)]
pub struct Rows {
    labels: Vec<String>,
    title: String,
}

impl LiveView for Rows {
    fn mount(socket: &mut Socket<Self>, _: &Params, _: &Session) -> Result {
        assign!(
            socket,
            labels = vec!["a".to_string(), "b".to_string(), "c".to_string()]
        );
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, _: &str, value: &Value) -> Result {
        let next: Rows = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        assign!(socket, labels = next.labels, title = next.title);
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"<main><h1>{@title}</h1><button id="v" phx-click={JS::push("x").with_target(@myself)} phx-target={@myself}>v</button><ul><.live_component :for={l in @labels.iter()} module={Row} id={format!("row-{l}")} props={l.to_uppercase()} /></ul><.live_component module={Card} id="card" name={@title.clone()} stars={@labels.len() as u32} /></main>"#
        )
    }
}

livewasm_sdk::app! {
    name: "rows",
    routes: {
        "/rows" => Rows;
    }
}

#[test]
fn update_many_gets_every_row_a_render_placed() {
    livewasm_sdk::export::mount::<__LivewasmApp>(wit::MountRequest {
        view: "Rows".into(),
        action: None,
        params: "{}".into(),
        session: "{}".into(),
        url: "http://localhost/rows".into(),
        connected: true,
        live_session: None,
        flash: "{}".into(),
    })
    .expect("mount");
    let mut host = HostSide::default();
    let (_, shown) = host.render().expect("first render");
    // `@myself` is each row's own cid; in the view there is none: no phx-target, no target.
    let cids: Vec<&str> = shown
        .split(r#"<li phx-target=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert_eq!(cids.len(), 3, "{shown}");
    assert!(cids.iter().all(|c| c.parse::<u32>().is_ok()), "{cids:?}");
    assert!(cids[0] != cids[1] && cids[1] != cids[2], "{cids:?}");
    for label in ["A", "B", "C"] {
        assert!(shown.contains(&format!(">{label} of 3</li>")), "{shown}");
    }
    assert!(
        shown.contains(
            r#"<button id="v" phx-click="[[&quot;push&quot;,{&quot;event&quot;:&quot;x&quot;}]]">v</button>"#
        ),
        "{shown}"
    );
    assert!(
        shown.contains("<p>: 3</p>"),
        "the card's update ran: {shown}"
    );
    let take = || BATCHES.with(|b| std::mem::take(&mut *b.borrow_mut()));
    assert_eq!(take(), [["row-a", "row-b", "row-c"]]);

    // The list changes: one batch again, with the rows placed this time (a new one included).
    livewasm_sdk::export::handle_event(
        "set".into(),
        json!({"labels": ["c", "d"], "title": "T"}).to_string(),
    )
    .expect("event");
    let (_, shown) = host.render().expect("render");
    assert!(
        shown.contains("C of 2</li>") && shown.contains("D of 2</li></ul><p>T: 2</p>"),
        "{shown}"
    );
    assert_eq!(take(), [["row-c", "row-d"]]);

    // Nothing that places the rows changed: no update.
    livewasm_sdk::export::handle_event(
        "set".into(),
        json!({"labels": ["c", "d"], "title": "U"}).to_string(),
    )
    .expect("event");
    host.render().expect("render");
    assert!(take().is_empty());
}
