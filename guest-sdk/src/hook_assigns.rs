//! How values an `on_mount` hook assigned (as JSON, [`crate::MountSocket::assign`]) reach the
//! view's own fields: `#[derive(Assigns)]` sets each field of the same name whose type can be
//! deserialized from that JSON, as Phoenix's `on_mount` assigns land in the view's assigns.
//! A field whose type is not `Deserialize`, or a value of another shape, is left alone; the
//! value stays readable with [`crate::Socket::mount_assign`].

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde_json::Value;

/// A field type, asked to deserialize a hook's value (used by `#[derive(Assigns)]`):
/// [`__FromJsonSome`] when the type is `DeserializeOwned`, else [`__FromJsonNone`]
/// (autoref specialization).
#[doc(hidden)]
pub struct __FromJson<T>(pub PhantomData<T>);

/// Deserializes a value into a `DeserializeOwned` field type.
#[doc(hidden)]
pub trait __FromJsonSome<T> {
    /// The value as a `T`, or `None` when it does not fit.
    fn __lw_from_json(&self, value: &Value) -> Option<T>;
}

impl<T: DeserializeOwned> __FromJsonSome<T> for __FromJson<T> {
    fn __lw_from_json(&self, value: &Value) -> Option<T> {
        T::deserialize(value).ok()
    }
}

/// A field type that cannot be deserialized: never set from a hook.
#[doc(hidden)]
pub trait __FromJsonNone<T> {
    /// Nothing.
    fn __lw_from_json(&self, value: &Value) -> Option<T>;
}

impl<T> __FromJsonNone<T> for &__FromJson<T> {
    fn __lw_from_json(&self, _value: &Value) -> Option<T> {
        None
    }
}
