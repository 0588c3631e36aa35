//! HTML escaping for template dynamics, in text and attribute context.

/// Appends `text` to `out` with `& < > " '` escaped. Templates escape every interpolation
/// this way; call it when building HTML by hand (e.g. for [`raw`]).
///
/// ```
/// use livewasm_sdk::escape_into;
///
/// let mut out = String::from("<p>");
/// escape_into(&mut out, r#"Tom & "Jerry" <script>"#);
/// out.push_str("</p>");
/// assert_eq!(out, "<p>Tom &amp; &quot;Jerry&quot; &lt;script&gt;</p>");
/// ```
pub fn escape_into(out: &mut String, text: &str) {
    let mut last = 0;
    for (i, byte) in text.bytes().enumerate() {
        let replacement = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(replacement);
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

/// Trusted HTML that templates insert without escaping. Only wrap what you produced yourself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Raw(pub String);

/// Marks `html` as trusted: it is inserted as is. Only wrap what you produced yourself, e.g.
/// markup built with [`escape_into`]; user input must stay plain text.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// let name = "<Ada>";
/// let mut bold = String::from("<b>");
/// livewasm_sdk::escape_into(&mut bold, name);
/// bold.push_str("</b>");
///
/// let trusted = raw(bold);
/// let page = html!(r#"<p>{trusted} and {name}</p>"#);
/// assert_eq!(page.to_html(), "<p><b>&lt;Ada&gt;</b> and &lt;Ada&gt;</p>");
/// ```
pub fn raw(html: impl Into<String>) -> Raw {
    Raw(html.into())
}

/// A value that can stand in template text: written escaped (except [`Raw`]).
pub trait ToHtml {
    /// Appends the value's HTML to `out`.
    fn write_html(&self, out: &mut String);

    /// The value's HTML.
    fn to_html(&self) -> String {
        let mut out = String::new();
        self.write_html(&mut out);
        out
    }
}

impl ToHtml for str {
    fn write_html(&self, out: &mut String) {
        escape_into(out, self);
    }
}

impl ToHtml for String {
    fn write_html(&self, out: &mut String) {
        escape_into(out, self);
    }
}

impl ToHtml for char {
    fn write_html(&self, out: &mut String) {
        let mut buf = [0u8; 4];
        escape_into(out, self.encode_utf8(&mut buf));
    }
}

impl ToHtml for bool {
    fn write_html(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

impl ToHtml for Raw {
    fn write_html(&self, out: &mut String) {
        out.push_str(&self.0);
    }
}

impl<T: ToHtml + ?Sized> ToHtml for &T {
    fn write_html(&self, out: &mut String) {
        (**self).write_html(out);
    }
}

impl<T: ToHtml> ToHtml for Option<T> {
    fn write_html(&self, out: &mut String) {
        if let Some(value) = self {
            value.write_html(out);
        }
    }
}

macro_rules! display_html {
    ($($t:ty),*) => {$(
        impl ToHtml for $t {
            fn write_html(&self, out: &mut String) {
                use std::fmt::Write;
                let _ = write!(out, "{self}");
            }
        }
        impl AttrValue for $t {
            fn write_attr(&self, name: &str, out: &mut String) {
                use std::fmt::Write;
                let _ = write!(out, " {name}=\"{self}\"");
            }
        }
    )*};
}

display_html!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64
);

/// A value for a dynamic attribute: writes the whole attribute (` name="value"`), a bare
/// ` name` for `true`, and nothing for `false` or `None`.
pub trait AttrValue {
    /// Appends the attribute to `out`.
    fn write_attr(&self, name: &str, out: &mut String);
}

fn quoted(name: &str, value: &str, escape: bool, out: &mut String) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    if escape {
        escape_into(out, value);
    } else {
        out.push_str(value);
    }
    out.push('"');
}

impl AttrValue for str {
    fn write_attr(&self, name: &str, out: &mut String) {
        quoted(name, self, true, out);
    }
}

impl AttrValue for String {
    fn write_attr(&self, name: &str, out: &mut String) {
        quoted(name, self, true, out);
    }
}

impl AttrValue for char {
    fn write_attr(&self, name: &str, out: &mut String) {
        let mut buf = [0u8; 4];
        quoted(name, self.encode_utf8(&mut buf), true, out);
    }
}

impl AttrValue for Raw {
    fn write_attr(&self, name: &str, out: &mut String) {
        quoted(name, &self.0, false, out);
    }
}

impl AttrValue for bool {
    fn write_attr(&self, name: &str, out: &mut String) {
        if *self {
            out.push(' ');
            out.push_str(name);
        }
    }
}

impl<T: AttrValue + ?Sized> AttrValue for &T {
    fn write_attr(&self, name: &str, out: &mut String) {
        (**self).write_attr(name, out);
    }
}

impl<T: AttrValue> AttrValue for Option<T> {
    fn write_attr(&self, name: &str, out: &mut String) {
        if let Some(value) = self {
            value.write_attr(name, out);
        }
    }
}

/// One entry of a [`class_list`]: a class name, or nothing.
pub trait ClassName {
    /// The class names this entry adds (may be empty or hold several, space-separated).
    fn class_name(&self) -> Option<&str>;
}

impl ClassName for &str {
    fn class_name(&self) -> Option<&str> {
        Some(self)
    }
}

impl ClassName for String {
    fn class_name(&self) -> Option<&str> {
        Some(self)
    }
}

impl<T: ClassName> ClassName for Option<T> {
    fn class_name(&self) -> Option<&str> {
        self.as_ref().and_then(ClassName::class_name)
    }
}

impl<T: ClassName> ClassName for (T, bool) {
    fn class_name(&self) -> Option<&str> {
        if self.1 { self.0.class_name() } else { None }
    }
}

/// HEEx's `class={["btn", @active && "active"]}`: joins the names that are present, skipping
/// `None`, `(name, false)` and blanks; `None` when nothing is left, so the attribute is omitted.
/// The items share one type: `Option<&str>` (`cond.then_some("name")`) or `(&str, bool)`.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// let active = true;
/// let link = html!(r#"<a class={class_list([Some("btn"), active.then_some("active")])}>Home</a>"#);
/// assert_eq!(link.to_html(), r#"<a class="btn active">Home</a>"#);
///
/// // Pairs of (name, condition); with nothing left the attribute is omitted.
/// assert_eq!(class_list([("btn", false), ("big", false)]), None);
/// let plain = html!(r#"<a class={class_list([("btn", false)])}>Home</a>"#);
/// assert_eq!(plain.to_html(), "<a>Home</a>");
/// ```
pub fn class_list<C: ClassName>(items: impl IntoIterator<Item = C>) -> Option<String> {
    let mut out = String::new();
    for item in items {
        for name in item.class_name().unwrap_or("").split_ascii_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(name);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// One attribute of an [`Attrs`] bag: present without a value (`disabled`), or with a text value
/// (kept unescaped; escaped when rendered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrVal {
    /// A bare attribute (`true`).
    Present,
    /// `name="value"`.
    Text(String),
}

impl AttrVal {
    /// The text value (`None` for a bare attribute).
    pub fn as_text(&self) -> Option<&str> {
        match self {
            AttrVal::Present => None,
            AttrVal::Text(text) => Some(text),
        }
    }
}

/// A value that can go into an [`Attrs`] bag or a slot attribute: `None` omits the attribute.
pub trait ToAttrVal {
    /// The attribute's value, or `None` to leave the attribute out.
    fn to_attr_val(&self) -> Option<AttrVal>;
}

impl ToAttrVal for AttrVal {
    fn to_attr_val(&self) -> Option<AttrVal> {
        Some(self.clone())
    }
}

impl ToAttrVal for str {
    fn to_attr_val(&self) -> Option<AttrVal> {
        Some(AttrVal::Text(self.to_string()))
    }
}

impl ToAttrVal for String {
    fn to_attr_val(&self) -> Option<AttrVal> {
        Some(AttrVal::Text(self.clone()))
    }
}

impl ToAttrVal for char {
    fn to_attr_val(&self) -> Option<AttrVal> {
        Some(AttrVal::Text(self.to_string()))
    }
}

impl ToAttrVal for bool {
    fn to_attr_val(&self) -> Option<AttrVal> {
        self.then_some(AttrVal::Present)
    }
}

impl<T: ToAttrVal + ?Sized> ToAttrVal for &T {
    fn to_attr_val(&self) -> Option<AttrVal> {
        (**self).to_attr_val()
    }
}

impl<T: ToAttrVal> ToAttrVal for Option<T> {
    fn to_attr_val(&self) -> Option<AttrVal> {
        self.as_ref().and_then(ToAttrVal::to_attr_val)
    }
}

macro_rules! display_attr_val {
    ($($t:ty),*) => {$(
        impl ToAttrVal for $t {
            fn to_attr_val(&self) -> Option<AttrVal> {
                Some(AttrVal::Text(self.to_string()))
            }
        }
    )*};
}

display_attr_val!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64
);

/// An attribute name that cannot be written into HTML safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidAttrName(pub String);

impl std::fmt::Display for InvalidAttrName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` is not a valid attribute name (use ASCII letters, digits and - _ : . @)",
            self.0
        )
    }
}

impl std::error::Error for InvalidAttrName {}

/// True for the attribute names an [`Attrs`] bag accepts: ASCII letters, digits and `- _ : . @`,
/// starting with a letter, `_`, `:` or `@`.
pub fn valid_attr_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b':' | b'@'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.' | b'@'))
}

/// An ordered bag of attributes, spread onto an element with `<div {attrs}>` (HEEx's
/// `{@rest}`): names are validated when added, values escaped when rendered, and `false`/`None`
/// values leave the attribute out. A component's `#[attr(rest)]` parameter is one.
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// let attrs = Attrs::new()
///     .with("id", "save")
///     .with("disabled", true)
///     .with("hidden", false)
///     .with("data-count", 3)
///     .with("title", "Say \"hi\"");
/// assert_eq!(attrs.text("id"), Some("save"));
/// assert!(attrs.has("disabled") && !attrs.has("hidden"));
///
/// let button = html!(r#"<button class="btn" {attrs}>Save</button>"#);
/// assert_eq!(
///     button.to_html(),
///     r#"<button class="btn" id="save" disabled data-count="3" title="Say &quot;hi&quot;">Save</button>"#
/// );
///
/// // Names are checked: nothing that could break out of the tag gets in.
/// let mut attrs = Attrs::new();
/// assert!(attrs.set("onclick=alert(1)", "x").is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attrs {
    entries: Vec<(String, AttrVal)>,
}

impl Attrs {
    /// An empty bag.
    pub fn new() -> Attrs {
        Attrs::default()
    }

    /// Sets `name` (replacing an earlier value); a `false`/`None` value removes it.
    pub fn set(&mut self, name: &str, value: impl ToAttrVal) -> Result<(), InvalidAttrName> {
        if !valid_attr_name(name) {
            return Err(InvalidAttrName(name.to_string()));
        }
        let value = value.to_attr_val();
        let existing = self.entries.iter().position(|(n, _)| n == name);
        match (existing, value) {
            (Some(i), Some(value)) => self.entries[i].1 = value,
            (Some(i), None) => {
                self.entries.remove(i);
            }
            (None, Some(value)) => self.entries.push((name.to_string(), value)),
            (None, None) => {}
        }
        Ok(())
    }

    /// The bag with `name` set; an invalid name is left out (use [`Attrs::set`] to see why).
    pub fn with(mut self, name: &str, value: impl ToAttrVal) -> Attrs {
        let _ = self.set(name, value);
        self
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&AttrVal> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The text value of `name` (`None` when absent or bare).
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(AttrVal::as_text)
    }

    /// True when `name` is present (bare or with a value).
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// `(name, value)` pairs in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &AttrVal)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// The number of attributes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no attribute.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Appends the attributes as HTML (` a="x" b`).
    pub fn write_spread(&self, out: &mut String) {
        for (name, value) in &self.entries {
            out.push(' ');
            out.push_str(name);
            if let AttrVal::Text(text) = value {
                out.push_str("=\"");
                escape_into(out, text);
                out.push('"');
            }
        }
    }
}

impl<N: AsRef<str>, V: ToAttrVal> FromIterator<(N, V)> for Attrs {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Attrs {
        let mut attrs = Attrs::new();
        for (name, value) in iter {
            let _ = attrs.set(name.as_ref(), value);
        }
        attrs
    }
}

/// What `<div {expr}>` spreads: an [`Attrs`] bag (or an optional one).
pub trait Spread {
    /// Appends the attributes as HTML.
    fn write_spread(&self, out: &mut String);
}

impl Spread for Attrs {
    fn write_spread(&self, out: &mut String) {
        Attrs::write_spread(self, out);
    }
}

impl<T: Spread + ?Sized> Spread for &T {
    fn write_spread(&self, out: &mut String) {
        (**self).write_spread(out);
    }
}

impl<T: Spread> Spread for Option<T> {
    fn write_spread(&self, out: &mut String) {
        if let Some(value) = self {
            value.write_spread(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_lists_keep_what_is_present() {
        assert_eq!(
            class_list([Some("btn"), None, Some(" big  red "), Some("")]),
            Some("btn big red".to_string())
        );
        assert_eq!(
            class_list([("btn", true), ("active", false)]),
            Some("btn".to_string())
        );
        assert_eq!(class_list([None::<&str>]), None);
        let mut out = String::new();
        class_list([("x\"><script>", true)]).write_attr("class", &mut out);
        assert_eq!(out, " class=\"x&quot;&gt;&lt;script&gt;\"");
        let mut out = String::new();
        class_list(Vec::<&str>::new()).write_attr("class", &mut out);
        assert_eq!(out, "");
    }

    const HOSTILE: &str = "<script>alert('x')</script>\"&";

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            HOSTILE.to_html(),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;"
        );
        assert_eq!(raw("<b>").to_html(), "<b>");
        assert_eq!(Some(5).to_html(), "5");
        assert_eq!(None::<i32>.to_html(), "");
    }

    #[test]
    fn attributes_are_escaped_and_booleans_omit() {
        let mut out = String::new();
        "\" onload=\"x".write_attr("title", &mut out);
        assert_eq!(out, " title=\"&quot; onload=&quot;x\"");
        let mut out = String::new();
        true.write_attr("disabled", &mut out);
        false.write_attr("hidden", &mut out);
        None::<&str>.write_attr("id", &mut out);
        3.write_attr("tabindex", &mut out);
        assert_eq!(out, " disabled tabindex=\"3\"");
    }
}
