//! A model of how the official LiveView 1.2 client merges Rendered trees and diffs, and what HTML
//! the merged tree stands for. Test harnesses use it to check the server: after any sequence of
//! diffs, the client's HTML must equal the server's own render.
//!
//! Rules modelled: template tables `p` (integer `s`, nearest enclosing table), replace-on-`s`,
//! recursive merge otherwise, keyed comprehensions (`k`, `kc`, integer and `[old, diff]` moves),
//! components `c` (array, `+N` and `-N` statics), and the top-level `t`, `e`, `r` keys.
//!
//! Streams (`stream` on a comprehension) are modelled as the client's DOM patch applies them
//! (see [`crate::stream_dom`]): their items live on in the model after the merge that carried
//! them, while the merged tree forgets them as the client's does. Other children of a stream's
//! container (an empty-state child) are written where the template puts them and counted
//! against the stream's limits as the client does (see [`crate::stream_dom`]). A container
//! that leaves the page (an `:if` turned off) loses its items: shown again, it holds only what
//! later diffs insert.

use std::cell::Cell;
use std::collections::BTreeMap;

use crate::keys::rendered::{
    COMPONENTS, EVENTS, KEYED, KEYED_COUNT, KEYED_MOVES, REPLY, STATICS, STREAM, TEMPLATES, TITLE,
};
use serde_json::{Map, Value};

use crate::stream_dom::{
    StreamChildren, StreamItem, StreamPatch, first_element_id, other_children,
};

/// Why a diff could not be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The rendered value is not a JSON object.
    #[error("rendered must be a JSON object, got {0}")]
    NotObject(String),
    /// An integer `s` has no template table entry.
    #[error("template index {0} not found in any enclosing `p`")]
    MissingTemplate(u64),
    /// A comprehension is malformed.
    #[error("bad comprehension: {0}")]
    BadComprehension(String),
    /// A component diff refers to a component that does not exist.
    #[error("no component {0}")]
    MissingComponent(i64),
    /// A dynamic has a JSON type the client does not understand.
    #[error("bad dynamic: {0}")]
    BadDynamic(String),
}

/// The client's copy of a view's rendered tree.
#[derive(Debug, Clone, Default)]
pub struct ClientRendered {
    tree: Map<String, Value>,
    components: Map<String, Value>,
    title: Option<String>,
    /// The items each stream shows, by stream ref.
    streams: BTreeMap<String, StreamChildren>,
    /// False until the join's render is merged.
    joined: bool,
    /// True while writing the HTML with a marker in place of each stream's items.
    marking: Cell<bool>,
}

impl ClientRendered {
    /// Starts from a join reply's `rendered`.
    pub fn new(full: Value) -> Result<ClientRendered, ClientError> {
        let mut client = ClientRendered::default();
        client.merge(full)?;
        client.joined = true;
        Ok(client)
    }

    /// Merges a diff (a `diff` push or a reply's `diff`).
    pub fn merge(&mut self, diff: Value) -> Result<(), ClientError> {
        let Value::Object(mut diff) = diff else {
            return Err(ClientError::NotObject(diff.to_string()));
        };
        if let Some(Value::String(title)) = diff.remove(TITLE) {
            self.title = Some(title);
        }
        diff.remove(EVENTS);
        diff.remove(REPLY);
        let components = diff.remove(COMPONENTS);
        let mut diff = Value::Object(diff);
        resolve_templates(&mut diff, None)?;
        let Value::Object(diff) = diff else {
            return Err(ClientError::NotObject(String::new()));
        };
        let tree = std::mem::take(&mut self.tree);
        self.tree = match merge_node(Value::Object(tree), Value::Object(diff))? {
            Value::Object(map) => map,
            other => return Err(ClientError::NotObject(other.to_string())),
        };
        if let Some(components) = components {
            self.merge_components(components)?;
        }
        self.patch_streams()?;
        Ok(())
    }

