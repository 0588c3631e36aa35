//! A guest's render result: the tree flattened into arrays, with unchanged slots marked.

/// One dynamic slot as the guest reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateDynamic {
    /// Same as in the previous render.
    Unchanged,
    /// Escaped HTML text.
    Html(String),
    /// A nested node: index into [`Update::nodes`].
    Node(u32),
    /// A comprehension: index into [`Update::lists`].
    List(u32),
    /// A live component id.
    Component(u32),
}

/// A template instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateNode {
    /// Template fingerprint.
    pub template: u64,
    /// One value per dynamic slot.
    pub dynamics: Vec<UpdateDynamic>,
}

/// One comprehension entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateEntry {
    /// Stable key, when known.
    pub key: Option<String>,
    /// The entry's dynamics.
    pub dynamics: Vec<UpdateDynamic>,
}

/// A comprehension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateList {
    /// Template shared by the entries.
    pub template: u64,
    /// Entries in order.
    pub entries: Vec<UpdateEntry>,
}

/// A whole render result; `nodes[0]` is the root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    /// All nodes.
    pub nodes: Vec<UpdateNode>,
    /// All comprehensions.
    pub lists: Vec<UpdateList>,
    /// A new page title, when it changed.
    pub title: Option<String>,
}

impl Update {
    /// Every template id the update refers to (with repeats).
    pub fn template_ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.nodes
            .iter()
            .map(|n| n.template)
            .chain(self.lists.iter().map(|l| l.template))
    }
}
