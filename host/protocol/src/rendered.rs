//! The rendered tree the host keeps for every view, to diff the next render against.

use std::sync::Arc;

/// The statics of one template: the literal HTML around its dynamics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statics {
    /// The template's fingerprint (as the guest names it).
    pub id: u64,
    /// `dynamics + 1` literal strings.
    pub parts: Box<[Box<str>]>,
    /// True when the parts form exactly one HTML element.
    pub root: bool,
}

impl Statics {
    /// How many dynamics a node of this template has.
    pub fn arity(&self) -> usize {
        self.parts.len().saturating_sub(1)
    }
}

/// One dynamic slot of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dynamic {
    /// Escaped HTML text.
    Html(Box<str>),
    /// A nested template instance.
    Node(Box<Node>),
    /// A comprehension.
    List(Box<List>),
    /// A live component, by id.
    Component(u32),
}

/// A template instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Its template's statics.
    pub statics: Arc<Statics>,
    /// One value per gap between statics.
    pub dynamics: Vec<Dynamic>,
}

/// A comprehension: entries sharing one template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    /// The shared template.
    pub statics: Arc<Statics>,
    /// The entries, in order.
    pub entries: Vec<Entry>,
}

/// One entry of a comprehension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Stable key, when the view gave one.
    pub key: Option<Box<str>>,
    /// The entry's dynamics.
    pub dynamics: Vec<Dynamic>,
}
