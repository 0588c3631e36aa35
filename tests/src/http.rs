//! A minimal HTTP/1.1 GET over a real TCP socket, and what a LiveView page carries.

use std::net::SocketAddr;

use scraper::{Html, Selector};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A dead-rendered page and the values a client needs to join its view.
#[derive(Debug, Clone)]
pub struct Page {
    /// Status code.
    pub status: u16,
    /// Full body.
    pub body: String,
    /// `name=value` of every `Set-Cookie`.
    pub cookies: Vec<String>,
    /// The `<meta name="csrf-token">` value.
    pub csrf: Option<String>,
    /// The main container's id (`lv:<id>` is the topic).
    pub id: Option<String>,
    /// `data-phx-session`.
    pub session: Option<String>,
    /// `data-phx-static`.
    pub static_token: Option<String>,
}

impl Page {
    /// The `Cookie` header value a browser would send back.
    pub fn cookie_header(&self) -> String {
        self.cookies.join("; ")
    }

    /// The LiveView topic of the main container.
    pub fn topic(&self) -> String {
        format!("lv:{}", self.id.as_deref().unwrap_or_default())
    }
}

/// `GET path` from the host at `addr`.
pub async fn get(addr: SocketAddr, path: &str) -> std::io::Result<Page> {
    get_from(addr, &addr.to_string(), path).await
}

/// `GET path` from the server at `addr`, naming `host` in the `Host` header (an app origin
/// such as `thermostat.acme.localhost:4000`).
pub async fn get_from(addr: SocketAddr, host: &str, path: &str) -> std::io::Result<Page> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nAccept: text/html\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut cookies = Vec::new();
    let mut chunked = false;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            if name == "set-cookie" {
                if let Some(pair) = value.trim().split(';').next() {
                    cookies.push(pair.to_string());
                }
            } else if name == "transfer-encoding" && value.trim().eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
        }
    }
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok(parse_page(status, body, cookies))
}

pub(crate) fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn parse_page(status: u16, body: String, cookies: Vec<String>) -> Page {
    let doc = Html::parse_document(&body);
    let pick = |sel: &str, attr: &str| -> Option<String> {
        let selector = Selector::parse(sel).ok()?;
        doc.select(&selector)
            .next()
            .and_then(|el| el.value().attr(attr))
            .map(str::to_string)
    };
    let csrf = pick(r#"meta[name="csrf-token"]"#, "content");
    let id = pick("[data-phx-main]", "id");
    let session = pick("[data-phx-main]", "data-phx-session");
    let static_token = pick("[data-phx-main]", "data-phx-static");
    Page {
        status,
        body,
        cookies,
        csrf,
        id,
        session,
        static_token,
    }
}
