//! Outgoing HTTP for the apps (the `fetch` capability): one shared HTTP client (reqwest,
//! rustls) and, per app, what it may reach and how often. A platform app may reach the hosts
//! on its tenant's allowlist (kept in the registry, set by the operator; a change reaches
//! running apps at once through [`FetchClients::set_allowlist`]); an `--app` component those of
//! [`ServerConfig::http_allow`]. Requests go over HTTPS to public addresses only (checked for
//! address literals and again for every resolved address), or plain HTTP to loopback when
//! [`ServerConfig::http_allow_loopback`] is on (tests). Redirects are not followed. Each app
//! has a token bucket of [`ServerConfig::http_requests_per_sec`]; each response is read up to
//! [`ServerConfig::http_max_response_bytes`].
//!
//! [`ServerConfig::http_allow`]: crate::ServerConfig::http_allow
//! [`ServerConfig::http_allow_loopback`]: crate::ServerConfig::http_allow_loopback
//! [`ServerConfig::http_requests_per_sec`]: crate::ServerConfig::http_requests_per_sec
//! [`ServerConfig::http_max_response_bytes`]: crate::ServerConfig::http_max_response_bytes

mod allow;
mod rate;
mod resolve;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use livewasm_runtime::{FetchError, HttpClient, IncomingResponse, OutgoingRequest};
use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

use crate::ServerConfig;
use crate::runner::{LazyRunner, Runner};
use allow::{AllowEntry, check_url};
use rate::Bucket;
use resolve::PublicResolver;

/// Request headers the host sets itself.
const HOST_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "upgrade",
    "te",
    "keep-alive",
    "proxy-connection",
];

/// Whose allowlist an app uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum AllowedBy {
    /// The host's `--http-allow` (an `--app` component).
    Local,
    /// Its tenant's, by tenant id.
    Tenant(String),
}

/// The apps' outgoing HTTP.
pub(crate) struct FetchClients {
    inner: Arc<Inner>,
}

struct Inner {
    local: Arc<[AllowEntry]>,
    tenants: RwLock<HashMap<String, Arc<[AllowEntry]>>>,
    allow_loopback: bool,
    timeout: Duration,
    max_response_bytes: usize,
    per_second: u32,
    /// Started on first use.
    runner: LazyRunner,
    client: OnceLock<Result<reqwest::Client, String>>,
    buckets: Mutex<HashMap<String, Arc<Mutex<Bucket>>>>,
}

impl FetchClients {
    /// Clients under `config`'s limits and `--http-allow` list (entries that do not parse are
    /// logged and skipped).
    pub(crate) fn new(config: &ServerConfig) -> FetchClients {
        let local: Vec<AllowEntry> = config
            .http_allow
            .iter()
            .filter_map(|entry| {
                let parsed = AllowEntry::parse(entry);
                if parsed.is_none() {
                    tracing::warn!(entry, "ignored: an --http-allow entry is `host[:port]`");
                }
                parsed
            })
            .collect();
        FetchClients {
            inner: Arc::new(Inner {
                local: local.into(),
                tenants: RwLock::default(),
                allow_loopback: config.http_allow_loopback,
                timeout: config.http_timeout,
                max_response_bytes: config.http_max_response_bytes,
                per_second: config.http_requests_per_sec.max(1),
                runner: LazyRunner::new("livewasm-fetch"),
                client: OnceLock::new(),
                buckets: Mutex::default(),
            }),
        }
    }

    /// The client of the app of data scope `scope`, reaching what `allowed` allows.
    pub(crate) fn client(&self, scope: &str, allowed: AllowedBy) -> Arc<dyn HttpClient> {
        let bucket = self
            .inner
            .buckets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(scope.to_string())
            .or_insert_with(|| Arc::new(Mutex::new(Bucket::new(self.inner.per_second))))
            .clone();
        Arc::new(AppFetch {
            inner: self.inner.clone(),
            allowed,
            bucket,
        })
    }

