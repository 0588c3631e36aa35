//! The diff engine: merges a guest [`Update`] into the kept [`Node`] tree and produces the
//! Phoenix LiveView 1.2 Rendered diff that the official client applies.
//!
//! Rules (see `protocol.md` §4): a first render is complete, its statics routed through a root
//! template table `p`; later renders carry only changed slots; a node whose template changed is
//! sent whole with its statics; comprehensions are diffed by key when entries have keys (moves as
//! integer or `[old, diff]` entries with `km`), by index otherwise. Leaves are always strings;
//! integers are component ids. A stream comprehension carries `stream: [ref, inserts, deletes]`
//! (plus `true` when resetting), its statics only the first time and, as entries, only the items
//! inserted now; the kept tree forgets them at the next render, as the client does.

use crate::keys::rendered::{
    COMPONENTS, EVENTS, KEYED, KEYED_COUNT, KEYED_MOVES, REPLY, STATICS, STREAM, TEMPLATES, TITLE,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value};

pub use crate::html::{to_html, tree_html};
use crate::rendered::{Dynamic, Entry, List, Node, Statics, Tree, collect_cids};
use crate::update::{StreamOps, Update, UpdateDynamic, UpdateEntry};

/// Why an update could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    /// The update has no root node.
    #[error("render returned no nodes")]
    Empty,
    /// A dynamic names a node index that does not exist.
    #[error("node index {0} out of range")]
    MissingNode(u32),
    /// A dynamic names a comprehension index that does not exist.
    #[error("comprehension index {0} out of range")]
    MissingList(u32),
    /// A node or comprehension index is used twice (or the root is referenced).
    #[error("index {0} used more than once")]
    Reused(u32),
    /// The statics of a template are unknown.
    #[error("unknown template {0:#018x}")]
    UnknownTemplate(u64),
    /// A node's dynamics do not fit its template.
    #[error("template {template:#018x} has {expected} dynamics, got {got}")]
    ArityMismatch {
        /// The template.
        template: u64,
        /// Dynamics the statics call for.
        expected: usize,
        /// Dynamics received.
        got: usize,
    },
    /// `unchanged` where there is no previous value.
    #[error("`unchanged` in a slot that was never rendered")]
    UnchangedWithoutPrevious,
    /// A dynamic refers to a component that was never rendered (or was destroyed).
    #[error("no live component with cid {0}")]
    UnknownComponent(u32),
    /// The same component is rendered twice in one update.
    #[error("live component {0} rendered twice in one update")]
    DuplicateComponent(u32),
    /// A component contains itself.
    #[error("live component {0} contains itself")]
    ComponentCycle(u32),
    /// A component is placed at more than one place of the page (Phoenix refuses a component
    /// id rendered twice; each place would write it again, so a chain of components each placed
    /// twice in the next would make a page exponential in their number).
    #[error("live component {0} placed more than once in the page")]
    ComponentPlacedTwice(u32),
    /// A component was rendered with cid 0; cids start at 1 (a component sharing the statics of
    /// cid 0 would be sent `s: 0`, which the client reads as its own statics).
    #[error("live component ids start at 1, got 0")]
    ZeroCid,
    /// A component's template is not exactly one HTML element.
    #[error("live component {cid}: template {template:#018x} must have exactly one root element")]
    ComponentNotRoot {
        /// The component.
        cid: u32,
        /// Its template.
        template: u64,
    },
}

impl DiffError {
    /// True when a full render of the same view can succeed where this update failed: the
    /// guest left a slot `unchanged` that the host cannot fill, or referred to a live component
    /// it did not render for a host that does not hold it.
    pub fn needs_full_render(&self) -> bool {
        matches!(
            self,
            DiffError::UnchangedWithoutPrevious | DiffError::UnknownComponent(_)
        )
    }
}

/// A diff to send: a JSON object in the Rendered format.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    map: Map<String, Value>,
}

impl Diff {
    /// A diff from a JSON object.
    pub fn from_map(map: Map<String, Value>) -> Diff {
        Diff { map }
    }

    /// True when there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The diff as a JSON object.
    pub fn into_value(self) -> Value {
        Value::Object(self.map)
    }

    /// A view of the JSON object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }

    /// Sets the page title (`t`).
    pub fn set_title(&mut self, title: &str) {
        self.map.insert(TITLE.into(), Value::String(title.into()));
    }

