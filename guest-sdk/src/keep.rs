//! Per-entry change tracking for keyed comprehensions (`:for` with `:key`).
//!
//! When a keyed comprehension is re-rendered, an entry whose key was rendered last time, whose
//! loop item has the same [`Fingerprint`] and whose template reads no assign that changed is
//! sent as unchanged **without evaluating its template**: the host fills it from the tree it
//! keeps, by key. Item types without a fingerprint still work; their entries are always
//! evaluated.
//!
//! The guest and the host must agree on what the host holds. The guest keeps a *shadow* of the
//! host's tree of the view (templates and comprehensions outside comprehension entries, updated
//! with the same rules the host's diff engine applies), and each tracked comprehension's keys and
//! fingerprints. A comprehension is looked up by its site (its place in the source): only a site
//! that appears once in the shadow, evaluated once in a render and outside any comprehension
//! entry, uses what was kept. Before a render leaves the guest it is checked against the shadow:
//! a comprehension that kept entries must land exactly where its memo lives. If it does not
//! (the same site moved in the tree, or landed inside an entry), the view renders again with
//! nothing kept, so the host never has to fill an entry it does not hold. A new instance (first
//! render, rejoin after a crash) starts with an empty shadow and renders everything; streams and
//! live components never keep entries.
//!
//! The same check guards change tracking across templates: a dynamic may choose between
//! templates (`if @editing { html!(…) } else { html!(…) }`, a `match`, a helper returning one of
//! several templates), and a template rendered where the host holds another one (or nothing)
//! must be complete, because the host has no previous value for its unchanged slots. The shadow
//! records every node's template, so a node that carries an unchanged slot (at any depth) where
//! the host holds another template fails the check. Inside comprehension entries the shadow
//! does not reach, so a nested template carrying an unchanged slot there fails it too. A failed
//! check renders the view again with every assign marked changed (the host's diff still sends
//! only what differs). Live components keep a shadow of their own, by component id.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::rc::Rc;

use crate::render::{Dyn, Entry, List, Rendered, Template, Tracking};

/// A value whose rendering depends only on what it feeds to [`Fingerprint::fingerprint`]: two
/// values with the same fingerprint render the same. Loop items of a keyed `:for` whose type
/// implements it are compared by fingerprint between renders, and an unchanged entry is not
/// evaluated again.
///
/// `#[derive(Fingerprint)]` feeds every field of a struct (through the fields' `Hash`); it is
/// implemented for primitives, strings, references, `Option`, `Vec`, slices, `Box` and tuples.
/// A hand-written implementation must feed everything the template may read.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// #[derive(Clone, PartialEq, Fingerprint)]
/// pub struct Row {
///     id: u32,
///     name: String,
/// }
///
/// #[derive(Assigns, Default)]
/// pub struct Users {
///     rows: Vec<Row>,
/// }
///
/// // In a view's render: with `:key`, a row whose fingerprint did not change is not rendered
/// // again, so changing one row of a long table renders one row.
/// fn render(assigns: &Tracked<'_, Users>) -> Rendered {
///     html!(r#"<table><tr :for={row in @rows.iter()} :key={row.id}><td>{row.name}</td></tr></table>"#)
/// }
///
/// let users = Users { rows: vec![Row { id: 1, name: "Ada".into() }] };
/// assert_eq!(render(&Tracked::all(&users)).to_html(), "<table><tr><td>Ada</td></tr></table>");
/// ```
pub trait Fingerprint {
    /// Feeds the value to `state`.
    fn fingerprint<H: Hasher>(&self, state: &mut H);
}

macro_rules! fingerprint_by_hash {
    ($($t:ty),*) => {$(
        impl Fingerprint for $t {
            fn fingerprint<H: Hasher>(&self, state: &mut H) {
                self.hash(state);
            }
        }
    )*};
}

fingerprint_by_hash!(
    bool,
    char,
    str,
    String,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    ()
);

impl Fingerprint for f32 {
    fn fingerprint<H: Hasher>(&self, state: &mut H) {
        self.to_bits().hash(state);
    }
}

impl Fingerprint for f64 {
    fn fingerprint<H: Hasher>(&self, state: &mut H) {
        self.to_bits().hash(state);
    }
}

impl<T: Fingerprint + ?Sized> Fingerprint for &T {
    fn fingerprint<H: Hasher>(&self, state: &mut H) {
        (**self).fingerprint(state);
    }
}

impl<T: Fingerprint + ?Sized> Fingerprint for &mut T {
    fn fingerprint<H: Hasher>(&self, state: &mut H) {
        (**self).fingerprint(state);
    }
}