    /// Applies the streams the last merge carried, in document order, and empties them in the
    /// tree (the client renders a stream's entries once, then drops them).
    fn patch_streams(&mut self) -> Result<(), ClientError> {
        let mut patches = Vec::new();
        collect_streams(&mut self.tree, &mut patches)?;
        let mut components = std::mem::take(&mut self.components);
        for node in components.values_mut() {
            if let Value::Object(node) = node {
                collect_streams(node, &mut patches)?;
            }
        }
        self.components = components;
        if patches.is_empty() && self.streams.is_empty() {
            return Ok(());
        }
        // The HTML the client morphs, with a marker where each stream's items go.
        self.marking.set(true);
        let html = self.to_html();
        self.marking.set(false);
        // A container the page no longer shows (an `:if` turned off) took its items with it:
        // shown again, it starts empty.
        self.streams
            .retain(|stream_ref, _| html.contains(&stream_marker(stream_ref)));
        for mut patch in patches {
            // The container's other children (an empty-state child) count against limits.
            patch.others = other_children(&html, &stream_marker(&patch.stream_ref));
            self.apply_stream(patch);
        }
        Ok(())
    }

    fn apply_stream(&mut self, mut patch: StreamPatch) {
        for item in &mut patch.entries {
            let mut html = String::new();
            self.write_entry(&mut html, &item.statics, &item.entry);
            item.dom_id = first_element_id(&html).unwrap_or_default();
        }
        // Deletes look the id up in the whole document, i.e. in every stream.
        let mut removed = Vec::new();
        if !self.joined {
            // The dead render showed the join's items: the join patch removes them and brings
            // back those it inserts (`update_only` ones included).
            removed.extend(patch.entries.iter().cloned());
        }
        for id in &patch.deletes {
            for children in self.streams.values_mut() {
                if let Some(item) = children.remove(id) {
                    removed.push(item);
                }
            }
        }
        let children = self.streams.entry(patch.stream_ref.clone()).or_default();
        children.apply(patch, removed);
    }

    /// The items stream `stream_ref` shows, as DOM ids in order.
    pub fn stream_ids(&self, stream_ref: &str) -> Vec<String> {
        self.streams
            .get(stream_ref)
            .map(StreamChildren::ids)
            .unwrap_or_default()
    }

    fn merge_components(&mut self, components: Value) -> Result<(), ClientError> {
        let Value::Object(components) = components else {
            return Err(ClientError::NotObject(components.to_string()));
        };
        let mut resolved: Map<String, Value> = Map::new();
        // Positive references point at components of this same diff: resolve in dependency order.
        let mut pending: Vec<(String, Value)> = components.into_iter().collect();
        let mut progress = true;
        while !pending.is_empty() && progress {
            progress = false;
            let mut next = Vec::new();
            for (cid, mut node) in pending {
                resolve_templates(&mut node, None)?;
                let merged = match node.get(STATICS).and_then(Value::as_i64) {
                    Some(n) if n > 0 => match resolved.get(&n.to_string()) {
                        Some(base) => share_statics(base.clone(), node)?,
                        None => {
                            next.push((cid, node));
                            continue;
                        }
                    },
                    Some(n) if n < 0 => {
                        let base = self
                            .components
                            .get(&(-n).to_string())
                            .cloned()
                            .ok_or(ClientError::MissingComponent(n))?;
                        share_statics(base, node)?
                    }
                    _ => {
                        let old = self.components.get(&cid).cloned().unwrap_or(Value::Null);
                        merge_node(old, node)?
                    }
                };
                resolved.insert(cid, merged);
                progress = true;
            }
            pending = next;
        }
        if let Some((cid, _)) = pending.first() {
            return Err(ClientError::MissingComponent(cid.parse().unwrap_or(0)));
        }
        for (cid, node) in resolved {
            self.components.insert(cid, node);
        }
        Ok(())
    }

    /// Forgets components the server confirmed destroyed (the reply to `cids_destroyed`).
    pub fn prune(&mut self, cids: &[u32]) {
        for cid in cids {
            self.components.remove(&cid.to_string());
        }
    }

    /// The cids of the components the client holds, ascending.
    pub fn component_ids(&self) -> Vec<u32> {
        let mut cids: Vec<u32> = self
            .components
            .keys()
            .filter_map(|k| k.parse().ok())
            .collect();
        cids.sort_unstable();
        cids
    }

