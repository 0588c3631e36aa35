//! A model of how the official LiveView 1.2 client merges Rendered trees and diffs, and what HTML
//! the merged tree stands for. Test harnesses use it to check the server: after any sequence of
//! diffs, the client's HTML must equal the server's own render.
//!
//! Rules modelled: template tables `p` (integer `s`, nearest enclosing table), replace-on-`s`,
//! recursive merge otherwise, keyed comprehensions (`k`, `kc`, integer and `[old, diff]` moves),
//! components `c` (array, `+N` and `-N` statics), and the top-level `t`, `e`, `r` keys.

use serde_json::{Map, Value};

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
}

impl ClientRendered {
    /// Starts from a join reply's `rendered`.
    pub fn new(full: Value) -> Result<ClientRendered, ClientError> {
        let mut client = ClientRendered::default();
        client.merge(full)?;
        Ok(client)
    }

    /// Merges a diff (a `diff` push or a reply's `diff`).
    pub fn merge(&mut self, diff: Value) -> Result<(), ClientError> {
        let Value::Object(mut diff) = diff else {
            return Err(ClientError::NotObject(diff.to_string()));
        };
        if let Some(Value::String(title)) = diff.remove("t") {
            self.title = Some(title);
        }
        diff.remove("e");
        diff.remove("r");
        let components = diff.remove("c");
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
        Ok(())
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
                let merged = match node.get("s").and_then(Value::as_i64) {
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

    /// The page title last set by `t`.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// The merged tree (templates resolved).
    pub fn tree(&self) -> &Map<String, Value> {
        &self.tree
    }

    /// The HTML of the merged tree (components inlined where their cid appears).
    pub fn to_html(&self) -> String {
        let mut out = String::new();
        self.write_node(&mut out, &self.tree);
        out
    }

    fn write_node(&self, out: &mut String, node: &Map<String, Value>) {
        if node.contains_key("k") {
            self.write_comprehension(out, node);
            return;
        }
        let Some(Value::Array(statics)) = node.get("s") else {
            return;
        };
        for (i, part) in statics.iter().enumerate() {
            out.push_str(part.as_str().unwrap_or_default());
            if i + 1 < statics.len()
                && let Some(dynamic) = node.get(&i.to_string())
            {
                self.write_dynamic(out, dynamic);
            }
        }
    }

    fn write_comprehension(&self, out: &mut String, node: &Map<String, Value>) {
        let Some(Value::Array(statics)) = node.get("s") else {
            return;
        };
        let Some(Value::Object(k)) = node.get("k") else {
            return;
        };
        let count = k.get("kc").and_then(Value::as_u64).unwrap_or(0);
        for index in 0..count {
            let Some(Value::Object(entry)) = k.get(&index.to_string()) else {
                continue;
            };
            for (i, part) in statics.iter().enumerate() {
                out.push_str(part.as_str().unwrap_or_default());
                if i + 1 < statics.len()
                    && let Some(dynamic) = entry.get(&i.to_string())
                {
                    self.write_dynamic(out, dynamic);
                }
            }
        }
    }

    fn write_dynamic(&self, out: &mut String, dynamic: &Value) {
        match dynamic {
            Value::String(text) => out.push_str(text),
            Value::Number(cid) => {
                if let Some(Value::Object(component)) = cid
                    .as_u64()
                    .and_then(|cid| self.components.get(&cid.to_string()))
                {
                    self.write_node(out, component);
                }
            }
            Value::Object(node) => self.write_node(out, node),
            _ => {}
        }
    }
}

/// Copies statics (and the whole tree as a base) from `base`, then merges `node` over it.
fn share_statics(base: Value, mut node: Value) -> Result<Value, ClientError> {
    let statics = base.get("s").cloned();
    if let Value::Object(map) = &mut node {
        map.remove("s");
    }
    let mut merged = merge_node(strip_s(base), node)?;
    if let (Value::Object(map), Some(statics)) = (&mut merged, statics) {
        map.insert("s".into(), statics);
    }
    Ok(merged)
}

fn strip_s(mut value: Value) -> Value {
    if let Value::Object(map) = &mut value {
        map.remove("s");
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
    let own = match map.remove("p") {
        Some(Value::Object(p)) => Some(p),
        _ => None,
    };
    let table = own.as_ref().or(table);
    if let Some(Value::Number(n)) = map.get("s") {
        // Component statics (+N/-N) are resolved by the components pass, not here.
        if let (Some(index), Some(table)) = (n.as_u64(), table) {
            let statics = table
                .get(&index.to_string())
                .cloned()
                .ok_or(ClientError::MissingTemplate(index))?;
            map.insert("s".into(), statics);
        }
    }
    for (key, child) in map.iter_mut() {
        if key == "s" {
            continue;
        }
        match child {
            Value::Object(_) => resolve_templates(child, table)?,
            Value::Array(items) if key != "s" => {
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
    if source.contains_key("s") {
        return Ok(Value::Object(source));
    }
    let Value::Object(mut target) = target else {
        return Ok(Value::Object(source));
    };
    if target.contains_key("k") && source.contains_key("k") {
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
    let Some(Value::Object(new_k)) = source.remove("k") else {
        return Err(ClientError::BadComprehension("`k` is not an object".into()));
    };
    let Some(Value::Object(old_k)) = target.remove("k") else {
        return Err(ClientError::BadComprehension(
            "held `k` is not an object".into(),
        ));
    };
    let count = new_k
        .get("kc")
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
    merged.insert("kc".into(), Value::from(count));
    target.insert("k".into(), Value::Object(merged));
    for (key, value) in source {
        target.insert(key, value);
    }
    Ok(target)
}
