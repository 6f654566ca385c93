//! Why a run could not go on.

use toolplane_core::ProviderError;

use super::state::RunState;

/// What kind of failure a [`RunError`] is. Callers match on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RunErrorKind {
    /// The provider failed; see [`RunError::provider_error`] for whether a retry helps.
    Provider,
    /// `resume` was given decisions that do not match the pending calls.
    InvalidDecisions,
    /// The state cannot be resumed (wrong version, malformed conversation).
    InvalidState,
    /// The task running the loop ended abnormally.
    Aborted,
}

/// A run that could not go on. Where it makes sense the error gives the state
/// back ([`RunError::into_state`]) so the host can retry or resume it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The provider failed at a step.
    #[error("step {step}: {source}")]
    Provider {
        /// The step that failed.
        step: u32,
        /// The provider's error.
        #[source]
        source: ProviderError,
        /// The state before the failed call; resuming retries it.
        state: Box<RunState>,
    },
    /// Decisions were missing for some pending calls, or named calls that are not pending.
    #[error("resume: {message}")]
    InvalidDecisions {
        /// Which calls and what is wrong.
        message: String,
        /// The state, unchanged.
        state: Box<RunState>,
    },
    /// The state cannot be resumed.
    #[error("resume: {0}")]
    InvalidState(String),
    /// The task running the loop panicked or was cancelled.
    #[error("the run task ended abnormally: {0}")]
    Aborted(String),
}

impl RunError {
    /// The kind.
    pub fn kind(&self) -> RunErrorKind {
        match self {
            Self::Provider { .. } => RunErrorKind::Provider,
            Self::InvalidDecisions { .. } => RunErrorKind::InvalidDecisions,
            Self::InvalidState(_) => RunErrorKind::InvalidState,
            Self::Aborted(_) => RunErrorKind::Aborted,
        }
    }

    /// Whether resuming the returned state unchanged may succeed (a
    /// rate-limited or overloaded provider, a timeout).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Provider { source, .. } if source.is_retryable())
    }

    /// The provider's error, for provider failures.
    pub fn provider_error(&self) -> Option<&ProviderError> {
        match self {
            Self::Provider { source, .. } => Some(source),
            _ => None,
        }
    }

    /// The state to retry or resume from, where the error carries one.
    pub fn into_state(self) -> Option<RunState> {
        match self {
            Self::Provider { state, .. } | Self::InvalidDecisions { state, .. } => Some(*state),
            _ => None,
        }
    }
}
