//! What the official client's DOM patch does with a stream's children (`phx-update="stream"`),
//! modelled on the stream's items alone: deletes and a reset remove elements first, then each
//! inserted entry in order either updates the element with its id in place or is added at its
//! `at` position (`-1` end, `0` start, `n` index `n`) and, when it has a `limit`, trims the
//! children from the other end (an element present before the patch and trimmed that way is not
//! brought back by its own entry later in the patch). `update_only` entries are added only if
//! their element was removed by this same patch's deletes or reset (the client restores it).
//! The stream's container is assumed to exist before the patch (as after a dead render) and
//! to hold nothing but the stream's items.

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
                self.trim(limit);
            }
        }
    }

    /// Keeps the first `limit` children (`limit >= 0`) or the last `-limit`.
    fn trim(&mut self, limit: i64) {
        let len = self.items.len();
        if limit < 0 {
            let keep = usize::try_from(limit.unsigned_abs()).unwrap_or(usize::MAX);
            if len > keep {
                self.items.drain(..len - keep);
            }
        } else {
            let keep = usize::try_from(limit).unwrap_or(usize::MAX);
            self.items.truncate(keep);
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
