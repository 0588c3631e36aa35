//! [`AsyncResult`]: the state of a value loaded in the background (Phoenix's `assign_async`),
//! as `<.async_result>` renders it.

/// A value being loaded: loading, loaded, or failed. A reload keeps the previous value, so a
/// page can keep showing it while `loading` is true again. [`assign_async!`](crate::assign_async)
/// fills it; `<.async_result>` renders its states:
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// pub struct Org {
///     name: String,
/// }
///
/// fn show(org: &AsyncResult<Org>) -> String {
///     html!(r#"<.async_result assign={org} :let={org}><:loading>Loading…</:loading><:failed :let={reason}>Failed: {reason}</:failed><b>{org.name}</b></.async_result>"#)
///         .to_html()
/// }
///
/// let org: AsyncResult<Org> = AsyncResult::loading();
/// assert_eq!(show(&org), "Loading…");
/// assert_eq!(show(&AsyncResult::failed("timeout")), "Failed: timeout");
/// let org = AsyncResult::ok(Org { name: "Acme".into() });
/// assert_eq!(show(&org), "<b>Acme</b>");
/// // A reload keeps showing the previous value.
/// assert_eq!(show(&org.reload()), "<b>Acme</b>");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncResult<T> {
    /// True while a load is running.
    pub loading: bool,
    /// Why the last load failed, when it did.
    pub failed: Option<String>,
    /// The last loaded value.
    pub result: Option<T>,
}

impl<T> Default for AsyncResult<T> {
    fn default() -> AsyncResult<T> {
        AsyncResult::loading()
    }
}

impl<T> AsyncResult<T> {
    /// A load in progress, nothing loaded yet.
    pub fn loading() -> AsyncResult<T> {
        AsyncResult {
            loading: true,
            failed: None,
            result: None,
        }
    }

    /// A loaded value.
    pub fn ok(value: T) -> AsyncResult<T> {
        AsyncResult {
            loading: false,
            failed: None,
            result: Some(value),
        }
    }

    /// A failed load.
    pub fn failed(reason: impl Into<String>) -> AsyncResult<T> {
        AsyncResult {
            loading: false,
            failed: Some(reason.into()),
            result: None,
        }
    }

    /// True when a value has been loaded.
    pub fn is_ok(&self) -> bool {
        self.result.is_some()
    }

    /// Marks a reload: loading again, keeping the previous value.
    pub fn reload(mut self) -> AsyncResult<T> {
        self.loading = true;
        self.failed = None;
        self
    }
}
