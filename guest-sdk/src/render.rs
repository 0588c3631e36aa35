//! What templates produce: template instances whose dynamics may be marked unchanged.

use crate::html::{AttrValue, ToHtml};

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
}

impl From<Rendered> for Dyn {
    fn from(node: Rendered) -> Dyn {
        Dyn::Node(node)
    }
}

/// A rendered template instance.
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
            Some(Dyn::Unchanged) | None => {}
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
}

/// One comprehension entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// A stable key (`:key`), letting the host send moves instead of rewrites.
    pub key: Option<String>,
    /// The entry's dynamics.
    pub dynamics: Vec<Dyn>,
}

impl Entry {
    /// An entry with an optional key.
    pub fn new(key: Option<String>, dynamics: Vec<Dyn>) -> Entry {
        Entry { key, dynamics }
    }
}

/// Turns a `:key` expression into the entry key.
#[doc(hidden)]
pub fn __key<T: std::fmt::Display + ?Sized>(key: &T) -> Option<String> {
    Some(key.to_string())
}
