//! Navigation a view asks for (`push_patch`, `push_navigate`, `redirect`), sent to the host
//! when the callback that asked returns, with the flash as it is then.

use crate::Flash;
use crate::bindings::livewasm::view::effects;
use crate::bindings::livewasm::view::types::NavigationKind;

/// Which kind of navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Same view, new URL.
    Patch,
    /// Another view of the same live session.
    Navigate,
    /// A full page load.
    Redirect,
}

/// A navigation asked for by a callback or an `on_mount` hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Navigation {
    /// Patch, navigate or redirect.
    pub kind: Kind,
    /// Target path or URL.
    pub to: String,
    /// Replace the history entry.
    pub replace: bool,
}

impl Navigation {
    /// `push_patch`.
    pub fn patch(to: String, replace: bool) -> Navigation {
        Navigation {
            kind: Kind::Patch,
            to,
            replace,
        }
    }

    /// `push_navigate`.
    pub fn navigate(to: String, replace: bool) -> Navigation {
        Navigation {
            kind: Kind::Navigate,
            to,
            replace,
        }
    }

    /// `redirect`.
    pub fn redirect(to: String) -> Navigation {
        Navigation {
            kind: Kind::Redirect,
            to,
            replace: false,
        }
    }

    /// Tells the host, carrying `flash` along.
    pub(crate) fn send(&self, flash: &Flash) {
        let kind = match self.kind {
            Kind::Patch => NavigationKind::Patch,
            Kind::Navigate => NavigationKind::Navigate,
            Kind::Redirect => NavigationKind::Redirect,
        };
        effects::navigate(kind, &self.to, self.replace, &flash.to_json().to_string());
    }
}
