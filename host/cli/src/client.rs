//! A blocking client of the host's HTTP API (`/api/v1`), used by the CLI's subcommands.
//!
//! Every call returns the response's JSON on a 2xx status; any other status becomes an error
//! carrying the API's `{"error":{"code","message"}}` message (or the raw body when it has none).

use std::io::Read;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::Value;
use ureq::http::{Response, StatusCode};
use ureq::{Agent, Body, SendBody};

/// Largest response body the client reads (responses are small JSON documents).
const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// Characters escaped in one path segment: everything but unreserved characters.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']')
    .add(b'+')
    .add(b'&')
    .add(b'=')
    .add(b';')
    .add(b':')
    .add(b'@')
    .add(b'$')
    .add(b',');

/// Escapes `text` for use as one path segment of an API URL.
pub fn segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// A client of one host's API, authenticating with an optional bearer token.
pub struct Client {
    /// The agent (connection pool and configuration).
    agent: Agent,
    /// The server's base URL without a trailing slash, e.g. `http://127.0.0.1:4000`.
    base: String,
    /// The bearer token sent with every request, if any.
    token: Option<String>,
}

impl Client {
    /// A client of the host at `server` (an `http://` or `https://` URL).
    pub fn new(server: &str, token: Option<String>) -> Result<Self> {
        let base = server.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            bail!("the server URL must start with http:// or https:// (got {server:?})");
        }
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_recv_response(Some(Duration::from_secs(300)))
            .user_agent(concat!("livewasm-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Client {
            agent,
            base,
            token: token.filter(|t| !t.trim().is_empty()),
        })
    }

    /// The full URL of an API path (which starts with `/`).
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The `Authorization` header value, if a token was given.
    fn bearer(&self) -> Option<String> {
        self.token.as_ref().map(|t| format!("Bearer {}", t.trim()))
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Result<Value> {
        let mut request = self.agent.get(self.url(path));
        if let Some(bearer) = self.bearer() {
            request = request.header("authorization", bearer);
        }
        let response = request.call().map_err(|e| self.transport_error(e))?;
        read_response(response)
    }

    /// `DELETE path`; a `204 No Content` answer gives `Value::Null`.
    pub fn delete(&self, path: &str) -> Result<Value> {
        let mut request = self.agent.delete(self.url(path));
        if let Some(bearer) = self.bearer() {
            request = request.header("authorization", bearer);
        }
        let response = request.call().map_err(|e| self.transport_error(e))?;
        read_response(response)
    }

    /// `POST path` with a JSON body.
    pub fn post_json(&self, path: &str, body: &Value) -> Result<Value> {
        self.send_json(self.agent.post(self.url(path)), body)
    }

    /// `PUT path` with a JSON body.
    pub fn put_json(&self, path: &str, body: &Value) -> Result<Value> {
        self.send_json(self.agent.put(self.url(path)), body)
    }

    /// Sends `request` with the bearer token and `body` as JSON.
    fn send_json(
        &self,
        mut request: ureq::RequestBuilder<ureq::typestate::WithBody>,
        body: &Value,
    ) -> Result<Value> {
        if let Some(bearer) = self.bearer() {
            request = request.header("authorization", bearer);
        }
        let response = request
            .content_type("application/json")
            .send(serde_json::to_vec(body)?)
            .map_err(|e| self.transport_error(e))?;
        read_response(response)
    }

    /// `POST path` with no body.
    pub fn post_empty(&self, path: &str) -> Result<Value> {
        let mut request = self.agent.post(self.url(path));
        if let Some(bearer) = self.bearer() {
            request = request.header("authorization", bearer);
        }
        let response = request.send_empty().map_err(|e| self.transport_error(e))?;
        read_response(response)
    }

    /// `POST path` streaming `len` bytes from `body` with the given content type.
    pub fn post_stream(
        &self,
        path: &str,
        content_type: &str,
        len: u64,
        body: &mut dyn Read,
    ) -> Result<Value> {
        let mut request = self.agent.post(self.url(path));
        if let Some(bearer) = self.bearer() {
            request = request.header("authorization", bearer);
        }
        let response = request
            .content_type(content_type)
            // With an explicit length ureq sends the body as is instead of chunked.
            .header("content-length", len.to_string())
            // Lets the server refuse (auth, quota) before the body is sent, so its error
            // message reaches the user instead of a broken pipe.
            .header("expect", "100-continue")
            .send(SendBody::from_reader(body))
            .map_err(|e| self.transport_error(e))?;
        read_response(response)
    }

    /// Describes a failure to talk to the server at all.
    fn transport_error(&self, error: ureq::Error) -> anyhow::Error {
        anyhow::anyhow!("cannot talk to the server at {}: {error}", self.base)
    }
}

/// The JSON of a successful response, or the API's error message.
fn read_response(mut response: Response<Body>) -> Result<Value> {
    let status = response.status();
    let text = response
        .body_mut()
        .with_config()
        .limit(MAX_RESPONSE_BYTES)
        .read_to_string()
        .with_context(|| format!("reading the server's response (HTTP {status})"))?;
    if status.is_success() {
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        return serde_json::from_str(&text)
            .with_context(|| format!("the server's response is not JSON: {}", snippet(&text)));
    }
    bail!(api_error(status, &text))
}

/// The message of a failed request: the API's error message and code, else the raw body.
fn api_error(status: StatusCode, text: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let message = error.and_then(|e| e.get("message")).and_then(Value::as_str);
    let code = error.and_then(|e| e.get("code")).and_then(Value::as_str);
    match (message, code) {
        (Some(message), Some(code)) => format!("{message} ({code}, HTTP {})", status.as_u16()),
        (Some(message), None) => format!("{message} (HTTP {})", status.as_u16()),
        _ if text.trim().is_empty() => format!("the server answered HTTP {status}"),
        _ => format!("the server answered HTTP {status}: {}", snippet(text)),
    }
}

/// The start of a body, for error messages.
fn snippet(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_show_message_and_code() {
        let body = r#"{"error":{"code":"conflict","message":"tenant acme exists"}}"#;
        assert_eq!(
            api_error(StatusCode::CONFLICT, body),
            "tenant acme exists (conflict, HTTP 409)"
        );
        assert_eq!(
            api_error(StatusCode::BAD_GATEWAY, "upstream down"),
            "the server answered HTTP 502 Bad Gateway: upstream down"
        );
    }

    #[test]
    fn segments_are_escaped() {
        assert_eq!(segment("acme"), "acme");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
    }
}
