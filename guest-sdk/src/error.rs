//! The error a view callback returns; the host treats it like a crash of the view.

use std::fmt;

/// A view error: the host logs it, sends `phx_error`, and the client remounts the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> Error {
        Error(message.into())
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<&str> for Error {
    fn from(message: &str) -> Error {
        Error(message.into())
    }
}

impl From<String> for Error {
    fn from(message: String) -> Error {
        Error(message)
    }
}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Error {
        Error(format!("JSON: {error}"))
    }
}

/// The result of a view callback: `Result` is `Result<(), Error>`, `Result<T>` is
/// `Result<T, Error>`, and with a second parameter it is std's own `Result`, so the prelude's
/// `Result` never shadows std's two-parameter form:
///
/// ```
/// use livewasm_sdk::prelude::*;
///
/// fn callback() -> Result { Ok(()) }
/// fn parse(text: &str) -> Result<i64> { text.parse().map_err(|_| Error::from("not a number")) }
/// fn task(n: i64) -> Result<i64, String> { Ok(n * 2) }
///
/// assert!(callback().is_ok());
/// assert_eq!(parse("7").ok(), Some(7));
/// assert_eq!(task(2), Ok(4));
/// ```
pub type Result<T = (), E = Error> = std::result::Result<T, E>;