impl<T: Fingerprint + ?Sized> Fingerprint for Box<T> {
    fn fingerprint<H: Hasher>(&self, state: &mut H) {
        (**self).fingerprint(state);
    }
}

impl<T: Fingerprint> Fingerprint for Option<T> {
    fn fingerprint<H: Hasher>(&self, state: &mut H) {
        match self {
            Some(value) => {
                state.write_u8(1);
                value.fingerprint(state);
            }
            None => state.write_u8(0),
        }
    }
}

impl<T: Fingerprint> Fingerprint for [T] {
    fn fingerprint<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.len());
        for item in self {
            item.fingerprint(state);
        }
    }
}

impl<T: Fingerprint> Fingerprint for Vec<T> {
    fn fingerprint<H: Hasher>(&self, state: &mut H) {
        self.as_slice().fingerprint(state);
    }
}

macro_rules! fingerprint_tuple {
    ($($name:ident),+) => {
        impl<$($name: Fingerprint),+> Fingerprint for ($($name,)+) {
            #[allow(non_snake_case)]
            fn fingerprint<HS: Hasher>(&self, state: &mut HS) {
                let ($($name,)+) = self;
                $($name.fingerprint(state);)+
            }
        }
    };
}

fingerprint_tuple!(A);
fingerprint_tuple!(A, B);
fingerprint_tuple!(A, B, C);
fingerprint_tuple!(A, B, C, D);

/// A loop item, asked for its fingerprint (used by `html!`): [`__FpSome`] when the item is
/// [`Fingerprint`], else [`__FpNone`] (autoref specialization).
#[doc(hidden)]
pub struct __Fp<'a, T: ?Sized>(pub &'a T);

/// The fingerprint of a [`Fingerprint`] item.
#[doc(hidden)]
pub trait __FpSome {
    /// The item's fingerprint.
    fn __lw_fp(&self) -> Option<u64>;
}

impl<T: Fingerprint + ?Sized> __FpSome for __Fp<'_, T> {
    fn __lw_fp(&self) -> Option<u64> {
        let mut state = DefaultHasher::new();
        self.0.fingerprint(&mut state);
        Some(state.finish())
    }
}

/// No fingerprint: the item's entry is always evaluated.
#[doc(hidden)]
pub trait __FpNone {
    /// Nothing.
    fn __lw_fp(&self) -> Option<u64>;
}

impl<T: ?Sized> __FpNone for &__Fp<'_, T> {
    fn __lw_fp(&self) -> Option<u64> {
        None
    }
}

/// True when none of the assigns an entry template reads changed (used by `html!`). A mask
/// holding every bit names an assign the view does not track (`@flash`): never unchanged.
#[doc(hidden)]
pub fn __outer_unchanged(changed: u128, mask: u128) -> bool {
    mask != u128::MAX && changed & mask == 0
}

/// What a tracked comprehension rendered last time: keys (rendered once) and fingerprints.
struct Memo {
    serial: u64,
    site: u64,
    /// Key → (fingerprint, the render that last kept it).
    keys: HashMap<String, (u64, Cell<u64>)>,
}

/// What the host holds, outside comprehension entries.
#[derive(Clone)]
enum Shadow {
    /// Text or a component.
    Leaf,
    /// A comprehension without entries (sent as `""`).
    EmptyList,
    /// A node of a template (its id), with its slots.
    Node(Rc<(u64, Vec<Shadow>)>),
    /// A tracked comprehension.
    List(Rc<Memo>),
}

#[derive(Default)]
struct State {
    /// True while the view's `render` runs (not layouts, not live components).
    enabled: bool,
    /// True while rendering again after a failed check: nothing is kept.
    no_keep: bool,
    /// How many comprehension entries are being evaluated (nested sites are not tracked).
    depth: u32,
    /// The current render.
    generation: u64,
    /// Sites evaluated in this render.
    used: HashSet<u64>,
    /// Comprehensions that kept entries in this render.
    kept_lists: usize,
    /// The shadow of the host's tree after the last render.
    shadow: Option<Shadow>,
    /// Sites that appear once in the shadow, with their memo.
    index: HashMap<u64, Rc<Memo>>,
    /// The shadow of each live component's tree after its last render, by component id.
    components: HashMap<u32, Shadow>,
    next_serial: u64,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Starts the view's render; `retry` after a failed check keeps nothing.
pub(crate) fn begin_render(retry: bool) {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.enabled = true;
        s.no_keep = retry;
        s.depth = 0;
        s.generation += 1;
        s.used.clear();
        s.kept_lists = 0;
    });
}

/// Ends the view's render (layouts and live components render untracked).
pub(crate) fn end_render() {
    STATE.with(|s| s.borrow_mut().enabled = false);
}

