//! [`TestHost`]: real components in a real host, driven in-process.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, header};
use livewasm_runtime::{Runtime, RuntimeConfig};
use livewasm_server::{Host, ServerConfig};
use scraper::{Html, Selector};
use tower::ServiceExt;

use crate::view::{JoinInfo, LiveView};
use crate::{HarnessError, HttpMock, component_path};

/// The largest HTTP body the harness reads.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Set to `postgres` (with `LIVEWASM_TEST_DATABASE_URL`): each test host keeps its apps' `sql`
/// databases in that Postgres, as a host with a Postgres registry does, instead of in memory.
pub const APP_SQL_ENV: &str = "LIVEWASM_TEST_APP_SQL";

/// The Postgres of the tests (see `tests/postgres.sh`).
const DATABASE_ENV: &str = "LIVEWASM_TEST_DATABASE_URL";

/// A host with some guest components loaded, for tests.
pub struct TestHost {
    host: Arc<Host>,
    router: axum::Router,
}

/// A plain HTTP response from the host.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Body as text.
    pub body: String,
    /// The `name=value` part of every `Set-Cookie` header.
    pub cookies: Vec<String>,
    /// The `Location` header, if any.
    pub location: Option<String>,
}

impl TestHost {
    /// Loads the built components of the given guest crates (see [`crate::component_path`]).
    /// Each test host has its own in-memory `kv`, `blobs` and `sql` stores; outgoing HTTP
    /// (`fetch`) reaches nothing (see [`TestHost::with_http_mock`]). With
    /// `LIVEWASM_TEST_APP_SQL=postgres` ([`APP_SQL_ENV`]) its `sql` databases are instead
    /// schemas of its own in the Postgres of `LIVEWASM_TEST_DATABASE_URL`, dropped when its
    /// host is (the last view holding it included), so the same tests run on both backends.
    pub fn new(components: &[&str]) -> Result<TestHost, HarnessError> {
        TestHost::build(components, None)
    }

    /// Like [`TestHost::new`], with the views' outgoing HTTP answered by `mock`.
    pub fn with_http_mock(components: &[&str], mock: HttpMock) -> Result<TestHost, HarnessError> {
        TestHost::build(components, Some(mock))
    }

    fn build(components: &[&str], mock: Option<HttpMock>) -> Result<TestHost, HarnessError> {
        let runtime = Runtime::new(RuntimeConfig {
            max_instances: 32,
            ..RuntimeConfig::default()
        })
        .map_err(|e| HarnessError::Runtime(e.to_string()))?;
        let config = ServerConfig {
            secret_key: b"livewasm-test-harness-secret-key-0123456789".to_vec(),
            ..ServerConfig::default()
        };
        let mut host = Host::new(runtime.clone(), config);
        let sql_in_postgres = match std::env::var(APP_SQL_ENV).ok().as_deref() {
            None | Some("" | "sqlite") => false,
            Some("postgres") => true,
            Some(other) => {
                return Err(HarnessError::Server(format!(
                    "{APP_SQL_ENV}={other}: expected sqlite or postgres"
                )));
            }
        };
        if sql_in_postgres {
            let url = std::env::var(DATABASE_ENV)
                .ok()
                .filter(|url| !url.is_empty())
                .ok_or_else(|| {
                    HarnessError::Server(format!(
                        "{APP_SQL_ENV}=postgres needs {DATABASE_ENV} (tests/postgres.sh)"
                    ))
                })?;
            let namespace = unique_namespace();
            host = host
                .with_sql_in_postgres(&url, &namespace)
                .map_err(|e| HarnessError::Server(e.to_string()))?;
        }
        if let Some(mock) = mock {
            host = host.with_http_client(Arc::new(mock));
        }
        for name in components {
            let path = component_path(name)?;
            let wasm = std::fs::read(&path).map_err(|source| HarnessError::Io {
                path: path.clone(),
                source,
            })?;
            let app = runtime
                .load_app(&wasm)
                .map_err(|e| HarnessError::Runtime(e.to_string()))?;
            host.add_app(app)
                .map_err(|e| HarnessError::Server(e.to_string()))?;
        }
        let host = Arc::new(host);
        let router = livewasm_server::router(host.clone());
        Ok(TestHost { host, router })
    }

