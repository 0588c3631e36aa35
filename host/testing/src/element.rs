//! [`Element`]: one element of a view's HTML, and the events its bindings send.

use scraper::{ElementRef, Html, Selector};
use serde_json::{Map, Value};

use crate::{HarnessError, LiveView};

/// A handle to the single element matching a selector (and optional text), like `element/3`.
pub struct Element<'a> {
    view: &'a mut LiveView,
    selector: String,
    text: Option<String>,
}

/// What a binding attribute says to push.
struct Binding {
    event: String,
    value: Map<String, Value>,
    /// The live component a `phx-target` holding a cid names.
    cid: Option<u32>,
}

impl<'a> Element<'a> {
    pub(crate) fn new(view: &'a mut LiveView, selector: &str, text: Option<&str>) -> Element<'a> {
        Element {
            view,
            selector: selector.to_string(),
            text: text.map(str::to_string),
        }
    }

    /// The element's outer HTML.
    pub fn render(&self) -> Result<String, HarnessError> {
        self.with_element(|el| Ok(el.html()))
    }

    /// Whether exactly this element exists (`has_element?/1`).
    pub fn exists(&self) -> Result<bool, HarnessError> {
        count_matches(&self.view.render(), &self.selector, self.text.as_deref()).map(|n| n > 0)
    }

    /// `render_click(element)`: sends the element's `phx-click` with its `phx-value-*` values.
    /// A live link without `phx-click` follows its `href` as the client does: `patch` links
    /// patch ([`LiveView::render_patch`]), `redirect` (navigate) links answer
    /// [`HarnessError::Redirect`] (live) for the test to follow.
    pub fn render_click(self) -> Result<String, HarnessError> {
        let link = self.with_element(|el| {
            Ok(
                match (
                    el.value().attr("phx-click"),
                    el.value().attr("data-phx-link"),
                ) {
                    (None, Some(kind)) => el.value().attr("href").map(|href| {
                        let replace = el.value().attr("data-phx-link-state") == Some("replace");
                        (kind.to_string(), href.to_string(), replace)
                    }),
                    _ => None,
                },
            )
        })?;
        match link {
            Some((kind, href, _)) if kind == "patch" => self.view.render_patch(&href),
            Some((_, href, replace)) => Err(HarnessError::Redirect(crate::Redirect {
                kind: crate::RedirectKind::Live,
                to: href,
                flash_token: None,
                replace,
            })),
            None => self.fire("phx-click", "click", Map::new()),
        }
    }

    /// `render_keyup(element, value)`: sends the element's `phx-keyup` (or `phx-window-keyup`).
    pub fn render_keyup(self, key: &str) -> Result<String, HarnessError> {
        let attr = if self.has_attr("phx-keyup")? {
            "phx-keyup"
        } else {
            "phx-window-keyup"
        };
        let mut meta = Map::new();
        meta.insert("key".into(), Value::String(key.into()));
        self.fire(attr, "keyup", meta)
    }

    /// `render_keydown(element, value)`: sends the element's `phx-keydown` (or window variant).
    pub fn render_keydown(self, key: &str) -> Result<String, HarnessError> {
        let attr = if self.has_attr("phx-keydown")? {
            "phx-keydown"
        } else {
            "phx-window-keydown"
        };
        let mut meta = Map::new();
        meta.insert("key".into(), Value::String(key.into()));
        self.fire(attr, "keydown", meta)
    }

    /// Sends the element's `phx-click-away` (what a click outside it sends) with its values.
    pub fn render_click_away(self) -> Result<String, HarnessError> {
        self.fire("phx-click-away", "click", Map::new())
    }

    /// `render_blur(element)`: sends the element's `phx-blur` with its values.
    pub fn render_blur(self) -> Result<String, HarnessError> {
        self.fire("phx-blur", "blur", Map::new())
    }

    /// `render_focus(element)`: sends the element's `phx-focus` with its values.
    pub fn render_focus(self) -> Result<String, HarnessError> {
        self.fire("phx-focus", "focus", Map::new())
    }

    fn has_attr(&self, attr: &str) -> Result<bool, HarnessError> {
        self.with_element(|el| Ok(el.value().attr(attr).is_some()))
    }

    /// Builds the payload the official client would send for `attr` and pushes it.
    fn fire(
        self,
        attr: &'static str,
        kind: &str,
        metadata: Map<String, Value>,
    ) -> Result<String, HarnessError> {
        let binding = self.with_element(|el| binding(el, attr, metadata))?;
        let mut payload = serde_json::json!({
            "type": kind,
            "event": binding.event,
            "value": Value::Object(binding.value),
        });
        // `phx-target={@myself}`: the event goes to that live component.
        if let (Some(cid), Some(map)) = (binding.cid, payload.as_object_mut()) {
            map.insert("cid".into(), Value::from(cid));
        }
        self.view.push_payload(payload)
    }

    fn with_element<T>(
        &self,
        f: impl FnOnce(ElementRef<'_>) -> Result<T, HarnessError>,
    ) -> Result<T, HarnessError> {
        let html = Html::parse_fragment(&self.view.render());
        let selector = Selector::parse(&self.selector)
            .map_err(|_| HarnessError::Selector(self.selector.clone()))?;
        let matches: Vec<ElementRef<'_>> = html
            .select(&selector)
            .filter(|el| text_matches(el, self.text.as_deref()))
            .collect();
        match matches.as_slice() {
            [one] => f(*one),
            _ => Err(HarnessError::Element {
                selector: self.selector.clone(),
                text: describe(self.text.as_deref()),
                found: matches.len(),
            }),
        }
    }
}

/// How many elements of `html` match `selector` and contain `text`.
pub(crate) fn count_matches(
    html: &str,
    selector: &str,
    text: Option<&str>,
) -> Result<usize, HarnessError> {
    let html = Html::parse_fragment(html);
    let parsed =
        Selector::parse(selector).map_err(|_| HarnessError::Selector(selector.to_string()))?;
    Ok(html
        .select(&parsed)
        .filter(|el| text_matches(el, text))
        .count())
}

fn text_matches(el: &ElementRef<'_>, text: Option<&str>) -> bool {
    match text {
        None => true,
        Some(wanted) => el.text().collect::<String>().contains(wanted),
    }
}

fn describe(text: Option<&str>) -> String {
    text.map(|t| format!(" with text {t:?}"))
        .unwrap_or_default()
}

/// The event and value a binding sends, in the client's order: metadata, `phx-value-*`,
/// the element's own `value`, then a `JS.push` value.
fn binding(
    el: ElementRef<'_>,
    attr: &'static str,
    mut value: Map<String, Value>,
) -> Result<Binding, HarnessError> {
    let raw = el.value().attr(attr).ok_or(HarnessError::NoBinding(attr))?;
    for (name, v) in el.value().attrs() {
        if let Some(key) = name.strip_prefix("phx-value-") {
            value.insert(key.to_string(), Value::String(v.to_string()));
        }
    }
    match el.value().name() {
        "button" => {
            let v = el.value().attr("value").unwrap_or("");
            value.insert("value".into(), Value::String(v.to_string()));
        }
        "input" | "select" | "textarea" => {
            if let Some(v) = el.value().attr("value") {
                value.insert("value".into(), Value::String(v.to_string()));
            }
        }
        _ => {}
    }
    let attr_target = el
        .value()
        .attr("phx-target")
        .and_then(|t| t.trim().parse().ok());
    let (event, cid) = if raw.trim_start().starts_with('[') {
        let (event, push_target) = js_push(raw, &mut value).ok_or(HarnessError::NoBinding(attr))?;
        // A `JS.push(…, target: @myself)` names its component itself, as the client reads it.
        (event, push_target.or(attr_target))
    } else {
        (raw.to_string(), attr_target)
    };
    Ok(Binding { event, value, cid })
}

/// The event of the first `push` op of a JS command, merging its `value` into `value`, and
/// the live component its `target` names (a cid; a selector target is left to `phx-target`).
fn js_push(raw: &str, value: &mut Map<String, Value>) -> Option<(String, Option<u32>)> {
    let ops: Vec<Value> = serde_json::from_str(raw).ok()?;
    ops.iter().find_map(|op| {
        if op.get(0)?.as_str()? != "push" {
            return None;
        }
        let args = op.get(1)?;
        if let Some(extra) = args.get("value").and_then(Value::as_object) {
            for (k, v) in extra {
                value.insert(k.clone(), v.clone());
            }
        }
        let target = args.get("target").and_then(|t| {
            t.as_u64()
                .or_else(|| t.as_str()?.trim().parse().ok())
                .and_then(|cid| u32::try_from(cid).ok())
        });
        args.get("event")?
            .as_str()
            .map(|event| (event.to_string(), target))
    })
}
