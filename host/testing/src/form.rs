//! [`Form`]: `form(view, selector, data)` — a form of the view's HTML filled in with test data,
//! sent as the official client sends forms (`render_change`, `render_submit`).

use scraper::{ElementRef, Html, Selector};
use serde_json::{Map, Value, json};

use crate::{HarnessError, LiveView};

/// A form of the current HTML with the values a test fills in.
pub struct Form<'a> {
    view: &'a mut LiveView,
    selector: String,
    data: Value,
    submitter: Option<String>,
}

/// What the form element says.
struct Scraped {
    /// `(name, value)` of every successful control, in document order.
    fields: Vec<(String, String)>,
    /// Names of the form's visible named controls (candidates for `_unused_`).
    visible: Vec<String>,
    change: Option<String>,
    submit: Option<String>,
    values: Map<String, Value>,
    submitter: Option<(String, String)>,
    trigger: bool,
    action: String,
    method: String,
    /// The live component its `phx-target` names (a cid), which gets its events.
    cid: Option<u32>,
}

/// The plain HTTP request a form with `phx-trigger-action` makes the browser send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggeredPost {
    /// The form's `action` (the current page when absent: `""`).
    pub action: String,
    /// The form's `method`, upper case (`GET` when absent).
    pub method: String,
    /// The `name=value` pairs posted, in document order.
    pub fields: Vec<(String, String)>,
}

