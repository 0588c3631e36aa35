//! Turning a kept tree into HTML (the dead render).

use crate::rendered::{Dynamic, Node, Tree};

/// The HTML a tree stands for. Components render as nothing here (they are rendered by the
/// component layer).
pub fn to_html(node: &Node) -> String {
    let mut out = String::new();
    write_node(&mut out, &node.statics.parts, &node.dynamics);
    out
}

fn write_node(out: &mut String, parts: &[Box<str>], dynamics: &[Dynamic]) {
    for (i, part) in parts.iter().enumerate() {
        out.push_str(part);
        if let Some(dynamic) = dynamics.get(i) {
            write_dynamic(out, dynamic);
        }
    }
}

fn write_dynamic(out: &mut String, dynamic: &Dynamic) {
    match dynamic {
        Dynamic::Html(text) => out.push_str(text),
        Dynamic::Node(node) => write_node(out, &node.statics.parts, &node.dynamics),
        Dynamic::List(list) => {
            for entry in &list.entries {
                write_node(out, &list.statics.parts, &entry.dynamics);
            }
        }
        Dynamic::Component(_) => {}
    }
}

/// The HTML of a view with its live components inlined where their cids appear (a component
/// met again inside itself renders as nothing).
pub fn tree_html(tree: &Tree) -> String {
    let mut out = String::new();
    let mut path = Vec::new();
    write_tree_node(
        &mut out,
        tree,
        &tree.root.statics.parts,
        &tree.root.dynamics,
        &mut path,
    );
    out
}

fn write_tree_node(
    out: &mut String,
    tree: &Tree,
    parts: &[Box<str>],
    dynamics: &[Dynamic],
    path: &mut Vec<u32>,
) {
    for (i, part) in parts.iter().enumerate() {
        out.push_str(part);
        if let Some(dynamic) = dynamics.get(i) {
            write_tree_dynamic(out, tree, dynamic, path);
        }
    }
}

fn write_tree_dynamic(out: &mut String, tree: &Tree, dynamic: &Dynamic, path: &mut Vec<u32>) {
    match dynamic {
        Dynamic::Html(text) => out.push_str(text),
        Dynamic::Node(node) => {
            write_tree_node(out, tree, &node.statics.parts, &node.dynamics, path)
        }
        Dynamic::List(list) => {
            for entry in &list.entries {
                write_tree_node(out, tree, &list.statics.parts, &entry.dynamics, path);
            }
        }
        Dynamic::Component(cid) => {
            if path.contains(cid) {
                return;
            }
            if let Some(node) = tree.components.get(cid) {
                path.push(*cid);
                write_tree_node(out, tree, &node.statics.parts, &node.dynamics, path);
                path.pop();
            }
        }
    }
}
