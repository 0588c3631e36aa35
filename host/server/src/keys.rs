//! The signing keys of a site, derived from the host secret: the key of its view tokens, of its
//! session cookie and of its flash tokens. Each site derives its own, so one app's tokens never
//! verify on another app's origin. The derivations are fixed (tokens and cookies issued by an
//! earlier run keep verifying): on the default site view tokens are keyed per component, on a
//! platform site per `tenant/app`.

use crate::sites::SiteId;
use crate::tokens;

/// Derives a key for `purpose` (e.g. `cookie-session`) from `secret`.
pub(crate) fn derive_key(secret: &[u8], purpose: &str) -> Vec<u8> {
    tokens::mac(secret, purpose.as_bytes())
}

/// The keys of one site, and how its cookies are set.
#[derive(Debug, Clone)]
pub(crate) struct SiteKeys<'a> {
    secret: &'a [u8],
    /// `tenant/app` of a platform site; `None` for the default site.
    label: Option<String>,
    /// The site is reached over HTTPS: its cookies are `Secure` and the session cookie is
    /// `__Host-` prefixed.
    secure: bool,
}

impl<'a> SiteKeys<'a> {
    /// The keys of site `site` under the host secret `secret`.
    pub(crate) fn new(secret: &'a [u8], site: &SiteId) -> SiteKeys<'a> {
        SiteKeys {
            secret,
            label: site.label(),
            secure: false,
        }
    }

    /// The same keys for a site reached over HTTPS (`secure`) or plain HTTP.
    pub(crate) fn with_secure(self, secure: bool) -> SiteKeys<'a> {
        SiteKeys { secure, ..self }
    }

    /// True when the site is reached over HTTPS.
    pub(crate) fn secure(&self) -> bool {
        self.secure
    }

    /// The key signing the session and static tokens of app `app`'s views.
    pub(crate) fn view_tokens(&self, app: &str) -> Vec<u8> {
        match &self.label {
            None => derive_key(self.secret, &format!("view-tokens:{app}")),
            Some(label) => derive_key(self.secret, &format!("site-tokens:{label}")),
        }
    }

    /// The key signing the session cookie.
    pub(crate) fn cookie(&self) -> Vec<u8> {
        match &self.label {
            None => derive_key(self.secret, "cookie-session"),
            Some(label) => derive_key(self.secret, &format!("cookie-session:{label}")),
        }
    }

    /// The key signing flash tokens (redirects and live navigation).
    pub(crate) fn flash(&self) -> Vec<u8> {
        derive_key(&self.cookie(), "flash")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_have_their_own_keys() {
        let secret = [7u8; 32];
        let default = SiteKeys::new(&secret, &SiteId::Default);
        let acme = SiteKeys::new(&secret, &SiteId::app("acme", "shop"));
        assert_eq!(
            default.view_tokens("shop"),
            tokens::mac(&secret, b"view-tokens:shop")
        );
        assert_ne!(default.view_tokens("shop"), default.view_tokens("blog"));
        assert_eq!(
            acme.view_tokens("anything"),
            tokens::mac(&secret, b"site-tokens:acme/shop")
        );
        assert_eq!(default.cookie(), tokens::mac(&secret, b"cookie-session"));
        assert_eq!(
            acme.cookie(),
            tokens::mac(&secret, b"cookie-session:acme/shop")
        );
        assert_eq!(acme.flash(), tokens::mac(&acme.cookie(), b"flash"));
    }
}
