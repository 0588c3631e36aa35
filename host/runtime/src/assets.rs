//! Static files an app ships (`app-manifest.assets`): their names, content types and limits
//! are checked when a version loads, their bytes fetched once from the guest (`app.asset`)
//! and kept, hashed, beside the manifest, so serving them never runs guest code.

use std::sync::Arc;

use sha2::{Digest, Sha256};

/// Most assets one app may ship.
pub const MAX_ASSETS: usize = 64;
/// Most bytes of one asset.
pub const MAX_ASSET_BYTES: u64 = 1 << 20;
/// Most bytes of all of an app's assets together.
pub const MAX_ASSETS_TOTAL_BYTES: u64 = 4 << 20;
/// Longest asset name, in bytes.
pub const MAX_ASSET_NAME_BYTES: usize = 200;
/// Where assets are served: `/assets/app/<hash>/<name>`.
pub const ASSET_PATH_PREFIX: &str = "/assets/app/";
/// Hex digits of the content hash in an asset's path.
pub const ASSET_HASH_HEX: usize = 16;

/// Extensions an asset may have and the content type each is served with. Anything that a
/// browser would run as a document or script (html, js, xml …) is refused; SVG is served under
/// a sandbox policy, so a script in it never runs.
const CONTENT_TYPES: &[(&str, &str)] = &[
    ("css", "text/css; charset=utf-8"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("ico", "image/x-icon"),
    ("svg", "image/svg+xml"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
    ("txt", "text/plain; charset=utf-8"),
];

/// An asset as the app declares it, before its bytes are fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AssetDecl {
    /// Its name.
    pub(crate) name: String,
    /// Its declared size in bytes.
    pub(crate) size: u64,
}

/// A static file of a loaded app, ready to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Its name, e.g. `app.css` or `fonts/inter.woff2`.
    pub name: String,
    /// The content type its extension gives.
    pub content_type: &'static str,
    /// sha256 of its bytes, hex.
    pub sha256: String,
    /// Its bytes.
    pub bytes: Arc<[u8]>,
}

impl Asset {
    /// Its content-addressed path, `/assets/app/<first 16 hex of sha256>/<name>`.
    pub fn path(&self) -> String {
        format!(
            "{ASSET_PATH_PREFIX}{}/{}",
            &self.sha256[..ASSET_HASH_HEX],
            self.name
        )
    }

    /// True for a stylesheet (`.css`).
    pub fn is_stylesheet(&self) -> bool {
        self.content_type.starts_with("text/css")
    }

    /// True for an image.
    pub fn is_image(&self) -> bool {
        self.content_type.starts_with("image/")
    }
}

/// Why an app's assets are refused at load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssetError {
    /// More assets than [`MAX_ASSETS`].
    #[error("the app ships {0} assets; at most {MAX_ASSETS} are allowed")]
    TooMany(usize),
    /// A name that is empty, too long, or not made of letters, digits and `-_./`.
    #[error(
        "asset name `{0}` is invalid (1 to {MAX_ASSET_NAME_BYTES} bytes of letters, digits and \
         `-_./`, no leading `/` or `.`, no empty or dot-first path segment)"
    )]
    BadName(String),
    /// Two assets with one name.
    #[error("asset `{0}` is declared twice")]
    Duplicate(String),
    /// An extension that is not served (html, js …) or none.
    #[error(
        "asset `{0}` has a type that is not served (allowed: css, png, jpg, jpeg, gif, webp, \
         avif, ico, svg, woff, woff2, ttf, otf, txt)"
    )]
    UnsafeType(String),
    /// One asset larger than [`MAX_ASSET_BYTES`].
    #[error("asset `{name}` is {size} bytes; at most {MAX_ASSET_BYTES} are allowed")]
    TooLarge {
        /// The asset.
        name: String,
        /// Its size.
        size: u64,
    },
    /// All assets together larger than [`MAX_ASSETS_TOTAL_BYTES`].
    #[error("the app's assets are {0} bytes in all; at most {MAX_ASSETS_TOTAL_BYTES} are allowed")]
    TotalTooLarge(u64),
    /// The guest returned no bytes, or not as many as it declared.
    #[error("asset `{name}`: the app returned {got} bytes, not the {declared} it declared")]
    SizeMismatch {
        /// The asset.
        name: String,
        /// Its declared size.
        declared: u64,
        /// What the guest returned (0 for none).
        got: u64,
    },
    /// The guest trapped or failed while returning the bytes.
    #[error("asset `{name}` could not be read from the app: {reason}")]
    Read {
        /// The asset.
        name: String,
        /// Why.
        reason: String,
    },
}

/// The content type an asset named `name` is served with; `None` when its type is not served.
pub fn content_type(name: &str) -> Option<&'static str> {
    let (_, extension) = name.rsplit_once('.')?;
    let extension = extension.to_ascii_lowercase();
    CONTENT_TYPES
        .iter()
        .find(|(e, _)| *e == extension)
        .map(|(_, t)| *t)
}

