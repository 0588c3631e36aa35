//! [`JS`](crate::js::JS): client-side commands (show, hide, transitions, pushes …) written into event
//! attributes such as `phx-click={JS::hide("#modal").push("close")}`, encoded as the
//! `[[kind, args], …]` JSON array the client executes.
//!
//! Each command exists twice: as a constructor (`JS::show("#m")`) and, through [`JsChain`](crate::js::JsChain)
//! (in the prelude), as a method appending to a chain (`….show("#m")`). The `with_*` methods
//! set options of the last command.
//!
//! ```
//! use livewasm_sdk::prelude::*;
//!
//! // Hide the dialog with a fade, then tell the server.
//! let close = JS::hide("#dialog")
//!     .with_transition3("fade-out", "opacity-100", "opacity-0")
//!     .push("closed")
//!     .with_value(json!({"id": 7}));
//! let button = html!(r#"<button phx-click={close}>Close</button>"#);
//! assert!(button.to_html().starts_with(r#"<button phx-click="[[&quot;hide&quot;"#));
//! ```

use serde_json::{Map, Value, json};

use crate::html::{AttrVal, AttrValue, ToAttrVal, escape_into};

/// A chain of JS commands, run by the client without a round trip to the server (unless it
/// holds a `push`). Use it as the value of any `phx-*` event attribute.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// assert_eq!(JS::push("inc").to_json(), r#"[["push",{"event":"inc"}]]"#);
/// assert_eq!(JS::toggle("#menu").to_json(), r##"[["toggle",{"to":"#menu"}]]"##);
///
/// // Commands chain in order; `with_*` sets options of the last one.
/// let open = JS::show("#menu")
///     .with_transition("fade-in")
///     .with_time(150)
///     .add_class("#burger", "open")
///     .focus_first("#menu");
/// assert_eq!(
///     open.to_json(),
///     r##"[["show",{"time":150,"to":"#menu","transition":[["fade-in"],[],[]]}],["add_class",{"names":["open"],"to":"#burger"}],["focus_first",{"to":"#menu"}]]"##
/// );
///
/// // A transition on its own, and a live patch replacing the history entry.
/// let shake = JS::transition("#form", "shake");
/// assert_eq!(shake.to_json(), r##"[["transition",{"to":"#form","transition":[["shake"],[],[]]}]]"##);
/// assert_eq!(JS::patch("/list?page=2").replace().to_json(), r#"[["patch",{"href":"/list?page=2","replace":true}]]"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JS {
    ops: Vec<(&'static str, Map<String, Value>)>,
}

/// `[[…], [], []]`: transition classes, start classes, end classes.
fn classes(names: &str) -> Value {
    Value::Array(names.split_whitespace().map(|n| json!(n)).collect())
}

fn target(args: &mut Map<String, Value>, to: &str) {
    if !to.is_empty() {
        args.insert("to".into(), json!(to));
    }
}

macro_rules! constructors {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*);)*) => {
        impl JS {
            $(
                $(#[$doc])*
                pub fn $name($($arg: $ty),*) -> JS {
                    JsChain::$name(JS::new(), $($arg),*)
                }
            )*
        }
    };
}

constructors! {
    /// Shows the elements matching `to` (the clicked element when empty).
    show(to: &str);
    /// Hides the elements matching `to`.
    hide(to: &str);
    /// Shows or hides the elements matching `to`.
    toggle(to: &str);
    /// Adds the space-separated class `names` to `to`.
    add_class(to: &str, names: &str);
    /// Removes the space-separated class `names` from `to`.
    remove_class(to: &str, names: &str);
    /// Toggles the space-separated class `names` on `to`.
    toggle_class(to: &str, names: &str);
    /// Applies the transition classes to `to` for the transition's time.
    transition(to: &str, classes: &str);
    /// Pushes `event` to the server.
    push(event: &str);
    /// Live-navigates to `href` (a new view).
    navigate(href: &str);
    /// Live-patches to `href` (same view, new params).
    patch(href: &str);
    /// Focuses `to`.
    focus(to: &str);
    /// Focuses the first focusable child of `to`.
    focus_first(to: &str);
    /// Focuses `to`, remembering the focus to return to with `pop_focus`.
    push_focus(to: &str);
    /// Returns focus to the element remembered by `push_focus`.
    pop_focus();
    /// Runs the JS commands held in attribute `attr` of `to`.
    exec(attr: &str, to: &str);
    /// Dispatches the DOM event `event` on `to`.
    dispatch(to: &str, event: &str);
    /// Sets attribute `name` to `value` on `to`.
    set_attribute(to: &str, name: &str, value: &str);
    /// Removes attribute `name` from `to`.
    remove_attribute(to: &str, name: &str);
}