    /// The page title last set by `t`.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// The merged tree (templates resolved).
    pub fn tree(&self) -> &Map<String, Value> {
        &self.tree
    }

    /// The HTML of the merged tree (components inlined where their cid appears; a component met
    /// again inside itself, or anything nested deeper than [`MAX_HTML_NESTING`], writes nothing).
    pub fn to_html(&self) -> String {
        let mut out = String::new();
        self.write_node(&mut out, &self.tree, &mut Vec::new());
        out
    }

    fn write_node(&self, out: &mut String, node: &Map<String, Value>, path: &mut Vec<u64>) {
        if path.len() > MAX_HTML_NESTING {
            return;
        }
        if node.contains_key(KEYED) {
            self.write_comprehension(out, node, path);
            return;
        }
        let Some(Value::Array(statics)) = node.get(STATICS) else {
            return;
        };
        self.write_parts(out, statics, node, path);
    }

    fn write_comprehension(
        &self,
        out: &mut String,
        node: &Map<String, Value>,
        path: &mut Vec<u64>,
    ) {
        if let Some(stream_ref) = node
            .get(STREAM)
            .and_then(|s| s.get(0))
            .and_then(Value::as_str)
        {
            if self.marking.get() {
                out.push_str(&stream_marker(stream_ref));
                return;
            }
            if let Some(children) = self.streams.get(stream_ref) {
                for item in children.items() {
                    self.write_parts(out, &item.statics, &item.entry, path);
                }
            }
            return;
        }
        let Some(Value::Array(statics)) = node.get(STATICS) else {
            return;
        };
        let Some(Value::Object(k)) = node.get(KEYED) else {
            return;
        };
        let count = k.get(KEYED_COUNT).and_then(Value::as_u64).unwrap_or(0);
        for index in 0..count {
            let Some(Value::Object(entry)) = k.get(&index.to_string()) else {
                continue;
            };
            self.write_parts(out, statics, entry, path);
        }
    }

    fn write_entry(&self, out: &mut String, statics: &[Value], entry: &Map<String, Value>) {
        self.write_parts(out, statics, entry, &mut Vec::new());
    }

    /// Statics interleaved with the node's or entry's dynamics; `path` holds a marker per level
    /// (`u64::MAX`) and the cid of each component being written.
    fn write_parts(
        &self,
        out: &mut String,
        statics: &[Value],
        entry: &Map<String, Value>,
        path: &mut Vec<u64>,
    ) {
        path.push(u64::MAX);
        for (i, part) in statics.iter().enumerate() {
            out.push_str(part.as_str().unwrap_or_default());
            if i + 1 < statics.len()
                && let Some(dynamic) = entry.get(&i.to_string())
            {
                self.write_dynamic(out, dynamic, path);
            }
        }
        path.pop();
    }

    fn write_dynamic(&self, out: &mut String, dynamic: &Value, path: &mut Vec<u64>) {
        match dynamic {
            Value::String(text) => out.push_str(text),
            Value::Number(cid) => {
                let Some(cid) = cid.as_u64().filter(|cid| !path.contains(cid)) else {
                    return;
                };
                if let Some(Value::Object(component)) = self.components.get(&cid.to_string()) {
                    path.push(cid);
                    self.write_node(out, component, path);
                    path.pop();
                }
            }
            Value::Object(node) => self.write_node(out, node, path),
            _ => {}
        }
    }
}

/// Deepest nesting [`ClientRendered::to_html`] writes (levels and components together): the
/// host never sends deeper trees (see [`crate::limits::RenderLimits`]).
pub const MAX_HTML_NESTING: usize = 4096;

/// What stands for stream `stream_ref`'s items while counting its container's other children.
fn stream_marker(stream_ref: &str) -> String {
    format!("\u{1}stream {stream_ref}\u{1}")
}

