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

use crate::Myself;
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

/// Where a `push` goes ([`JS::with_target`]): a selector or a live component.
///
/// Built from a `&str`/`String` (a selector) or a [`Myself`] (the component's cid), so
/// `.with_target("#form")` and `.with_target(myself)` (`.with_target(@myself)` in a template)
/// both work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsTarget {
    /// A CSS selector: the push goes to the view or component owning each matching element.
    Selector(String),
    /// A live component (Phoenix's `target: @myself`), encoded as its cid.
    Component(Myself),
    /// No target: the push goes to the view that rendered the element (what `@myself` is
    /// outside a live component).
    View,
}

impl From<Option<Myself>> for JsTarget {
    fn from(myself: Option<Myself>) -> JsTarget {
        myself.map_or(JsTarget::View, JsTarget::Component)
    }
}

impl From<&str> for JsTarget {
    fn from(selector: &str) -> JsTarget {
        JsTarget::Selector(selector.to_string())
    }
}

impl From<String> for JsTarget {
    fn from(selector: String) -> JsTarget {
        JsTarget::Selector(selector)
    }
}

impl From<&String> for JsTarget {
    fn from(selector: &String) -> JsTarget {
        JsTarget::Selector(selector.clone())
    }
}

impl From<Myself> for JsTarget {
    fn from(myself: Myself) -> JsTarget {
        JsTarget::Component(myself)
    }
}

