//! Outgoing HTTP requests, to the hosts the platform operator allowed the app's tenant (a host
//! serving `--app` components: its `--http-allow` list). HTTPS to public addresses only;
//! redirects come back as they are (a 3xx), not followed.
//!
//! A request may take at most what is left of the callback's deadline (2 s by default) and
//! 10 s; each app may start 20 requests a second (bursts of 40); a response body is read up to
//! 4 MiB and a request body may have 1 MiB. An error names the limit hit, the host that is not
//! allowed, or why the request failed. Slow APIs belong in a task (`assign_async!`,
//! `Socket::start_async`), which keeps the view responsive while it waits.
//!
//! ```no_run
//! use livewasm_sdk::prelude::*;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Rate {
//!     eur: f64,
//! }
//!
//! fn rate() -> Result<f64> {
//!     let response = fetch::get("https://api.example.com/rates/usd")?;
//!     if response.status != 200 {
//!         return Err(Error::new(format!("rates: HTTP {}", response.status)));
//!     }
//!     Ok(response.json::<Rate>()?.eur)
//! }
//!
//! fn report(total: f64) -> Result {
//!     let response = fetch::Request::post("https://hooks.example.com/totals")
//!         .header("authorization", "Bearer …")
//!         .json(&serde_json::json!({ "total": total }))?
//!         .send()?;
//!     assert!(response.status < 300, "{}", response.text());
//!     Ok(())
//! }
//! # rate()?; report(1.0)?;
//! # Ok::<(), livewasm_sdk::Error>(())
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::livewasm::view::fetch as wit;
use crate::{Error, Result};

/// A request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method, e.g. `GET`.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// Body (empty for none).
    pub body: Vec<u8>,
}

impl Request {
    /// A request with `method` to `url`, no headers, no body.
    pub fn new(method: &str, url: &str) -> Request {
        Request {
            method: method.to_ascii_uppercase(),
            url: url.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `GET` of `url`.
    pub fn get(url: &str) -> Request {
        Request::new("GET", url)
    }

    /// A `POST` to `url` (set its body with [`body`](Request::body) or [`json`](Request::json)).
    pub fn post(url: &str) -> Request {
        Request::new("POST", url)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// Sets a JSON body and its `content-type`.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Result<Request> {
        let body = serde_json::to_vec(value).map_err(|e| Error::new(e.to_string()))?;
        Ok(self.header("content-type", "application/json").body(body))
    }

    /// Sends the request and waits for the whole response.
    pub fn send(self) -> Result<Response> {
        send(self)
    }
}

/// The response received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Error::new(format!("the response is not the JSON expected: {e}")))
    }
}

/// Sends `request` and waits for the whole response.
pub fn send(request: Request) -> Result<Response> {
    let response = wit::send(&wit::OutgoingRequest {
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: request.body,
    })
    .map_err(Error::new)?;
    Ok(Response {
        status: response.status,
        headers: response.headers,
        body: response.body,
    })
}

/// A `GET` of `url`.
pub fn get(url: &str) -> Result<Response> {
    send(Request::get(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_build_up() {
        let request = Request::post("https://api.example.com/x")
            .header("x-a", "1")
            .json(&serde_json::json!({"n": 1}))
            .expect("json");
        assert_eq!(request.method, "POST");
        assert_eq!(request.body, br#"{"n":1}"#);
        assert_eq!(
            request.headers,
            [
                ("x-a".to_string(), "1".to_string()),
                ("content-type".to_string(), "application/json".to_string())
            ]
        );
    }

    #[test]
    fn responses_read_headers_and_json() {
        let response = Response {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: br#"{"n": 2}"#.to_vec(),
        };
        assert_eq!(response.header("Content-Type"), Some("application/json"));
        assert_eq!(response.json::<serde_json::Value>().expect("json")["n"], 2);
        assert!(response.json::<Vec<u8>>().is_err());
    }
}
