//! What the official client's DOM patch does with a stream's children (`phx-update="stream"`),
//! modelled on the stream's items alone: deletes and a reset remove elements first, then each
//! inserted entry in order either updates the element with its id in place or is added at its
//! `at` position (`-1` end, `0` start, `n` index `n`) and, when it has a `limit`, trims the
//! children from the other end (an element present before the patch and trimmed that way is not
//! brought back by its own entry later in the patch). `update_only` entries are added only if
//! their element was removed by this same patch's deletes or reset (the client restores it).
//! The patch applies to the items the container holds when it arrives: none when the
//! container comes onto the page with that same diff (inside an `:if` turned on after the dead
//! render) or comes back after leaving it ([`crate::client`] drops a container's items when
//! it leaves the page).
//!
//! Other children of the container (Phoenix 1.2's empty-state child, `class="only:block
//! hidden"`) are counted, not modelled one by one: the client keeps them after the items (the
//! join patch appends them and puts the `-1` inserts before the first of them), a `-1` insert
//! lands before them, and a limit counts them: a trailing limit (`limit < 0`) trims items only,
//! a leading one trims them first (until the next patch's morph appends them again, which is
//! why each patch starts with all of them). This assumes they come before the stream's `:for`
//! in the template (as Phoenix's docs show), so a patch puts a trimmed one back before its
//! inserts.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// One stream child: its DOM id and how to render it (its comprehension's statics and entry).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamItem {
    /// The element's id.
    pub dom_id: String,
    /// The comprehension statics.
    pub statics: Vec<Value>,
    /// The entry's dynamics.
    pub entry: Map<String, Value>,
}

/// One stream's operations from one diff, with its entries (DOM ids filled in by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamPatch {
    /// The stream's reference.
    pub stream_ref: String,
    /// Insert options by DOM id: `(at, limit, update_only)`.
    pub inserts: BTreeMap<String, (i64, Option<i64>, bool)>,
    /// DOM ids to delete.
    pub deletes: Vec<String>,
    /// True when the stream is reset first.
    pub reset: bool,
    /// The entries rendered by this diff, in order.
    pub entries: Vec<StreamItem>,
    /// How many element children with an id the container has besides the stream's items
    /// (an empty-state child): the client counts them against a limit.
    pub others: usize,
}

/// The children of one stream container, in DOM order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamChildren {
    items: Vec<StreamItem>,
}

impl StreamChildren {
    /// The children in order.
    pub fn items(&self) -> &[StreamItem] {
        &self.items
    }

    /// Their DOM ids in order.
    pub fn ids(&self) -> Vec<String> {
        self.items.iter().map(|i| i.dom_id.clone()).collect()
    }

    /// Removes the child with `dom_id`, if there is one.
    pub fn remove(&mut self, dom_id: &str) -> Option<StreamItem> {
        let index = self.items.iter().position(|i| i.dom_id == dom_id)?;
        Some(self.items.remove(index))
    }

    /// Applies `patch`; `removed` holds the elements its deletes already took out (anywhere).
    pub fn apply(&mut self, patch: StreamPatch, mut removed: Vec<StreamItem>) {
        if patch.reset {
            removed.append(&mut self.items);
        }
        // Removed elements that this patch inserts again are restored, not lost.
        let restorable: Vec<String> = removed
            .into_iter()
            .map(|item| item.dom_id)
            .filter(|id| patch.inserts.contains_key(id))
            .collect();
        // The elements present when the morph starts are matched by id: they are patched where
        // they stand, and one a limit removed earlier in this patch stays removed.
        let present: Vec<String> = self.ids();
        // The other children the container holds (after the items): the morph appends any that
        // an earlier patch's leading limit trimmed.
        let mut others = patch.others;
        for entry in patch.entries {
            if present.contains(&entry.dom_id) {
                if let Some(existing) = self.items.iter_mut().find(|i| i.dom_id == entry.dom_id) {
                    *existing = entry;
                }
                continue;
            }
            let Some(&(at, limit, update_only)) = patch.inserts.get(&entry.dom_id) else {
                // Not a stream insert: appended as a plain child.
                self.items.push(entry);
                continue;
            };
            if update_only && !restorable.contains(&entry.dom_id) {
                continue;
            }
            let len = self.items.len();
            let index = match at {
                0 => 0,
                n if n > 0 => usize::try_from(n).map_or(len, |n| n.min(len)),
                _ => len,
            };
            self.items.insert(index, entry);
            if let Some(limit) = limit {
                self.trim(limit, &mut others);
            }
        }
    }

    /// Keeps the first `limit` children (`limit >= 0`) or the last `-limit`, counting the
    /// `others` that follow the items.
    fn trim(&mut self, limit: i64, others: &mut usize) {
        let len = self.items.len();
        let total = len.saturating_add(*others);
        if limit < 0 {
            let keep = usize::try_from(limit.unsigned_abs()).unwrap_or(usize::MAX);
            if total > keep {
                self.items.drain(..(total - keep).min(len));
            }
        } else {
            let keep = usize::try_from(limit).unwrap_or(usize::MAX);
            if total > keep {
                *others = keep.saturating_sub(len);
                self.items.truncate(keep);
            }
        }
    }
}

