//! What templates produce: template instances whose dynamics may be marked unchanged.

use std::collections::HashMap;

use crate::html::{AttrValue, Spread, ToHtml};

/// A template's statics, emitted by [`crate::html!`] as a `static`.
#[derive(Debug)]
pub struct Template {
    /// Fingerprint of the statics, computed at compile time.
    pub id: u64,
    /// The literal HTML around the dynamics (`dynamics + 1` parts).
    pub statics: &'static [&'static str],
    /// True when the statics form exactly one element.
    pub root: bool,
}

/// One dynamic slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dyn {
    /// Unchanged since the previous render (its inputs did not change).
    Unchanged,
    /// Escaped HTML.
    Html(String),
    /// A nested template instance.
    Node(Rendered),
    /// A comprehension.
    List(List),
    /// A live component's spot, by component id (see `live_component`).
    Component(u32),
}

impl Dyn {
    /// Text content: the value's escaped HTML.
    pub fn text<T: ToHtml + ?Sized>(value: &T) -> Dyn {
        let mut out = String::new();
        value.write_html(&mut out);
        Dyn::Html(out)
    }

    /// A whole attribute (` name="value"`, bare, or nothing).
    pub fn attr<T: AttrValue + ?Sized>(name: &str, value: &T) -> Dyn {
        let mut out = String::new();
        value.write_attr(name, &mut out);
        Dyn::Html(out)
    }

    /// Nothing (a false `:if`).
    pub fn empty() -> Dyn {
        Dyn::Html(String::new())
    }

    /// Spread attributes (`<div {attrs}>`).
    pub fn spread<T: Spread + ?Sized>(value: &T) -> Dyn {
        let mut out = String::new();
        value.write_spread(&mut out);
        Dyn::Html(out)
    }
}

/// What a `{expr}` interpolation turns into: escaped text for [`ToHtml`] values, a nested
/// template for a [`Rendered`] (a slot or a component's output).
pub trait ToDyn {
    /// The dynamic for this value.
    fn to_dyn(&self) -> Dyn;
}

impl<T: ToHtml + ?Sized> ToDyn for T {
    fn to_dyn(&self) -> Dyn {
        Dyn::text(self)
    }
}

impl ToDyn for Rendered {
    fn to_dyn(&self) -> Dyn {
        Dyn::Node(self.clone())
    }
}

impl ToDyn for Option<Rendered> {
    fn to_dyn(&self) -> Dyn {
        match self {
            Some(node) => Dyn::Node(node.clone()),
            None => Dyn::empty(),
        }
    }
}

/// The dynamic of a `{place}` interpolation (`{@name}`, `{row.title}`; used by `html!`).
#[doc(hidden)]
pub fn __dyn<T: ToDyn + ?Sized>(value: &T) -> Dyn {
    value.to_dyn()
}

/// A computed `{expr}` value (used by `html!`): a [`Rendered`] (a slot, a component's output)
/// moves into the template through [`__ViaMove`]; anything else that is [`ToDyn`] goes
/// through [`__ViaRef`] (method resolution tries the by-value impl first).
#[doc(hidden)]
pub struct __Val<T>(pub T);

/// The by-value path of `__Val` (a `Rendered` moves).
#[doc(hidden)]
pub trait __ViaMove {
    /// The dynamic for this value.
    fn __lw_dyn(self) -> Dyn;
}

impl __ViaMove for __Val<Rendered> {
    fn __lw_dyn(self) -> Dyn {
        Dyn::Node(self.0)
    }
}

impl __ViaMove for __Val<Option<Rendered>> {
    fn __lw_dyn(self) -> Dyn {
        match self.0 {
            Some(node) => Dyn::Node(node),
            None => Dyn::empty(),
        }
    }
}

/// The by-reference path of `__Val` (any [`ToDyn`] value).
#[doc(hidden)]
pub trait __ViaRef {
    /// The dynamic for this value.
    fn __lw_dyn(self) -> Dyn;
}

