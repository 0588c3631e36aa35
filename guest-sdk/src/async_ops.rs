//! Async operations: `assign_async!`, [`Socket::start_async`], [`Socket::cancel_async`].
//!
//! A view has no threads. Starting a task records it with the host and returns at once: the
//! view renders its loading state, then the host runs the task in a fresh instance of the same
//! component (its own fuel and memory; a trap there fails the task, not the view) and delivers
//! the result to `handle_async` (or to the assign, for `assign_async!`). A task is a plain
//! function `fn(A) -> Result<T, E>` listed in [`crate::app!`]'s `tasks: [...]`: its argument
//! and value cross instances as JSON.
//!
//! ```no_run
//! use livewasm_sdk::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Clone, Serialize, Deserialize)]
//! pub struct Org {
//!     name: String,
//! }
//!
//! /// A task: a plain function, run by the host in a fresh instance.
//! pub fn fetch_org(slug: String) -> std::result::Result<Org, String> {
//!     Ok(Org { name: slug.to_uppercase() })
//! }
//!
//! /// Another task, whose result `handle_async` receives.
//! pub fn count_sales(slug: String) -> std::result::Result<u64, String> {
//!     Ok(slug.len() as u64 * 100)
//! }
//!
//! #[derive(Assigns, Default)]
//! pub struct Dashboard {
//!     org: AsyncResult<Org>,
//!     sales: Option<u64>,
//! }
//!
//! impl LiveView for Dashboard {
//!     fn mount(socket: &mut Socket<Self>, params: &Params, _: &Session) -> Result {
//!         let slug = params.str("org").unwrap_or("acme").to_string();
//!         assign_async!(socket, org, fetch_org, slug.clone()); // org: AsyncResult<Org>
//!         socket.start_async("sales", count_sales, slug)       // result → handle_async
//!     }
//!
//!     fn handle_async(socket: &mut Socket<Self>, name: &str, outcome: AsyncOutcome) -> Result {
//!         match (name, outcome) {
//!             ("sales", Ok(value)) => assign!(socket, sales = Some(decode_async::<u64>(value)?)),
//!             ("sales", Err(reason)) => socket.put_flash("error", format!("No sales: {reason}")),
//!             _ => {}
//!         }
//!         Ok(())
//!     }
//!
//!     fn render(assigns: &Tracked<'_, Self>) -> Rendered {
//!         html!(r#"<.async_result assign={@org} :let={org}><:loading>Loading…</:loading><h1>{org.name}</h1></.async_result><p :if={@sales.is_some()}>Sales: {@sales}</p>"#)
//!     }
//! }
//!
//! livewasm_sdk::app! {
//!     name: "dashboard",
//!     routes: { "/dashboard" => Dashboard; },
//!     tasks: [fetch_org, count_sales],
//! }
//! # let mut socket = Socket::<Dashboard>::new(true, None);
//! # Dashboard::mount(&mut socket, &Params::default(), &Session::default())?;
//! # Ok::<(), livewasm_sdk::Error>(())
//! ```

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Display;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::bindings::livewasm::view::tasks;
use crate::{AsyncResult, Socket};

/// What `handle_async` receives: the task's value (JSON), or why it failed (its error, a trap,
/// or `cancelled`). Decode the value with [`decode`].
pub type AsyncOutcome = std::result::Result<Value, String>;

/// Decodes a task's value into `T` (in the prelude as `decode_async`).
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// let outcome: AsyncOutcome = Ok(json!([1, 2, 3]));
/// let value = outcome.map_err(Error::new)?;
/// let numbers: Vec<u32> = decode_async(value)?;
/// assert_eq!(numbers, [1, 2, 3]);
/// assert!(decode_async::<u32>(json!("three")).is_err());
/// # Ok::<(), livewasm_sdk::Error>(())
/// ```
pub fn decode<T: DeserializeOwned>(value: Value) -> std::result::Result<T, String> {
    serde_json::from_value(value).map_err(|e| format!("the task's value does not fit: {e}"))
}

/// The name a task function is known by: its Rust path (the same in every instance of a build).
pub fn task_name<F>(_task: &F) -> &'static str {
    std::any::type_name::<F>()
}