/// The `id` attribute of the first element in `html`, unescaped (`None` without one).
pub fn first_element_id(html: &str) -> Option<String> {
    let start = html.find('<')?;
    let rest = &html[start + 1..];
    let end = tag_end(rest)?;
    let tag = &rest[..end];
    let mut search = 0;
    while let Some(found) = tag[search..].find("id=") {
        let at = search + found;
        let before = tag[..at].chars().last();
        search = at + 3;
        if !before.is_some_and(char::is_whitespace) {
            continue;
        }
        let value = &tag[search..];
        let (quote, value) = match value.chars().next() {
            Some(q @ ('"' | '\'')) => (Some(q), &value[1..]),
            _ => (None, value),
        };
        let end = match quote {
            Some(q) => value.find(q)?,
            None => value
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .unwrap_or(value.len()),
        };
        return Some(unescape(&value[..end]));
    }
    None
}

/// How many element children with an id the element enclosing `marker` in `html` has, the
/// marker aside (the client drops children without an id from a stream container). `0` when
/// the marker is missing.
pub fn other_children(html: &str, marker: &str) -> usize {
    let Some(at) = html.find(marker) else {
        return 0;
    };
    // The open elements at the marker: the innermost one is the stream's container.
    let mut open: Vec<(String, usize)> = Vec::new();
    for tag in tags(&html[..at]) {
        match tag {
            Tag::Start { name, end, .. } => open.push((name, end)),
            Tag::End { name } => {
                if let Some(index) = open.iter().rposition(|(n, _)| *n == name) {
                    open.truncate(index);
                }
            }
        }
    }
    let Some(&(_, start)) = open.last() else {
        return 0;
    };
    let inside = &html[start..];
    let mut depth = 0usize;
    let mut count = 0;
    for tag in tags(inside) {
        match tag {
            Tag::Start { at, end, .. } => {
                if depth == 0 && first_element_id(&inside[at..end]).is_some() {
                    count += 1;
                }
                depth += 1;
            }
            Tag::End { .. } if depth == 0 => break,
            Tag::End { .. } => depth -= 1,
        }
    }
    count
}

/// A start tag (`at` where it begins, `end` just past its `>`) or an end tag.
enum Tag {
    Start { name: String, at: usize, end: usize },
    End { name: String },
}

/// The tags of `html` that open or close an element, in order (comments, doctypes, void
/// elements and the text of `script`/`style`/`textarea`/`title` skipped; a void or self-closed
/// element comes as a start tag immediately followed by its end tag).
fn tags(html: &str) -> Vec<Tag> {
    const VOID: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr",
    ];
    const RAW: &[&str] = &["script", "style", "textarea", "title"];
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(found) = html[i..].find('<') {
        let at = i + found;
        let rest = &html[at + 1..];
        if rest.starts_with("!--") {
            i = rest.find("-->").map_or(html.len(), |e| at + 1 + e + 3);
            continue;
        }
        let (closing, body) = match rest.strip_prefix('/') {
            Some(body) => (true, body),
            None => (false, rest),
        };
        let name: String = body
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() || !body.starts_with(|c: char| c.is_ascii_alphabetic()) {
            i = at + 1;
            continue;
        }
        let Some(close) = tag_end(rest) else {
            break;
        };
        let end = at + 1 + close + 1;
        if closing {
            out.push(Tag::End { name });
            i = end;
            continue;
        }
        let self_closed = rest[..close].trim_end().ends_with('/');
        if VOID.contains(&name.as_str()) || self_closed {
            out.push(Tag::Start {
                name: name.clone(),
                at,
                end,
            });
            out.push(Tag::End { name });
            i = end;
            continue;
        }
        if RAW.contains(&name.as_str()) {
            let close_tag = format!("</{name}");
            i = html[end..]
                .to_ascii_lowercase()
                .find(&close_tag)
                .map_or(html.len(), |e| end + e);
            out.push(Tag::Start { name, at, end });
            continue;
        }
        out.push(Tag::Start { name, at, end });
        i = end;
    }
    out
}

