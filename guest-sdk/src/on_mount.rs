//! `on_mount` hooks: Rust functions a live session runs before each of its views mounts, to
//! assign shared values (the current user …) or to halt the mount with a redirect.
//!
//! Hooks are listed per live session in [`crate::app!`] and run in order. What a hook assigns
//! ([`MountSocket::assign`]) lands in the view's assigns, as in Phoenix: a field of the view
//! marked `#[on_mount]` in its `#[derive(Assigns)]` struct holds the value assigned under its
//! name, set before the view's `mount` runs and readable in templates like any other assign
//! (`{@current_user}`). A value that does not fit the field's type leaves the field at its
//! default, and so does a hook that assigns nothing under that name. Only marked fields take
//! hook values (decoding a field's type costs binary size); every value also stays readable
//! by key with [`crate::Socket::mount_assign`], for a value no field takes.
//!
//! ```
//! use livewasm_sdk::prelude::*;
//!
//! /// Lets only logged-in users in, and shares who they are with the view.
//! fn require_user(socket: &mut MountSocket) -> OnMount {
//!     match socket.session().str("user_id").map(String::from) {
//!         Some(id) => {
//!             socket.assign("current_user", id);
//!             // A hook for every view of the session, before its own handle_event:
//!             let _ = socket.attach_hook("ping", SharedHook::HandleEvent(ping));
//!             OnMount::Cont
//!         }
//!         None => {
//!             socket.put_flash("error", "You must log in.");
//!             socket.redirect("/login");
//!             OnMount::Halt
//!         }
//!     }
//! }
//!
//! fn ping(socket: &mut dyn HookSocket, event: &str, _: &Value) -> Result<HookResult> {
//!     if event != "ping" {
//!         return Ok(HookResult::Cont);
//!     }
//!     socket.reply_value(json!("pong"));
//!     Ok(HookResult::Halt)
//! }
//!
//! #[derive(Assigns, Default)]
//! pub struct Account {
//!     /// Set by `require_user` (its `assign("current_user", …)`) before `mount` runs.
//!     #[on_mount]
//!     current_user: String,
//!     greeting: String,
//! }
//!
//! impl LiveView for Account {
//!     fn mount(socket: &mut Socket<Self>, _: &Params, _: &Session) -> Result {
//!         // The hook's value is already in the field.
//!         let greeting = format!("Welcome back, {}!", socket.assigns().current_user);
//!         assign!(socket, greeting = greeting);
//!         Ok(())
//!     }
//!
//!     fn render(assigns: &Tracked<'_, Self>) -> Rendered {
//!         html!(r#"<p>Signed in as {@current_user}. {@greeting}</p>"#)
//!     }
//! }
//!
//! livewasm_sdk::app! {
//!     name: "accounts",
//!     live_sessions: {
//!         "users" => [require_user];
//!     },
//!     routes: {
//!         "/account" => Account, live_session: "users";
//!     }
//! }
//! # // What the SDK does with the values the hooks assigned, before `mount`:
//! # let mut socket = Socket::<Account>::new(true, None);
//! # let hooks = json!({"current_user": "ada"});
//! # socket.__set_mount_assigns(hooks.as_object().cloned().unwrap_or_default());
//! # Account::mount(&mut socket, &Params::default(), &Session::default())?;
//! # assert_eq!(socket.assigns().current_user, "ada");
//! # assert_eq!(socket.assigns().greeting, "Welcome back, ada!");
//! # assert_eq!(socket.mount_assign::<String>("current_user").as_deref(), Some("ada"));
//! # Ok::<(), livewasm_sdk::Error>(())
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::attach_hook::SharedHook;
use crate::layout::LayoutFn;
use crate::navigation::Navigation;
use crate::{Flash, Params, Session};

/// What a hook decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMount {
    /// Go on with the next hook, then the view's `mount`.
    Cont,
    /// Stop: the view does not mount. The hook must have asked for a redirect or a
    /// `push_navigate` first.
    Halt,
}

/// An `on_mount` hook.
pub type OnMountHook = fn(&mut MountSocket) -> OnMount;

/// What a hook sees and changes: the mount's params and session, values shared with the view
/// (its `#[on_mount]` fields, [`crate::Socket::mount_assign`]), the flash, and the redirect of
/// a halt.
#[derive(Debug, Clone)]
pub struct MountSocket {
    view: String,
    action: Option<String>,
    connected: bool,
    params: Params,
    session: Session,
    assigns: Map<String, Value>,
    flash: Flash,
    navigation: Option<Navigation>,
    hooks: Vec<(String, SharedHook)>,
    /// The layout a hook chose (`Some(None)`: none), replacing the live session's.
    layout: Option<Option<LayoutFn>>,
}

