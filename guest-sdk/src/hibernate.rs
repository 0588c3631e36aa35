//! Hibernation: an idle view's state as bytes (`hibernation.snapshot`), and a fresh instance
//! carrying on from them (`hibernation.restore`), so the host can free an idle view's instance.
//!
//! A view hibernates when its assigns struct is serializable: `#[derive(Assigns)]` picks
//! serde's `Serialize`/`Deserialize` when the struct derives them, and otherwise leaves the
//! view live (nothing to do, nothing breaks). The SDK's own state goes along (live action,
//! flash, title, `on_mount` values, which fields were ever set); a view holding what cannot be
//! written down — live components, uploads, runtime hooks (`attach_hook`), temporary assigns,
//! pending async assigns — stays live.
//!
//! ```
//! use livewasm_sdk::prelude::*;
//!
//! #[derive(Assigns, Default, serde::Serialize, serde::Deserialize)]
//! pub struct Counter {
//!     count: i64,
//! }
//!
//! #[derive(Assigns, Default)]
//! pub struct Clock {
//!     ticks: std::cell::Cell<u32>,
//! }
//!
//! assert!(Counter { count: 3 }.__lw_snapshot().is_some());
//! assert!(Clock::default().__lw_snapshot().is_none(), "not serializable: stays live");
//! ```

use std::marker::PhantomData;

use serde_json::Value;

/// Wraps assigns for [`__SnapSerde`] / [`__SnapNone`] (autoref specialization: the first
/// applies when the assigns are `Serialize`).
#[doc(hidden)]
pub struct __Snap<'a, T>(pub &'a T);

/// Snapshot of serializable assigns.
#[doc(hidden)]
pub trait __SnapSerde {
    fn __lw_snap(&self) -> Option<Value>;
}

impl<T: serde::Serialize> __SnapSerde for &__Snap<'_, T> {
    fn __lw_snap(&self) -> Option<Value> {
        serde_json::to_value(self.0).ok()
    }
}

/// No snapshot of other assigns.
#[doc(hidden)]
pub trait __SnapNone {
    fn __lw_snap(&self) -> Option<Value>;
}

impl<T> __SnapNone for __Snap<'_, T> {
    fn __lw_snap(&self) -> Option<Value> {
        None
    }
}

/// Names the assigns type for [`__RestoreSerde`] / [`__RestoreNone`].
#[doc(hidden)]
pub struct __Restore<T>(pub PhantomData<T>);

/// Restores deserializable assigns.
#[doc(hidden)]
pub trait __RestoreSerde<T> {
    fn __lw_restore(&self, value: Value) -> Option<T>;
}

impl<T: serde::de::DeserializeOwned> __RestoreSerde<T> for &__Restore<T> {
    fn __lw_restore(&self, value: Value) -> Option<T> {
        serde_json::from_value(value).ok()
    }
}

/// Other assigns are never restored.
#[doc(hidden)]
pub trait __RestoreNone<T> {
    fn __lw_restore(&self, value: Value) -> Option<T>;
}

impl<T> __RestoreNone<T> for __Restore<T> {
    fn __lw_restore(&self, _value: Value) -> Option<T> {
        None
    }
}