/// The JS commands as methods appending to a chain (`JS::hide("#m").push("close")`).
pub trait JsChain: Sized {
    /// Appends `show`.
    fn show(self, to: &str) -> JS;
    /// Appends `hide`.
    fn hide(self, to: &str) -> JS;
    /// Appends `toggle`.
    fn toggle(self, to: &str) -> JS;
    /// Appends `add_class`.
    fn add_class(self, to: &str, names: &str) -> JS;
    /// Appends `remove_class`.
    fn remove_class(self, to: &str, names: &str) -> JS;
    /// Appends `toggle_class`.
    fn toggle_class(self, to: &str, names: &str) -> JS;
    /// Appends `transition`.
    fn transition(self, to: &str, classes: &str) -> JS;
    /// Appends `push`.
    fn push(self, event: &str) -> JS;
    /// Appends `navigate`.
    fn navigate(self, href: &str) -> JS;
    /// Appends `patch`.
    fn patch(self, href: &str) -> JS;
    /// Appends `focus`.
    fn focus(self, to: &str) -> JS;
    /// Appends `focus_first`.
    fn focus_first(self, to: &str) -> JS;
    /// Appends `push_focus`.
    fn push_focus(self, to: &str) -> JS;
    /// Appends `pop_focus`.
    fn pop_focus(self) -> JS;
    /// Appends `exec`.
    fn exec(self, attr: &str, to: &str) -> JS;
    /// Appends `dispatch`.
    fn dispatch(self, to: &str, event: &str) -> JS;
    /// Appends `set_attr`.
    fn set_attribute(self, to: &str, name: &str, value: &str) -> JS;
    /// Appends `remove_attr`.
    fn remove_attribute(self, to: &str, name: &str) -> JS;
}

impl JsChain for JS {
    fn show(self, to: &str) -> JS {
        self.targeted("show", to)
    }
    fn hide(self, to: &str) -> JS {
        self.targeted("hide", to)
    }
    fn toggle(self, to: &str) -> JS {
        self.targeted("toggle", to)
    }
    fn add_class(self, to: &str, names: &str) -> JS {
        self.class_op("add_class", to, names)
    }
    fn remove_class(self, to: &str, names: &str) -> JS {
        self.class_op("remove_class", to, names)
    }
    fn toggle_class(self, to: &str, names: &str) -> JS {
        self.class_op("toggle_class", to, names)
    }
    fn transition(self, to: &str, classes: &str) -> JS {
        self.targeted("transition", to).with_transition(classes)
    }
    fn push(self, event: &str) -> JS {
        let mut args = Map::new();
        args.insert("event".into(), json!(event));
        self.op("push", args)
    }
    fn navigate(self, href: &str) -> JS {
        let mut args = Map::new();
        args.insert("href".into(), json!(href));
        self.op("navigate", args)
    }
    fn patch(self, href: &str) -> JS {
        let mut args = Map::new();
        args.insert("href".into(), json!(href));
        self.op("patch", args)
    }
    fn focus(self, to: &str) -> JS {
        self.targeted("focus", to)
    }
    fn focus_first(self, to: &str) -> JS {
        self.targeted("focus_first", to)
    }
    fn push_focus(self, to: &str) -> JS {
        self.targeted("push_focus", to)
    }
    fn pop_focus(self) -> JS {
        self.op("pop_focus", Map::new())
    }
    fn exec(self, attr: &str, to: &str) -> JS {
        let mut args = Map::new();
        args.insert("attr".into(), json!(attr));
        target(&mut args, to);
        self.op("exec", args)
    }
    fn dispatch(self, to: &str, event: &str) -> JS {
        let mut args = Map::new();
        args.insert("event".into(), json!(event));
        target(&mut args, to);
        self.op("dispatch", args)
    }
    fn set_attribute(self, to: &str, name: &str, value: &str) -> JS {
        let mut args = Map::new();
        target(&mut args, to);
        args.insert("attr".into(), json!([name, value]));
        self.op("set_attr", args)
    }
    fn remove_attribute(self, to: &str, name: &str) -> JS {
        let mut args = Map::new();
        target(&mut args, to);
        args.insert("attr".into(), json!(name));
        self.op("remove_attr", args)
    }
}