/// Forgets the shadow: the next render keeps nothing (a new view mounted in this instance).
pub(crate) fn reset() {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.shadow = None;
        s.index.clear();
        s.components.clear();
    });
}

/// Forgets the shadows of live components the client removed.
pub(crate) fn forget_components(cids: &[u32]) {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        for cid in cids {
            s.components.remove(cid);
        }
    });
}

/// Checks live component `cid`'s render against the shadow of what the host holds for it and,
/// when it fits, makes it the new shadow. Returns false (and changes nothing) when a template
/// carries an unchanged slot the host could not fill: the component must render again with
/// every assign marked changed.
pub(crate) fn commit_component(cid: u32, root: &mut Rendered) -> bool {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let prev = s.components.remove(&cid);
        let mut check = Check {
            verified: 0,
            ok: true,
            serial: s.next_serial,
        };
        let shadow = merge_node(root, prev.as_ref(), &mut check);
        // Components never keep entries: nothing to verify beyond completeness.
        if !check.ok {
            if let Some(prev) = prev {
                s.components.insert(cid, prev);
            }
            return false;
        }
        s.next_serial = check.serial;
        s.components.insert(cid, shadow);
        true
    })
}

/// Marks the evaluation of comprehension entries; dropped when they are done.
#[doc(hidden)]
pub struct __EntriesScope(());

impl __EntriesScope {
    /// Enters a comprehension's entries.
    pub fn enter() -> __EntriesScope {
        STATE.with(|s| s.borrow_mut().depth += 1);
        __EntriesScope(())
    }
}

impl Drop for __EntriesScope {
    fn drop(&mut self) {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            s.depth = s.depth.saturating_sub(1);
        });
    }
}

/// One keyed comprehension being evaluated (used by `html!`).
#[doc(hidden)]
pub struct __Keep {
    site: u64,
    tracked: bool,
    memo: Option<Rc<Memo>>,
    generation: u64,
    kept: usize,
}

impl __Keep {
    /// Starts keyed comprehension `site`; `eligible` when it is no stream and the assigns its
    /// entries read did not change.
    pub fn begin(site: u64, eligible: bool) -> __Keep {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            let tracked = s.enabled && s.depth == 0;
            // Only the first evaluation of a site may use its memo.
            let first = tracked && s.used.insert(site);
            let memo = if first && eligible && !s.no_keep {
                s.index.get(&site).cloned()
            } else {
                None
            };
            __Keep {
                site,
                tracked,
                memo,
                generation: s.generation,
                kept: 0,
            }
        })
    }

    /// True when the entry of `key` with item fingerprint `fingerprint` can be sent unchanged
    /// without evaluating it (each key at most once per render).
    pub fn keeps(&mut self, key: &Option<String>, fingerprint: Option<u64>) -> bool {
        let (Some(memo), Some(key), Some(fingerprint)) = (&self.memo, key, fingerprint) else {
            return false;
        };
        // The host gives a key's kept entry to the key's first entry of this render only.
        let Some((before, used)) = memo.keys.get(key) else {
            return false;
        };
        let first = used.replace(self.generation) != self.generation;
        if first && *before == fingerprint {
            self.kept += 1;
            true
        } else {
            false
        }
    }

    /// The comprehension.
    pub fn finish(
        self,
        template: &'static Template,
        entries: Vec<Entry>,
        stream: Option<crate::StreamOps>,
    ) -> Dyn {
        if self.kept > 0 {
            STATE.with(|s| s.borrow_mut().kept_lists += 1);
        }
        Dyn::List(List {
            template,
            entries,
            stream,
            tracking: self.tracked.then(|| Tracking {
                site: self.site,
                memo: self.memo.as_ref().map(|m| m.serial),
                kept: self.kept,
            }),
        })
    }
}

/// Checks the view's render against the shadow of the host's tree and, when it fits, makes it
/// the new shadow. Also sends an empty comprehension that was empty before as unchanged.
/// Returns false (and changes nothing) when a comprehension kept entries the host would not
/// find, or a template carries an unchanged slot where the host holds another template or
/// nothing: the view must render again fully, with [`begin_render`]`(true)`.
pub(crate) fn commit(root: &mut Rendered) -> bool {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let prev = s.shadow.take();
        let mut check = Check {
            verified: 0,
            ok: true,
            serial: s.next_serial,
        };
        let shadow = merge_node(root, prev.as_ref(), &mut check);
        if !check.ok || check.verified != s.kept_lists {
            s.shadow = prev;
            return false;
        }
        s.next_serial = check.serial;
        let mut sites: HashMap<u64, Option<Rc<Memo>>> = HashMap::new();
        collect_sites(&shadow, &mut sites);
        s.index = sites
            .into_iter()
            .filter_map(|(site, memo)| memo.map(|m| (site, m)))
            .collect();
        s.shadow = Some(shadow);
        true
    })
}

