//! The provider contract: one trait, its capabilities and its error.

use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures_core::Stream;
use serde::{Deserialize, Serialize};

use crate::stream::{EventStream, response_to_events};
use crate::{CallContext, ChatRequest, ChatResponse, StreamEvent};

/// A stream of events from one streamed chat call.
pub type ChatStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, ProviderError>> + Send + 'static>>;

/// What a provider (or one of its models) can do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderCapabilities {
    /// Accepts tools.
    pub tools: bool,
    /// Streams answers.
    pub streaming: bool,
    /// May call several tools in one turn.
    pub parallel_tool_calls: bool,
    /// Accepts images.
    pub vision: bool,
    /// Enforces a JSON schema on the output.
    pub structured_output: bool,
    /// The largest context in tokens, when known.
    pub max_context_tokens: Option<u64>,
}

impl Default for ProviderCapabilities {
    fn default() -> Self {
        Self {
            tools: true,
            streaming: true,
            parallel_tool_calls: true,
            vision: false,
            structured_output: false,
            max_context_tokens: None,
        }
    }
}

/// A chat model behind some API.
///
/// Required: [`ChatProvider::name`] and [`ChatProvider::chat`].
/// [`ChatProvider::chat_stream`] defaults to one `chat` call replayed as events,
/// and [`ChatProvider::capabilities`] to tools and streaming.
///
/// The router, interceptors and scripted test providers all implement this
/// trait, so anything that takes a provider takes any of them.
///
/// ```
/// use toolplane_core::{CallContext, ChatProvider, ChatRequest, ChatResponse, Message, ScriptedProvider, StopReason};
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let provider = ScriptedProvider::new("scripted").with_text("Hello!");
/// let req = ChatRequest::new("any", vec![Message::user("hi")]);
/// let resp = provider.chat(&req, &CallContext::default()).await.unwrap();
/// assert_eq!(resp.text(), "Hello!");
/// assert_eq!(resp.stop_reason, StopReason::EndTurn);
/// # });
/// ```
#[async_trait]
pub trait ChatProvider: Send + Sync + fmt::Debug {
    /// A short stable name (`openai`, `anthropic`, `router`), used in metrics and errors.
    fn name(&self) -> &str;

    /// What this provider can do.
    fn capabilities(&self) -> ProviderCapabilities {
        ProviderCapabilities::default()
    }

    /// One complete answer.
    async fn chat(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatResponse, ProviderError>;

    /// The answer as a stream of events. Defaults to [`ChatProvider::chat`]
    /// replayed as events, for providers that cannot stream.
    async fn chat_stream(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatStream, ProviderError> {
        let response = self.chat(request, ctx).await?;
        Ok(Box::pin(EventStream::new(
            response_to_events(&response).into_iter().map(Ok).collect(),
        )))
    }
}

/// What went wrong talking to a provider. Callers match on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProviderErrorKind {
    /// Too many requests or tokens; `retry_after` says when to come back (HTTP 429).
    RateLimited,
    /// The provider is overloaded (Anthropic 529, HTTP 503).
    Overloaded,
    /// The key is missing, wrong or expired (401, Cohere 498).
    Authentication,
    /// The key may not do this (403).
    PermissionDenied,
    /// The model or endpoint does not exist (404).
    NotFound,
    /// The request is malformed or unsupported (400, 422).
    InvalidRequest,
    /// The input does not fit the model's context window.
    ContextTooLong,
    /// The provider's safety system blocked the request or answer.
    ContentFiltered,
    /// The call ran out of time.
    Timeout,
    /// The connection failed or broke.
    Transport,
    /// The provider failed (500, 502).
    Server,
    /// The stream ended before the answer was complete.
    Incomplete,
    /// The answer could not be read (malformed JSON, unknown shape).
    Decode,
    /// The caller cancelled (Cohere 499, or the host).
    Cancelled,
    /// A local quota or budget refused the call before it was sent.
    QuotaExceeded,
    /// A router or host had no provider that could take the request.
    NoProvider,
}

impl ProviderErrorKind {
    /// Whether the same request may succeed if sent again.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::RateLimited | Self::Overloaded | Self::Timeout | Self::Transport | Self::Server
        )
    }

    /// A stable snake_case label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited => "rate_limited",
            Self::Overloaded => "overloaded",
            Self::Authentication => "authentication",
            Self::PermissionDenied => "permission_denied",
            Self::NotFound => "not_found",
            Self::InvalidRequest => "invalid_request",
            Self::ContextTooLong => "context_too_long",
            Self::ContentFiltered => "content_filtered",
            Self::Timeout => "timeout",
            Self::Transport => "transport",
            Self::Server => "server",
            Self::Incomplete => "incomplete",
            Self::Decode => "decode",
            Self::Cancelled => "cancelled",
            Self::QuotaExceeded => "quota_exceeded",
            Self::NoProvider => "no_provider",
        }
    }
}

impl fmt::Display for ProviderErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed provider call.
///
/// ```
/// use std::time::Duration;
/// use toolplane_core::{ProviderError, ProviderErrorKind};
/// let e = ProviderError::new(ProviderErrorKind::RateLimited, "openai", "slow down")
///     .with_status(429)
///     .with_retry_after(Duration::from_secs(2));
/// assert!(e.is_retryable());
/// assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{provider}: {kind}: {message}")]
pub struct ProviderError {
    kind: ProviderErrorKind,
    provider: String,
    message: String,
    status: Option<u16>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    #[source]
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl ProviderError {
    /// An error of a kind, from a provider, with a message.
    pub fn new(kind: ProviderErrorKind, provider: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            provider: provider.into(),
            message: message.into(),
            status: None,
            request_id: None,
            retry_after: None,
            source: None,
        }
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the provider's request id.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// Sets when a retry may succeed.
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
    pub fn kind(&self) -> ProviderErrorKind {
        self.kind
    }

    /// The provider's name.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status, if the error came from a response.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The provider's request id, if it sent one.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// When a retry may succeed, if the provider said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Whether a retry can help.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
}

/// Rate-limit state a provider reported in its response headers.
///
/// Durations are relative to `observed_at`. Any field may be absent: not every
/// provider sends every header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimitSnapshot {
    /// Requests allowed in the current window.
    pub requests_limit: Option<u64>,
    /// Requests left in the current window.
    pub requests_remaining: Option<u64>,
    /// Time until the request window resets.
    pub requests_reset: Option<Duration>,
    /// Tokens allowed in the current window.
    pub tokens_limit: Option<u64>,
    /// Tokens left in the current window.
    pub tokens_remaining: Option<u64>,
    /// Time until the token window resets.
    pub tokens_reset: Option<Duration>,
    /// The provider's `retry-after`, if it sent one.
    pub retry_after: Option<Duration>,
    /// When the headers were read.
    pub observed_at: SystemTime,
}

impl Default for RateLimitSnapshot {
    fn default() -> Self {
        Self {
            requests_limit: None,
            requests_remaining: None,
            requests_reset: None,
            tokens_limit: None,
            tokens_remaining: None,
            tokens_reset: None,
            retry_after: None,
            observed_at: SystemTime::UNIX_EPOCH,
        }
    }
}

impl RateLimitSnapshot {
    /// True when the provider said no requests or no tokens are left.
    pub fn is_exhausted(&self) -> bool {
        self.requests_remaining == Some(0) || self.tokens_remaining == Some(0)
    }
}
