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
