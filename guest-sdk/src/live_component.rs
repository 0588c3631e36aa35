//! Live components: stateful parts of a view with their own assigns, events and render
//! (Phoenix's `LiveComponent`).
//!
//! A component is placed in a template with `<.live_component module={UserRow} id="user-1" …/>`
//! (or `{live_component::<UserRow>("user-1", props)}`).
//! The first time a `(type, id)` pair renders it is mounted and gets a component id (cid); every
//! time the parent renders that spot again its [`LiveComponent::update`] receives the new props.
//! Its state lives in the guest instance until the client reports the component gone
//! (`cids_destroyed`). Events from elements with `phx-target={@myself}` go to its
//! [`LiveComponent::handle_event`]; [`send_update`] changes it from the parent.
//!
//! ```
//! use livewasm_sdk::prelude::*;
//! use livewasm_sdk::Dyn;
//!
//! /// A star rating with its own state; tells the parent when it changes.
//! #[derive(Assigns, Default)]
//! pub struct Rating {
//!     label: String,
//!     stars: u8,
//! }
//!
//! impl LiveComponent for Rating {
//!     type Props = String; // the label
//!
//!     fn update(socket: &mut ComponentSocket<Self>, label: String) -> Result {
//!         assign!(socket, label = label);
//!         Ok(())
//!     }
//!
//!     fn handle_event(socket: &mut ComponentSocket<Self>, event: &str, value: &Value) -> Result {
//!         if event == "rate" {
//!             let stars = value["stars"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
//!             assign!(socket, stars = stars);
//!             let id = socket.id().to_string();
//!             socket.send_parent(json!({"rated": id, "stars": stars}));
//!         }
//!         Ok(())
//!     }
//!
//!     // Exactly one root element; `phx-target={@myself}` sends its events here.
//!     fn render(assigns: &Tracked<'_, Self>) -> Rendered {
//!         html!(r#"<div class="rating">{@label}: {@stars}/5 <button phx-click="rate" phx-value-stars="5" phx-target={@myself}>5 stars</button></div>"#)
//!     }
//! }
//!
//! #[derive(Assigns, Default)]
//! pub struct Product {
//!     name: String,
//! }
//!
//! impl LiveView for Product {
//!     fn mount(socket: &mut Socket<Self>, _: &Params, _: &Session) -> Result {
//!         assign!(socket, name = "Teapot".to_string());
//!         Ok(())
//!     }
//!
//!     // Messages from `send_parent` arrive here.
//!     fn handle_info(socket: &mut Socket<Self>, message: &Value) -> Result {
//!         if let Some(stars) = message["stars"].as_u64() {
//!             socket.put_flash("info", format!("Thanks for the {stars} stars!"));
//!         }
//!         Ok(())
//!     }
//!
//!     fn render(assigns: &Tracked<'_, Self>) -> Rendered {
//!         html!(r#"<main><.live_component module={Rating} id="rating" props={format!("Rate the {}", @name)} /></main>"#)
//!     }
//! }
//!
//! let product = Product { name: "Teapot".into() };
//! let page = Product::render(&Tracked::all(&product));
//! // The parent holds the component's spot; the component renders on its own.
//! assert!(matches!(page.dynamics.as_slice(), [Dyn::Component(_)]));
//! ```

use std::any::{Any, TypeId, type_name};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::{Deref, DerefMut};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::html::{AttrValue, ToHtml};
use crate::render::{Dyn, ToDyn};
use crate::{Assigns, Rendered, Result, Socket, Tracked};

