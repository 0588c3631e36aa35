//! The HTML page around a dead-rendered view.

/// Escapes text for HTML text and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What a page shows.
pub(crate) struct PageParts<'a> {
    pub(crate) title: &'a str,
    pub(crate) csrf: &'a str,
    pub(crate) id: &'a str,
    pub(crate) session: &'a str,
    pub(crate) static_token: &'a str,
    pub(crate) inner: &'a str,
    /// The container element: tag and attributes (checked when the app was loaded).
    pub(crate) container: Option<&'a livewasm_runtime::Container>,
    /// The app's client hook script (`/assets/hooks/<hash>.js`), if it ships hooks.
    pub(crate) hooks_script: Option<&'a str>,
    /// Dev live reload: the page's app and generation, for the glue's reload channel.
    pub(crate) reload_token: Option<&'a str>,
    /// The app's `<head>` lines (its stylesheet and icon links, `app_assets::head_links`);
    /// when it links stylesheets, the host's own default style is left out.
    pub(crate) head_links: &'a str,
    /// The app's root layout: appended to the title (and kept by the client on title changes).
    pub(crate) title_suffix: Option<&'a str>,
    /// The app's root layout: classes of `<body>`.
    pub(crate) body_class: Option<&'a str>,
}

/// The container's tag and its extra attributes, rendered (`div` and none by default).
/// Attributes the client owns (`id`, `data-phx-*`) are left out.
fn container_parts(container: Option<&livewasm_runtime::Container>) -> (String, String) {
    let Some(container) = container else {
        return ("div".into(), String::new());
    };
    let attrs = container
        .attrs
        .iter()
        .filter(|(name, _)| !reserved_attr(name))
        .map(|(name, value)| format!(" {name}=\"{}\"", escape(value)))
        .collect();
    (container.tag.clone(), attrs)
}

/// Container attributes the page and the client own.
pub(crate) fn reserved_attr(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "id" || name.starts_with("data-phx-")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;line-height:1.4}\
button{font-size:1rem;padding:.25rem .75rem;margin-right:.25rem}\
.phx-error [data-phx-main],.phx-loading{opacity:.9}";

/// The full page for a view.
pub(crate) fn view_page(parts: &PageParts<'_>) -> String {
    let (tag, attrs) = container_parts(parts.container);
    // Deferred scripts run in document order: the hooks are registered before the bundle.
    let hooks = parts
        .hooks_script
        .map(|src| format!("<script defer src=\"{}\"></script>\n", escape(src)))
        .unwrap_or_default();
    let reload = parts
        .reload_token
        .map(|token| {
            format!(
                "<meta name=\"livewasm-reload\" content=\"{}\">\n",
                escape(token)
            )
        })
        .unwrap_or_default();
    let style = if parts.head_links.contains("rel=\"stylesheet\"") {
        String::new()
    } else {
        format!("<style>{STYLE}</style>\n")
    };
    let suffix = parts.title_suffix.map(escape).unwrap_or_default();
    let suffix_attr = if suffix.is_empty() {
        String::new()
    } else {
        format!(" data-suffix=\"{suffix}\"")
    };
    let body_attrs = parts
        .body_class
        .map(|class| format!(" class=\"{}\"", escape(class)))
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta name=\"csrf-token\" content=\"{csrf}\">\n\
{reload}<title data-default=\"{title}\"{suffix_attr}>{title}{suffix}</title>\n\
{style}{head_links}\
{hooks}<script defer src=\"/assets/livewasm.js\"></script>\n</head>\n<body{body_attrs}>\n\
<{tag} id=\"{id}\"{attrs} data-phx-main data-phx-session=\"{session}\" data-phx-static=\"{static_token}\">{inner}</{tag}>\n\
</body>\n</html>\n",
        csrf = escape(parts.csrf),
        title = escape(parts.title),
        id = escape(parts.id),
        session = escape(parts.session),
        static_token = escape(parts.static_token),
        inner = parts.inner,
        head_links = parts.head_links,
    )
}

/// A plain error page.
pub(crate) fn error_page(status: u16, title: &str, detail: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{status} {title}</title>\
<style>{STYLE}</style></head>\n<body><h1>{status} {title}</h1><p>{detail}</p></body>\n</html>\n",
        title = escape(title),
        detail = escape(detail),
    )
}
