//! The [`LiveView`] trait a view implements, and the [`Assigns`] bookkeeping its struct derives.

use serde_json::Value;

use crate::{Params, Rendered, Result, Session, Socket, Tracked};

/// Change-tracking bookkeeping of a view's assigns struct; derive it with `#[derive(Assigns)]`,
/// which gives every field a bit (at most 128 fields).
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// #[derive(Assigns, Default)]
/// pub struct Profile {
///     name: String,
///     visits: u32,
/// }
///
/// assert_eq!(<Profile as livewasm_sdk::Assigns>::FIELDS, 2);
/// ```
pub trait Assigns {
    /// Number of tracked fields.
    const FIELDS: u32;

    /// Sets field `name` from a value an `on_mount` hook assigned, when the field is marked
    /// `#[on_mount]` and the value fits its type; returns the field's change bit then.
    #[doc(hidden)]
    fn __lw_set_json(&mut self, name: &str, value: &serde_json::Value) -> Option<u128> {
        let _ = (name, value);
        None
    }

    /// The assigns as JSON for a hibernation snapshot; `None` when they are not serializable
    /// (the view then stays live). See [`crate::hibernate`].
    #[doc(hidden)]
    fn __lw_snapshot(&self) -> Option<serde_json::Value> {
        None
    }

    /// Assigns from a hibernation snapshot.
    #[doc(hidden)]
    fn __lw_restore(value: serde_json::Value) -> Option<Self>
    where
        Self: Sized,
    {
        let _ = value;
        None
    }
}

