//! Golden tests: attribute spreading, and escaping of hostile values in every template context
//! (only `raw(..)` goes out unescaped).

use livewasm_sdk::prelude::*;
use livewasm_sdk::{AttrVal, Attrs, InvalidAttrName, Spread};

const HOSTILE: &str = r#""><script>alert(1)</script>"#;
const QUOTE: &str = "' onmouseover='alert(1)";
const AMP: &str = "a&b &amp; c";
const UNICODE: &str = "héllo ✓ 日本 \u{202e}";

/// The escaped form of each hostile input.
const HOSTILE_ESC: &str = "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;";
const QUOTE_ESC: &str = "&#39; onmouseover=&#39;alert(1)";
const AMP_ESC: &str = "a&amp;b &amp;amp; c";

#[test]
fn text_and_attribute_values() {
    for (input, escaped) in [
        (HOSTILE, HOSTILE_ESC),
        (QUOTE, QUOTE_ESC),
        (AMP, AMP_ESC),
        (UNICODE, UNICODE),
    ] {
        let v = input.to_string();
        let r = html!(r#"<p title={v} data-x={v.as_str()} phx-value-id={v}>{v}</p>"#);
        assert_eq!(
            r.to_html(),
            format!(
                r#"<p title="{escaped}" data-x="{escaped}" phx-value-id="{escaped}">{escaped}</p>"#
            )
        );
        // Class lists.
        let r = html!(r#"<p class={class_list([Some("a"), Some(v.as_str())])}></p>"#);
        assert_eq!(r.to_html(), format!(r#"<p class="a {escaped}"></p>"#));
    }
    // Only raw() is trusted.
    let r = html!(r#"<div>{raw("<b>bold</b>")}{HOSTILE}</div>"#);
    assert_eq!(r.to_html(), format!("<div><b>bold</b>{HOSTILE_ESC}</div>"));
}

#[test]
fn class_lists_escape_every_name() {
    let r = html!(r#"<p class={class_list([Some("ok"), Some(HOSTILE), Some(QUOTE)])}></p>"#);
    assert_eq!(
        r.to_html(),
        r#"<p class="ok &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt; &#39; onmouseover=&#39;alert(1)"></p>"#
    );
}

#[test]
fn spreads_validate_names_escape_values_and_omit_false() {
    let mut attrs = Attrs::new()
        .with("title", HOSTILE)
        .with("data-q", QUOTE)
        .with("disabled", true)
        .with("hidden", false)
        .with("aria-label", None::<&str>)
        .with("tabindex", 3)
        .with("x onmouseover=alert(1)", "y");
    assert_eq!(
        attrs.set("onclick\"", "x"),
        Err(InvalidAttrName("onclick\"".into()))
    );
    assert!(attrs.set("", "x").is_err());
    assert!(attrs.set("a>b", "x").is_err());
    assert!(attrs.set("a=b", "x").is_err());
    assert!(attrs.set("1a", "x").is_err());
    assert_eq!(attrs.get("disabled"), Some(&AttrVal::Present));
    assert_eq!(attrs.text("title"), Some(HOSTILE));
    let r = html!(r#"<div id="a" {attrs}>x</div>"#);
    assert_eq!(
        r.to_html(),
        format!(
            r#"<div id="a" title="{HOSTILE_ESC}" data-q="{QUOTE_ESC}" disabled tabindex="3">x</div>"#
        )
    );
    // Setting false or None removes; setting again replaces in place.
    attrs.set("disabled", false).expect("valid");
    attrs.set("title", "t").expect("valid");
    let mut out = String::new();
    attrs.write_spread(&mut out);
    assert_eq!(
        out,
        format!(r#" title="t" data-q="{QUOTE_ESC}" tabindex="3""#)
    );
    // From pairs (invalid names left out), and an optional bag.
    let pairs: Attrs = [("data-a", "1"), ("bad name", "2"), ("data-b", "&")]
        .into_iter()
        .collect();
    let none: Option<Attrs> = None;
    let r = html!(r#"<i {pairs} {none}></i>"#);
    assert_eq!(r.to_html(), r#"<i data-a="1" data-b="&amp;"></i>"#);
    let mut out = String::new();
    Some(Attrs::new().with("a", "1")).write_spread(&mut out);
    assert_eq!(out, r#" a="1""#);
}

/// A component spreading its rest bag and echoing a slot attribute.
#[component]
pub fn echo<'a>(label: String, #[attr(rest)] rest: Attrs, #[slot] item: Vec<Slot<'a>>) -> Rendered {
    html!(
        r#"<div {rest}><b>{label}</b><i :for={s in item.iter()} title={s.attr("note").unwrap_or_default()}>{render_slot(s, ())}</i></div>"#
    )
}

#[test]
fn component_attributes_rest_and_slot_attributes() {
    let v = HOSTILE.to_string();
    let q = QUOTE.to_string();
    let r = html!(
        r#"<.echo label={v.clone()} phx-value-id={q} data-x={v}><:item note={v}>{v}</:item></.echo>"#
    );
    assert_eq!(
        r.to_html(),
        format!(
            r#"<div phx-value-id="{QUOTE_ESC}" data-x="{HOSTILE_ESC}"><b>{HOSTILE_ESC}</b><i title="{HOSTILE_ESC}">{HOSTILE_ESC}</i></div>"#
        )
    );
}

#[test]
fn core_components_escape_and_links_refuse_script_urls() {
    let v = HOSTILE.to_string();
    let r = html!(r#"<.link href={v} class={QUOTE}>{v}</.link>"#);
    assert_eq!(
        r.to_html(),
        format!(r#"<a href="{HOSTILE_ESC}" class="{QUOTE_ESC}">{HOSTILE_ESC}</a>"#)
    );
    for url in [
        "javascript:alert(1)",
        " JaVa\tScript:alert(1)",
        "data:text/html,x",
        "vbscript:x",
    ] {
        let url = url.to_string();
        let r = html!(r#"<.link navigate={url.clone()}>x</.link><.link href={url}>y</.link>"#);
        assert!(
            !r.to_html().to_ascii_lowercase().contains("script:") && !r.to_html().contains("data:"),
            "{}",
            r.to_html()
        );
    }
    let ok = "/a:b?c=javascript:x".to_string();
    let r = html!(r#"<.link href={ok}>x</.link>"#);
    assert_eq!(r.to_html(), r#"<a href="/a:b?c=javascript:x">x</a>"#);
    let mut flash = Flash::new();
    flash.put("info", HOSTILE);
    flash.put(QUOTE, "x");
    let r = html!(r#"<.flash_group flash={flash} />"#);
    let html = r.to_html();
    assert!(!html.contains("<script>") && !html.contains("'"), "{html}");
    assert!(
        html.contains(&format!("phx-value-key=\"{QUOTE_ESC}\"")),
        "{html}"
    );
    let js = JS::push(HOSTILE);
    let r = html!(r#"<button phx-click={js}>x</button>"#);
    assert_eq!(
        r.to_html(),
        r#"<button phx-click="[[&quot;push&quot;,{&quot;event&quot;:&quot;\&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;}]]">x</button>"#
    );
}
