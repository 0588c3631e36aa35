//! `render(full: true)`, what the host asks for when its check rejects a render: driven through
//! the real export glue, the host's check and diff engine and the client model. The full render
//! leaves nothing `unchanged`, carries what the thrown-away render took (the title, the stream's
//! inserted items and operations), renders the live components again, and the renders after it
//! are ordinary ones.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use livewasm_protocol::update::{Update, UpdateDynamic};
use livewasm_sdk::bindings::livewasm::view::types as wit;
use livewasm_sdk::prelude::*;
use support::HostSide;

/// One item of the stream.
#[derive(Debug, Clone)]
pub struct Item {
    id: u32,
}

impl StreamItem for Item {
    fn stream_id(&self) -> String {
        self.id.to_string()
    }
}

/// The view's streams.
#[derive(Default)]
pub struct Streams {
    items: Stream<Item>,
}

/// A counter, a label that never changes, a stream and a live component.
#[derive(Assigns, Default)]
pub struct Full {
    count: u32,
    label: String,
    streams: Streams,
}

/// Shows the view's count.
#[derive(Assigns, Default)]
pub struct Counter {
    n: u32,
}

impl LiveComponent for Counter {
    type Props = u32;

    fn update(socket: &mut ComponentSocket<Self>, props: u32) -> Result {
        assign!(socket, n = props);
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(r#"<span id="counter">{@n}</span>"#)
    }
}

impl LiveView for Full {
    fn mount(socket: &mut Socket<Self>, _params: &Params, _session: &Session) -> Result {
        assign!(socket, label = "L".to_string());
        stream!(socket, streams.items, vec![Item { id: 1 }]);
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, _event: &str, _value: &Value) -> Result {
        update!(socket, count, |c| *c += 1);
        let id = socket.assigns().count + 1;
        stream_insert!(socket, streams.items, Item { id });
        socket.page_title(format!("T{id}"));
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"<main><p>{@count}</p><b>{@label}</b><ul id="items" phx-update="stream"><li :for={(dom_id, item) in @streams.items} id={dom_id}>item {item.id}</li></ul>{live_component::<Counter>("c", @count)}</main>"#
        )
    }
}

livewasm_sdk::app! {
    name: "full",
    routes: {
        "/full" => Full;
    }
}

fn mount() -> HostSide {
    livewasm_sdk::export::mount::<__LivewasmApp>(wit::MountRequest {
        view: "Full".into(),
        action: None,
        params: "{}".into(),
        session: "{}".into(),
        url: "http://localhost/full".into(),
        connected: true,
        live_session: None,
        flash: "{}".into(),
    })
    .expect("mount");
    let mut side = HostSide::default();
    let (_, shown) = side.render().expect("first render");
    assert!(shown.contains("item 1"), "{shown}");
    side
}

fn no_unchanged(update: &Update) -> bool {
    let complete = |dynamics: &[UpdateDynamic]| {
        dynamics
            .iter()
            .all(|d| !matches!(d, UpdateDynamic::Unchanged))
    };
    update.nodes.iter().all(|n| complete(&n.dynamics))
        && update
            .lists
            .iter()
            .all(|l| l.entries.iter().all(|e| complete(&e.dynamics)))
}

#[test]
fn a_full_render_replaces_the_thrown_away_one_completely() {
    let mut side = mount();
    livewasm_sdk::export::handle_event("add".into(), "{}".into()).expect("event");
    let (update, diff, shown) = side.render_thrown_away().expect("the full render applies");
    assert!(no_unchanged(&update), "{update:?}");
    assert_eq!(update.title.as_deref(), Some("T2"));
    // The stream's item and operations taken by the thrown-away render travel again.
    let stream = update
        .lists
        .iter()
        .find(|l| l.stream.is_some())
        .expect("the stream");
    assert_eq!(stream.entries.len(), 1);
    let ops = stream.stream.as_ref().expect("ops");
    assert_eq!(ops.inserts.len(), 1);
    assert_eq!(ops.inserts[0].dom_id, "items-2");
    // The live component renders again, whole.
    assert_eq!(update.components.len(), 1);
    assert!(shown.contains("<p>1</p>"), "{shown}");
    assert!(shown.contains(r#"<span id="counter">1</span>"#), "{shown}");
    // The diff sends only what changed: the label did not.
    assert_eq!(diff["t"], "T2");
    assert!(diff.get("1").is_none(), "{diff}");

    // The next render is an ordinary one, diffed against what the full render left.
    livewasm_sdk::export::handle_event("add".into(), "{}".into()).expect("event");
    let (diff, shown) = side.render().expect("an ordinary render after it");
    assert!(shown.contains("<p>2</p>"), "{shown}");
    assert!(shown.contains(r#"<span id="counter">2</span>"#), "{shown}");
    assert!(diff.get("1").is_none(), "{diff}");
}