    /// The server state, for tests that need to reach below the harness.
    pub fn host(&self) -> &Arc<Host> {
        &self.host
    }

    /// `GET path` through the server's router (the dead render for view routes).
    pub async fn get(&self, path: &str) -> Result<Response, HarnessError> {
        self.get_with_cookies(path, &[]).await
    }

    /// `GET path` sending the given `name=value` cookies.
    pub async fn get_with_cookies(
        &self,
        path: &str,
        cookies: &[String],
    ) -> Result<Response, HarnessError> {
        self.request("GET", path, cookies, None).await
    }

    /// `POST path` of a urlencoded form (`_method` in it overrides the method, as for a
    /// form's log-out button), sending the given `name=value` cookies.
    pub async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookies: &[String],
    ) -> Result<Response, HarnessError> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.request("POST", path, cookies, Some(body)).await
    }

    /// Any request through the server's router; a body is sent as a urlencoded form.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        cookies: &[String],
        form_body: Option<String>,
    ) -> Result<Response, HarnessError> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "localhost");
        if !cookies.is_empty() {
            request = request.header(header::COOKIE, cookies.join("; "));
        }
        let request = match form_body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body)),
            None => request.body(Body::empty()),
        }
        .map_err(|e| HarnessError::Server(e.to_string()))?;
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| HarnessError::Server(e.to_string()))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_BODY)
            .await
            .map_err(|e| HarnessError::Server(e.to_string()))?;
        let cookies = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .map(str::to_string)
            .collect();
        let location = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(Response {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            cookies,
            location,
        })
    }

    /// The host's metrics in Prometheus' text format, as `GET /metrics` of its metrics
    /// listener serves them.
    pub async fn metrics(&self) -> Result<String, HarnessError> {
        let request = Request::builder()
            .method("GET")
            .uri("/metrics")
            .body(Body::empty())
            .map_err(|e| HarnessError::Server(e.to_string()))?;
        let response = livewasm_server::metrics_router(self.host.clone())
            .oneshot(request)
            .await
            .map_err(|e| HarnessError::Server(e.to_string()))?;
        let bytes = axum::body::to_bytes(response.into_body(), MAX_BODY)
            .await
            .map_err(|e| HarnessError::Server(e.to_string()))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// How many calls app `app`'s instances have made so far to the host capability
    /// `capability` (`sql`, `kv`, `fetch` or `blobs`: one per `sql::query`, `kv::get` …), as
    /// the host's `livewasm_capability_calls_total` metric counts them; 0 before the first.
    /// Each guest call's count is in once the call returns (`render_click` and the like).
    pub async fn capability_calls(&self, app: &str, capability: &str) -> Result<u64, HarnessError> {
        let metrics = self.metrics().await?;
        let app_label = format!("app=\"{app}\"");
        let capability_label = format!("capability=\"{capability}\"");
        let mut total = 0;
        for line in metrics.lines() {
            let Some(rest) = line.strip_prefix("livewasm_capability_calls_total{") else {
                continue;
            };
            let Some((labels, value)) = rest.split_once("} ") else {
                continue;
            };
            let labels: Vec<&str> = labels.split(',').collect();
            if labels.contains(&app_label.as_str()) && labels.contains(&capability_label.as_str()) {
                let value: u64 = value
                    .trim()
                    .parse()
                    .map_err(|_| HarnessError::Server(format!("unreadable metric line: {line}")))?;
                total += value;
            }
        }
        Ok(total)
    }

    /// Dead render of `path`, then a connected mount of its view, like `live(conn, path)`.
    ///
    /// Returns the connected view and its HTML (the container's content) after the join.
    pub async fn live(&self, path: &str) -> Result<(LiveView, String), HarnessError> {
        self.live_with_cookies(path, &[]).await
    }

    /// [`Self::live`] sending the given `name=value` cookies with the page request (the
    /// socket sees the session cookie the page ends up with). A redirect of the dead render
    /// is [`HarnessError::Redirect`] (kind `Full`, with the flash token of its cookie).
    pub async fn live_with_cookies(
        &self,
        path: &str,
        cookies: &[String],
    ) -> Result<(LiveView, String), HarnessError> {
        let page = self.get_with_cookies(path, cookies).await?;
        self.join_page(path, &page, cookies, None)
    }

    /// Joins the view of a dead-rendered `page` of `path` (fetched with `cookies`), the join
    /// carrying `flash_token` if given.
    pub(crate) fn join_page(
        &self,
        path: &str,
        page: &Response,
        cookies: &[String],
        flash_token: Option<String>,
    ) -> Result<(LiveView, String), HarnessError> {
        let page = page.clone();
        if (300..400).contains(&page.status)
            && let Some(to) = &page.location
        {
            let flash_token = page
                .cookies
                .iter()
                .find_map(|c| c.strip_prefix("__phoenix_flash__="))
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            return Err(HarnessError::Redirect(crate::Redirect {
                kind: crate::RedirectKind::Full,
                to: to.clone(),
                flash_token,
                replace: false,
            }));
        }
        if page.status != 200 {
            return Err(HarnessError::Http {
                path: path.to_string(),
                status: page.status,
                body: page.body,
            });
        }
        let join = parse_page(&page.body)?;
        // The socket carries the cookies the browser holds after the page: the ones sent,
        // updated by the page's own.
        let mut jar: Vec<String> = cookies.to_vec();
        for cookie in &page.cookies {
            let name = cookie.split('=').next().unwrap_or_default();
            jar.retain(|c| c.split('=').next() != Some(name));
            jar.push(cookie.clone());
        }
        let cookie_header = jar.join("; ");
        let session = livewasm_server::socket_session(
            &self.host,
            Some(cookie_header.as_str()).filter(|c| !c.is_empty()),
            Some(join.csrf.as_str()),
        );
        let connection = livewasm_server::Connection::new(self.host.clone(), session);
        let url = format!("http://localhost{path}");
        let mut view = LiveView::new(connection, url, join).with_join_flash(flash_token);
        let html = view.join()?;
        Ok((view, html))
    }
}