    /// Appends push events (`e`), in order.
    pub fn push_events(&mut self, events: Vec<(String, Value)>) {
        if events.is_empty() {
            return;
        }
        let list = self
            .map
            .entry(EVENTS)
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            list.extend(
                events
                    .into_iter()
                    .map(|(name, payload)| Value::Array(vec![Value::String(name), payload])),
            );
        }
    }

    /// Sets the reply to the push that caused this diff (top-level `r`).
    pub fn set_reply(&mut self, reply: Value) {
        self.map.insert(REPLY.into(), reply);
    }
}

/// Merges `update` into `prev` (`None` for a first render) and returns the new tree and the diff.
/// For views without live components; see [`apply_tree`].
///
/// `statics` resolves template ids; the caller makes sure every id of the update is known.
pub fn apply(
    prev: Option<Node>,
    update: Update,
    statics: &dyn Fn(u64) -> Option<Arc<Statics>>,
) -> Result<(Node, Diff), DiffError> {
    let (tree, diff) = apply_tree(prev.map(Tree::new), update, statics)?;
    Ok((tree.root, diff))
}

/// Merges `update` into the kept view `prev` (`None` for a first render), live components
/// included, and returns the new tree and the diff.
///
/// Components listed in the update are diffed against their kept trees; a new one (or one whose
/// template changed) is sent whole with `r: 1`, its root statics shared with a component of the
/// same template sent in this diff (`s: +cid`) or already held by the client (`s: -cid`).
/// Components not listed are unchanged and not sent. Every cid the tree refers to must exist.
pub fn apply_tree(
    prev: Option<Tree>,
    update: Update,
    statics: &dyn Fn(u64) -> Option<Arc<Statics>>,
) -> Result<(Tree, Diff), DiffError> {
    let full = prev.is_none();
    let title = update.title;
    let (prev_root, mut prev_components) = match prev {
        Some(mut tree) => {
            // The client dropped the items streams sent last time: so does the kept tree.
            forget_stream_items(&mut tree.root.dynamics);
            for node in tree.components.values_mut() {
                forget_stream_items(&mut node.dynamics);
            }
            (Some(tree.root), tree.components)
        }
        None => (None, BTreeMap::new()),
    };
    let mut builder = Builder {
        nodes: update.nodes.into_iter().map(Some).collect(),
        lists: update.lists.into_iter().map(Some).collect(),
        statics,
        templates: Templates::default(),
        share: full,
    };
    if builder.nodes.is_empty() {
        return Err(DiffError::Empty);
    }
    let (root, diff) = builder.node(0, prev_root)?;
    let mut map = match diff {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    if !builder.templates.table.is_empty() {
        map.insert(
            TEMPLATES.into(),
            std::mem::take(&mut builder.templates).into_value(),
        );
    }
    // Component statics never go through the root `p`: the client resolves it for the view's
    // tree only.
    builder.share = false;
    let held: HashMap<u64, u32> = prev_components
        .iter()
        .rev()
        .map(|(cid, node)| (node.statics.id, *cid))
        .collect();
    let mut sent: HashMap<u64, u32> = HashMap::new();
    let mut components = BTreeMap::new();
    let mut c = Map::new();
    for component in update.components {
        let cid = component.cid;
        if cid == 0 {
            return Err(DiffError::ZeroCid);
        }
        if components.contains_key(&cid) {
            return Err(DiffError::DuplicateComponent(cid));
        }
        if component.node == 0 {
            return Err(DiffError::Reused(0));
        }
        let before = prev_components.remove(&cid);
        let before_template = before.as_ref().map(|n| n.statics.id);
        let (node, diff) = builder.node(component.node, before)?;
        let template = node.statics.id;
        if !node.statics.root {
            return Err(DiffError::ComponentNotRoot { cid, template });
        }
        if before_template != Some(template) {
            let Some(Value::Object(mut full)) = diff else {
                return Err(DiffError::Empty);
            };
            full.insert(REPLY.into(), Value::from(1));
            if let Some(&base) = sent.get(&template) {
                full.insert(STATICS.into(), Value::from(i64::from(base)));
            } else if let Some(&base) = held.get(&template) {
                full.insert(STATICS.into(), Value::from(-i64::from(base)));
            } else {
                sent.insert(template, cid);
            }
            c.insert(cid.to_string(), Value::Object(full));
        } else if let Some(diff) = diff {
            c.insert(cid.to_string(), diff);
        }
        components.insert(cid, node);
    }
    components.append(&mut prev_components);
    let tree = Tree { root, components };
    check_components(&tree)?;
    if !c.is_empty() {
        map.insert(COMPONENTS.into(), Value::Object(c));
    }
    let mut diff = Diff { map };
    if let Some(title) = title {
        diff.set_title(&title);
    }
    Ok((tree, diff))
}

/// Empties every stream comprehension in `dynamics` (at any depth, not through components).
fn forget_stream_items(dynamics: &mut [Dynamic]) {
    for dynamic in dynamics {
        match dynamic {
            Dynamic::Html(_) | Dynamic::Component(_) => {}
            Dynamic::Node(node) => forget_stream_items(&mut node.dynamics),
            Dynamic::List(list) if list.stream.is_some() => list.entries.clear(),
            Dynamic::List(list) => {
                for entry in &mut list.entries {
                    forget_stream_items(&mut entry.dynamics);
                }
            }
        }
    }
}

/// Every cid reachable from the root exists, no component contains itself, and none is placed
/// twice.
fn check_components(tree: &Tree) -> Result<(), DiffError> {
    let mut direct = Vec::new();
    collect_cids(&tree.root.dynamics, &mut direct);
    if direct.is_empty() && tree.components.is_empty() {
        return Ok(());
    }
    // Depth-first walk with the path on a stack: a cid met again on its own path is a cycle.
    let mut done: BTreeSet<u32> = BTreeSet::new();
    let mut on_path: BTreeSet<u32> = BTreeSet::new();
    // (cid, children still to visit)
    let mut stack: Vec<(u32, Vec<u32>)> = Vec::new();
    for start in direct {
        if done.contains(&start) {
            return Err(DiffError::ComponentPlacedTwice(start));
        }
        let children = component_children(tree, start)?;
        on_path.insert(start);
        stack.push((start, children));
        while let Some((cid, children)) = stack.last_mut() {
            let cid = *cid;
            match children.pop() {
                Some(child) if on_path.contains(&child) => {
                    return Err(DiffError::ComponentCycle(child));
                }
                Some(child) if done.contains(&child) => {
                    return Err(DiffError::ComponentPlacedTwice(child));
                }
                Some(child) => {
                    let grandchildren = component_children(tree, child)?;
                    on_path.insert(child);
                    stack.push((child, grandchildren));
                }
                None => {
                    on_path.remove(&cid);
                    done.insert(cid);
                    stack.pop();
                }
            }
        }
    }
    Ok(())
}

fn component_children(tree: &Tree, cid: u32) -> Result<Vec<u32>, DiffError> {
    let node = tree
        .components
        .get(&cid)
        .ok_or(DiffError::UnknownComponent(cid))?;
    let mut children = Vec::new();
    collect_cids(&node.dynamics, &mut children);
    Ok(children)
}

/// The complete Rendered JSON of a kept tree (what a join reply carries).
pub fn full(node: &Node) -> Value {
    let mut templates = Templates::default();
    let mut map = full_node(node, &mut templates, true);
    if !templates.table.is_empty() {
        map.insert(TEMPLATES.into(), templates.into_value());
    }
    Value::Object(map)
}

/// The complete Rendered JSON of a kept view with its components (`c`); components of the same
/// template share the lowest cid's statics (`s: +cid`).
pub fn full_tree(tree: &Tree) -> Value {
    let mut value = full(&tree.root);
    if tree.components.is_empty() {
        return value;
    }
    let mut first: HashMap<u64, u32> = HashMap::new();
    let mut c = Map::new();
    for (cid, node) in &tree.components {
        let mut templates = Templates::default();
        let mut map = full_node(node, &mut templates, false);
        map.insert(REPLY.into(), Value::from(1));
        match first.get(&node.statics.id) {
            Some(&base) => {
                map.insert(STATICS.into(), Value::from(i64::from(base)));
            }
            None => {
                first.insert(node.statics.id, *cid);
            }
        }
        c.insert(cid.to_string(), Value::Object(map));
    }
    if let Value::Object(map) = &mut value {
        map.insert(COMPONENTS.into(), Value::Object(c));
    }
    value
}

/// Statics shared through a root `p` table: identical templates get one index.
#[derive(Default)]
struct Templates {
    index: HashMap<u64, usize>,
    table: Vec<Arc<Statics>>,
}

impl Templates {
    /// The `"s"` value for `statics`: an index into `p` when sharing, else the array itself.
    fn reference(&mut self, statics: &Arc<Statics>, share: bool) -> Value {
        if !share {
            return statics_array(statics);
        }
        let next = self.table.len();
        let index = *self.index.entry(statics.id).or_insert_with(|| next);
        if index == next {
            self.table.push(statics.clone());
        }
        Value::from(index)
    }

    fn into_value(self) -> Value {
        let map = self
            .table
            .iter()
            .enumerate()
            .map(|(i, s)| (i.to_string(), statics_array(s)))
            .collect();
        Value::Object(map)
    }
}

fn statics_array(statics: &Statics) -> Value {
    Value::Array(
        statics
            .parts
            .iter()
            .map(|p| Value::String(p.to_string()))
            .collect(),
    )
}

struct Builder<'a> {
    nodes: Vec<Option<crate::update::UpdateNode>>,
    lists: Vec<Option<crate::update::UpdateList>>,
    statics: &'a dyn Fn(u64) -> Option<Arc<Statics>>,
    templates: Templates,
    /// Route statics through `p` (first renders only; later diffs inline them).
    share: bool,
}

