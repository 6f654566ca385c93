//! The `chat {model}` client span around each provider call, named after the
//! OpenTelemetry GenAI conventions in [`toolplane_core::semconv`].
//!
//! # One chat span per model call
//!
//! A model call may pass through three layers that each know part of it: the
//! agent loop (the step), the router (which expert, which fallbacks) and this
//! transport (retries, time to first chunk, the server). One span per call
//! is what a trace reader expects, so **the outermost layer opens the `chat`
//! span and the layers inside it add to that span** instead of opening a
//! second one:
//!
//! - Called outside any `chat` span (a provider used directly, or the router's
//!   expert when the router itself is used directly... see below), the
//!   transport opens the span and records everything: request, response,
//!   usage, error.
//! - Called inside a `chat` span (the loop's, or the router's), the transport
//!   records only what it alone knows: `server.address`/`server.port`, the
//!   time to first chunk, retry events. The owner records the response and
//!   the error from what the call returned to it, so a failed first expert
//!   followed by a successful fallback leaves no `error.type` behind.
//!
//! The span is found by its name and its `gen_ai.operation.name` field
//! ([`toolplane_trace::is_chat_span`]); the check is a pointer read when no
//! subscriber is installed.

use std::time::{Duration, Instant};

use toolplane_core::semconv as sc;
use toolplane_core::{ChatResponse, ChatStream, ProviderError};
use toolplane_trace::{current_or_open, label, record_chat, record_error, traced_stream};
use tracing::Span;

/// The host and port a provider talks to, read once from its base URL.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServerAddress {
    host: Option<String>,
    port: Option<u16>,
}

impl ServerAddress {
    pub(crate) fn new(host: Option<&str>, port: Option<u16>) -> Self {
        Self {
            host: host.map(str::to_owned),
            port,
        }
    }
}

/// One model call's span: opened here, or the enclosing `chat` span.
#[derive(Debug)]
pub(crate) struct ChatTrace {
    span: Span,
    owned: bool,
    started: Instant,
}

impl ChatTrace {
    /// The span for a call to `model` of `provider`: the current `chat` span
    /// when there is one, else a new one.
    pub(crate) fn start(provider: &str, model: &str, server: &ServerAddress) -> Self {
        let started = Instant::now();
        let (span, owned) = current_or_open(|| {
            toolplane_trace::chat_span!(
                target: "toolplane::provider",
                provider: label(provider),
                model: label(model),
            )
        });
        if !span.is_disabled() {
            if let Some(host) = &server.host {
                span.record(sc::SERVER_ADDRESS, label(host));
            }
            if let Some(port) = server.port {
                span.record(sc::SERVER_PORT, port);
            }
        }
        Self { span, owned, started }
    }

    /// Runs `work` inside the span (it is already current when not owned).
    pub(crate) async fn run<F: Future>(&self, work: F) -> F::Output {
        if self.owned && !self.span.is_disabled() {
            tracing::Instrument::instrument(work, self.span.clone()).await
        } else {
            work.await
        }
    }

    /// Records the error (when this layer owns the span).
    pub(crate) fn failed(&self, error: &ProviderError) {
        if self.owned && !self.span.is_disabled() {
            record_error(&self.span, error);
        }
    }

    /// Records a whole answer or the error (when this layer owns the span).
    pub(crate) fn finish(&self, result: &Result<ChatResponse, ProviderError>) {
        if !self.owned || self.span.is_disabled() {
            return;
        }
        record_chat(&self.span, result);
    }

    /// The stream's first item has arrived: records the time to first chunk.
    pub(crate) fn first_chunk(&self) {
        if !self.span.is_disabled() {
            self.span.record(
                sc::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
                self.started.elapsed().as_secs_f64(),
            );
        }
    }

    /// Wraps an open stream so the span (when owned) lives as long as the
    /// stream and records the answer's id, usage, stop reason or error.
    pub(crate) fn stream(self, stream: ChatStream) -> ChatStream {
        if !self.owned || self.span.is_disabled() {
            return stream;
        }
        traced_stream(stream, self.span)
    }
}

/// A retry is due: an event on the current (`chat`) span with the wait and
/// the reason (the error's kind and status; never its message, which may
/// hold text from the server before redaction).
pub(crate) fn retry_event(retry: u32, wait: Duration, error: &ProviderError) {
    let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
    tracing::event!(
        target: "toolplane::provider",
        tracing::Level::INFO,
        toolplane.retry.attempt = retry + 1,
        toolplane.retry.wait_ms = wait_ms,
        error.type = error.kind().as_str(),
        toolplane.retry.status = error.status(),
        "toolplane.retry"
    );
}
