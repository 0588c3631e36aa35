//! Turning a kept tree into HTML (the dead render).

use crate::rendered::{Dynamic, Node};

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