/// Finds the comprehensions of `node` carrying stream operations (document order, not through
/// components), takes their entries and operations out and leaves them empty.
fn collect_streams(
    node: &mut Map<String, Value>,
    out: &mut Vec<StreamPatch>,
) -> Result<(), ClientError> {
    if node.contains_key(KEYED) {
        if node.contains_key(STREAM) {
            return take_stream(node, out);
        }
        if let Some(Value::Object(k)) = node.get_mut(KEYED) {
            for (key, entry) in k.iter_mut() {
                if let (true, Value::Object(entry)) =
                    (key != KEYED_COUNT && key != KEYED_MOVES, entry)
                {
                    collect_streams(entry, out)?;
                }
            }
        }
        return Ok(());
    }
    let mut keys: Vec<(usize, String)> = node
        .keys()
        .filter_map(|k| k.parse().ok().map(|i| (i, k.clone())))
        .collect();
    keys.sort();
    for (_, key) in keys {
        if let Some(Value::Object(child)) = node.get_mut(&key) {
            collect_streams(child, out)?;
        }
    }
    Ok(())
}

fn take_stream(
    node: &mut Map<String, Value>,
    out: &mut Vec<StreamPatch>,
) -> Result<(), ClientError> {
    let bad = |what: &str| ClientError::BadComprehension(format!("stream: {what}"));
    let Some(Value::Array(stream)) = node.get(STREAM).cloned() else {
        return Err(bad("not an array"));
    };
    let statics = match node.get(STATICS) {
        Some(Value::Array(statics)) => statics.clone(),
        _ => return Err(bad("no statics")),
    };
    let stream_ref = stream
        .first()
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no ref"))?
        .to_string();
    let mut inserts = BTreeMap::new();
    for insert in stream
        .get(1)
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no inserts"))?
    {
        let id = insert
            .get(0)
            .and_then(Value::as_str)
            .ok_or_else(|| bad("insert id"))?;
        let at = insert
            .get(1)
            .and_then(Value::as_i64)
            .ok_or_else(|| bad("insert at"))?;
        let limit = insert.get(2).and_then(Value::as_i64);
        let update_only = insert.get(3).and_then(Value::as_bool).unwrap_or(false);
        inserts.insert(id.to_string(), (at, limit, update_only));
    }
    let deletes = stream
        .get(2)
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no deletes"))?
        .iter()
        .filter_map(|d| d.as_str().map(str::to_string))
        .collect::<Vec<_>>();
    let reset = stream.get(3).is_some();
    let count = node
        .get(KEYED)
        .and_then(|k| k.get(KEYED_COUNT))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let mut entries = Vec::new();
    if let Some(Value::Object(k)) = node.get(KEYED) {
        for index in 0..count {
            if let Some(Value::Object(entry)) = k.get(&index.to_string()) {
                entries.push(StreamItem {
                    dom_id: String::new(),
                    statics: statics.clone(),
                    entry: entry.clone(),
                });
            }
        }
    }
    // As the official client: a stream with something to do is applied and emptied.
    if count > 0 || !deletes.is_empty() || reset {
        let mut k = Map::new();
        k.insert(KEYED_COUNT.into(), Value::from(0));
        node.insert(KEYED.into(), Value::Object(k));
        node.insert(
            STREAM.into(),
            Value::Array(vec![
                Value::String(stream_ref.clone()),
                Value::Array(Vec::new()),
                Value::Array(Vec::new()),
            ]),
        );
        out.push(StreamPatch {
            stream_ref,
            inserts,
            deletes,
            reset,
            entries,
            others: 0,
        });
    }
    Ok(())
}

/// Copies statics (and the whole tree as a base) from `base`, then merges `node` over it.
fn share_statics(base: Value, mut node: Value) -> Result<Value, ClientError> {
    let statics = base.get(STATICS).cloned();
    if let Value::Object(map) = &mut node {
        map.remove(STATICS);
    }
    let mut merged = merge_node(strip_s(base), node)?;
    if let (Value::Object(map), Some(statics)) = (&mut merged, statics) {
        map.insert(STATICS.into(), statics);
    }
    Ok(merged)
}

fn strip_s(mut value: Value) -> Value {
    if let Value::Object(map) = &mut value {
        map.remove(STATICS);
    }
    value
}

