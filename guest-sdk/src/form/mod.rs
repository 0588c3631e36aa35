//! Forms: a [`Form`] (what Phoenix's `to_form` gives) and its [`FormField`]s (what
//! `@form[:email]` gives), carrying values and the errors to show; typed access to event params
//! ([`ParseValue`](crate::form::ParseValue)); and [`Changeset`](crate::form::Changeset), which
//! casts params onto a struct and validates them.

mod changeset;
mod field;
mod lenient;
mod typed;

pub use changeset::{Action, BLANK, Changeset, INVALID, looks_like_email, to_form};
pub use field::{Form, FormField};
pub use typed::{ParamsError, ParseValue, UNUSED_PREFIX, from_params, target, unused_fields};