/// Runs task function `task` on the JSON `args` (what `run-task` does for a declared task).
#[doc(hidden)]
pub fn __run_task<A, T, E, F>(task: F, args: &str) -> std::result::Result<String, String>
where
    A: DeserializeOwned,
    T: Serialize,
    E: Display,
    F: Fn(A) -> std::result::Result<T, E>,
{
    let args: A =
        serde_json::from_str(args).map_err(|e| format!("the task's argument does not fit: {e}"))?;
    let value = task(args).map_err(|e| e.to_string())?;
    serde_json::to_string(&value).map_err(|e| format!("the task's value is not JSON: {e}"))
}

/// Sets an assign from a finished `assign_async!` task.
type AssignHandler<V> = Box<dyn FnOnce(&mut Socket<V>, AsyncOutcome)>;

thread_local! {
    /// `assign_async!` handlers by task name (each an `AssignHandler<V>` of the mounted view).
    static ASSIGNS: RefCell<HashMap<String, Box<dyn Any>>> = RefCell::new(HashMap::new());
}

/// True when no `assign_async!` handler waits for its task (a view waiting for one does
/// not hibernate: the handler is code, not data).
pub(crate) fn no_pending_assigns() -> bool {
    ASSIGNS.with(|assigns| assigns.borrow().is_empty())
}

/// Takes the `assign_async!` handler of `name`, if the running task under that name is one.
pub(crate) fn take_assign_handler<V: 'static>(name: &str) -> Option<AssignHandler<V>> {
    let handler = ASSIGNS.with(|assigns| assigns.borrow_mut().remove(name))?;
    handler
        .downcast::<AssignHandler<V>>()
        .ok()
        .map(|boxed| *boxed)
}

fn forget_assign(name: &str) {
    ASSIGNS.with(|assigns| assigns.borrow_mut().remove(name));
}

fn start(name: &str, task: &'static str, args: &impl Serialize) -> std::result::Result<(), String> {
    let args =
        serde_json::to_string(args).map_err(|e| format!("the task's argument is not JSON: {e}"))?;
    tasks::start(name, task, &args)
}

impl<V: 'static> Socket<V> {
    /// Starts `task(args)` in the background under `name` (Phoenix's `start_async`); its
    /// result reaches [`crate::LiveView::handle_async`] with the same `name`. A task already
    /// running under `name` is replaced. `task` must be listed in `app!`'s `tasks: [...]`.
    /// Nothing starts during the dead render (the view is not connected yet). An error means
    /// the host refused the task (too many running, argument too large).
    pub fn start_async<A, T, E, F>(&mut self, name: &str, task: F, args: A) -> crate::Result
    where
        A: Serialize,
        F: Fn(A) -> std::result::Result<T, E>,
    {
        self.start_async_as(name, task, args)
    }

    /// [`Self::start_async`] under the exact task name `name` (a live component's names carry
    /// its cid, so that the result reaches it).
    pub(crate) fn start_async_as<A, T, E, F>(
        &mut self,
        name: &str,
        task: F,
        args: A,
    ) -> crate::Result
    where
        A: Serialize,
        F: Fn(A) -> std::result::Result<T, E>,
    {
        if !self.connected() {
            return Ok(());
        }
        forget_assign(name);
        start(name, task_name(&task), &args).map_err(crate::Error::new)
    }

    /// Cancels the task running under `name` (a `start_async` name, or the field of an
    /// `assign_async!`): its outcome becomes the error `"cancelled"` (`handle_async` gets it;
    /// an assign becomes failed). False when nothing runs under `name`.
    pub fn cancel_async(&mut self, name: &str) -> bool {
        tasks::cancel(name)
    }

    /// `assign_async!`: marks the fields loading (keeping previous values), starts the task,
    /// and sets the fields from its outcome (the whole value for one field; the value's member
    /// of each field's name for several).
    #[doc(hidden)]
    pub fn __assign_async<A, T, E, F>(
        &mut self,
        name: &'static str,
        fields: Vec<AsyncField<V>>,
        task: F,
        args: A,
    ) where
        A: Serialize,
        F: Fn(A) -> std::result::Result<T, E>,
    {
        self.assign_async_as(name.to_string(), fields, task, args);
    }

    /// `assign_async!` under the exact task name `name` (a live component's names carry its
    /// cid, so that the result reaches it).
    pub(crate) fn assign_async_as<A, T, E, F>(
        &mut self,
        name: String,
        fields: Vec<AsyncField<V>>,
        task: F,
        args: A,
    ) where
        A: Serialize,
        F: Fn(A) -> std::result::Result<T, E>,
    {
        for field in &fields {
            self.__update(field.bit, |v| v, |v| (field.set)(v, None));
        }
        if !self.connected() {
            return;
        }
        if let Err(reason) = start(&name, task_name(&task), &args) {
            for field in &fields {
                self.__update(
                    field.bit,
                    |v| v,
                    |v| (field.set)(v, Some(Err(reason.clone()))),
                );
            }
            return;
        }
        let single = fields.len() == 1;
        let handler: AssignHandler<V> = Box::new(move |socket, outcome| {
            for field in &fields {
                let own = match &outcome {
                    Ok(value) if single => Ok(value.clone()),
                    Ok(value) => value
                        .get(field.name)
                        .cloned()
                        .ok_or_else(|| format!("the task's value has no `{}`", field.name)),
                    Err(reason) => Err(reason.clone()),
                };
                socket.__update(field.bit, |v| v, |v| (field.set)(v, Some(own)));
            }
        });
        ASSIGNS.with(|assigns| {
            assigns
                .borrow_mut()
                .insert(name, Box::new(handler) as Box<dyn Any>)
        });
    }
}