impl<T: ToDyn> __ViaRef for &__Val<T> {
    fn __lw_dyn(self) -> Dyn {
        self.0.to_dyn()
    }
}

/// A template made of one dynamic and nothing else: holds fragments that are not one template.
static FRAGMENT: Template = Template {
    id: 0x4c57_f4a6_0000_0001,
    statics: &["", ""],
    root: false,
};

impl From<Rendered> for Dyn {
    fn from(node: Rendered) -> Dyn {
        Dyn::Node(node)
    }
}

/// A rendered template instance: what [`crate::html!`], a function component and
/// [`crate::LiveView::render`] return. Templates nest: interpolating a `Rendered` (a helper's
/// output, a slot) inserts it as a node of its own.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// fn badge(count: u32) -> Rendered {
///     if count == 0 {
///         Rendered::nothing()
///     } else {
///         html!(r#"<span class="badge">{count}</span>"#)
///     }
/// }
///
/// let inbox = html!(r#"<a href="/inbox">Inbox{badge(3)}</a>"#);
/// assert_eq!(inbox.to_html(), r#"<a href="/inbox">Inbox<span class="badge">3</span></a>"#);
/// assert_eq!(html!(r#"<a>Inbox{badge(0)}</a>"#).to_html(), "<a>Inbox</a>");
///
/// let both = Rendered::join([badge(1), badge(2)]);
/// assert_eq!(both.to_html(), r#"<span class="badge">1</span><span class="badge">2</span>"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The template.
    pub template: &'static Template,
    /// One value per gap between statics.
    pub dynamics: Vec<Dyn>,
}

impl Rendered {
    /// A template instance.
    pub fn new(template: &'static Template, dynamics: Vec<Dyn>) -> Rendered {
        Rendered { template, dynamics }
    }

    /// A fragment holding one dynamic (nothing else around it).
    pub fn fragment(dynamic: Dyn) -> Rendered {
        Rendered::new(&FRAGMENT, vec![dynamic])
    }

    /// Nothing at all.
    pub fn nothing() -> Rendered {
        Rendered::fragment(Dyn::empty())
    }

    /// Several rendered parts one after the other (each keeps its own template).
    pub fn join(parts: impl IntoIterator<Item = Rendered>) -> Rendered {
        let entries = parts
            .into_iter()
            .map(|part| Entry::new(None, vec![Dyn::Node(part)]))
            .collect();
        Rendered::fragment(Dyn::List(List {
            template: &FRAGMENT,
            entries,
            stream: None,
            tracking: None,
        }))
    }

    /// Copies of this render's stream comprehensions (their inserted items and operations),
    /// by stream reference: a render that replaces this one carries them again with
    /// [`Rendered::carry_streams`], since the streams handed their items out already.
    pub(crate) fn stream_lists(&mut self) -> HashMap<String, List> {
        let mut out = HashMap::new();
        visit_lists(&mut self.dynamics, &mut |list| {
            if let Some(ops) = &list.stream {
                out.insert(ops.stream_ref.clone(), list.clone());
            }
        });
        out
    }

    /// Gives each stream comprehension what a thrown-away render of the same stream carried
    /// ([`Rendered::stream_lists`]): its operations, and its inserted items when the template
    /// is the same.
    pub(crate) fn carry_streams(&mut self, mut lists: HashMap<String, List>) {
        visit_lists(&mut self.dynamics, &mut |list| {
            let Some(current) = &list.stream else {
                return;
            };
            let Some(carried) = lists.remove(&current.stream_ref) else {
                return;
            };
            if carried.template.id == list.template.id {
                list.entries = carried.entries;
            }
            list.stream = carried.stream;
        });
    }

    /// The HTML this instance stands for (unchanged slots render as nothing): for tests.
    pub fn to_html(&self) -> String {
        let mut out = String::new();
        write_node(&mut out, self.template.statics, &self.dynamics);
        out
    }
}

