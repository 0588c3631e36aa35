//! Fetching a dead-rendered page over plain HTTP/1.1 and reading what a join needs.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use scraper::{Html, Selector};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What a client needs from the dead render to join the page's view.
#[derive(Debug, Clone)]
pub struct Page {
    /// `<meta name="csrf-token">`.
    pub csrf: String,
    /// The session cookie(s) as a `Cookie` header value.
    pub cookie: String,
    /// The container id.
    pub id: String,
    /// `data-phx-session`.
    pub session: String,
    /// `data-phx-static`, when not empty.
    pub static_token: Option<String>,
    /// Size of the whole HTTP response in bytes.
    pub bytes: usize,
    /// Size of the view's HTML (the container's content) in bytes.
    pub view_html_bytes: usize,
}

impl Page {
    /// The LiveView topic.
    pub fn topic(&self) -> String {
        format!("lv:{}", self.id)
    }
}

/// `GET path` and parse the page.
pub async fn fetch(server: SocketAddr, path: &str) -> Result<Page> {
    fetch_from(server, &server.to_string(), path).await
}

/// `GET path` with `Host: host` (an app's origin on a platform host) and parse the page.
pub async fn fetch_from(server: SocketAddr, host: &str, path: &str) -> Result<Page> {
    let mut stream = tokio::net::TcpStream::connect(server)
        .await
        .with_context(|| format!("connecting to {server}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        bail!("no HTTP response from {server}{path}");
    };
    if !head.starts_with("HTTP/1.1 200") {
        bail!("GET {path}: {}", head.lines().next().unwrap_or_default());
    }
    let cookie = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| v.trim().split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    let doc = Html::parse_document(body);
    let pick = |sel: &str, attr: &str| -> Option<String> {
        let selector = Selector::parse(sel).ok()?;
        doc.select(&selector)
            .next()
            .and_then(|el| el.value().attr(attr))
            .map(str::to_string)
    };
    Ok(Page {
        csrf: pick(r#"meta[name="csrf-token"]"#, "content").context("no csrf meta")?,
        cookie,
        id: pick("[data-phx-main]", "id").context("no container")?,
        session: pick("[data-phx-main]", "data-phx-session").context("no session token")?,
        static_token: pick("[data-phx-main]", "data-phx-static").filter(|s| !s.is_empty()),
        bytes: raw.len(),
        view_html_bytes: Selector::parse("[data-phx-main]")
            .ok()
            .and_then(|selector| doc.select(&selector).next().map(|el| el.inner_html().len()))
            .unwrap_or(0),
    })
}