impl TriggeredPost {
    /// The fields as `post_form` takes them.
    pub fn pairs(&self) -> Vec<(&str, &str)> {
        self.fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

impl<'a> Form<'a> {
    pub(crate) fn new(view: &'a mut LiveView, selector: &str, data: Value) -> Form<'a> {
        Form {
            view,
            selector: selector.to_string(),
            data,
            submitter: None,
        }
    }

    /// Submits with this button (`put_submitter`): its `name=value` joins the params.
    pub fn submitter(mut self, selector: &str) -> Form<'a> {
        self.submitter = Some(selector.to_string());
        self
    }

    /// `render_change(form)`: sends the form's `phx-change` with its values, the test's data
    /// over them, `_target` naming the first field of the data (or the data's own `_target`,
    /// e.g. `"user[email]"`), and — as the browser does —
    /// an empty `_unused_<name>` for every visible field the data does not touch.
    pub fn render_change(self) -> Result<String, HarnessError> {
        let scraped = self.scrape()?;
        let event = scraped
            .change
            .clone()
            .ok_or(HarnessError::NoBinding("phx-change"))?;
        let (explicit, data) = split_target(&self.data);
        let data = flatten(&data);
        let mut fields = merge(&self.selector, scraped.fields, &data)?;
        for name in &scraped.visible {
            if !data.iter().any(|(touched, _)| touched == name) {
                fields.push((unused_name(name), String::new()));
            }
        }
        let mut meta = scraped.values;
        meta.insert("_target".into(), Value::String(target(explicit, &data)));
        self.view
            .push_form_to(scraped.cid, &event, &encode(&fields), Value::Object(meta))
    }

    /// `render_submit(form)`: sends the form's `phx-submit` with its values, the test's data over
    /// them, and the submitter's `name=value` when one was chosen.
    pub fn render_submit(self) -> Result<String, HarnessError> {
        let scraped = self.scrape()?;
        let event = scraped
            .submit
            .clone()
            .ok_or(HarnessError::NoBinding("phx-submit"))?;
        let data = flatten(&self.data);
        let mut fields = merge(&self.selector, scraped.fields, &data)?;
        if let Some(pair) = scraped.submitter {
            fields.push(pair);
        }
        self.view.push_form_to(
            scraped.cid,
            &event,
            &encode(&fields),
            Value::Object(scraped.values),
        )
    }

    /// What the browser posts once the form carries `phx-trigger-action` (`follow_trigger_action`):
    /// the form's `action`, `method` and fields (the test's data over them). Errors when the
    /// attribute is absent. Post it with [`crate::TestHost::post_form`].
    pub fn trigger_action(self) -> Result<TriggeredPost, HarnessError> {
        let scraped = self.scrape()?;
        if !scraped.trigger {
            return Err(HarnessError::NoBinding("phx-trigger-action"));
        }
        let fields = merge(&self.selector, scraped.fields, &flatten(&self.data))?;
        Ok(TriggeredPost {
            action: scraped.action,
            method: scraped.method,
            fields,
        })
    }

    fn scrape(&self) -> Result<Scraped, HarnessError> {
        let html = Html::parse_fragment(&self.view.render());
        let selector = parse(&self.selector)?;
        let forms: Vec<ElementRef<'_>> = html.select(&selector).collect();
        let [form] = forms.as_slice() else {
            return Err(HarnessError::Element {
                selector: self.selector.clone(),
                text: String::new(),
                found: forms.len(),
            });
        };
        if form.value().name() != "form" {
            return Err(HarnessError::NotAForm(self.selector.clone()));
        }
        let controls = parse("input[name], select[name], textarea[name]")?;
        let mut fields = Vec::new();
        let mut visible = Vec::new();
        for control in form.select(&controls) {
            let el = control.value();
            let Some(name) = el.attr("name") else {
                continue;
            };
            if el.attr("disabled").is_some() {
                continue;
            }
            let kind = el.attr("type").unwrap_or("text").to_ascii_lowercase();
            if matches!(
                kind.as_str(),
                "submit" | "button" | "image" | "reset" | "file"
            ) {
                continue;
            }
            if kind != "hidden" && !visible.iter().any(|v| v == name) {
                visible.push(name.to_string());
            }
            let value = match (el.name(), kind.as_str()) {
                ("textarea", _) => Some(control.text().collect::<String>()),
                ("select", _) => selected_option(control),
                (_, "checkbox" | "radio") => el
                    .attr("checked")
                    .map(|_| el.attr("value").unwrap_or("on").to_string()),
                _ => Some(el.attr("value").unwrap_or("").to_string()),
            };
            if let Some(value) = value {
                fields.push((name.to_string(), value));
            }
        }
        let mut values = Map::new();
        for (name, value) in form.value().attrs() {
            if let Some(key) = name.strip_prefix("phx-value-") {
                values.insert(key.to_string(), Value::String(value.to_string()));
            }
        }
        let submitter = match &self.submitter {
            Some(sel) => {
                let parsed = parse(sel)?;
                let button = form.select(&parsed).next().ok_or(HarnessError::Element {
                    selector: sel.clone(),
                    text: " inside the form".into(),
                    found: 0,
                })?;
                button.value().attr("name").map(|name| {
                    let value = button.value().attr("value").unwrap_or("");
                    (name.to_string(), value.to_string())
                })
            }
            None => None,
        };
        Ok(Scraped {
            fields,
            visible,
            change: form.value().attr("phx-change").map(str::to_string),
            submit: form.value().attr("phx-submit").map(str::to_string),
            values,
            submitter,
            trigger: form.value().attr("phx-trigger-action").is_some(),
            action: form.value().attr("action").unwrap_or("").to_string(),
            method: form
                .value()
                .attr("method")
                .unwrap_or("get")
                .to_ascii_uppercase(),
            cid: form
                .value()
                .attr("phx-target")
                .and_then(|t| t.trim().parse().ok()),
        })
    }
}

/// Takes a `_target` (`"user[email]"`) out of test data.
fn split_target(data: &Value) -> (Option<String>, Value) {
    let mut data = data.clone();
    let explicit = data
        .as_object_mut()
        .and_then(|map| map.remove("_target"))
        .and_then(|t| t.as_str().map(str::to_string));
    (explicit, data)
}

/// The `_target` of a change: the explicit one, else the first field, else `"undefined"`.
fn target(explicit: Option<String>, fields: &[(String, String)]) -> String {
    explicit
        .or_else(|| fields.first().map(|(name, _)| name.clone()))
        .unwrap_or_else(|| "undefined".into())
}

fn parse(selector: &str) -> Result<Selector, HarnessError> {
    Selector::parse(selector).map_err(|_| HarnessError::Selector(selector.to_string()))
}

/// The value of a `<select>`'s selected option, else its first option.
fn selected_option(select: ElementRef<'_>) -> Option<String> {
    let options = Selector::parse("option").ok()?;
    let all: Vec<ElementRef<'_>> = select.select(&options).collect();
    let chosen = all
        .iter()
        .find(|o| o.value().attr("selected").is_some())
        .or(all.first())?;
    Some(
        chosen
            .value()
            .attr("value")
            .map(str::to_string)
            .unwrap_or_else(|| chosen.text().collect()),
    )
}

/// `user[email]` → `user[_unused_email]`; `q` → `_unused_q`.
fn unused_name(name: &str) -> String {
    match name.rfind('[') {
        Some(i) if name.ends_with(']') && i + 1 < name.len() - 1 => {
            format!("{}[_unused_{}", &name[..i], &name[i + 1..])
        }
        _ => format!("_unused_{name}"),
    }
}

/// Test data as form names and text: `{"user": {"email": "a"}}` → `user[email]=a`; lists give
/// `name[]` entries; `true` gives `"true"`.
fn flatten(data: &Value) -> Vec<(String, String)> {
    fn walk(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    let name = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}[{key}]")
                    };
                    walk(&name, value, out);
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk(&format!("{prefix}[]"), item, out);
                }
            }
            Value::String(text) => out.push((prefix.to_string(), text.clone())),
            Value::Null => out.push((prefix.to_string(), String::new())),
            other => out.push((prefix.to_string(), other.to_string())),
        }
    }
    let mut out = Vec::new();
    walk("", data, &mut out);
    out
}