impl Builder<'_> {
    fn lookup(&self, template: u64, got: usize) -> Result<Arc<Statics>, DiffError> {
        let statics = (self.statics)(template).ok_or(DiffError::UnknownTemplate(template))?;
        if statics.arity() != got {
            return Err(DiffError::ArityMismatch {
                template,
                expected: statics.arity(),
                got,
            });
        }
        Ok(statics)
    }

    /// Builds node `index`; the diff is `None` when nothing changed.
    fn node(&mut self, index: u32, prev: Option<Node>) -> Result<(Node, Option<Value>), DiffError> {
        let update = self
            .nodes
            .get_mut(index as usize)
            .ok_or(DiffError::MissingNode(index))?
            .take()
            .ok_or(DiffError::Reused(index))?;
        let statics = self.lookup(update.template, update.dynamics.len())?;
        let prev = prev.filter(|p| p.statics.id == update.template);
        let full = prev.is_none();
        let mut prev_slots = prev.map(|p| p.dynamics.into_iter());
        let mut dynamics = Vec::with_capacity(update.dynamics.len());
        let mut map = Map::new();
        if full {
            map.insert(
                STATICS.into(),
                self.templates.reference(&statics, self.share),
            );
        }
        for (i, slot) in update.dynamics.into_iter().enumerate() {
            let before = prev_slots.as_mut().and_then(Iterator::next);
            let (value, diff) = self.slot(slot, before)?;
            if let Some(diff) = diff {
                map.insert(i.to_string(), diff);
            } else if full {
                // A full node must carry every slot, even one that was kept.
                map.insert(i.to_string(), self.full_dynamic(&value));
            }
            dynamics.push(value);
        }
        let node = Node { statics, dynamics };
        let diff = (!map.is_empty()).then_some(Value::Object(map));
        Ok((node, diff))
    }

    fn full_dynamic(&mut self, dynamic: &Dynamic) -> Value {
        full_dynamic(dynamic, &mut self.templates, self.share)
    }

    /// One slot: the kept value and what to send for it (`None` = unchanged on the client).
    fn slot(
        &mut self,
        slot: UpdateDynamic,
        prev: Option<Dynamic>,
    ) -> Result<(Dynamic, Option<Value>), DiffError> {
        match slot {
            UpdateDynamic::Unchanged => match prev {
                Some(prev) => Ok((prev, None)),
                None => Err(DiffError::UnchangedWithoutPrevious),
            },
            UpdateDynamic::Html(text) => match prev {
                Some(Dynamic::Html(old)) if *old == *text => Ok((Dynamic::Html(old), None)),
                _ => Ok((
                    Dynamic::Html(text.clone().into_boxed_str()),
                    Some(Value::String(text)),
                )),
            },
            UpdateDynamic::Component(cid) => match prev {
                Some(Dynamic::Component(old)) if old == cid => Ok((Dynamic::Component(cid), None)),
                _ => Ok((Dynamic::Component(cid), Some(Value::from(cid)))),
            },
            UpdateDynamic::Node(index) => {
                let prev = match prev {
                    Some(Dynamic::Node(node)) => Some(*node),
                    _ => None,
                };
                let (node, diff) = self.node(index, prev)?;
                Ok((Dynamic::Node(Box::new(node)), diff))
            }
            UpdateDynamic::List(index) => {
                let prev = match prev {
                    Some(Dynamic::List(list)) => Some(*list),
                    _ => None,
                };
                let (list, diff) = self.list(index, prev)?;
                Ok((Dynamic::List(Box::new(list)), diff))
            }
        }
    }

    fn list(&mut self, index: u32, prev: Option<List>) -> Result<(List, Option<Value>), DiffError> {
        let update = self
            .lists
            .get_mut(index as usize)
            .ok_or(DiffError::MissingList(index))?
            .take()
            .ok_or(DiffError::Reused(index))?;
        let arity = update.entries.first().map(|e| e.dynamics.len());
        let statics = match arity {
            Some(arity) => self.lookup(update.template, arity)?,
            None => (self.statics)(update.template)
                .ok_or(DiffError::UnknownTemplate(update.template))?,
        };
        for entry in &update.entries {
            if entry.dynamics.len() != statics.arity() {
                return Err(DiffError::ArityMismatch {
                    template: update.template,
                    expected: statics.arity(),
                    got: entry.dynamics.len(),
                });
            }
        }
        if let Some(ops) = update.stream {
            // A stream held by the client already has its statics.
            let held = prev.is_some_and(|p| p.statics.id == update.template && p.stream.is_some());
            return self.stream_list(statics, update.entries, ops, held);
        }
        // An empty comprehension is sent as "" the first time, so the client holds no template
        // for it: anything after that must be sent whole, as must a changed template.
        let prev = prev.filter(|p| {
            p.statics.id == update.template && !p.entries.is_empty() && p.stream.is_none()
        });
        match prev {
            None => self.full_list(statics, update.entries),
            Some(prev) => self.diff_list(statics, prev, update.entries),
        }
    }

    /// A stream: its entries are the items inserted now, always sent whole, with the
    /// operations in `stream`; statics only when the client does not hold them yet. The kept
    /// list holds this render's items until the next render (for the dead render's HTML).
    fn stream_list(
        &mut self,
        statics: Arc<Statics>,
        updates: Vec<UpdateEntry>,
        ops: StreamOps,
        held: bool,
    ) -> Result<(List, Option<Value>), DiffError> {
        let mut entries = Vec::with_capacity(updates.len());
        let mut k = Map::new();
        for (i, update) in updates.into_iter().enumerate() {
            let (entry, map) = self.entry(update, None)?;
            k.insert(i.to_string(), Value::Object(map));
            entries.push(entry);
        }
        let list = List {
            statics,
            entries,
            stream: Some(ops.stream_ref.clone().into_boxed_str()),
        };
        if held && list.entries.is_empty() && ops.is_empty() {
            return Ok((list, None));
        }
        k.insert(KEYED_COUNT.into(), Value::from(list.entries.len()));
        let mut map = Map::new();
        if !held {
            map.insert(
                STATICS.into(),
                self.templates.reference(&list.statics, self.share),
            );
        }
        map.insert(KEYED.into(), Value::Object(k));
        map.insert(STREAM.into(), ops.to_json());
        Ok((list, Some(Value::Object(map))))
    }

    fn full_list(
        &mut self,
        statics: Arc<Statics>,
        updates: Vec<UpdateEntry>,
    ) -> Result<(List, Option<Value>), DiffError> {
        let mut entries = Vec::with_capacity(updates.len());
        let mut k = Map::new();
        for (i, update) in updates.into_iter().enumerate() {
            let (entry, map) = self.entry(update, None)?;
            k.insert(i.to_string(), Value::Object(map));
            entries.push(entry);
        }
        let list = List {
            statics,
            entries,
            stream: None,
        };
        if list.entries.is_empty() {
            return Ok((list, Some(Value::String(String::new()))));
        }
        k.insert(KEYED_COUNT.into(), Value::from(list.entries.len()));
        let mut map = Map::new();
        map.insert(
            STATICS.into(),
            self.templates.reference(&list.statics, self.share),
        );
        map.insert(KEYED.into(), Value::Object(k));
        Ok((list, Some(Value::Object(map))))
    }

    fn diff_list(
        &mut self,
        statics: Arc<Statics>,
        prev: List,
        updates: Vec<UpdateEntry>,
    ) -> Result<(List, Option<Value>), DiffError> {
        let old_count = prev.entries.len();
        let keyed =
            updates.iter().all(|e| e.key.is_some()) && prev.entries.iter().all(|e| e.key.is_some());
        let mut old: Vec<Option<Entry>> = prev.entries.into_iter().map(Some).collect();
        let mut by_key: HashMap<Box<str>, usize> = HashMap::new();
        if keyed {
            for (i, entry) in old.iter().enumerate() {
                if let Some(key) = entry.as_ref().and_then(|e| e.key.clone()) {
                    by_key.entry(key).or_insert(i);
                }
            }
        }
        let mut k = Map::new();
        let mut moved = false;
        let mut entries = Vec::with_capacity(updates.len());
        for (i, update) in updates.into_iter().enumerate() {
            let source = if keyed {
                update.key.as_deref().and_then(|key| by_key.remove(key))
            } else {
                (i < old_count).then_some(i)
            };
            let before = source.and_then(|j| old.get_mut(j).and_then(Option::take));
            match (source, before) {
                (Some(j), Some(before)) => {
                    let (entry, map) = self.entry(update, Some(before))?;
                    let changed = !map.is_empty();
                    if j != i {
                        moved = true;
                        let value = if changed {
                            Value::Array(vec![Value::from(j), Value::Object(map)])
                        } else {
                            Value::from(j)
                        };
                        k.insert(i.to_string(), value);
                    } else if changed {
                        k.insert(i.to_string(), Value::Object(map));
                    }
                    entries.push(entry);
                }
                _ => {
                    let (entry, map) = self.entry(update, None)?;
                    k.insert(i.to_string(), Value::Object(map));
                    entries.push(entry);
                }
            }
        }
        let list = List {
            statics,
            entries,
            stream: None,
        };
        if k.is_empty() && list.entries.len() == old_count {
            return Ok((list, None));
        }
        k.insert(KEYED_COUNT.into(), Value::from(list.entries.len()));
        if moved {
            k.insert(KEYED_MOVES.into(), Value::Bool(true));
        }
        let mut map = Map::new();
        map.insert(KEYED.into(), Value::Object(k));
        Ok((list, Some(Value::Object(map))))
    }

    /// One entry: its kept form and its diff (complete when there is no previous entry).
    fn entry(
        &mut self,
        update: UpdateEntry,
        prev: Option<Entry>,
    ) -> Result<(Entry, Map<String, Value>), DiffError> {
        let full = prev.is_none();
        let mut prev_slots = prev.map(|p| p.dynamics.into_iter());
        let mut dynamics = Vec::with_capacity(update.dynamics.len());
        let mut map = Map::new();
        for (i, slot) in update.dynamics.into_iter().enumerate() {
            let before = prev_slots.as_mut().and_then(Iterator::next);
            let (value, diff) = self.slot(slot, before)?;
            if let Some(diff) = diff {
                map.insert(i.to_string(), diff);
            } else if full {
                map.insert(i.to_string(), self.full_dynamic(&value));
            }
            dynamics.push(value);
        }
        let entry = Entry {
            key: update.key.map(String::into_boxed_str),
            dynamics,
        };
        Ok((entry, map))
    }
}