/// A Phoenix-LiveView-style view. The struct holds the view's assigns.
///
/// A complete view: its assigns, its callbacks, and the route [`crate::app!`] gives it. The
/// host calls the callbacks; a test (or this example) can call them by hand and render the
/// result to HTML:
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// #[derive(Assigns, Default)]
/// pub struct Counter {
///     count: i64,
/// }
///
/// impl LiveView for Counter {
///     fn mount(socket: &mut Socket<Self>, params: &Params, _session: &Session) -> Result {
///         let start = params.str("start").and_then(|s| s.parse::<i64>().ok());
///         assign!(socket, count = start.unwrap_or(0));
///         Ok(())
///     }
///
///     fn handle_event(socket: &mut Socket<Self>, event: &str, _value: &Value) -> Result {
///         match event {
///             "inc" => update!(socket, count, |c| *c += 1),
///             "dec" => update!(socket, count, |c| *c -= 1),
///             other => return Err(format!("unknown event `{other}`").into()),
///         }
///         Ok(())
///     }
///
///     fn render(assigns: &Tracked<'_, Self>) -> Rendered {
///         html!(r#"<p>Count: {@count}</p><button phx-click="inc">+</button>"#)
///     }
/// }
///
/// livewasm_sdk::app! {
///     name: "counter",
///     routes: { "/counter" => Counter; }
/// }
///
/// let mut socket = Socket::<Counter>::new(true, None);
/// Counter::mount(&mut socket, &Params::from_json(r#"{"start": "41"}"#), &Session::default())?;
/// Counter::handle_event(&mut socket, "inc", &json!({}))?;
/// assert_eq!(socket.assigns().count, 42);
/// assert!(Counter::handle_event(&mut socket, "reset", &json!({})).is_err());
///
/// let html = Counter::render(&Tracked::all(socket.assigns())).to_html();
/// assert_eq!(html, r#"<p>Count: 42</p><button phx-click="inc">+</button>"#);
/// # Ok::<(), livewasm_sdk::Error>(())
/// ```
pub trait LiveView: Assigns + Default + 'static {
    /// The view's own `on_mount` hooks (Phoenix's `on_mount` in a LiveView module), run in
    /// order after its live session's and before [`LiveView::mount`], on both mounts; a halt
    /// stops the mount as a session hook's does. Name each hook for error messages.
    fn on_mount() -> &'static [(&'static str, crate::OnMountHook)] {
        &[]
    }

    /// Called when the view mounts: once for the dead HTTP render (`socket.connected()` is
    /// false) and once over the WebSocket.
    fn mount(socket: &mut Socket<Self>, params: &Params, session: &Session) -> Result;

    /// Called after `mount` and on every live patch with the URL's params.
    fn handle_params(socket: &mut Socket<Self>, params: &Params, url: &str) -> Result {
        let _ = (socket, params, url);
        Ok(())
    }

    /// A client event (`phx-click`, `phx-keyup`, a form, a hook's `pushEvent` …).
    /// `socket.reply(..)` answers a hook.
    fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
        let _ = (socket, value);
        Err(format!("no handler for event `{event}`").into())
    }

    /// An upload entry's progress changed (`progress:` of `allow_upload`); `entry.done` once
    /// the host holds every byte.
    fn handle_progress(
        socket: &mut Socket<Self>,
        name: &str,
        entry: &crate::components::UploadEntry,
    ) -> Result {
        let _ = (socket, name, entry);
        Ok(())
    }

    /// A message from a timer or the host.
    fn handle_info(socket: &mut Socket<Self>, message: &Value) -> Result {
        let _ = (socket, message);
        Ok(())
    }

    /// The outcome of the task started with [`Socket::start_async`] under `name`: its value
    /// (decode it with [`crate::async_ops::decode`]) or why it failed (its error, a trap in
    /// the task, `"cancelled"`). Phoenix's `handle_async`.
    fn handle_async(socket: &mut Socket<Self>, name: &str, outcome: crate::AsyncOutcome) -> Result {
        let _ = (socket, outcome);
        Err(format!("no handle_async for task `{name}`").into())
    }

    /// Renders the view with [`crate::html!`]; `assigns` carries the change set.
    fn render(assigns: &Tracked<'_, Self>) -> Rendered;

    /// Live upgrade: a new version of the app was activated while this view was open. The
    /// host snapshotted the view on the old version and restores it into this one, handing
    /// this hook the old version's assigns (as JSON, as `serde` wrote them) and that version
    /// (its crate's `version`, see [`crate::export::App::version`]); return assigns this
    /// version's struct deserializes. The default returns them unchanged, which suits added
    /// fields marked `#[serde(default)]`. An error (or assigns that do not fit) sends the
    /// view to a remount, as a page load would: the user's unsaved state is lost.
    ///
    /// Phoenix has no such hook (a LiveView process keeps running old code until it
    /// remounts); it plays the part of an OTP `code_change/3`.
    ///
    /// ```
    /// use livewasm_sdk::prelude::*;
    ///
    /// #[derive(Assigns, Default, serde::Serialize, serde::Deserialize)]
    /// pub struct Thermostat {
    ///     temperature: i64,
    ///     unit: String, // new in 0.2.0
    /// }
    ///
    /// impl LiveView for Thermostat {
    ///     fn mount(socket: &mut Socket<Self>, _: &Params, _: &Session) -> Result {
    ///         assign!(socket, temperature = 70, unit = "°F".to_string());
    ///         Ok(())
    ///     }
    ///
    ///     fn migrate(mut assigns: Value, from_version: &str) -> std::result::Result<Value, String> {
    ///         if from_version.starts_with("0.1.") {
    ///             assigns["unit"] = json!("°F");
    ///         }
    ///         Ok(assigns)
    ///     }
    ///
    ///     fn render(assigns: &Tracked<'_, Self>) -> Rendered {
    ///         html!("<p>{@temperature}{@unit}</p>")
    ///     }
    /// }
    ///
    /// let migrated = Thermostat::migrate(json!({"temperature": 71}), "0.1.0").unwrap();
    /// assert_eq!(migrated, json!({"temperature": 71, "unit": "°F"}));
    /// ```
    fn migrate(assigns: Value, from_version: &str) -> std::result::Result<Value, String> {
        let _ = from_version;
        Ok(assigns)
    }
}
