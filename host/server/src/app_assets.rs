//! Static files an app ships (`app-manifest.assets`, read once per loaded version by the
//! runtime): served at `/assets/app/<sha256 prefix>/<name>` on the origin of the site that
//! serves the app, cached for good (the path names the content), with a strong `ETag`, the
//! content type of the name's extension and `nosniff`; and the `<head>` lines (stylesheets,
//! icon) the page shell adds for the app's root layout.

use std::fmt::Write as _;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use livewasm_runtime::{ASSET_HASH_HEX, App, Asset, valid_asset_name};

use crate::http_cache::{IMMUTABLE, if_none_match};
use crate::origin::CurrentSite;
use crate::page::escape;

/// Policy of every asset response: nothing in it runs (an SVG's scripts included).
const ASSET_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// `GET /assets/app/<hash>/<name>`: asset `name` with that content hash, of an app of the
/// request's site (another site's assets are not found there).
pub(crate) async fn serve(
    CurrentSite(site): CurrentSite,
    Path((hash, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if hash.len() != ASSET_HASH_HEX || !valid_asset_name(&name) {
        return not_found();
    }
    let found = site.routes().apps().iter().find_map(|app| {
        app.manifest()
            .assets
            .iter()
            .find(|a| a.name == name && a.sha256.starts_with(&hash))
            .cloned()
    });
    match found {
        Some(asset) => respond(&asset, &headers),
        None => not_found(),
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such asset").into_response()
}

/// The response for `asset`: its bytes, or 304 when the client holds them.
fn respond(asset: &Asset, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", asset.sha256);
    let mut response = if if_none_match(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, asset.bytes.to_vec()).into_response()
    };
    let out = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, asset.content_type),
        (header::ETAG, etag.as_str()),
        (header::CACHE_CONTROL, IMMUTABLE),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CONTENT_SECURITY_POLICY, ASSET_CSP),
        // Other origins (another tenant's pages) may not embed them either.
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            out.insert(name, value);
        }
    }
    response
}

/// The `<head>` lines the page shell adds for `app`: a `<link rel="stylesheet">` per
/// stylesheet (its root layout's, else every `.css` asset) and its icon.
pub(crate) fn head_links(app: &App) -> String {
    let manifest = app.manifest();
    let mut head = String::new();
    for sheet in manifest.stylesheets() {
        let _ = writeln!(
            head,
            "<link rel=\"stylesheet\" href=\"{}\">",
            escape(&sheet.path())
        );
    }
    if let Some(icon) = manifest
        .root_layout
        .as_ref()
        .and_then(|l| l.icon.as_deref())
        .and_then(|name| manifest.asset(name))
    {
        let _ = writeln!(
            head,
            "<link rel=\"icon\" type=\"{}\" href=\"{}\">",
            escape(icon.content_type),
            escape(&icon.path())
        );
    }
    head
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn asset() -> Asset {
        Asset {
            name: "app.css".into(),
            content_type: "text/css; charset=utf-8",
            sha256: "ab".repeat(32),
            bytes: Arc::from(&b"p{color:red}"[..]),
        }
    }

    #[test]
    fn an_asset_is_immutable_typed_inert_and_revalidates_with_its_etag() {
        let response = respond(&asset(), &HeaderMap::new());
        assert_eq!(response.status(), StatusCode::OK);
        let h = response.headers();
        assert_eq!(h[header::CONTENT_TYPE], "text/css; charset=utf-8");
        assert_eq!(h[header::CACHE_CONTROL], IMMUTABLE);
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::ETAG], format!("\"{}\"", "ab".repeat(32)).as_str());

        let mut conditional = HeaderMap::new();
        let tag = format!("W/\"x\", \"{}\"", "ab".repeat(32));
        conditional.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&tag).unwrap());
        let response = respond(&asset(), &conditional);
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert!(response.headers().contains_key(header::ETAG));

        conditional.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert_eq!(respond(&asset(), &conditional).status(), StatusCode::OK);
    }
}