fn full_node(node: &Node, templates: &mut Templates, share: bool) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(STATICS.into(), templates.reference(&node.statics, share));
    for (i, dynamic) in node.dynamics.iter().enumerate() {
        map.insert(i.to_string(), full_dynamic(dynamic, templates, share));
    }
    map
}

fn full_dynamic(dynamic: &Dynamic, templates: &mut Templates, share: bool) -> Value {
    match dynamic {
        Dynamic::Html(text) => Value::String(text.to_string()),
        Dynamic::Component(cid) => Value::from(*cid),
        Dynamic::Node(node) => Value::Object(full_node(node, templates, share)),
        Dynamic::List(list) => {
            if list.entries.is_empty() && list.stream.is_none() {
                return Value::String(String::new());
            }
            let mut k = Map::new();
            for (i, entry) in list.entries.iter().enumerate() {
                let entry_map = entry
                    .dynamics
                    .iter()
                    .enumerate()
                    .map(|(j, d)| (j.to_string(), full_dynamic(d, templates, share)))
                    .collect();
                k.insert(i.to_string(), Value::Object(entry_map));
            }
            k.insert(KEYED_COUNT.into(), Value::from(list.entries.len()));
            let mut map = Map::new();
            map.insert(STATICS.into(), templates.reference(&list.statics, share));
            map.insert(KEYED.into(), Value::Object(k));
            if let Some(stream_ref) = &list.stream {
                // The items of the latest render, without their insert options (a join always
                // comes with a fresh mount, which inserts its items again).
                let ops = StreamOps {
                    stream_ref: stream_ref.to_string(),
                    ..StreamOps::default()
                };
                map.insert(STREAM.into(), ops.to_json());
            }
            Value::Object(map)
        }
    }
}