impl PartialEq for Template {
    fn eq(&self, other: &Template) -> bool {
        self.id == other.id
    }
}

impl Eq for Template {}

/// Calls `f` on every comprehension in `dynamics`, at any depth.
fn visit_lists(dynamics: &mut [Dyn], f: &mut dyn FnMut(&mut List)) {
    for dynamic in dynamics {
        match dynamic {
            Dyn::Node(node) => visit_lists(&mut node.dynamics, f),
            Dyn::List(list) => {
                f(list);
                for entry in &mut list.entries {
                    visit_lists(&mut entry.dynamics, f);
                }
            }
            Dyn::Unchanged | Dyn::Html(_) | Dyn::Component(_) => {}
        }
    }
}

fn write_node(out: &mut String, statics: &[&str], dynamics: &[Dyn]) {
    for (i, part) in statics.iter().enumerate() {
        out.push_str(part);
        match dynamics.get(i) {
            Some(Dyn::Html(text)) => out.push_str(text),
            Some(Dyn::Node(node)) => write_node(out, node.template.statics, &node.dynamics),
            Some(Dyn::List(list)) => {
                for entry in &list.entries {
                    write_node(out, list.template.statics, &entry.dynamics);
                }
            }
            Some(Dyn::Unchanged | Dyn::Component(_)) | None => {}
        }
    }
}

/// A `:for` comprehension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    /// The template every entry shares.
    pub template: &'static Template,
    /// The entries.
    pub entries: Vec<Entry>,
    /// The stream operations when the comprehension iterates a [`crate::Stream`].
    pub stream: Option<crate::StreamOps>,
    /// Set for a keyed comprehension of the view's render: how its entries were kept (see
    /// [`crate::Fingerprint`]).
    pub tracking: Option<Tracking>,
}

/// How a tracked comprehension (`:for` with `:key`) was evaluated; see [`crate::keep`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracking {
    /// The comprehension's site.
    pub site: u64,
    /// The memo it used.
    pub memo: Option<u64>,
    /// How many entries it sent unchanged without evaluating them.
    pub kept: usize,
}

/// The comprehension of a `:for` (used by `html!`): `stream` comes from its source.
#[doc(hidden)]
pub fn __for_list(
    template: &'static Template,
    entries: Vec<Entry>,
    stream: Option<crate::StreamOps>,
) -> Dyn {
    Dyn::List(List {
        template,
        entries,
        stream,
        tracking: None,
    })
}

/// One comprehension entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// A stable key (`:key`), letting the host send moves instead of rewrites.
    pub key: Option<String>,
    /// The entry's dynamics.
    pub dynamics: Vec<Dyn>,
    /// The loop item's [`crate::Fingerprint`], when it has one (keyed comprehensions).
    pub fingerprint: Option<u64>,
    /// True when the entry is sent unchanged without being evaluated (its `dynamics` are
    /// empty; every one of them is unchanged).
    pub kept: bool,
}

impl Entry {
    /// An entry with an optional key.
    pub fn new(key: Option<String>, dynamics: Vec<Dyn>) -> Entry {
        Entry {
            key,
            dynamics,
            fingerprint: None,
            kept: false,
        }
    }

    /// An evaluated entry of a keyed comprehension, with its item's fingerprint.
    #[doc(hidden)]
    pub fn __tracked(key: Option<String>, dynamics: Vec<Dyn>, fingerprint: Option<u64>) -> Entry {
        Entry {
            key,
            dynamics,
            fingerprint,
            kept: false,
        }
    }

    /// An entry sent unchanged without evaluating it.
    #[doc(hidden)]
    pub fn __kept(key: Option<String>, fingerprint: Option<u64>) -> Entry {
        Entry {
            key,
            dynamics: Vec::new(),
            fingerprint,
            kept: true,
        }
    }
}

/// Turns a `:key` expression into the entry key.
#[doc(hidden)]
pub fn __key<T: std::fmt::Display + ?Sized>(key: &T) -> Option<String> {
    Some(key.to_string())
}
