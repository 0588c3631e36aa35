//! [`LiveAction`]: the route's live action as a template reads it (`@live_action`).

use std::fmt;

use crate::html::{AttrValue, ToHtml};

/// The live action of the route that rendered the view (`action: "edit"` in the app's route
/// table), or none. Templates read it as `@live_action` and compare it with a name, as
/// Phoenix templates compare `@live_action` with an atom:
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// #[derive(Assigns, Default)]
/// pub struct Articles {
///     count: u32,
/// }
///
/// fn render(assigns: &Tracked<'_, Articles>) -> Rendered {
///     html!(r#"<p>{@count}</p><div :if={@live_action == "new"} id="form">New</div>"#)
/// }
///
/// let articles = Articles::default();
/// let index = render(&Tracked::all(&articles).with_live_action(Some("index")));
/// assert_eq!(index.to_html(), "<p>0</p>");
/// let new = render(&Tracked::all(&articles).with_live_action(Some("new")));
/// assert_eq!(new.to_html(), r#"<p>0</p><div id="form">New</div>"#);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LiveAction<'a>(Option<&'a str>);

impl<'a> LiveAction<'a> {
    /// The action `name`, or none.
    pub const fn new(name: Option<&'a str>) -> LiveAction<'a> {
        LiveAction(name)
    }

    /// The action's name, or `None` for a route without one.
    pub fn as_str(&self) -> Option<&'a str> {
        self.0
    }

    /// True when the route names an action.
    pub fn is_some(&self) -> bool {
        self.0.is_some()
    }

    /// True when the action is one of `names` (`@live_action in [:new, :edit]`).
    pub fn is_any(&self, names: &[&str]) -> bool {
        self.0.is_some_and(|action| names.contains(&action))
    }
}

impl PartialEq<str> for LiveAction<'_> {
    fn eq(&self, other: &str) -> bool {
        self.0 == Some(other)
    }
}

impl PartialEq<&str> for LiveAction<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == Some(*other)
    }
}

impl PartialEq<Option<&str>> for LiveAction<'_> {
    fn eq(&self, other: &Option<&str>) -> bool {
        self.0 == *other
    }
}

/// The action's name; nothing for none (as `<%= @live_action %>` shows `nil`).
impl fmt::Display for LiveAction<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.unwrap_or_default())
    }
}

/// In template text: the action's name, escaped; nothing for none.
impl ToHtml for LiveAction<'_> {
    fn write_html(&self, out: &mut String) {
        self.0.write_html(out);
    }
}

/// As an attribute value (`data-action={@live_action}`): left out for none, as `nil` is.
impl AttrValue for LiveAction<'_> {
    fn write_attr(&self, name: &str, out: &mut String) {
        self.0.write_attr(name, out);
    }
}

#[cfg(test)]
mod tests {
    use super::LiveAction;

    #[test]
    fn compares_with_names() {
        let edit = LiveAction::new(Some("edit"));
        assert!(edit == "edit");
        assert!(edit != "new");
        assert!(edit == Some("edit"));
        assert!(edit.is_any(&["new", "edit"]));
        assert_eq!(edit.to_string(), "edit");
        let none = LiveAction::default();
        assert!(none != "edit");
        assert!(none == None);
        assert!(!none.is_any(&["new", "edit"]));
        assert_eq!(none.to_string(), "");
    }
}
