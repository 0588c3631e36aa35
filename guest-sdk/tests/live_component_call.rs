//! `<.live_component module={…} id={…} …/>` in templates (Phoenix's call): props from
//! `props={…}`, from the attributes as the fields of the component's `Props`, or the default;
//! with `:for` each entry is the component alone, and `:if` shows it or not.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use livewasm_sdk::prelude::*;
use livewasm_sdk::{Dyn, LiveComponentRef};

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
