//! Static files the app ships (`assets:` in [`crate::app!`]) and their content-addressed URLs.
//!
//! The host reads each asset once per loaded version and serves it at
//! `/assets/app/<first 16 hex digits of its sha256>/<name>`, cached for good. [`asset_path`]
//! gives that URL in a template: `<img src={asset_path("logo.png")}>`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// `(name, bytes)` of each asset the app ships.
pub type AssetList = fn() -> Vec<(&'static str, &'static [u8])>;

/// Where assets are served (the host's `ASSET_PATH_PREFIX`).
const PREFIX: &str = "/assets/app/";
/// Hex digits of the content hash in a path (the host's `ASSET_HASH_HEX`).
const HASH_HEX: usize = 16;

/// The app's assets, registered by the first callback of an instance.
static ASSETS: OnceLock<AssetList> = OnceLock::new();

thread_local! {
    /// Paths computed so far, by name (each asset is hashed once per instance).
    static PATHS: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// Makes the app's assets known to [`asset_path`]; called by the exports before the app's code.
#[doc(hidden)]
pub fn register(assets: AssetList) {
    let _ = ASSETS.get_or_init(|| assets);
}

/// The content-addressed URL of the app's asset `name` (as declared in `assets:`), e.g.
/// `/assets/app/3f2a…/app.css`. Its hash changes with its bytes, so browsers may keep it for
/// good. A name the app does not ship gives a path the host answers with 404.
pub fn asset_path(name: &str) -> String {
    if let Some(path) = PATHS.with(|paths| paths.borrow().get(name).cloned()) {
        return path;
    }
    let bytes = ASSETS
        .get()
        .and_then(|list| list().into_iter().find(|(n, _)| *n == name))
        .map(|(_, bytes)| bytes);
    let Some(bytes) = bytes else {
        return format!("{PREFIX}unknown/{name}");
    };
    let path = path_for(name, bytes);
    PATHS.with(|paths| paths.borrow_mut().insert(name.to_string(), path.clone()));
    path
}

/// The path of an asset named `name` holding `bytes`.
fn path_for(name: &str, bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hash: String = digest
        .iter()
        .take(HASH_HEX / 2)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{PREFIX}{hash}/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_names_the_content() {
        let path = path_for("app.css", b"a{}");
        assert!(
            path.starts_with(PREFIX) && path.ends_with("/app.css"),
            "{path}"
        );
        assert_eq!(path.len(), PREFIX.len() + HASH_HEX + "/app.css".len());
        assert_ne!(path, path_for("app.css", b"b{}"));
    }

    #[test]
    fn registered_assets_are_found_and_unknown_ones_are_not() {
        register(|| vec![("app.css", b"a{}".as_slice())]);
        assert_eq!(asset_path("app.css"), path_for("app.css", b"a{}"));
        assert_eq!(asset_path("nope.css"), "/assets/app/unknown/nope.css");
    }
}
