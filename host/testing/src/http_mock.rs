//! An HTTP mock for views that call `fetch`: the test says what each `METHOD url` answers,
//! the views' requests go to it instead of the network, and the test can read what was sent.
//!
//! ```no_run
//! use livewasm_test::{HttpMock, TestHost};
//!
//! let mock = HttpMock::new().on("GET", "https://status.example.com/api/v1/status", 200, r#"{"status":"ok"}"#);
//! let host = TestHost::with_http_mock(&["dashboard"], mock.clone()).expect("host");
//! // … drive the view; then:
//! assert_eq!(mock.requests().len(), 1);
//! # drop(host);
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use livewasm_runtime::{FetchError, HttpClient, IncomingResponse, OutgoingRequest};

/// Canned answers by `METHOD url`, and the requests received. Clones share both.
#[derive(Clone, Default)]
pub struct HttpMock {
    inner: Arc<Mutex<Mocked>>,
}

#[derive(Default)]
struct Mocked {
    answers: HashMap<(String, String), Result<IncomingResponse, FetchError>>,
    requests: Vec<OutgoingRequest>,
}

impl HttpMock {
    /// A mock that answers nothing yet (every request fails with "no mock answers …").
    pub fn new() -> HttpMock {
        HttpMock::default()
    }

    /// `method url` answers `status` with `body`.
    pub fn on(self, method: &str, url: &str, status: u16, body: impl Into<Vec<u8>>) -> HttpMock {
        self.answer(
            method,
            url,
            Ok(IncomingResponse {
                status,
                headers: Vec::new(),
                body: body.into(),
            }),
        )
    }

    /// `method url` fails with `error` (a timeout, a refused host …).
    pub fn fail(self, method: &str, url: &str, error: FetchError) -> HttpMock {
        self.answer(method, url, Err(error))
    }

    fn answer(
        self,
        method: &str,
        url: &str,
        answer: Result<IncomingResponse, FetchError>,
    ) -> HttpMock {
        self.lock()
            .answers
            .insert((method.to_ascii_uppercase(), url.to_string()), answer);
        self
    }

    /// Every request the views sent, in order.
    pub fn requests(&self) -> Vec<OutgoingRequest> {
        self.lock().requests.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Mocked> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl HttpClient for HttpMock {
    fn send(
        &self,
        request: OutgoingRequest,
        _timeout: Duration,
    ) -> Result<IncomingResponse, FetchError> {
        let mut mocked = self.lock();
        let key = (request.method.to_ascii_uppercase(), request.url.clone());
        mocked.requests.push(request);
        mocked.answers.get(&key).cloned().unwrap_or_else(|| {
            Err(FetchError::Failed(format!(
                "no mock answers {} {}",
                key.0, key.1
            )))
        })
    }
}