/// Replaces integer `s` values with the arrays of the nearest enclosing `p`, removing `p`.
fn resolve_templates(
    value: &mut Value,
    table: Option<&Map<String, Value>>,
) -> Result<(), ClientError> {
    let Value::Object(map) = value else {
        return Ok(());
    };
    let own = match map.remove(TEMPLATES) {
        Some(Value::Object(p)) => Some(p),
        _ => None,
    };
    let table = own.as_ref().or(table);
    if let Some(Value::Number(n)) = map.get(STATICS) {
        // Component statics (+N/-N) are resolved by the components pass, not here.
        if let (Some(index), Some(table)) = (n.as_u64(), table) {
            let statics = table
                .get(&index.to_string())
                .cloned()
                .ok_or(ClientError::MissingTemplate(index))?;
            map.insert(STATICS.into(), statics);
        }
    }
    for (key, child) in map.iter_mut() {
        if key == STATICS {
            continue;
        }
        match child {
            Value::Object(_) => resolve_templates(child, table)?,
            Value::Array(items) if key != STATICS => {
                // `[old, diff]` moves inside `k`.
                for item in items.iter_mut() {
                    resolve_templates(item, table)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Merges `source` into `target` as the client does: `s` replaces, objects merge recursively.
fn merge_node(target: Value, source: Value) -> Result<Value, ClientError> {
    let Value::Object(source) = source else {
        return Ok(source);
    };
    if source.contains_key(STATICS) {
        return Ok(Value::Object(source));
    }
    let Value::Object(mut target) = target else {
        return Ok(Value::Object(source));
    };
    if target.contains_key(KEYED) && source.contains_key(KEYED) {
        return merge_comprehension(target, source).map(Value::Object);
    }
    for (key, value) in source {
        let old = target.remove(&key);
        let merged = match (old, value) {
            (Some(old @ Value::Object(_)), value @ Value::Object(_)) => merge_node(old, value)?,
            (_, value) => value,
        };
        target.insert(key, merged);
    }
    Ok(Value::Object(target))
}

fn merge_comprehension(
    mut target: Map<String, Value>,
    mut source: Map<String, Value>,
) -> Result<Map<String, Value>, ClientError> {
    let Some(Value::Object(new_k)) = source.remove(KEYED) else {
        return Err(ClientError::BadComprehension("`k` is not an object".into()));
    };
    let Some(Value::Object(old_k)) = target.remove(KEYED) else {
        return Err(ClientError::BadComprehension(
            "held `k` is not an object".into(),
        ));
    };
    let count = new_k
        .get(KEYED_COUNT)
        .and_then(Value::as_u64)
        .ok_or_else(|| ClientError::BadComprehension("missing `kc`".into()))?;
    let mut merged = Map::new();
    for index in 0..count {
        let key = index.to_string();
        let entry = match new_k.get(&key) {
            None => old_k
                .get(&key)
                .cloned()
                .unwrap_or(Value::Object(Map::new())),
            Some(Value::Number(from)) => {
                old_k.get(&from.to_string()).cloned().ok_or_else(|| {
                    ClientError::BadComprehension(format!("move from missing {from}"))
                })?
            }
            Some(Value::Array(pair)) => {
                let from = pair
                    .first()
                    .and_then(Value::as_u64)
                    .ok_or_else(|| ClientError::BadComprehension("bad move".into()))?;
                let base = old_k.get(&from.to_string()).cloned().ok_or_else(|| {
                    ClientError::BadComprehension(format!("move from missing {from}"))
                })?;
                merge_node(base, pair.get(1).cloned().unwrap_or(Value::Null))?
            }
            Some(diff @ Value::Object(_)) => {
                let base = old_k
                    .get(&key)
                    .cloned()
                    .unwrap_or(Value::Object(Map::new()));
                merge_node(base, diff.clone())?
            }
            Some(other) => return Err(ClientError::BadComprehension(other.to_string())),
        };
        merged.insert(key, entry);
    }
    merged.insert(KEYED_COUNT.into(), Value::from(count));
    target.insert(KEYED.into(), Value::Object(merged));
    for (key, value) in source {
        target.insert(key, value);
    }
    Ok(target)
}
