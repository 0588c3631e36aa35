//! `<.button>`, `<.link>`, `<.header>`, `<.error>`, `<.flash_group>`, `<.focus_wrap>`.

use crate::components::{Slot, render_slot};
use crate::html::Attrs;
use crate::render::Rendered;
use crate::{Flash, class_list, component, html};

/// A button (`type` defaults to the browser's `submit` inside forms).
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// let saving = true;
/// let button = html!(r#"<.button phx-click="save" disabled={saving} class="primary">Save</.button>"#);
/// assert_eq!(
///     button.to_html(),
///     r#"<button class="button primary" phx-click="save" disabled>Save</button>"#
/// );
/// ```
#[component]
pub fn button<'a>(
    r#type: Option<String>,
    class: Option<String>,
    #[attr(rest, include = "disabled form name value")] rest: Attrs,
    #[slot] inner_block: Slot<'a>,
) -> Rendered {
    html!(
        r#"<button type={r#type} class={class_list([Some("button"), class.as_deref()])} {rest}>{render_slot(&inner_block, ())}</button>"#
    )
}

/// A link: `navigate` (live navigation to another view), `patch` (same view, new params), or
/// `href` (a full page load); `replace` replaces the history entry instead of pushing one.
/// A URL that would run script (`javascript:` …) becomes `#` (see [`safe_url`]).
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// let page = 2;
/// let links = html!(r#"<nav><.link navigate="/users">Users</.link><.link patch={format!("/users?page={}", page + 1)} replace>Next</.link><.link href="/logout" data-method="delete">Log out</.link></nav>"#);
/// assert_eq!(
///     links.to_html(),
///     r#"<nav><a href="/users" data-phx-link="redirect" data-phx-link-state="push">Users</a><a href="/users?page=3" data-phx-link="patch" data-phx-link-state="replace">Next</a><a href="/logout" data-method="delete">Log out</a></nav>"#
/// );
/// ```
#[component]
pub fn link<'a>(
    navigate: Option<String>,
    patch: Option<String>,
    href: Option<String>,
    #[attr(default)] replace: bool,
    #[attr(rest, include = "target rel download")] rest: Attrs,
    #[slot] inner_block: Slot<'a>,
) -> Rendered {
    let (url, kind) = match (navigate.map(safe_url), patch.map(safe_url)) {
        (Some(url), _) => (Some(url), Some("redirect")),
        (None, Some(url)) => (Some(url), Some("patch")),
        (None, None) => (
            Some(href.map(safe_url).unwrap_or_else(|| "#".to_string())),
            None,
        ),
    };
    let state = kind.map(|_| if replace { "replace" } else { "push" });
    html!(
        r#"<a href={url} data-phx-link={kind} data-phx-link-state={state} {rest}>{render_slot(&inner_block, ())}</a>"#
    )
}

/// `url`, or `#` when it would run script (`javascript:`, `vbscript:`, `data:` — as a browser
/// reads the scheme: ignoring case, ASCII whitespace and control characters).
///
/// ```
/// use livewasm_sdk::components::safe_url;
///
/// assert_eq!(safe_url("/users?page=2".into()), "/users?page=2");
/// assert_eq!(safe_url("https://example.com".into()), "https://example.com");
/// assert_eq!(safe_url(" JavaScript:alert(1)".into()), "#");
/// ```
pub fn safe_url(url: String) -> String {
    let scheme: String = url
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
        .take_while(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    let has_scheme = url.contains(':') && !scheme.contains(['/', '?', '#']);
    if has_scheme && matches!(scheme.as_str(), "javascript" | "vbscript" | "data") {
        "#".to_string()
    } else {
        url
    }
}

/// A page header: the title (inner content), an optional `<:subtitle>` and `<:actions>`.
#[component]
pub fn header<'a>(
    class: Option<String>,
    #[slot] inner_block: Slot<'a>,
    #[slot] subtitle: Option<Slot<'a>>,
    #[slot] actions: Vec<Slot<'a>>,
) -> Rendered {
    let classes = class_list([
        Some("header"),
        (!actions.is_empty()).then_some("header-with-actions"),
        class.as_deref(),
    ]);
    html!(
        r#"<header class={classes}><div><h1 class="header-title">{render_slot(&inner_block, ())}</h1><p :if={subtitle.is_some()} class="header-subtitle">{render_slot(&subtitle, ())}</p></div><div :if={!actions.is_empty()} class="header-actions">{render_slot(&actions, ())}</div></header>"#
    )
}

/// An error message (class `error`; `for` names the field it belongs to, as `data-for`).
#[component]
pub fn error<'a>(
    r#for: Option<String>,
    #[attr(rest)] rest: Attrs,
    #[slot] inner_block: Slot<'a>,
) -> Rendered {
    html!(r#"<p class="error" data-for={r#for} {rest}>{render_slot(&inner_block, ())}</p>"#)
}

/// The flash messages, one `role="alert"` box per kind (`#flash-info`, `#flash-error` …);
/// clicking one sends `lv:clear-flash` with its key.
#[component]
pub fn flash_group<'a>(
    flash: &'a Flash,
    #[attr(default = "flash-group".to_string())] id: String,
) -> Rendered {
    html!(
        r#"<div id={id}><div :for={(kind, message) in flash.iter()} id={format!("flash-{kind}")} class={format!("flash flash-{kind}")} role="alert" phx-click="lv:clear-flash" phx-value-key={kind}><p>{message}</p></div></div>"#
    )
}

/// Keeps keyboard focus inside its content while it is shown (the client's
/// `Phoenix.FocusWrap` hook, with a focus sentinel at each end).
#[component]
pub fn focus_wrap<'a>(
    id: String,
    #[attr(rest)] rest: Attrs,
    #[slot] inner_block: Slot<'a>,
) -> Rendered {
    html!(
        r#"<div id={id.as_str()} phx-hook="Phoenix.FocusWrap" {rest}><span id={format!("{id}-start")} tabindex="0" aria-hidden="true"></span>{render_slot(&inner_block, ())}<span id={format!("{id}-end")} tabindex="0" aria-hidden="true"></span></div>"#
    )
}
