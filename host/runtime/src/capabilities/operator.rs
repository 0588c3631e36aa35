//! The `operator` capability: what the host knows of its tenants, for the one app the host
//! grants it (the operator dashboard it serves itself). The runtime checks the token's size,
//! charges the callback's budget and hands the call to the [`OperatorSource`] the server
//! granted the instance; an instance without one (every other app) gets
//! [`NOT_PERMITTED`]. The source checks the token itself, as the platform API does.

use std::sync::Arc;

use crate::bindings::livewasm::view::operator;
use crate::capabilities::budget::Budget;

/// Longest token the guest may pass, in bytes (registry tokens are far shorter).
pub const MAX_OPERATOR_TOKEN_BYTES: usize = 256;

/// What an app that was not granted the capability gets.
pub const NOT_PERMITTED: &str =
    "not permitted: only the host's operator dashboard may read the operator overview";

/// Why a source refused a call; the guest gets its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperatorError {
    /// The token is unknown, revoked or expired, or of a kind that may not read the overview.
    #[error("{0}")]
    Refused(String),
    /// The registry could not be reached or failed.
    #[error("operator overview unavailable: {0}")]
    Unavailable(String),
}

/// Where an instance's `operator` calls go. Called from guest threads (blocking is fine).
pub trait OperatorSource: Send + Sync {
    /// The overview `token` may see, as JSON text.
    fn overview(&self, token: &str) -> Result<String, OperatorError>;
}

/// The source an instance was granted, if any, and the budget its calls charge.
pub(crate) struct OperatorState {
    budget: Budget,
    source: Option<Arc<dyn OperatorSource>>,
}

impl OperatorState {
    /// No source: every call answers [`NOT_PERMITTED`]; calls charge `budget`.
    pub(crate) fn new(budget: Budget) -> OperatorState {
        OperatorState {
            budget,
            source: None,
        }
    }

    /// Grants the instance `source`.
    pub(crate) fn set_source(&mut self, source: Arc<dyn OperatorSource>) {
        self.source = Some(source);
    }
}

impl operator::Host for OperatorState {
    fn overview(&mut self, token: String) -> wasmtime::Result<Result<String, String>> {
        self.budget.command("operator.overview", token.len())?;
        let Some(source) = &self.source else {
            return Ok(Err(NOT_PERMITTED.to_string()));
        };
        if token.is_empty() || token.len() > MAX_OPERATOR_TOKEN_BYTES {
            return Ok(Err(format!(
                "a token has 1 to {MAX_OPERATOR_TOKEN_BYTES} bytes, not {}",
                token.len()
            )));
        }
        let result = source.overview(&token).map_err(|e| e.to_string());
        if let Ok(json) = &result {
            self.budget.produced(json.len());
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use operator::Host as _;

    struct Fixed;

    impl OperatorSource for Fixed {
        fn overview(&self, token: &str) -> Result<String, OperatorError> {
            match token {
                "good" => Ok("{\"tenants\":[]}".into()),
                _ => Err(OperatorError::Refused("unknown token".into())),
            }
        }
    }

    #[test]
    fn an_app_without_the_grant_is_not_permitted() {
        let mut state = OperatorState::new(Budget::default());
        for token in ["good", "", "x"] {
            assert_eq!(
                state.overview(token.into()).expect("budget"),
                Err(NOT_PERMITTED.to_string())
            );
        }
    }

    #[test]
    fn a_granted_app_gets_the_sources_answer_and_its_refusals() {
        let mut state = OperatorState::new(Budget::default());
        state.set_source(Arc::new(Fixed));
        assert_eq!(
            state.overview("good".into()).expect("budget"),
            Ok("{\"tenants\":[]}".into())
        );
        assert_eq!(
            state.overview("bad".into()).expect("budget"),
            Err("unknown token".into())
        );
        let long = "t".repeat(MAX_OPERATOR_TOKEN_BYTES + 1);
        assert!(state.overview(long).expect("budget").is_err());
        assert!(state.overview(String::new()).expect("budget").is_err());
    }

    #[test]
    fn calls_charge_the_callback_budget() {
        let mut state = OperatorState::new(Budget::default());
        state.set_source(Arc::new(Fixed));
        let mut trapped = false;
        for _ in 0..=crate::capabilities::budget::MAX_COMMANDS_PER_CALLBACK {
            if state.overview("good".into()).is_err() {
                trapped = true;
                break;
            }
        }
        assert!(trapped, "a loop on the import stops at the command cap");
    }
}