/// A stateful component living inside a view; its struct holds its assigns.
pub trait LiveComponent: Assigns + Default + 'static {
    /// What the parent passes each time it renders the component (and what [`send_update`]
    /// sends): a struct of attributes, or an enum of kinds of updates.
    type Props: 'static;

    /// Called once, when the component first renders (before the first [`Self::update`]).
    fn mount(socket: &mut ComponentSocket<Self>) -> Result {
        let _ = socket;
        Ok(())
    }

    /// Called with the parent's props on every render of its spot, and with [`send_update`]'s.
    fn update(socket: &mut ComponentSocket<Self>, props: Self::Props) -> Result;

    /// Called instead of [`Self::update`] with every component of this type the parent's
    /// render placed, together (Phoenix's `update_many`): load what they all need in one go
    /// rather than once per component. By default, `update` for each in turn.
    fn update_many(batch: Vec<(&mut ComponentSocket<Self>, Self::Props)>) -> Result {
        for (socket, props) in batch {
            Self::update(socket, props)?;
        }
        Ok(())
    }

    /// An event from an element with `phx-target={@myself}`.
    fn handle_event(socket: &mut ComponentSocket<Self>, event: &str, value: &Value) -> Result {
        let _ = (socket, value);
        Err(format!("no handler for event `{event}` in {}", type_name::<Self>()).into())
    }

    /// An entry of one of the component's own uploads (`allow_upload` on its socket) made
    /// progress: Phoenix's `progress:` callback of a component's upload. Does nothing by
    /// default.
    fn handle_progress(
        socket: &mut ComponentSocket<Self>,
        name: &str,
        entry: &crate::components::UploadEntry,
    ) -> Result {
        let _ = (socket, name, entry);
        Ok(())
    }

    /// The outcome of a task this component started with [`ComponentSocket::start_async`]
    /// under `name` (Phoenix's `handle_async/3` on a live component: the result goes to the
    /// component that started it, never to the parent view). A component removed meanwhile
    /// never hears of it.
    fn handle_async(
        socket: &mut ComponentSocket<Self>,
        name: &str,
        outcome: crate::AsyncOutcome,
    ) -> Result {
        let _ = (socket, outcome);
        Err(format!(
            "no handle_async for task `{name}` in {}",
            type_name::<Self>()
        )
        .into())
    }

    /// Renders the component: its template must be exactly one HTML element.
    fn render(assigns: &Tracked<'_, Self>) -> Rendered;
}

/// A component's own target, for `phx-target={@myself}`: its cid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Myself(pub u32);

impl ToHtml for Myself {
    fn write_html(&self, out: &mut String) {
        self.0.write_html(out);
    }
}

impl AttrValue for Myself {
    fn write_attr(&self, name: &str, out: &mut String) {
        self.0.write_attr(name, out);
    }
}

/// A component's socket: a [`Socket`] (assigns, `assign!`, `push_event` …) plus its identity.
pub struct ComponentSocket<C> {
    socket: Socket<C>,
    cid: u32,
    id: String,
}

impl<C> ComponentSocket<C> {
    /// The component's target for `phx-target` (templates read it as `@myself`).
    pub fn myself(&self) -> Myself {
        Myself(self.cid)
    }

    /// The component's cid.
    pub fn cid(&self) -> u32 {
        self.cid
    }

    /// The `id` the parent gave the component.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Sends `message` to the parent view's `handle_info` (Phoenix's `send(self(), message)`
    /// from a component): right after the current event, or just after the render when sent
    /// from `mount`/`update`.
    pub fn send_parent(&mut self, message: impl Serialize) {
        let message = serde_json::to_value(message).unwrap_or(Value::Null);
        with_registry(|r| r.parent_messages.push(message));
    }
}

impl<C> Deref for ComponentSocket<C> {
    type Target = Socket<C>;

    fn deref(&self) -> &Socket<C> {
        &self.socket
    }
}

impl<C> DerefMut for ComponentSocket<C> {
    fn deref_mut(&mut self) -> &mut Socket<C> {
        &mut self.socket
    }
}

/// What `live_component` returns: a template interpolation of it becomes the component's spot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveComponentRef {
    cid: u32,
}

impl LiveComponentRef {
    /// The component's cid.
    pub fn cid(&self) -> u32 {
        self.cid
    }
}

impl ToDyn for LiveComponentRef {
    fn to_dyn(&self) -> Dyn {
        Dyn::Component(self.cid)
    }
}

