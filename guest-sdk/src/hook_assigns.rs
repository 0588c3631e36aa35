//! How values an `on_mount` hook assigned (as JSON, [`crate::MountSocket::assign`]) reach the
//! view's own fields: a field marked `#[on_mount]` in `#[derive(Assigns)]` takes the value
//! assigned under its name, as Phoenix's `on_mount` assigns land in the view's assigns. Only
//! marked fields: deserializing a field type costs binary size (every field of the thermostat
//! would add 34 KB). A value of another shape leaves the field alone; every value stays
//! readable with [`crate::Socket::mount_assign`].

use serde::de::DeserializeOwned;
use serde_json::Value;

/// A hook's value as the field type `T`, or `None` when it does not fit (used by
/// `#[derive(Assigns)]`).
#[doc(hidden)]
pub fn __from_hook<T: DeserializeOwned>(value: &Value) -> Option<T> {
    T::deserialize(value).ok()
}
