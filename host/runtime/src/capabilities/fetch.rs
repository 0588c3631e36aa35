//! The `fetch` capability: outgoing HTTP requests. The runtime checks what a guest passes (URL,
//! header and body sizes), charges the callback's budget, gives the request what is left of
//! the callback's deadline as its time limit, and hands it to the [`HttpClient`] the server
//! granted the instance: the server's client checks the app's allowlist, rate and the address
//! it connects to.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bindings::livewasm::view::fetch;
use crate::capabilities::budget::Budget;

/// Longest URL, in bytes.
pub const MAX_FETCH_URL_BYTES: usize = 8 * 1024;
/// Most request headers.
pub const MAX_FETCH_HEADERS: usize = 64;
/// Most bytes of request headers, names and values together.
pub const MAX_FETCH_HEADER_BYTES: usize = 64 * 1024;
/// Largest request body.
pub const MAX_FETCH_BODY_BYTES: usize = 1 << 20;
/// Time kept back from a request for the callback to use its answer (render, diff).
const CALLBACK_MARGIN: Duration = Duration::from_millis(100);

/// A request a view sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingRequest {
    /// Method, upper case.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// The response it gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingResponse {
    /// Status code.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// Why a request was refused or failed; the guest gets its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The URL's host (and port) is not on the app's allowlist.
    #[error("fetch refused: {host} is not on this app's allowlist")]
    NotAllowed {
        /// `host[:port]` as the URL named it.
        host: String,
    },
    /// The URL's scheme, or the address its host resolves to, is not one apps may reach.
    #[error("fetch refused: {0}")]
    Refused(String),
    /// The app sent more requests than its rate allows.
    #[error("fetch rate exceeded: at most {per_second} requests per second per app")]
    RateLimited {
        /// The app's rate.
        per_second: u32,
    },
    /// No response within the request's time.
    #[error("fetch timed out after {ms} ms")]
    Timeout {
        /// The time it had.
        ms: u64,
    },
    /// The response body is larger than a view may receive.
    #[error("fetch response larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The request is malformed (URL, method, header).
    #[error("fetch request invalid: {0}")]
    Invalid(String),
    /// Connecting or reading failed.
    #[error("fetch failed: {0}")]
    Failed(String),
}

/// Where an instance's `fetch` calls go. Shared by every instance of the app and called from
/// guest threads (blocking is fine).
pub trait HttpClient: Send + Sync {
    /// Sends `request`, waiting at most `timeout` for the whole response.
    fn send(
        &self,
        request: OutgoingRequest,
        timeout: Duration,
    ) -> Result<IncomingResponse, FetchError>;
}

/// The client an instance was granted, its callback deadline, and the budget its calls charge.
pub(crate) struct FetchState {
    budget: Budget,
    client: Option<Arc<dyn HttpClient>>,
    /// The wall-clock limit of one callback.
    callback_deadline: Duration,
    /// When the current callback started.
    callback_started: Instant,
}

impl FetchState {
    /// No client yet; calls charge `budget`; callbacks last at most `callback_deadline`.
    pub(crate) fn new(budget: Budget, callback_deadline: Duration) -> FetchState {
        FetchState {
            budget,
            client: None,
            callback_deadline,
            callback_started: Instant::now(),
        }
    }

    /// Grants the instance `client`.
    pub(crate) fn set_client(&mut self, client: Arc<dyn HttpClient>) {
        self.client = Some(client);
    }

    /// A callback starts now.
    pub(crate) fn new_callback(&mut self) {
        self.callback_started = Instant::now();
    }

    /// What is left of the callback's time for a request.
    fn time_left(&self) -> Duration {
        self.callback_deadline
            .saturating_sub(self.callback_started.elapsed())
            .saturating_sub(CALLBACK_MARGIN)
    }
}

/// Checks a request's sizes before it leaves the runtime.
fn check(request: &OutgoingRequest) -> Result<(), FetchError> {
    if request.url.len() > MAX_FETCH_URL_BYTES {
        return Err(FetchError::Invalid(format!(
            "a URL of {} bytes exceeds the limit of {MAX_FETCH_URL_BYTES} bytes",
            request.url.len()
        )));
    }
    let header_bytes: usize = request.headers.iter().map(|(n, v)| n.len() + v.len()).sum();
    if request.headers.len() > MAX_FETCH_HEADERS || header_bytes > MAX_FETCH_HEADER_BYTES {
        return Err(FetchError::Invalid(format!(
            "at most {MAX_FETCH_HEADERS} headers and {MAX_FETCH_HEADER_BYTES} bytes of them"
        )));
    }
    if request.body.len() > MAX_FETCH_BODY_BYTES {
        return Err(FetchError::Invalid(format!(
            "a body of {} bytes exceeds the limit of {MAX_FETCH_BODY_BYTES} bytes",
            request.body.len()
        )));
    }
    Ok(())
}

impl fetch::Host for FetchState {
    fn send(
        &mut self,
        request: fetch::OutgoingRequest,
    ) -> wasmtime::Result<Result<fetch::IncomingResponse, String>> {
        let request = OutgoingRequest {
            method: request.method.to_ascii_uppercase(),
            url: request.url,
            headers: request.headers,
            body: request.body,
        };
        let bytes = request.url.len()
            + request.body.len()
            + request
                .headers
                .iter()
                .map(|(n, v)| n.len() + v.len())
                .sum::<usize>();
        self.budget.command("fetch.send", bytes)?;
        let Some(client) = self.client.clone() else {
            return Ok(Err("fetch is not available to this view".into()));
        };
        if let Err(error) = check(&request) {
            return Ok(Err(error.to_string()));
        }
        let timeout = self.time_left();
        if timeout.is_zero() {
            return Ok(Err(FetchError::Timeout { ms: 0 }.to_string()));
        }
        let result = client.send(request, timeout);
        Ok(match result {
            Ok(response) => {
                self.budget.produced(response.body.len());
                Ok(fetch::IncomingResponse {
                    status: response.status,
                    headers: response.headers,
                    body: response.body,
                })
            }
            Err(error) => Err(error.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str) -> OutgoingRequest {
        OutgoingRequest {
            method: "GET".into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    #[test]
    fn sizes_are_checked_before_the_client() {
        assert!(check(&request("https://example.com/")).is_ok());
        let long = format!("https://example.com/{}", "a".repeat(MAX_FETCH_URL_BYTES));
        assert!(matches!(
            check(&request(&long)),
            Err(FetchError::Invalid(_))
        ));
        let mut big = request("https://example.com/");
        big.body = vec![0; MAX_FETCH_BODY_BYTES + 1];
        assert!(check(&big).is_err());
        let mut headers = request("https://example.com/");
        headers.headers = vec![("x".into(), "y".into()); MAX_FETCH_HEADERS + 1];
        assert!(check(&headers).is_err());
    }

    #[test]
    fn a_request_gets_what_is_left_of_the_callback() {
        let mut state = FetchState::new(Budget::default(), Duration::from_secs(2));
        state.new_callback();
        let left = state.time_left();
        assert!(left <= Duration::from_millis(1900) && left > Duration::from_millis(1500));
        state.callback_started = Instant::now() - Duration::from_secs(3);
        assert!(state.time_left().is_zero());
    }
}