/// A component with its type erased.
trait ErasedComponent {
    fn update(&mut self, props: Box<dyn Any>) -> std::result::Result<(), String>;
    fn handle_event(
        &mut self,
        event: &str,
        value: &Value,
    ) -> std::result::Result<Option<Value>, String>;
    /// The outcome of a task the component started (its own name for it, without the cid).
    fn handle_async(
        &mut self,
        name: &str,
        outcome: crate::AsyncOutcome,
    ) -> std::result::Result<(), String>;
    fn render(&mut self) -> Rendered;
    /// Marks every assign changed: the next render evaluates everything.
    fn mark_all_changed(&mut self);
    /// The concrete holder, for [`update_batch`].
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

struct Holder<C: LiveComponent> {
    socket: ComponentSocket<C>,
}

impl<C: LiveComponent> ErasedComponent for Holder<C> {
    fn update(&mut self, props: Box<dyn Any>) -> std::result::Result<(), String> {
        let props = props
            .downcast::<C::Props>()
            .map_err(|_| format!("props of the wrong type for {}", type_name::<C>()))?;
        let result = C::update(&mut self.socket, *props).map_err(|e| e.to_string());
        self.flush_navigation();
        result
    }

    fn handle_event(
        &mut self,
        event: &str,
        value: &Value,
    ) -> std::result::Result<Option<Value>, String> {
        // The host's built-in upload events for the component's own uploads.
        if let Some(result) =
            crate::upload::handle_component_host_event(&mut self.socket, event, value)
        {
            self.flush_navigation();
            return result;
        }
        // Hooks attached with `attach_hook(.., Hook::HandleEvent(..))` run first; the first
        // that halts handles the event (Phoenix's component `:handle_event` hooks).
        let result = match self.socket.socket.run_event_hooks(event, value) {
            Ok(crate::HookResult::Halt) => Ok(()),
            Ok(crate::HookResult::Cont) => C::handle_event(&mut self.socket, event, value),
            Err(e) => Err(e),
        }
        .map_err(|e| e.to_string());
        self.flush_navigation();
        result?;
        Ok(self.socket.socket.__take_reply())
    }

    fn handle_async(
        &mut self,
        name: &str,
        outcome: crate::AsyncOutcome,
    ) -> std::result::Result<(), String> {
        let full = crate::component_lifecycle::task_name(self.socket.cid, name);
        let result = match crate::async_ops::take_assign_handler::<C>(&full) {
            Some(set) => {
                set(&mut self.socket.socket, outcome);
                Ok(())
            }
            None => C::handle_async(&mut self.socket, name, outcome).map_err(|e| e.to_string()),
        };
        self.flush_navigation();
        result
    }

    fn render(&mut self) -> Rendered {
        let mut rendered = C::render(&self.socket.socket.__begin_render());
        // A template that replaced another one must be complete; otherwise render again with
        // every assign marked changed (guest-sdk/src/keep.rs).
        if !crate::keep::commit_component(self.socket.cid(), &mut rendered) {
            let streams = rendered.stream_lists();
            self.socket.socket.__mark_changed(u128::MAX);
            rendered = C::render(&self.socket.socket.__begin_render());
            rendered.carry_streams(streams);
            crate::keep::commit_component(self.socket.cid(), &mut rendered);
        }
        // Phoenix's component `:after_render` hooks.
        self.socket.socket.run_after_render_hooks();
        rendered
    }

