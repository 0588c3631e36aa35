//! `assign_new!`, `update_with!`, `update!` and temporary assigns on a real `Socket`: what they
//! set, which fields they mark changed, and what a render sees.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;

use livewasm_sdk::prelude::*;

#[derive(Assigns, Default)]
struct Dashboard {
    count: i64,
    current_user: Option<String>,
    users: Vec<String>,
    max_users: usize,
    messages: Vec<String>,
}

fn socket() -> Socket<Dashboard> {
    let mut socket = Socket::<Dashboard>::new(true, None);
    // A first render clears the "everything changed" of a fresh socket.
    drop(socket.__begin_render());
    socket
}

fn bit(socket: &Socket<Dashboard>, field: &str) -> u128 {
    socket.assigns().__lw_bit(field)
}

#[test]
fn assign_new_computes_only_when_absent() {
    let mut socket = socket();
    let calls = Cell::new(0);
    let fetch = || {
        calls.set(calls.get() + 1);
        "ada@example.com".to_string()
    };
    assign_new!(&mut socket, current_user, fetch);
    assert_eq!(
        socket.assigns().current_user.as_deref(),
        Some("ada@example.com")
    );
    let changed = socket.__begin_render().__changed();
    assert_eq!(changed, bit(&socket, "current_user"));
    assign_new!(&mut socket, current_user, fetch);
    assert_eq!(calls.get(), 1, "not computed again while present");
    assert_eq!(socket.__begin_render().__changed(), 0, "nothing changed");
}

#[test]
fn update_and_update_with() {
    let mut socket = socket();
    update!(&mut socket, count, |c| *c += 1);
    assert_eq!(socket.assigns().count, 1);
    assign!(
        &mut socket,
        users = vec!["a".into(), "b".into(), "c".into()]
    );
    update_with!(&mut socket, max_users, |max: &usize, a: &Dashboard| {
        (*max).max(a.users.len())
    });
    assert_eq!(socket.assigns().max_users, 3);
    let changed = socket.__begin_render().__changed();
    assert_eq!(
        changed,
        bit(&socket, "count") | bit(&socket, "users") | bit(&socket, "max_users")
    );
    // The same value again marks nothing.
    update_with!(&mut socket, max_users, |max: &usize, a: &Dashboard| {
        (*max).max(a.users.len())
    });
    assert_eq!(socket.__begin_render().__changed(), 0);
}

#[test]
fn temporary_assigns_reset_after_render_without_marking() {
    let mut socket = socket();
    temporary_assigns!(&mut socket, messages);
    assign!(
        &mut socket,
        messages = vec!["hello".into(), "world".into()],
        count = 2
    );
    {
        let tracked = socket.__begin_render();
        assert_eq!(tracked.messages.len(), 2, "the render sees them");
        assert_ne!(tracked.__changed() & bit(&socket_probe(), "messages"), 0);
    }
    assert!(
        socket.assigns().messages.is_empty(),
        "reset after the render"
    );
    assert_eq!(socket.assigns().count, 2, "others kept");
    assert_eq!(
        socket.__begin_render().__changed(),
        0,
        "the reset marks nothing"
    );
}

fn socket_probe() -> Socket<Dashboard> {
    Socket::new(false, None)
}

/// The socket's own names in a template: `@live_action`, `@flash`, `@uploads.<name>`.
fn socket_names(assigns: &Tracked<'_, Dashboard>) -> Rendered {
    html!(
        r#"<p>{@count}</p><section :if={@live_action == "new"} id="new">{@count} new</section>{if @live_action.is_some() { html!("<i>{@live_action}</i>") } else { html!("<i>none</i>") }}<b>{@flash.get("info").unwrap_or_default()}</b><u>{@uploads.avatar.entries.len()}</u>"#
    )
}

#[test]
fn live_action_flash_and_uploads_are_read_from_the_socket() {
    let mut socket = Socket::<Dashboard>::new(true, Some("index".to_string()));
    let first = socket_names(&socket.__begin_render());
    assert_eq!(first.to_html(), "<p>0</p><i>index</i><b></b><u>0</u>");
    // Only the live action and the flash changed, no assign: the slots reading them are
    // evaluated all the same, the `@count` slot is not.
    socket.__set_action(Some("new".to_string()));
    socket.put_flash("info", "Saved");
    let next = socket_names(&socket.__begin_render());
    assert_eq!(next.dynamics[0], livewasm_sdk::Dyn::Unchanged);
    assert!(
        next.dynamics[1..]
            .iter()
            .all(|d| *d != livewasm_sdk::Dyn::Unchanged),
        "{:?}",
        next.dynamics
    );
    let mut flash = Flash::new();
    flash.put("info", "Saved");
    let full = socket_names(
        &Tracked::all(socket.assigns())
            .with_live_action(Some("new"))
            .with_flash(&flash),
    );
    assert_eq!(
        full.to_html(),
        r#"<p>0</p><section id="new">0 new</section><i>new</i><b>Saved</b><u>0</u>"#
    );
}

/// A field type that is not `Deserialize` (it cannot be marked `#[on_mount]`).
#[derive(Debug, Default, PartialEq)]
struct Opaque(u8);

#[derive(Assigns, Default)]
struct Page {
    #[on_mount]
    current_user: Option<serde_json::Value>,
    #[on_mount]
    org: String,
    #[on_mount]
    visits: u32,
    /// Not marked: hooks never set it.
    count: u32,
    opaque: Opaque,
}

#[test]
fn hook_values_land_in_fields_of_the_same_name_and_type() {
    let mut socket = Socket::<Page>::new(true, None);
    drop(socket.__begin_render());
    let hooks = json!({
        "current_user": {"name": "ada"},
        "org": 7,
        "visits": 3,
        "count": 5,
        "opaque": 1,
        "csrf": "t0k"
    });
    socket.__set_mount_assigns(hooks.as_object().cloned().unwrap());
    let page = socket.assigns();
    assert_eq!(page.current_user, Some(json!({"name": "ada"})));
    assert_eq!(page.visits, 3);
    // Of another shape, or not marked: left alone, still readable.
    assert_eq!(page.org, "");
    assert_eq!(page.count, 0);
    assert_eq!(page.opaque, Opaque(0));
    assert_eq!(socket.mount_assign::<u32>("count"), Some(5));
    assert_eq!(socket.mount_assign::<u32>("org"), Some(7));
    assert_eq!(
        socket.mount_assign::<String>("csrf").as_deref(),
        Some("t0k")
    );
    let set = bit_of(&socket, "current_user") | bit_of(&socket, "visits");
    assert_eq!(socket.__begin_render().__changed(), set);

    // assign_new! keeps a hook's value, and computes the others, of any type.
    let computed = Cell::new(0);
    let count = || {
        computed.set(computed.get() + 1);
        99u32
    };
    assign_new!(&mut socket, visits, count);
    assign_new!(&mut socket, org, || "acme");
    assign_new!(&mut socket, org, || "globex");
    assert_eq!(computed.get(), 0);
    assert_eq!(socket.assigns().visits, 3);
    assert_eq!(socket.assigns().org, "acme");
    // Set to None counts as set, as a nil assign does in Phoenix.
    assign!(&mut socket, current_user = None);
    assign_new!(&mut socket, current_user, || json!("bob"));
    assert_eq!(socket.assigns().current_user, None);
}

fn bit_of(socket: &Socket<Page>, field: &str) -> u128 {
    socket.assigns().__lw_bit(field)
}