impl From<&Myself> for JsTarget {
    fn from(myself: &Myself) -> JsTarget {
        JsTarget::Component(*myself)
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
    /// Sets attribute `name` to `value` on `to` when it is absent, and removes it when it is
    /// present (Phoenix's `JS.toggle_attribute({name, value})`).
    toggle_attribute(to: &str, name: &str, value: &str);
    /// Sets attribute `name` of `to` to `off` when it is `on`, and to `on` otherwise (absent
    /// or any other value) (Phoenix's `JS.toggle_attribute({name, on, off})`, e.g.
    /// `aria-expanded`).
    toggle_attribute_between(to: &str, name: &str, on: &str, off: &str);
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
    /// Appends `toggle_attr` with one value.
    fn toggle_attribute(self, to: &str, name: &str, value: &str) -> JS;
    /// Appends `toggle_attr` with two values.
    fn toggle_attribute_between(self, to: &str, name: &str, on: &str, off: &str) -> JS;
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
    fn toggle_attribute(self, to: &str, name: &str, value: &str) -> JS {
        let mut args = Map::new();
        target(&mut args, to);
        args.insert("attr".into(), json!([name, value]));
        self.op("toggle_attr", args)
    }
    fn toggle_attribute_between(self, to: &str, name: &str, on: &str, off: &str) -> JS {
        let mut args = Map::new();
        target(&mut args, to);
        args.insert("attr".into(), json!([name, on, off]));
        self.op("toggle_attr", args)
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

    /// The `in` transition of the last `toggle`, as transition classes (Phoenix's
    /// `JS.toggle(in: "ease-out duration-200")`), encoded as the client's `ins` option:
    /// `[[classes…], [], []]`.
    ///
    /// ```
    /// use livewasm_sdk::prelude::*;
    ///
    /// let js = JS::toggle("#menu").with_in("fade-in").with_out("fade-out");
    /// assert_eq!(
    ///     js.to_json(),
    ///     r##"[["toggle",{"ins":[["fade-in"],[],[]],"outs":[["fade-out"],[],[]],"to":"#menu"}]]"##
    /// );
    /// ```
    pub fn with_in(self, classes_: &str) -> JS {
        self.with("ins", json!([classes(classes_), [], []]))
    }

    /// The `in` transition of the last `toggle` as transition, start and end classes (Phoenix's
    /// `JS.toggle(in: {"ease-out duration-200", "opacity-0", "opacity-100"})`), encoded as the
    /// client's `ins` option: `[[transition…], [start…], [end…]]`.
    ///
    /// ```
    /// use livewasm_sdk::prelude::*;
    ///
    /// let js = JS::toggle("#menu")
    ///     .with_in3("ease-out duration-200", "opacity-0", "opacity-100")
    ///     .with_out3("ease-in duration-150", "opacity-100", "opacity-0");
    /// assert_eq!(
    ///     js.to_json(),
    ///     r##"[["toggle",{"ins":[["ease-out","duration-200"],["opacity-0"],["opacity-100"]],"outs":[["ease-in","duration-150"],["opacity-100"],["opacity-0"]],"to":"#menu"}]]"##
    /// );
    /// ```
    pub fn with_in3(self, transition: &str, start: &str, end: &str) -> JS {
        self.with(
            "ins",
            json!([classes(transition), classes(start), classes(end)]),
        )
    }

    /// The `out` transition of the last `toggle`, as transition classes (Phoenix's
    /// `JS.toggle(out: "ease-in duration-150")`), encoded as the client's `outs` option.
    pub fn with_out(self, classes_: &str) -> JS {
        self.with("outs", json!([classes(classes_), [], []]))
    }

    /// The `out` transition of the last `toggle` as transition, start and end classes (Phoenix's
    /// `JS.toggle(out: {"ease-in duration-150", "opacity-100", "opacity-0"})`), encoded as the
    /// client's `outs` option.
    pub fn with_out3(self, transition: &str, start: &str, end: &str) -> JS {
        self.with(
            "outs",
            json!([classes(transition), classes(start), classes(end)]),
        )
    }

    /// Whether the last command's transition blocks the UI while it runs (Phoenix's
    /// `blocking:` option of `show`, `hide`, `toggle`, `transition`, `add_class`,
    /// `remove_class` and `toggle_class`; the client blocks unless it is `false`). On a
    /// `dispatch`, `true` makes the client wait until the listener calls
    /// `event.detail.done()`.
    ///
    /// ```
    /// use livewasm_sdk::prelude::*;
    ///
    /// let js = JS::show("#toast").with_transition("fade-in").with_blocking(false);
    /// assert_eq!(
    ///     js.to_json(),
    ///     r##"[["show",{"blocking":false,"to":"#toast","transition":[["fade-in"],[],[]]}]]"##
    /// );
    /// ```
    pub fn with_blocking(self, blocking: bool) -> JS {
        self.with("blocking", json!(blocking))
    }

    /// The value the last `push` sends (Phoenix's `JS.push(event, value: %{…})`).
    pub fn with_value(self, value: Value) -> JS {
        self.with("value", value)
    }

    /// Where the last `push` goes (Phoenix's `JS.push(event, target: …)`): a selector
    /// (`"#form"`, the view or component owning the matching elements) or a live component's
    /// [`Myself`](crate::Myself) (`target: @myself`), sent as its cid number. Without it the
    /// push goes where the element's `phx-target` says, or to the view.
    ///
    /// ```
    /// use livewasm_sdk::prelude::*;
    ///
    /// assert_eq!(
    ///     JS::push("inc").with_target(Myself(3)).to_json(),
    ///     r#"[["push",{"event":"inc","target":3}]]"#
    /// );
    /// assert_eq!(
    ///     JS::push("inc").with_target("#form").to_json(),
    ///     r##"[["push",{"event":"inc","target":"#form"}]]"##
    /// );
    /// ```
    pub fn with_target(mut self, target: impl Into<JsTarget>) -> JS {
        let target = match target.into() {
            JsTarget::Selector(selector) => json!(selector),
            JsTarget::Component(myself) => json!(myself.0),
            JsTarget::View => {
                if let Some((_, args)) = self.ops.last_mut() {
                    args.remove("target");
                }
                return self;
            }
        };
        self.with("target", target)
    }

    /// The elements that get the `phx-*-loading` class (`phx-click-loading` …) while the last
    /// `push` is in flight (Phoenix's `JS.push(event, loading: ".spinner")`), besides the
    /// element the event came from.
    ///
    /// ```
    /// use livewasm_sdk::prelude::*;
    ///
    /// assert_eq!(
    ///     JS::push("update").with_loading(".spinner").to_json(),
    ///     r#"[["push",{"event":"update","loading":".spinner"}]]"#
    /// );
    /// ```
    pub fn with_loading(self, selector: &str) -> JS {
        self.with("loading", json!(selector))
    }

    /// Makes the last `push` a page load: the client dispatches `phx:page-loading-start` and
    /// `phx:page-loading-stop` around it (Phoenix's `JS.push(event, page_loading: true)`).
    ///
    /// ```
    /// use livewasm_sdk::prelude::*;
    ///
    /// assert_eq!(
    ///     JS::push("export").with_page_loading().to_json(),
    ///     r#"[["push",{"event":"export","page_loading":true}]]"#
    /// );
    /// ```
    pub fn with_page_loading(self) -> JS {
        self.with("page_loading", json!(true))
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
        // `exec_toggle_attr` reads `attr` as `[name, value]` or `[name, on, off]`.
        assert_eq!(
            JS::toggle_attribute("#d", "open", "true").to_json(),
            r##"[["toggle_attr",{"attr":["open","true"],"to":"#d"}]]"##
        );
        assert_eq!(
            JS::toggle("#d")
                .toggle_attribute_between("#b", "aria-expanded", "true", "false")
                .to_json(),
            r##"[["toggle",{"to":"#d"}],["toggle_attr",{"attr":["aria-expanded","true","false"],"to":"#b"}]]"##
        );
        let mut out = String::new();
        JS::push("a\"b").write_attr("phx-click", &mut out);
        assert_eq!(
            out,
            r##" phx-click="[[&quot;push&quot;,{&quot;event&quot;:&quot;a\&quot;b&quot;}]]""##
        );
    }

    /// The typed options encode as the keys and shapes `phoenix_live_view`'s `js.js` reads:
    /// `exec_push` reads `target` (a cid number or a selector), `loading`, `page_loading`;
    /// `exec_toggle` reads `ins`/`outs` as `[transition, start, end]` class lists; transitions
    /// read `blocking`.
    #[test]
    fn typed_options_encode_as_the_client_reads_them() {
        let push = JS::push("inc")
            .with_value(json!({"by": 2}))
            .with_target(Myself(12))
            .with_loading("#counter .spinner")
            .with_page_loading();
        assert_eq!(
            push.to_json(),
            r##"[["push",{"event":"inc","loading":"#counter .spinner","page_loading":true,"target":12,"value":{"by":2}}]]"##
        );
        // By reference too (`Myself` and `String` fields of a view's assigns).
        let (myself, selector) = (Myself(5), String::from("#form"));
        let (myself_ref, selector_ref): (&Myself, &String) = (&myself, &selector);
        assert_eq!(
            JS::push("a").with_target(myself_ref).to_json(),
            r#"[["push",{"event":"a","target":5}]]"#
        );
        assert_eq!(
            JS::push("a").with_target(selector_ref).to_json(),
            JS::push("a").with_target(selector.clone()).to_json()
        );
        assert_eq!(
            JS::push("a").with_target(selector).to_json(),
            r##"[["push",{"event":"a","target":"#form"}]]"##
        );
        let toggle = JS::toggle("#dropdown")
            .with_in3(
                "ease-out duration-200",
                "opacity-0 scale-95",
                "opacity-100 scale-100",
            )
            .with_out("fade-out")
            .with_time(150)
            .with_display("flex")
            .with_blocking(false);
        assert_eq!(
            toggle.to_json(),
            r##"[["toggle",{"blocking":false,"display":"flex","ins":[["ease-out","duration-200"],["opacity-0","scale-95"],["opacity-100","scale-100"]],"outs":[["fade-out"],[],[]],"time":150,"to":"#dropdown"}]]"##
        );
        // Options set the last command only.
        assert_eq!(
            JS::hide("#a").push("b").with_loading("#a").to_json(),
            r##"[["hide",{"to":"#a"}],["push",{"event":"b","loading":"#a"}]]"##
        );
    }
}