/// The form's fields with the data's values over them; a data field the form lacks is an error
/// (as in `Phoenix.LiveViewTest`), so a typo in a test does not pass silently.
fn merge(
    form: &str,
    mut fields: Vec<(String, String)>,
    data: &[(String, String)],
) -> Result<Vec<(String, String)>, HarnessError> {
    let mut listed = Vec::new();
    for (name, value) in data {
        if name.ends_with("[]") {
            if !listed.contains(name) {
                fields.retain(|(n, _)| n != name);
                listed.push(name.clone());
            }
            fields.push((name.clone(), value.clone()));
            continue;
        }
        match fields.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.clone(),
            None => {
                return Err(HarnessError::NoFormField {
                    form: form.to_string(),
                    name: name.clone(),
                });
            }
        }
    }
    Ok(fields)
}

fn encode(fields: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

impl LiveView {
    /// `form(view, selector, data)`: the form matching `selector`, to be filled with `data`
    /// (nested like the params: `json!({"user": {"email": "a@b.c"}})`).
    pub fn form(&mut self, selector: &str, data: Value) -> Form<'_> {
        Form::new(self, selector, data)
    }

    /// `render_change(view, event, value)`: a form change event straight to the view, `value`
    /// urlencoded from the given params (with `_target` naming its first field, unless the
    /// params carry their own `_target`).
    pub fn render_change(&mut self, event: &str, value: Value) -> Result<String, HarnessError> {
        let (explicit, value) = split_target(&value);
        let fields = flatten(&value);
        let target = target(explicit, &fields);
        self.push_form(event, &encode(&fields), json!({"_target": target}))
    }

    /// `render_submit(view, event, value)`: a form submit event straight to the view.
    pub fn render_submit(&mut self, event: &str, value: Value) -> Result<String, HarnessError> {
        self.push_form(event, &encode(&flatten(&value)), json!({}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_merging() {
        assert_eq!(unused_name("user[email]"), "user[_unused_email]");
        assert_eq!(unused_name("q"), "_unused_q");
        let data = flatten(&json!({"user": {"email": "a", "tags": ["x", "y"], "terms": true}}));
        assert_eq!(
            data,
            vec![
                ("user[email]".to_string(), "a".to_string()),
                ("user[tags][]".into(), "x".into()),
                ("user[tags][]".into(), "y".into()),
                ("user[terms]".into(), "true".into()),
            ]
        );
        let fields = vec![
            ("user[email]".to_string(), String::new()),
            ("user[tags][]".into(), "old".into()),
            ("user[terms]".into(), "false".into()),
        ];
        let merged = merge("#f", fields.clone(), &data).expect("merges");
        assert_eq!(
            encode(&merged),
            "user%5Bemail%5D=a&user%5Bterms%5D=true&user%5Btags%5D%5B%5D=x&user%5Btags%5D%5B%5D=y"
        );
        let typo = flatten(&json!({"user": {"emial": "a"}}));
        assert!(matches!(
            merge("#f", fields, &typo),
            Err(HarnessError::NoFormField { .. })
        ));
    }
}