    /// Tenant `tenant`'s apps may reach `hosts` from now on.
    pub(crate) fn set_allowlist(&self, tenant: &str, hosts: Vec<String>) {
        let entries: Vec<AllowEntry> = hosts.iter().filter_map(|h| AllowEntry::parse(h)).collect();
        self.inner
            .tenants
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(tenant.to_string(), entries.into());
    }

    /// True when tenant `tenant`'s allowlist is known (loaded or set since the host started).
    pub(crate) fn knows(&self, tenant: &str) -> bool {
        self.inner
            .tenants
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(tenant)
    }
}

impl Inner {
    fn allowlist(&self, allowed: &AllowedBy) -> Arc<[AllowEntry]> {
        match allowed {
            AllowedBy::Local => self.local.clone(),
            AllowedBy::Tenant(tenant) => self
                .tenants
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .get(tenant)
                .cloned()
                .unwrap_or_else(|| Arc::from(Vec::new())),
        }
    }

    fn runner(&self) -> Result<Arc<Runner>, FetchError> {
        self.runner.get().map_err(FetchError::Failed)
    }

    fn client(&self) -> Result<reqwest::Client, FetchError> {
        self.client
            .get_or_init(|| {
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .dns_resolver(Arc::new(PublicResolver {
                        allow_loopback: self.allow_loopback,
                    }))
                    .no_proxy()
                    .user_agent(concat!("livewasm/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| format!("could not build the HTTP client: {e}"))
            })
            .clone()
            .map_err(FetchError::Failed)
    }
}

/// One app's outgoing HTTP.
struct AppFetch {
    inner: Arc<Inner>,
    allowed: AllowedBy,
    bucket: Arc<Mutex<Bucket>>,
}

impl HttpClient for AppFetch {
    fn send(
        &self,
        request: OutgoingRequest,
        timeout: Duration,
    ) -> Result<IncomingResponse, FetchError> {
        let url = Url::parse(&request.url)
            .map_err(|e| FetchError::Invalid(format!("the URL `{}`: {e}", request.url)))?;
        check_url(
            &url,
            &self.inner.allowlist(&self.allowed),
            self.inner.allow_loopback,
        )?;
        if !self
            .bucket
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            return Err(FetchError::RateLimited {
                per_second: self.inner.per_second,
            });
        }
        let method = reqwest::Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| FetchError::Invalid(format!("the method `{}`", request.method)))?;
        let mut builder = self.inner.client()?.request(method, url);
        for (name, value) in &request.headers {
            if HOST_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                continue;
            }
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| FetchError::Invalid(format!("the header name `{name}`")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| FetchError::Invalid(format!("the value of header `{name}`")))?;
            builder = builder.header(name, value);
        }
        let timeout = timeout.min(self.inner.timeout);
        let request = builder.body(request.body).timeout(timeout);
        let max = self.inner.max_response_bytes;
        let timed_out = FetchError::Timeout {
            ms: timeout.as_millis() as u64,
        };
        let answer = self.inner.runner()?.run(timeout, async move {
            let mut response = request.send().await?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .filter_map(|(name, value)| {
                    Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
                })
                .collect();
            if response.content_length().is_some_and(|n| n > max as u64) {
                return Ok(Err(FetchError::TooLarge { limit: max }));
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > max {
                    return Ok(Err(FetchError::TooLarge { limit: max }));
                }
                body.extend_from_slice(&chunk);
            }
            Ok::<_, reqwest::Error>(Ok(IncomingResponse {
                status,
                headers,
                body,
            }))
        });
        match answer {
            Err(_) => Err(timed_out),
            Ok(Ok(result)) => result,
            Ok(Err(e)) if e.is_timeout() => Err(timed_out),
            Ok(Err(e)) => Err(FetchError::Failed(describe(&e))),
        }
    }
}

/// A reqwest error with its causes (the resolver's refusal is a cause).
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests;