/// Reads the CSRF token and the LiveView container's tokens from a dead-rendered page.
pub(crate) fn parse_page(body: &str) -> Result<JoinInfo, HarnessError> {
    let doc = Html::parse_document(body);
    let meta = Selector::parse(r#"meta[name="csrf-token"]"#)
        .map_err(|_| HarnessError::Selector("meta".into()))?;
    let main = Selector::parse("[data-phx-main]")
        .map_err(|_| HarnessError::Selector("[data-phx-main]".into()))?;
    let csrf = doc
        .select(&meta)
        .next()
        .and_then(|m| m.value().attr("content"))
        .ok_or(HarnessError::Page("<meta name=\"csrf-token\">"))?
        .to_string();
    let container = doc
        .select(&main)
        .next()
        .ok_or(HarnessError::Page("a [data-phx-main] container"))?;
    let attr = |name: &'static str| {
        container
            .value()
            .attr(name)
            .map(str::to_string)
            .ok_or(HarnessError::Page(name))
    };
    Ok(JoinInfo {
        id: attr("id")?,
        session: attr("data-phx-session")?,
        static_token: container
            .value()
            .attr("data-phx-static")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        csrf,
    })
}

/// A namespace no other test host uses, in this process or another.
fn unique_namespace() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "test/{}/{nanos:x}/{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