    fn mark_all_changed(&mut self) {
        self.socket.socket.__mark_changed(u128::MAX);
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl<C: LiveComponent> Holder<C> {
    /// Sends the navigation the component asked for (`push_patch`, `push_navigate`,
    /// `redirect` on its socket, as a Phoenix component may), with the component's flash; it
    /// goes to the view's page as the view's own would.
    fn flush_navigation(&mut self) {
        if let Some(navigation) = self.socket.socket.__take_navigation() {
            navigation.send(self.socket.socket.flash());
        }
    }
}

/// Components of one type with their props, by cid.
type Batch = Vec<(u32, Box<dyn Any>)>;

/// Runs the updates of a batch of components of type `C` through `C::update_many`.
type BatchRunner = fn(Batch);

/// A placement's update, waiting for the parent's render to end.
struct Placed {
    type_id: TypeId,
    cid: u32,
    props: Box<dyn Any>,
    run: BatchRunner,
}

/// `C::update_many` over the components `batch` names, taken out of the registry meanwhile.
fn update_batch<C: LiveComponent>(batch: Batch) {
    let mut cids = Vec::with_capacity(batch.len());
    let mut components = Vec::with_capacity(batch.len());
    let mut props_of = Vec::with_capacity(batch.len());
    for (cid, props) in batch {
        let Ok(props) = props.downcast::<C::Props>() else {
            log_error(&format!("props of the wrong type for {}", type_name::<C>()));
            continue;
        };
        let component = with_registry(|r| r.slots.get_mut(&cid).and_then(|s| s.component.take()));
        if let Some(component) = component {
            cids.push(cid);
            components.push(component);
            props_of.push(*props);
        }
    }
    let pairs = components
        .iter_mut()
        .zip(props_of)
        .filter_map(|(component, props)| {
            let holder = component.as_any_mut().downcast_mut::<Holder<C>>()?;
            Some((&mut holder.socket, props))
        })
        .collect();
    if let Err(e) = C::update_many(pairs) {
        log_error(&format!("update of {} failed: {e}", type_name::<C>()));
    }
    for component in &mut components {
        if let Some(holder) = component.as_any_mut().downcast_mut::<Holder<C>>() {
            holder.flush_navigation();
        }
    }
    with_registry(|r| {
        for (cid, component) in cids.into_iter().zip(components) {
            if let Some(slot) = r.slots.get_mut(&cid) {
                slot.component = Some(component);
            }
            r.dirty.insert(cid);
        }
    });
}

/// Runs the updates of the components placed since the last call, one `update_many` per
/// component type (in the order the types were first placed); a component placed twice (a
/// render done again) gets its last props.
fn update_placed() {
    let placed = with_registry(|r| std::mem::take(&mut r.placed));
    if placed.is_empty() {
        return;
    }
    let mut last: HashMap<u32, usize> = HashMap::new();
    for (i, p) in placed.iter().enumerate() {
        last.insert(p.cid, i);
    }
    let mut groups: Vec<(TypeId, BatchRunner, Batch)> = Vec::new();
    for (i, p) in placed.into_iter().enumerate() {
        if last.get(&p.cid) != Some(&i) {
            continue;
        }
        match groups.iter_mut().find(|(t, _, _)| *t == p.type_id) {
            Some((_, _, batch)) => batch.push((p.cid, p.props)),
            None => groups.push((p.type_id, p.run, vec![(p.cid, p.props)])),
        }
    }
    for (_, run, batch) in groups {
        run(batch);
    }
}

/// Turns a JSON props value back into a component's props (for [`send_update_after`]).
type Decoder = fn(Value) -> std::result::Result<Box<dyn Any>, String>;

/// One live component: its key and its state (out while one of its callbacks runs).
struct Slot {
    key: (TypeId, String),
    component: Option<Box<dyn ErasedComponent>>,
}

/// Every live component of the instance.
#[derive(Default)]
struct Registry {
    next_cid: u32,
    connected: bool,
    by_key: HashMap<(TypeId, String), u32>,
    slots: BTreeMap<u32, Slot>,
    /// Components whose state may have changed since they last rendered.
    dirty: BTreeSet<u32>,
    /// `send_update`s waiting for the next render.
    pending: Vec<(TypeId, String, Box<dyn Any>)>,
    /// Components placed by the render in progress, whose `update_many` runs after it.
    placed: Vec<Placed>,
    /// Messages from components to the parent's `handle_info`.
    parent_messages: Vec<Value>,
    /// Props decoders of components used with `send_update_after`, by type name.
    decoders: HashMap<&'static str, (TypeId, Decoder)>,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = RefCell::new(Registry::default());
}

/// True when no live component lives (a view with some does not hibernate).
pub(crate) fn none_alive() -> bool {
    REGISTRY.with(|r| {
        let r = r.borrow();
        r.slots.is_empty() && r.pending.is_empty() && r.parent_messages.is_empty()
    })
}

fn with_registry<T>(f: impl FnOnce(&mut Registry) -> T) -> T {
    REGISTRY.with(|r| f(&mut r.borrow_mut()))
}

/// The key of a timer message carrying a delayed `send_update`.
const DELAYED_UPDATE: &str = "$livewasm_send_update";

fn log_error(message: &str) {
    crate::host::log::error(message);
}

/// Runs `f` on the component `cid`, taken out of the registry so that it may itself place or
/// update components.
fn with_component<T>(
    cid: u32,
    f: impl FnOnce(&mut dyn ErasedComponent) -> T,
) -> std::result::Result<T, String> {
    let mut component = with_registry(|r| r.slots.get_mut(&cid).and_then(|s| s.component.take()))
        .ok_or_else(|| format!("no live component with cid {cid}"))?;
    let result = f(component.as_mut());
    with_registry(|r| {
        if let Some(slot) = r.slots.get_mut(&cid) {
            slot.component = Some(component);
        }
        r.dirty.insert(cid);
    });
    Ok(result)
}

/// Places live component `C` with `id` here, passing it `props` (Phoenix's
/// `<.live_component module={C} id={id} …/>`): mounts it the first time, then calls its
/// `update`. Use it inside a template: `{live_component::<UserRow>("user-1", props)}`.
pub fn live_component<C: LiveComponent>(
    id: impl Into<String>,
    props: C::Props,
) -> LiveComponentRef {
    let id = id.into();
    let key = (TypeId::of::<C>(), id.clone());
    let existing = with_registry(|r| r.by_key.get(&key).copied());
    let cid = match existing {
        Some(cid) => cid,
        None => {
            let (cid, connected) = with_registry(|r| {
                r.next_cid += 1;
                (r.next_cid, r.connected)
            });
            let mut socket = ComponentSocket {
                socket: Socket::new(connected, None),
                cid,
                id,
            };
            socket.socket.__set_myself(Myself(cid));
            if let Err(e) = C::mount(&mut socket) {
                log_error(&format!("mount of {} failed: {e}", type_name::<C>()));
            }
            with_registry(|r| {
                r.by_key.insert(key.clone(), cid);
                r.slots.insert(
                    cid,
                    Slot {
                        key,
                        component: Some(Box::new(Holder::<C> { socket })),
                    },
                );
            });
            cid
        }
    };
    with_registry(|r| {
        r.placed.push(Placed {
            type_id: TypeId::of::<C>(),
            cid,
            props: Box::new(props),
            run: update_batch::<C>,
        })
    });
    LiveComponentRef { cid }
}

/// Sends `props` to the live component `C` with `id`: its `update` runs before the next render
/// (Phoenix's `send_update`). Unknown components are ignored (with a log line).
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// #[derive(Assigns, Default)]
/// pub struct Badge {
///     count: u32,
/// }
///
/// impl LiveComponent for Badge {
///     type Props = u32;
///
///     fn update(socket: &mut ComponentSocket<Self>, count: u32) -> Result {
///         assign!(socket, count = count);
///         Ok(())
///     }
///
///     fn render(assigns: &Tracked<'_, Self>) -> Rendered {
///         html!(r#"<span class="badge">{@count}</span>"#)
///     }
/// }
///
/// // In the parent's handle_info: a new message arrived, bump the badge without
/// // rendering the whole page again.
/// send_update::<Badge>("inbox-badge", 3);
/// ```
pub fn send_update<C: LiveComponent>(id: impl Into<String>, props: C::Props) {
    let id = id.into();
    with_registry(|r| r.pending.push((TypeId::of::<C>(), id, Box::new(props))));
}

/// [`send_update`] after `ms` milliseconds (Phoenix's `send_update_after`); the props travel
/// through a host timer as JSON.
pub fn send_update_after<C>(id: impl Into<String>, props: C::Props, ms: u32)
where
    C: LiveComponent,
    C::Props: Serialize + DeserializeOwned,
{
    let name = type_name::<C>();
    let decode: Decoder = |value| {
        serde_json::from_value::<C::Props>(value)
            .map(|p| Box::new(p) as Box<dyn Any>)
            .map_err(|e| e.to_string())
    };
    with_registry(|r| r.decoders.insert(name, (TypeId::of::<C>(), decode)));
    let message = json!({ DELAYED_UPDATE: { "type": name, "id": id.into(), "props": props } });
    crate::host::timers::send_after(ms, &message);
}

/// Records whether the view is connected (components' sockets report it). Called at mount.
pub(crate) fn set_connected(connected: bool) {
    with_registry(|r| r.connected = connected);
}

/// A timer message that is a delayed `send_update`: queues it and returns true.
pub(crate) fn take_delayed_update(message: &Value) -> bool {
    let Some(update) = message.get(DELAYED_UPDATE) else {
        return false;
    };
    let name = update
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let id = update.get("id").and_then(Value::as_str).unwrap_or_default();
    let props = update.get("props").cloned().unwrap_or(Value::Null);
    let decoder = with_registry(|r| r.decoders.get(name).copied());
    match decoder.map(|(type_id, decode)| (type_id, decode(props))) {
        Some((type_id, Ok(props))) => {
            with_registry(|r| r.pending.push((type_id, id.to_string(), props)));
        }
        Some((_, Err(e))) => log_error(&format!("send_update_after to {name}: {e}")),
        None => log_error(&format!("send_update_after to unknown component {name}")),
    }
    true
}

/// Applies the queued `send_update`s (before a render).
pub(crate) fn apply_pending_updates() {
    let pending = with_registry(|r| std::mem::take(&mut r.pending));
    for (type_id, id, props) in pending {
        let cid = with_registry(|r| r.by_key.get(&(type_id, id.clone())).copied());
        let Some(cid) = cid else {
            log_error(&format!(
                "send_update to a component that does not exist: id {id:?}"
            ));
            continue;
        };
        if let Err(e) | Ok(Err(e)) = with_component(cid, |c| c.update(props)) {
            log_error(&format!("send_update to {id:?} failed: {e}"));
        }
    }
}

/// Messages components sent to the parent since the last call.
pub(crate) fn take_parent_messages() -> Vec<Value> {
    with_registry(|r| std::mem::take(&mut r.parent_messages))
}

/// An event for component `cid`; returns its reply.
pub(crate) fn handle_event(
    cid: u32,
    event: &str,
    value: &Value,
) -> std::result::Result<Option<Value>, String> {
    with_component(cid, |c| c.handle_event(event, value))?
}

/// The outcome of task `name` (its component's own name) for component `cid`; `None` when
/// the component is gone (Phoenix drops the result of a removed component's task).
pub(crate) fn handle_async(
    cid: u32,
    name: &str,
    outcome: crate::AsyncOutcome,
) -> Option<std::result::Result<(), String>> {
    with_component(cid, |c| c.handle_async(name, outcome)).ok()
}

/// Renders every component whose state may have changed (components placed while rendering
/// are rendered too), each once: `(cid, tree)` in order.
pub(crate) fn render_dirty() -> Vec<(u32, Rendered)> {
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    loop {
        // The components the last render placed get their props first.
        update_placed();
        let next = with_registry(|r| {
            let next = r.dirty.iter().copied().find(|cid| !done.contains(cid));
            if let Some(cid) = next {
                r.dirty.remove(&cid);
            }
            next
        });
        let Some(cid) = next else { break };
        done.insert(cid);
        if let Ok(rendered) = with_component(cid, |c| c.render()) {
            out.push((cid, rendered));
        }
        with_registry(|r| r.dirty.remove(&cid));
    }
    out
}

/// Prepares a full render (the host threw the last render away): every live component
/// renders again with every assign marked changed.
pub(crate) fn prepare_full_render() {
    let cids: Vec<u32> = with_registry(|r| r.slots.keys().copied().collect());
    for cid in cids {
        // `with_component` also marks the component dirty: it renders with the view.
        if let Err(e) = with_component(cid, |c| c.mark_all_changed()) {
            log_error(&e);
        }
    }
}

/// Drops the state of the components in `cids` (the client removed them).
pub(crate) fn destroy(cids: &[u32]) {
    crate::keep::forget_components(cids);
    with_registry(|r| {
        for cid in cids {
            if let Some(slot) = r.slots.remove(cid) {
                r.by_key.remove(&slot.key);
            }
            r.dirty.remove(cid);
        }
    });
}