/// The index of the `>` closing the start tag at the beginning of `rest` (quotes respected).
fn tag_end(rest: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str) -> StreamItem {
        StreamItem {
            dom_id: id.into(),
            statics: Vec::new(),
            entry: Map::new(),
        }
    }

    fn patch(
        inserts: &[(&str, i64, Option<i64>, bool)],
        deletes: &[&str],
        reset: bool,
    ) -> StreamPatch {
        StreamPatch {
            stream_ref: "0".into(),
            inserts: inserts
                .iter()
                .map(|(id, at, limit, only)| ((*id).to_string(), (*at, *limit, *only)))
                .collect(),
            deletes: deletes.iter().map(|d| (*d).to_string()).collect(),
            reset,
            entries: inserts.iter().map(|(id, ..)| item(id)).collect(),
            others: 0,
        }
    }

    fn apply(children: &mut StreamChildren, p: StreamPatch) {
        let removed = p
            .deletes
            .iter()
            .filter_map(|d| children.remove(d))
            .collect();
        children.apply(p, removed);
    }

    #[test]
    fn inserts_at_both_ends_and_at_an_index() {
        let mut c = StreamChildren::default();
        apply(
            &mut c,
            patch(
                &[("a", -1, None, false), ("b", -1, None, false)],
                &[],
                false,
            ),
        );
        apply(
            &mut c,
            patch(&[("c", 0, None, false), ("d", 0, None, false)], &[], false),
        );
        assert_eq!(c.ids(), ["d", "c", "a", "b"]);
        apply(
            &mut c,
            patch(&[("e", 2, None, false), ("f", 99, None, false)], &[], false),
        );
        assert_eq!(c.ids(), ["d", "c", "e", "a", "b", "f"]);
        // An element the client has is updated in place, whatever its `at`.
        apply(&mut c, patch(&[("a", 0, None, false)], &[], false));
        assert_eq!(c.ids(), ["d", "c", "e", "a", "b", "f"]);
    }

    #[test]
    fn limits_trim_the_other_end_and_deletes_and_resets_remove_first() {
        let mut c = StreamChildren::default();
        apply(
            &mut c,
            patch(
                &[
                    ("a", -1, Some(-2), false),
                    ("b", -1, Some(-2), false),
                    ("c", -1, Some(-2), false),
                ],
                &[],
                false,
            ),
        );
        assert_eq!(c.ids(), ["b", "c"]);
        apply(&mut c, patch(&[("z", 0, Some(2), false)], &[], false));
        assert_eq!(c.ids(), ["z", "b"]);
        apply(&mut c, patch(&[], &["z"], false));
        assert_eq!(c.ids(), ["b"]);
        // Deleted then inserted again in one patch: back, as a new element.
        apply(
            &mut c,
            patch(
                &[("x", -1, None, false), ("b", 0, None, false)],
                &["b"],
                false,
            ),
        );
        assert_eq!(c.ids(), ["b", "x"]);
        apply(
            &mut c,
            patch(
                &[
                    ("m", -1, None, false),
                    ("x", -1, None, true),
                    ("q", -1, None, true),
                ],
                &[],
                true,
            ),
        );
        assert_eq!(
            c.ids(),
            ["m", "x"],
            "update_only restores only what the reset removed"
        );
    }

    #[test]
    fn an_element_trimmed_by_a_limit_is_not_brought_back_by_its_own_entry() {
        let mut c = StreamChildren::default();
        let three = [
            ("a", -1, None, false),
            ("b", -1, None, false),
            ("c", -1, None, false),
        ];
        apply(&mut c, patch(&three, &[], false));
        apply(
            &mut c,
            patch(
                &[("z", 0, Some(2), false), ("c", -1, None, false)],
                &[],
                false,
            ),
        );
        assert_eq!(c.ids(), ["z", "a"]);
    }

    #[test]
    fn other_children_count_against_limits_and_a_leading_limit_trims_them_first() {
        let mut c = StreamChildren::default();
        let with_empty_state = |c: &mut StreamChildren, p: StreamPatch| {
            apply(c, StreamPatch { others: 1, ..p });
        };
        let append = [
            ("a", -1, Some(-3), false),
            ("b", -1, Some(-3), false),
            ("c", -1, Some(-3), false),
        ];
        with_empty_state(&mut c, patch(&append, &[], false));
        assert_eq!(c.ids(), ["b", "c"], "the empty state is the third child");
        // [z, b, c, empty]: a leading limit of 3 drops the empty state, then nothing else.
        with_empty_state(&mut c, patch(&[("z", 0, Some(3), false)], &[], false));
        assert_eq!(c.ids(), ["z", "b", "c"]);
        with_empty_state(
            &mut c,
            patch(
                &[("y", 0, Some(3), false), ("x", 0, Some(3), false)],
                &[],
                false,
            ),
        );
        assert_eq!(c.ids(), ["x", "y", "z"]);
    }

    #[test]
    fn counts_the_containers_other_children_with_an_id() {
        let marker = "\u{1}stream 0\u{1}";
        let html = format!(
            "<div id=\"a\"><ul id=\"posts\" phx-update=\"stream\">\n  \
             <li id=\"posts-empty\" class=\"only:block hidden\"><b id=\"x\">No</b><br></li>\n  \
             {marker}<li>no id</li><!-- <li id=\"c\"> --><img id=\"i\"></ul><p id=\"after\"></p></div>"
        );
        assert_eq!(other_children(&html, marker), 2);
        assert_eq!(
            other_children(&format!("<ul id=\"p\">{marker}</ul>"), marker),
            0
        );
        assert_eq!(other_children("<ul></ul>", marker), 0);
    }

    #[test]
    fn finds_the_first_elements_id() {
        assert_eq!(
            first_element_id(" <li class=\"a>b\" id=\"posts-1\">x</li>").as_deref(),
            Some("posts-1")
        );
        assert_eq!(
            first_element_id("<tr data-id=\"no\" id='r&amp;1'>").as_deref(),
            Some("r&1")
        );
        assert_eq!(first_element_id("<li>no id</li>"), None);
    }
}
