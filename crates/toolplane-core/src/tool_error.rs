//! Errors from running a tool, shaped so a model can act on them.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What went wrong with a tool call. Callers match on this; it says whether a
/// retry can help and frames the message the model is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToolErrorKind {
    /// The arguments were not valid JSON or did not satisfy the input schema.
    InvalidArguments,
    /// No tool has that name.
    NotFound,
    /// A permission policy denied the call.
    PermissionDenied,
    /// The policy asks a human first; `details` carries the approval request.
    ApprovalRequired,
    /// A rate limit or quota refused the call for now.
    RateLimited,
    /// The call ran out of time.
    Timeout,
    /// The call was cancelled by the caller.
    Cancelled,
    /// A service the tool depends on failed.
    Upstream,
    /// A bug or an unexpected state inside the tool.
    Internal,
}

impl ToolErrorKind {
    /// Whether the same call may succeed if tried again later.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::RateLimited | Self::Timeout | Self::Upstream)
    }

    /// A stable snake_case label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidArguments => "invalid_arguments",
            Self::NotFound => "not_found",
            Self::PermissionDenied => "permission_denied",
            Self::ApprovalRequired => "approval_required",
            Self::RateLimited => "rate_limited",
            Self::Timeout => "timeout",
            Self::Cancelled => "cancelled",
            Self::Upstream => "upstream",
            Self::Internal => "internal",
        }
    }
}

impl fmt::Display for ToolErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tool call that could not complete.
///
/// `message` is written for the model and for logs: it names the place and
/// the problem. `details` holds structured data (validation violations with
/// JSON pointers, an approval request, suggestions).
///
/// ```
/// use toolplane_core::{ToolError, ToolErrorKind};
/// let e = ToolError::invalid_arguments("/city: expected a string");
/// assert_eq!(e.kind(), ToolErrorKind::InvalidArguments);
/// assert!(!e.is_retryable());
/// assert!(e.to_model_text().contains("invalid_arguments"));
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct ToolError {
    kind: ToolErrorKind,
    message: String,
    details: Option<Value>,
    retry_after: Option<Duration>,
    #[source]
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl ToolError {
    /// An error of the given kind.
    pub fn new(kind: ToolErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            details: None,
            retry_after: None,
            source: None,
        }
    }

    /// [`ToolErrorKind::InvalidArguments`].
    pub fn invalid_arguments(message: impl Into<String>) -> Self {
        Self::new(ToolErrorKind::InvalidArguments, message)
    }

    /// [`ToolErrorKind::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ToolErrorKind::NotFound, message)
    }

    /// [`ToolErrorKind::PermissionDenied`].
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::new(ToolErrorKind::PermissionDenied, message)
    }

    /// [`ToolErrorKind::Upstream`].
    pub fn upstream(message: impl Into<String>) -> Self {
        Self::new(ToolErrorKind::Upstream, message)
    }

    /// [`ToolErrorKind::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ToolErrorKind::Internal, message)
    }

    /// [`ToolErrorKind::Timeout`].
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ToolErrorKind::Timeout, message)
    }

    /// Attaches structured details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Says when a retry may succeed.
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The kind.
    pub fn kind(&self) -> ToolErrorKind {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Structured details, if any.
    pub fn details(&self) -> Option<&Value> {
        self.details.as_ref()
    }

    /// When a retry may succeed, if known.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Whether a retry can help.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// The text a model is given as the tool result: the kind, the message, a
    /// hint on what to do next, and the details as JSON.
    pub fn to_model_text(&self) -> String {
        let hint = match self.kind {
            ToolErrorKind::InvalidArguments => "Fix the arguments and call the tool again.",
            ToolErrorKind::NotFound => "Use one of the available tool names.",
            ToolErrorKind::PermissionDenied => "Do not retry this call; choose another approach.",
            ToolErrorKind::ApprovalRequired => "The call waits for a human's approval.",
            ToolErrorKind::RateLimited => "Wait before calling this tool again.",
            ToolErrorKind::Timeout | ToolErrorKind::Upstream => "You may retry later.",
            ToolErrorKind::Cancelled => "The call was cancelled.",
            ToolErrorKind::Internal => "The tool failed; do not retry the same call.",
        };
        let mut text = format!("error ({}): {} {}", self.kind, self.message, hint);
        if let Some(d) = &self.details {
            text.push_str("\ndetails: ");
            text.push_str(&d.to_string());
        }
        text
    }
}