struct Check {
    /// Comprehensions whose kept entries land where their memo is.
    verified: usize,
    ok: bool,
    serial: u64,
}

fn merge_node(node: &mut Rendered, prev: Option<&Shadow>, check: &mut Check) -> Shadow {
    let id = node.template.id;
    let before: &[Shadow] = match prev {
        Some(Shadow::Node(rc)) if rc.0 == id => &rc.1,
        _ => {
            // The host holds another template here, or nothing: it diffs this node against
            // nothing, so every slot must carry its value.
            if !complete(&node.dynamics) {
                check.ok = false;
            }
            &[]
        }
    };
    let slots: Vec<Shadow> = node
        .dynamics
        .iter_mut()
        .enumerate()
        .map(|(i, d)| merge_dyn(d, before.get(i), check))
        .collect();
    Shadow::Node(Rc::new((id, slots)))
}

/// True when no dynamic is unchanged, at any depth (nested templates, comprehension entries;
/// an entry kept by key counts as unchanged).
fn complete(dynamics: &[Dyn]) -> bool {
    dynamics.iter().all(|d| match d {
        Dyn::Unchanged => false,
        Dyn::Html(_) | Dyn::Component(_) => true,
        Dyn::Node(node) => complete(&node.dynamics),
        Dyn::List(list) => list
            .entries
            .iter()
            .all(|e| !e.kept && complete(&e.dynamics)),
    })
}

/// True when the host can fill every unchanged dynamic of comprehension entries: the guest
/// does not know which entry the host pairs with which, so only entries kept by key (checked
/// against their memo) may leave anything unchanged, and nested templates must be complete.
fn entries_fillable(list: &List) -> bool {
    list.entries
        .iter()
        .all(|entry| entry.kept || complete(&entry.dynamics))
}

fn merge_dyn(dynamic: &mut Dyn, prev: Option<&Shadow>, check: &mut Check) -> Shadow {
    match dynamic {
        Dyn::Unchanged => prev.cloned().unwrap_or(Shadow::Leaf),
        Dyn::Html(_) | Dyn::Component(_) => Shadow::Leaf,
        Dyn::Node(node) => merge_node(node, prev, check),
        Dyn::List(list) => {
            if !entries_fillable(list) {
                check.ok = false;
            }
            if let Some(tracking) = &list.tracking
                && tracking.kept > 0
            {
                match prev {
                    Some(Shadow::List(memo)) if Some(memo.serial) == tracking.memo => {
                        check.verified += 1;
                    }
                    _ => check.ok = false,
                }
            }
            if list.stream.is_some() {
                return Shadow::Leaf;
            }
            if list.entries.is_empty() {
                // The client already shows nothing here: do not send `""` again.
                if matches!(prev, Some(Shadow::EmptyList)) {
                    *dynamic = Dyn::Unchanged;
                }
                return Shadow::EmptyList;
            }
            let Some(site) = list.tracking.as_ref().map(|t| t.site) else {
                return Shadow::Leaf;
            };
            check.serial += 1;
            Shadow::List(Rc::new(memo_of(check.serial, site, list)))
        }
    }
}

/// The keys rendered once, with their fingerprints.
fn memo_of(serial: u64, site: u64, list: &List) -> Memo {
    let mut keys: HashMap<String, (u64, Cell<u64>)> = HashMap::with_capacity(list.entries.len());
    let mut duplicates: HashSet<&str> = HashSet::new();
    for entry in &list.entries {
        let Some(key) = entry.key.as_deref() else {
            continue;
        };
        if duplicates.contains(key) {
            continue;
        }
        if keys.remove(key).is_some() {
            duplicates.insert(key);
            continue;
        }
        match entry.fingerprint {
            Some(fingerprint) => {
                keys.insert(key.to_string(), (fingerprint, Cell::new(0)));
            }
            // Remembered without a fingerprint so that a later duplicate is still noticed.
            None => {
                duplicates.insert(key);
            }
        }
    }
    Memo { serial, site, keys }
}

fn collect_sites(shadow: &Shadow, sites: &mut HashMap<u64, Option<Rc<Memo>>>) {
    match shadow {
        Shadow::Leaf | Shadow::EmptyList => {}
        Shadow::Node(node) => {
            for slot in &node.1 {
                collect_sites(slot, sites);
            }
        }
        Shadow::List(memo) => {
            sites
                .entry(memo.site)
                .and_modify(|seen| *seen = None)
                .or_insert_with(|| Some(memo.clone()));
        }
    }
}
