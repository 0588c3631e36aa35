//! A guest's render result: the tree flattened into arrays, with unchanged slots marked.
//!
//! [`Update`] is the binding-independent form of the WIT `rendered` record: the same arrays
//! and indices, plain Rust types. Every binding of `wit/view.wit` (the host's wasmtime
//! bindings, the guest SDK's wit-bindgen ones in its tests) converts with
//! [`update_from_wit!`](crate::update_from_wit), the one field mapping there is.

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
    /// Set when the comprehension is a stream: its entries are the items inserted now.
    pub stream: Option<StreamOps>,
}

/// One stream insert: `[dom_id, at, limit, update_only]` on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInsert {
    /// The DOM id of the inserted element.
    pub dom_id: String,
    /// `-1` appends, `0` prepends, `n` inserts at index `n`.
    pub at: i32,
    /// Children kept after the insert: the first `n` (`n >= 0`) or the last `-n`.
    pub limit: Option<i32>,
    /// Only update an element the client already has.
    pub update_only: bool,
}

/// What a stream changed since its last render.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamOps {
    /// The stream's reference (the client tags its elements with it).
    pub stream_ref: String,
    /// Inserted items, in render order.
    pub inserts: Vec<StreamInsert>,
    /// DOM ids to remove.
    pub deletes: Vec<String>,
    /// Remove every element of the stream first.
    pub reset: bool,
}

impl StreamOps {
    /// True when there is nothing for the client to do.
    pub fn is_empty(&self) -> bool {
        self.inserts.is_empty() && self.deletes.is_empty() && !self.reset
    }

    /// The wire form, `[ref, inserts, deletes]` plus `true` when resetting (never `false`:
    /// the client treats any fourth element as a reset).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        let inserts = self
            .inserts
            .iter()
            .map(|i| {
                Value::Array(vec![
                    Value::String(i.dom_id.clone()),
                    Value::from(i.at),
                    i.limit.map_or(Value::Null, Value::from),
                    Value::Bool(i.update_only),
                ])
            })
            .collect();
        let deletes = self.deletes.iter().cloned().map(Value::String).collect();
        let mut out = vec![
            Value::String(self.stream_ref.clone()),
            Value::Array(inserts),
            Value::Array(deletes),
        ];
        if self.reset {
            out.push(Value::Bool(true));
        }
        Value::Array(out)
    }
}

/// A live component rendered in this update: its cid and the index of its root node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateComponent {
    /// The component id the view's dynamics refer to.
    pub cid: u32,
    /// Its root node: an index into [`Update::nodes`] (never 0, the view's root).
    pub node: u32,
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
    /// The live components that rendered (new or changed ones); the others are unchanged.
    pub components: Vec<UpdateComponent>,
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

/// Converts a WIT `rendered` record into an [`Update`]: the one field mapping from any bindings
/// generated from `wit/view.wit` (wasmtime's on the host, wit-bindgen's in the guest SDK's
/// tests), which name the types and fields of the `types` interface alike.
///
/// `$wit` is a name in scope for the bindings' `types` module; `$rendered` is the record.
///
/// ```ignore
/// use crate::bindings::livewasm::view::types;
/// let update: Update = livewasm_protocol::update_from_wit!(types, rendered);
/// ```
#[macro_export]
macro_rules! update_from_wit {
    ($wit:ident, $rendered:expr) => {{
        use $crate::update as __lw;
        let rendered: $wit::Rendered = $rendered;
        let dynamic = |d: $wit::Dynamic| match d {
            $wit::Dynamic::Unchanged => __lw::UpdateDynamic::Unchanged,
            $wit::Dynamic::Html(text) => __lw::UpdateDynamic::Html(text),
            $wit::Dynamic::Node(i) => __lw::UpdateDynamic::Node(i),
            $wit::Dynamic::Comprehension(i) => __lw::UpdateDynamic::List(i),
            $wit::Dynamic::Component(cid) => __lw::UpdateDynamic::Component(cid),
        };
        let stream = |ops: $wit::StreamOps| __lw::StreamOps {
            stream_ref: ops.stream_ref,
            inserts: ops
                .inserts
                .into_iter()
                .map(|i| __lw::StreamInsert {
                    dom_id: i.dom_id,
                    at: i.at,
                    limit: i.limit,
                    update_only: i.update_only,
                })
                .collect(),
            deletes: ops.deletes,
            reset: ops.reset,
        };
        __lw::Update {
            nodes: rendered
                .nodes
                .into_iter()
                .map(|n| __lw::UpdateNode {
                    template: n.template,
                    dynamics: n.dynamics.into_iter().map(dynamic).collect(),
                })
                .collect(),
            lists: rendered
                .lists
                .into_iter()
                .map(|l| __lw::UpdateList {
                    template: l.template,
                    entries: l
                        .entries
                        .into_iter()
                        .map(|e| __lw::UpdateEntry {
                            key: e.key,
                            dynamics: e.dynamics.into_iter().map(dynamic).collect(),
                        })
                        .collect(),
                    stream: l.stream_ops.map(stream),
                })
                .collect(),
            title: rendered.title,
            components: rendered
                .components
                .into_iter()
                .map(|c| __lw::UpdateComponent {
                    cid: c.cid,
                    node: c.node,
                })
                .collect(),
        }
    }};
}