/// True for a name of 1 to [`MAX_ASSET_NAME_BYTES`] bytes of ASCII letters, digits and `-_./`,
/// whose `/`-separated segments are neither empty nor start with `.` (no `..`, no hidden files).
pub fn valid_asset_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_ASSET_NAME_BYTES
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
        && name
            .split('/')
            .all(|segment| !segment.is_empty() && !segment.starts_with('.'))
}

/// Checks what the app declared (count, names, types, sizes) before any byte is fetched.
pub(crate) fn check_declared(declared: &[AssetDecl]) -> Result<(), AssetError> {
    if declared.len() > MAX_ASSETS {
        return Err(AssetError::TooMany(declared.len()));
    }
    let mut total: u64 = 0;
    for (i, asset) in declared.iter().enumerate() {
        if !valid_asset_name(&asset.name) {
            return Err(AssetError::BadName(asset.name.clone()));
        }
        if declared[..i].iter().any(|a| a.name == asset.name) {
            return Err(AssetError::Duplicate(asset.name.clone()));
        }
        if content_type(&asset.name).is_none() {
            return Err(AssetError::UnsafeType(asset.name.clone()));
        }
        if asset.size > MAX_ASSET_BYTES {
            return Err(AssetError::TooLarge {
                name: asset.name.clone(),
                size: asset.size,
            });
        }
        total = total.saturating_add(asset.size);
    }
    if total > MAX_ASSETS_TOTAL_BYTES {
        return Err(AssetError::TotalTooLarge(total));
    }
    Ok(())
}

/// The asset `decl` made of the `bytes` the guest returned for it (already checked by
/// [`check_declared`]); an error when they are missing or not the declared size.
pub(crate) fn asset(decl: &AssetDecl, bytes: Option<Vec<u8>>) -> Result<Asset, AssetError> {
    let got = bytes.as_ref().map_or(0, |b| b.len() as u64);
    let (Some(bytes), true) = (bytes, got == decl.size) else {
        return Err(AssetError::SizeMismatch {
            name: decl.name.clone(),
            declared: decl.size,
            got,
        });
    };
    let sha256 = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Asset {
        content_type: content_type(&decl.name).unwrap_or("application/octet-stream"),
        name: decl.name.clone(),
        sha256,
        bytes: bytes.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(name: &str, size: u64) -> AssetDecl {
        AssetDecl {
            name: name.into(),
            size,
        }
    }

    #[test]
    fn names_are_plain_relative_paths() {
        for good in ["app.css", "fonts/Inter-1.woff2", "img/logo_2.png"] {
            assert!(valid_asset_name(good), "{good}");
        }
        let long = format!("{}.css", "a".repeat(MAX_ASSET_NAME_BYTES));
        for bad in [
            "",
            "/app.css",
            ".hidden.css",
            "a/../b.css",
            "a//b.css",
            "a/",
            "a b.css",
            "a?.css",
            "é.css",
            long.as_str(),
        ] {
            assert!(!valid_asset_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn only_inert_types_are_served() {
        assert_eq!(content_type("app.CSS"), Some("text/css; charset=utf-8"));
        assert_eq!(content_type("f/x.woff2"), Some("font/woff2"));
        for bad in [
            "index.html",
            "x.htm",
            "app.js",
            "a.mjs",
            "feed.xml",
            "noext",
            "x.wasm",
        ] {
            assert_eq!(content_type(bad), None, "{bad}");
        }
        assert!(matches!(
            check_declared(&[decl("index.html", 1)]),
            Err(AssetError::UnsafeType(_))
        ));
    }

    #[test]
    fn counts_and_sizes_are_limited_before_any_fetch() {
        assert!(check_declared(&[decl("a.css", 10), decl("b.png", MAX_ASSET_BYTES)]).is_ok());
        assert!(matches!(
            check_declared(&[decl("a.css", MAX_ASSET_BYTES + 1)]),
            Err(AssetError::TooLarge { .. })
        ));
        let five: Vec<_> = (0..5)
            .map(|i| decl(&format!("{i}.png"), MAX_ASSET_BYTES))
            .collect();
        assert!(matches!(
            check_declared(&five),
            Err(AssetError::TotalTooLarge(_))
        ));
        let many: Vec<_> = (0..=MAX_ASSETS)
            .map(|i| decl(&format!("{i}.css"), 1))
            .collect();
        assert_eq!(
            check_declared(&many),
            Err(AssetError::TooMany(MAX_ASSETS + 1))
        );
        assert!(matches!(
            check_declared(&[decl("a.css", 1), decl("a.css", 1)]),
            Err(AssetError::Duplicate(_))
        ));
    }

    #[test]
    fn fetched_bytes_must_match_the_declared_size() {
        let ok = asset(&decl("app.css", 3), Some(b"a{}".to_vec())).expect("asset");
        assert_eq!(
            ok.path(),
            format!("/assets/app/{}/app.css", &ok.sha256[..16])
        );
        assert!(ok.is_stylesheet() && !ok.is_image());
        assert!(asset(&decl("app.css", 4), Some(b"a{}".to_vec())).is_err());
        assert!(asset(&decl("app.css", 3), None).is_err());
    }
}