impl JS {
    /// An empty chain.
    pub fn new() -> JS {
        JS::default()
    }

    /// True when the chain holds no command.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    fn op(mut self, kind: &'static str, args: Map<String, Value>) -> JS {
        self.ops.push((kind, args));
        self
    }

    fn targeted(self, kind: &'static str, to: &str) -> JS {
        let mut args = Map::new();
        target(&mut args, to);
        self.op(kind, args)
    }

    fn class_op(self, kind: &'static str, to: &str, names: &str) -> JS {
        let mut args = Map::new();
        target(&mut args, to);
        args.insert("names".into(), classes(names));
        self.op(kind, args)
    }

    /// Sets option `key` of the last command.
    pub fn with(mut self, key: &str, value: Value) -> JS {
        if let Some((_, args)) = self.ops.last_mut() {
            args.insert(key.to_string(), value);
        }
        self
    }

    /// The last command's transition: transition classes (`"ease-out duration-200"`).
    pub fn with_transition(self, classes_: &str) -> JS {
        self.with("transition", json!([classes(classes_), [], []]))
    }

    /// The last command's transition as transition, start and end classes.
    pub fn with_transition3(self, transition: &str, start: &str, end: &str) -> JS {
        self.with(
            "transition",
            json!([classes(transition), classes(start), classes(end)]),
        )
    }

    /// The last command's duration in milliseconds (200 when not set).
    pub fn with_time(self, ms: u64) -> JS {
        self.with("time", json!(ms))
    }

    /// The CSS `display` the last `show`/`toggle` uses.
    pub fn with_display(self, display: &str) -> JS {
        self.with("display", json!(display))
    }

    /// The value the last `push` sends.
    pub fn with_value(self, value: Value) -> JS {
        self.with("value", value)
    }

    /// The target of the last `push` (a selector).
    pub fn with_target(self, target: &str) -> JS {
        self.with("target", json!(target))
    }

    /// The detail of the last `dispatch`.
    pub fn with_detail(self, detail: Value) -> JS {
        self.with("detail", detail)
    }

    /// Makes the last `navigate`/`patch` replace the history entry.
    pub fn replace(self) -> JS {
        self.with("replace", json!(true))
    }

    /// The chain as the client reads it: `[["hide",{"to":"#m"}],["push",{"event":"close"}]]`.
    pub fn to_json(&self) -> String {
        let ops: Vec<Value> = self
            .ops
            .iter()
            .map(|(kind, args)| json!([kind, args]))
            .collect();
        Value::Array(ops).to_string()
    }
}

impl AttrValue for JS {
    fn write_attr(&self, name: &str, out: &mut String) {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        escape_into(out, &self.to_json());
        out.push('"');
    }
}

impl ToAttrVal for JS {
    fn to_attr_val(&self) -> Option<AttrVal> {
        Some(AttrVal::Text(self.to_json()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_encode_in_order_with_options() {
        let js = JS::hide("#m")
            .with_transition3("fade-out", "opacity-100", "opacity-0")
            .push("close")
            .with_value(json!({"id": 4}));
        assert_eq!(
            js.to_json(),
            r##"[["hide",{"to":"#m","transition":[["fade-out"],["opacity-100"],["opacity-0"]]}],["push",{"event":"close","value":{"id":4}}]]"##
        );
        assert_eq!(JS::show("").to_json(), r##"[["show",{}]]"##);
        assert_eq!(
            JS::navigate("/x").replace().to_json(),
            r##"[["navigate",{"href":"/x","replace":true}]]"##
        );
        assert_eq!(
            JS::add_class("#a", "x  y").to_json(),
            r##"[["add_class",{"names":["x","y"],"to":"#a"}]]"##
        );
        let mut out = String::new();
        JS::push("a\"b").write_attr("phx-click", &mut out);
        assert_eq!(
            out,
            r##" phx-click="[[&quot;push&quot;,{&quot;event&quot;:&quot;a\&quot;b&quot;}]]""##
        );
    }
}
