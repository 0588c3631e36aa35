//! Slots: blocks of template a caller hands to a function component (`inner_block`, `<:name>`).

use std::fmt;

use crate::html::{Attrs, ToAttrVal};
use crate::render::Rendered;

/// One slot entry: the attributes written on `<:name …>` and its content, rendered with the
/// argument the component passes (`:let={x}` binds it). `A` is that argument's type (`()` when
/// the slot takes none).
pub struct Slot<'a, A = ()> {
    /// The attributes given on the slot tag (`<:col label="Name">`).
    pub attrs: Attrs,
    content: Box<dyn Fn(A) -> Rendered + 'a>,
}

impl<'a, A> Slot<'a, A> {
    /// A slot entry with these attributes and content.
    pub fn new(attrs: Attrs, content: impl Fn(A) -> Rendered + 'a) -> Slot<'a, A> {
        Slot {
            attrs,
            content: Box::new(content),
        }
    }

    /// Renders the content with `arg`.
    pub fn render(&self, arg: A) -> Rendered {
        (self.content)(arg)
    }

    /// The text of slot attribute `name` (`None` when absent or bare).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.text(name)
    }
}

impl<A> fmt::Debug for Slot<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot").field("attrs", &self.attrs).finish()
    }
}

/// Adds an attribute to a slot entry's bag (used by `html!`; invalid names are left out).
#[doc(hidden)]
pub fn __slot_attr(attrs: &mut Attrs, name: &str, value: &(impl ToAttrVal + ?Sized)) {
    let _ = attrs.set(name, value);
}

/// What [`render_slot`] accepts: one slot, an optional one, or all entries of a repeated one.
pub trait RenderSlot<A> {
    /// Renders the slot(s) with `arg` (nothing for an absent slot).
    fn render_slot(&self, arg: A) -> Rendered;
}

impl<A> RenderSlot<A> for Slot<'_, A> {
    fn render_slot(&self, arg: A) -> Rendered {
        self.render(arg)
    }
}

impl<A> RenderSlot<A> for Option<Slot<'_, A>> {
    fn render_slot(&self, arg: A) -> Rendered {
        match self {
            Some(slot) => slot.render(arg),
            None => Rendered::nothing(),
        }
    }
}

impl<A: Clone> RenderSlot<A> for Vec<Slot<'_, A>> {
    fn render_slot(&self, arg: A) -> Rendered {
        Rendered::join(self.iter().map(|slot| slot.render(arg.clone())))
    }
}

impl<A: Clone> RenderSlot<A> for [Slot<'_, A>] {
    fn render_slot(&self, arg: A) -> Rendered {
        Rendered::join(self.iter().map(|slot| slot.render(arg.clone())))
    }
}

impl<A, S: RenderSlot<A> + ?Sized> RenderSlot<A> for &S {
    fn render_slot(&self, arg: A) -> Rendered {
        (**self).render_slot(arg)
    }
}

/// HEEx's `render_slot(@slot, arg)`: the slot's content rendered with `arg` (`()` for none);
/// a repeated slot renders every entry in order, an absent optional slot renders nothing.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// #[component]
/// pub fn panel<'a>(
///     #[slot] inner_block: Slot<'a>,
///     #[slot] footer: Option<Slot<'a>>,
/// ) -> Rendered {
///     html!(r#"<div class="panel">{render_slot(&inner_block, ())}{render_slot(&footer, ())}</div>"#)
/// }
///
/// # fn main() {
/// let with_footer = html!(r#"<.panel>Body<:footer><small>Footer</small></:footer></.panel>"#);
/// assert_eq!(with_footer.to_html(), r#"<div class="panel">Body<small>Footer</small></div>"#);
/// let without = html!(r#"<.panel>Body</.panel>"#);
/// assert_eq!(without.to_html(), r#"<div class="panel">Body</div>"#);
///
/// // A slot built by hand, as a test of a component might:
/// let shout = Slot::new(Attrs::new(), |word: &str| html!(r#"<b>{word}!</b>"#));
/// assert_eq!(render_slot(&shout, "hey").to_html(), "<b>hey!</b>");
/// # }
/// ```
pub fn render_slot<A, S: RenderSlot<A> + ?Sized>(slot: &S, arg: A) -> Rendered {
    slot.render_slot(arg)
}
