//! [`Conn`]: a browser-like client for tests that span several requests (log in, then open
//! a view): it keeps the cookies the host sets and the page's CSRF token.

use crate::host::parse_page;
use crate::{HarnessError, LiveView, Redirect, RedirectKind, Response, TestHost};

/// A cookie jar and CSRF token over a [`TestHost`], like Phoenix's test `conn`.
pub struct Conn<'a> {
    host: &'a TestHost,
    cookies: Vec<String>,
    csrf: Option<String>,
}

impl<'a> Conn<'a> {
    pub(crate) fn new(host: &'a TestHost) -> Conn<'a> {
        Conn {
            host,
            cookies: Vec::new(),
            csrf: None,
        }
    }

    /// The cookies held, as `name=value`.
    pub fn cookies(&self) -> &[String] {
        &self.cookies
    }

    /// The value of cookie `name`, if held (and not deleted).
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find_map(|c| c.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
            .filter(|v| !v.is_empty())
    }

    /// Sets a cookie (as the client does with a redirect's flash).
    pub fn put_cookie(&mut self, name: &str, value: &str) {
        self.keep(&[format!("{name}={value}")]);
    }

    fn keep(&mut self, set: &[String]) {
        for cookie in set {
            let name = cookie.split('=').next().unwrap_or_default().to_string();
            self.cookies
                .retain(|c| c.split('=').next() != Some(name.as_str()));
            if !cookie.ends_with('=') {
                self.cookies.push(cookie.clone());
            }
        }
    }

    fn remember(&mut self, response: &Response) {
        self.keep(&response.cookies);
        if response.status == 200
            && let Ok(info) = parse_page(&response.body)
        {
            self.csrf = Some(info.csrf);
        }
    }

    /// `GET path` with the jar's cookies.
    pub async fn get(&mut self, path: &str) -> Result<Response, HarnessError> {
        let response = self.host.get_with_cookies(path, &self.cookies).await?;
        self.remember(&response);
        Ok(response)
    }

    /// `POST path` of a form, adding the CSRF token of the last page (`_csrf_token`).
    pub async fn post(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<Response, HarnessError> {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        if let Some(csrf) = &self.csrf {
            fields.push(("_csrf_token", csrf.as_str()));
        }
        let response = self.host.post_form(path, &fields, &self.cookies).await?;
        self.remember(&response);
        Ok(response)
    }

    /// `live(conn, path)`: the dead render with the jar's cookies, then the connected mount.
    /// A redirect of the dead render is [`HarnessError::Redirect`].
    pub async fn live(&mut self, path: &str) -> Result<(LiveView, String), HarnessError> {
        self.live_with_flash(path, None).await
    }

    async fn live_with_flash(
        &mut self,
        path: &str,
        flash_token: Option<String>,
    ) -> Result<(LiveView, String), HarnessError> {
        let sent = self.cookies.clone();
        let page = self.host.get_with_cookies(path, &sent).await?;
        self.remember(&page);
        self.host.join_page(path, &page, &sent, flash_token)
    }

    /// Joins the view of a page fetched earlier with the cookies held now (the session may
    /// have changed since, as when a user logs in another tab before the socket connects).
    pub fn join(&self, path: &str, page: &Response) -> Result<(LiveView, String), HarnessError> {
        self.host.join_page(path, page, &self.cookies, None)
    }

    /// `follow_redirect(result, conn)`: opens the page a redirect points to, its flash
    /// carried the way the client carries it (a cookie for a full redirect, the join's
    /// `flash` for a live one).
    pub async fn follow_redirect(
        &mut self,
        redirect: &Redirect,
    ) -> Result<(LiveView, String), HarnessError> {
        match redirect.kind {
            RedirectKind::Full => {
                if let Some(token) = &redirect.flash_token {
                    self.put_cookie("__phoenix_flash__", token);
                }
                self.live(&redirect.to).await
            }
            RedirectKind::Live => {
                self.live_with_flash(&redirect.to, redirect.flash_token.clone())
                    .await
            }
        }
    }
}

impl TestHost {
    /// A browser-like client keeping cookies across requests ([`Conn`]).
    pub fn conn(&self) -> Conn<'_> {
        Conn::new(self)
    }
}