impl MountSocket {
    /// A socket for the hooks of one mount.
    pub(crate) fn new(
        view: String,
        action: Option<String>,
        connected: bool,
        params: Params,
        session: Session,
        flash: Flash,
    ) -> MountSocket {
        MountSocket {
            view,
            action,
            connected,
            params,
            session,
            assigns: Map::new(),
            flash,
            navigation: None,
            hooks: Vec::new(),
            layout: None,
        }
    }

    /// The view being mounted.
    pub fn view(&self) -> &str {
        &self.view
    }

    /// The live action of the route.
    pub fn live_action(&self) -> Option<&str> {
        self.action.as_deref()
    }

    /// False during the dead HTTP render.
    pub fn connected(&self) -> bool {
        self.connected
    }

    /// Path and query params.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The signed cookie session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Shares `value` under `key` with the view: it lands in the view's `#[on_mount]` field
    /// named `key` when its type fits, and stays readable with `socket.mount_assign(key)`.
    pub fn assign(&mut self, key: &str, value: impl Serialize) {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.assigns.insert(key.to_string(), value);
    }

    /// A value an earlier hook assigned.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.assigns
            .get(key)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// The flash.
    pub fn flash(&self) -> &Flash {
        &self.flash
    }

    /// Sets a flash message (it travels with a halt's redirect).
    pub fn put_flash(&mut self, kind: impl Into<String>, message: impl Into<String>) {
        self.flash.put(kind, message);
    }

    /// Halting, go to `to` with a full page load.
    pub fn redirect(&mut self, to: impl Into<String>) {
        self.navigation = Some(Navigation::redirect(to.into()));
    }

    /// Halting, navigate live to `to` (same live session).
    pub fn push_navigate(&mut self, to: impl Into<String>) {
        self.navigation = Some(Navigation::navigate(to.into(), false));
    }

    /// Wraps the view's renders in `layout` instead of the live session's (Phoenix's
    /// `{:cont, socket, layout: …}`); the last hook to choose wins.
    pub fn put_layout(&mut self, layout: LayoutFn) {
        self.layout = Some(Some(layout));
    }

    /// Renders the view without a layout, whatever its live session declares
    /// (`layout: false`).
    pub fn no_layout(&mut self) {
        self.layout = Some(None);
    }

    /// The layout a hook chose, if one did (`Some(None)`: none).
    pub(crate) fn take_layout(&mut self) -> Option<Option<LayoutFn>> {
        self.layout.take()
    }

    /// Attaches `hook` under `name` to the view about to mount (`attach_hook` in an
    /// `on_mount` hook); an error when that name is already attached to the same stage.
    pub fn attach_hook(&mut self, name: &str, hook: SharedHook) -> crate::Result {
        if self
            .hooks
            .iter()
            .any(|(n, h)| n == name && h.stage() == hook.stage())
        {
            return Err(crate::Error::new(format!(
                "a hook named `{name}` is already attached to {}",
                hook.stage()
            )));
        }
        self.hooks.push((name.to_string(), hook));
        Ok(())
    }

    /// The hooks attached for the view, in order.
    pub(crate) fn take_hooks(&mut self) -> Vec<(String, SharedHook)> {
        std::mem::take(&mut self.hooks)
    }

    pub(crate) fn into_parts(self) -> (Map<String, Value>, Flash, Option<Navigation>) {
        (self.assigns, self.flash, self.navigation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn require_user(socket: &mut MountSocket) -> OnMount {
        match socket.session().str("user_id").map(str::to_string) {
            Some(id) => {
                socket.assign("current_user", &id);
                OnMount::Cont
            }
            None => {
                socket.put_flash("error", "Log in first");
                socket.redirect("/login");
                OnMount::Halt
            }
        }
    }

    fn socket(session: &str) -> MountSocket {
        MountSocket::new(
            "Profile".into(),
            Some("index".into()),
            true,
            Params::default(),
            Session::from_json(session),
            Flash::new(),
        )
    }

    #[test]
    fn a_hook_continues_with_assigns_or_halts_with_a_redirect_and_flash() {
        let mut ok = socket(r#"{"user_id":"alice"}"#);
        assert_eq!(require_user(&mut ok), OnMount::Cont);
        assert_eq!(ok.get::<String>("current_user").as_deref(), Some("alice"));
        let (assigns, _, navigation) = ok.into_parts();
        assert_eq!(assigns["current_user"], "alice");
        assert_eq!(navigation, None);

        let mut guest = socket("{}");
        assert_eq!(require_user(&mut guest), OnMount::Halt);
        let (_, flash, navigation) = guest.into_parts();
        assert_eq!(flash.get("error"), Some("Log in first"));
        assert_eq!(navigation, Some(Navigation::redirect("/login".into())));
    }
}
