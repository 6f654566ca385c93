//! Errors: what was wrong with a record, a query or a price file.

use std::fmt;

/// What kind of problem a [`MetricsError`] is. Callers match on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetricsErrorKind {
    /// A record field is out of range: negative, NaN, infinite or absurd.
    InvalidRecord,
    /// A query names a provider, model or task type that was never recorded.
    UnknownSeries,
    /// A query window is empty, reversed or outside the retention.
    InvalidWindow,
    /// Feedback names a request id that is unknown (never recorded, or forgotten).
    UnknownRequest,
    /// Feedback arrived twice for the same request.
    AlreadyJudged,
    /// A price file could not be read or parsed, or a price is invalid.
    Pricing,
}

impl MetricsErrorKind {
    /// A stable snake_case label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRecord => "invalid_record",
            Self::UnknownSeries => "unknown_series",
            Self::InvalidWindow => "invalid_window",
            Self::UnknownRequest => "unknown_request",
            Self::AlreadyJudged => "already_judged",
            Self::Pricing => "pricing",
        }
    }
}

impl fmt::Display for MetricsErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejected record, query, feedback or price. The message names the field
/// (or file) and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct MetricsError {
    kind: MetricsErrorKind,
    message: String,
}

impl MetricsError {
    /// An error of `kind` with a message.
    pub fn new(kind: MetricsErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn record(message: impl Into<String>) -> Self {
        Self::new(MetricsErrorKind::InvalidRecord, message)
    }

    pub(crate) fn window(message: impl Into<String>) -> Self {
        Self::new(MetricsErrorKind::InvalidWindow, message)
    }

    pub(crate) fn pricing(message: impl Into<String>) -> Self {
        Self::new(MetricsErrorKind::Pricing, message)
    }

    /// The kind.
    pub fn kind(&self) -> MetricsErrorKind {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}
