//! HTML escaping for template dynamics, in text and attribute context.

/// Appends `text` to `out` with `& < > " '` escaped.
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

/// Marks `html` as trusted: it is inserted as is.
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
/// ```ignore
/// html!(r#"<a class={class_list([Some("btn"), active.then_some("active")])}>…</a>"#)
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
