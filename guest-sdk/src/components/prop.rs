//! Turning template attribute values into a component's declared attribute types.

/// A conversion from what a template passes (`title="Hi"`, `rows={@users}`) to the type a
/// component declared. A place such as `@users` is passed by reference, anything else by value.
pub trait IntoProp<T> {
    /// The converted value.
    fn into_prop(self) -> T;
}

impl<T> IntoProp<T> for T {
    fn into_prop(self) -> T {
        self
    }
}

impl<T: Clone> IntoProp<T> for &T {
    fn into_prop(self) -> T {
        self.clone()
    }
}

impl<T> IntoProp<Option<T>> for T {
    fn into_prop(self) -> Option<T> {
        Some(self)
    }
}

impl IntoProp<Option<String>> for &String {
    fn into_prop(self) -> Option<String> {
        Some(self.clone())
    }
}

impl IntoProp<String> for &str {
    fn into_prop(self) -> String {
        self.to_string()
    }
}

impl IntoProp<Option<String>> for &str {
    fn into_prop(self) -> Option<String> {
        Some(self.to_string())
    }
}

impl<'a> IntoProp<&'a str> for &'a String {
    fn into_prop(self) -> &'a str {
        self
    }
}

impl<'a, T> IntoProp<&'a [T]> for &'a Vec<T> {
    fn into_prop(self) -> &'a [T] {
        self
    }
}

/// A function of a row, for attributes such as `.table`'s `row_id` and `row_click`:
/// `row_id={row_fn(|u: &User| format!("user-{}", u.id))}`.
pub struct RowFn<'a, T, R>(Box<dyn Fn(&T) -> R + 'a>);

impl<'a, T, R> RowFn<'a, T, R> {
    /// Calls the function on `row`.
    pub fn call(&self, row: &T) -> R {
        (self.0)(row)
    }
}

impl<T, R> std::fmt::Debug for RowFn<'_, T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RowFn")
    }
}

/// Wraps a closure of a row as a [`RowFn`] attribute value.
pub fn row_fn<'a, T, R>(f: impl Fn(&T) -> R + 'a) -> RowFn<'a, T, R> {
    RowFn(Box::new(f))
}

/// Byte equality usable in constants (the compile-time checks of component calls).
#[doc(hidden)]
pub const fn __str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// True when `names` holds `name` (in constants).
#[doc(hidden)]
pub const fn __contains(names: &[&str], name: &str) -> bool {
    let mut i = 0;
    while i < names.len() {
        if __str_eq(names[i], name) {
            return true;
        }
        i += 1;
    }
    false
}

/// True when a `rest` bag takes `name` (in constants): one of `accepted` (the global attributes
/// and the component's `include` names) or any name with a `-` (`phx-*`, `data-*`, `aria-*`).
#[doc(hidden)]
pub const fn __rest_accepts(name: &str, accepted: &[&str]) -> bool {
    if __contains(accepted, name) {
        return true;
    }
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'-' {
            return true;
        }
        i += 1;
    }
    false
}
