//! Forms as templates render them: a [`Form`] (what Phoenix's `to_form` gives) and its
//! [`FormField`]s (what `@form[:email]` gives), carrying values and the errors to show.

mod field;

pub use field::{Form, FormField};