/// Marks an assigns struct's `AsyncResult` field loading (`None`) or sets it from an outcome.
type FieldSet<V> = Box<dyn Fn(&mut V, Option<AsyncOutcome>)>;

/// One `AsyncResult` field of an `assign_async!`: its name, change bit, and how to mark it
/// loading (`None`) or set it from an outcome.
#[doc(hidden)]
pub struct AsyncField<V> {
    name: &'static str,
    bit: u128,
    set: FieldSet<V>,
}

impl<V: 'static> Socket<V> {
    /// An [`AsyncField`] for `field` (used by `assign_async!`; the socket only fixes `V`).
    #[doc(hidden)]
    pub fn __async_field<T>(
        &self,
        name: &'static str,
        bit: u128,
        field: fn(&mut V) -> &mut AsyncResult<T>,
    ) -> AsyncField<V>
    where
        T: DeserializeOwned + 'static,
    {
        async_field(name, bit, field)
    }
}

fn async_field<V: 'static, T>(
    name: &'static str,
    bit: u128,
    field: fn(&mut V) -> &mut AsyncResult<T>,
) -> AsyncField<V>
where
    T: DeserializeOwned + 'static,
{
    AsyncField {
        name,
        bit,
        set: Box::new(move |assigns, outcome| {
            let slot = field(assigns);
            match outcome.map(|o| o.and_then(decode::<T>)) {
                None => {
                    slot.loading = true;
                    slot.failed = None;
                }
                Some(Ok(value)) => {
                    slot.loading = false;
                    slot.failed = None;
                    slot.result = Some(value);
                }
                Some(Err(reason)) => {
                    slot.loading = false;
                    slot.failed = Some(reason);
                }
            }
        }),
    }
}

/// Loads [`AsyncResult`] fields in the background (Phoenix's `assign_async`):
/// `assign_async!(socket, org, fetch_org, slug.clone())`. The field is loading (keeping any
/// previous value) until the task `fetch_org(slug)` finishes in the background, then holds its
/// value, or its error in `failed`. `fetch_org` is a `fn(A) -> Result<T, E>` listed in `app!`'s
/// `tasks: [...]`; the field is an `AsyncResult<T>`. [`Socket::cancel_async`] with the field's
/// name cancels it.
///
/// Several fields from one task: `assign_async!(socket, [profile, rank], fetch_profile, slug)`;
/// the task returns a struct (a JSON object) with a member per field, and the task's name (for
/// `cancel_async`) is the field names with a comma after each: `"profile,rank,"`.
#[macro_export]
macro_rules! assign_async {
    ($socket:expr, [$($field:ident),+ $(,)?], $task:expr, $args:expr $(,)?) => {{
        let __socket = &mut *$socket;
        let __fields = ::std::vec![$(
            __socket.__async_field(
                stringify!($field),
                __socket.assigns().__lw_bit(stringify!($field)),
                |__a| &mut __a.$field,
            )
        ),+];
        __socket.__assign_async(
            concat!($(stringify!($field), ","),+),
            __fields,
            $task,
            $args,
        );
    }};
    ($socket:expr, $field:ident, $task:expr, $args:expr $(,)?) => {{
        let __socket = &mut *$socket;
        let __fields = ::std::vec![__socket.__async_field(
            stringify!($field),
            __socket.assigns().__lw_bit(stringify!($field)),
            |__a| &mut __a.$field,
        )];
        __socket.__assign_async(stringify!($field), __fields, $task, $args);
    }};
}
