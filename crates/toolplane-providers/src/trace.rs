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
//! ([`is_chat_span`]); the check is a pointer read when no subscriber is
//! installed.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::Stream;
use toolplane_core::semconv as sc;
use toolplane_core::{ChatResponse, ChatStream, ProviderError, StopReason, StreamEvent, Usage};
use tracing::Span;
use tracing::field::Empty;

/// Model names and ids are cut to this many characters in spans.
const MAX_LABEL_CHARS: usize = 128;

pub(crate) fn label(text: &str) -> &str {
    match text.char_indices().nth(MAX_LABEL_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// True when `span` is a GenAI `chat` span (opened by any toolplane layer).
pub(crate) fn is_chat_span(span: &Span) -> bool {
    span.metadata()
        .is_some_and(|m| m.name() == sc::OP_CHAT && m.fields().field(sc::GEN_AI_OPERATION_NAME).is_some())
}

/// toolplane's normalized stop reason, as a label.
pub(crate) fn finish_reason(reason: &StopReason) -> &str {
    match reason {
        StopReason::EndTurn => "end_turn",
        StopReason::MaxTokens => "max_tokens",
        StopReason::ToolUse => "tool_use",
        StopReason::StopSequence => "stop_sequence",
        StopReason::ContentFilter => "content_filter",
        StopReason::Refusal => "refusal",
        StopReason::PauseTurn => "pause_turn",
        StopReason::Other(other) => label(other),
    }
}

fn record_usage(span: &Span, usage: &Usage) {
    span.record(sc::GEN_AI_USAGE_INPUT_TOKENS, usage.input_tokens);
    span.record(sc::GEN_AI_USAGE_OUTPUT_TOKENS, usage.output_tokens);
    if usage.cache_read_tokens > 0 {
        span.record(sc::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cache_read_tokens);
    }
    let written = usage.cache_write_tokens.saturating_add(usage.cache_write_1h_tokens);
    if written > 0 {
        span.record(sc::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, written);
    }
    if usage.reasoning_tokens > 0 {
        span.record(sc::TOOLPLANE_USAGE_REASONING_TOKENS, usage.reasoning_tokens);
    }
}

fn record_error(span: &Span, error: &ProviderError) {
    span.record(sc::ERROR_TYPE, error.kind().as_str());
    span.record(sc::OTEL_STATUS_CODE, sc::STATUS_ERROR);
}

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
        let current = Span::current();
        let (span, owned) = if is_chat_span(&current) {
            (current, false)
        } else {
            let model = label(model);
            let span = tracing::info_span!(
                target: "toolplane::provider",
                "chat",
                otel.name = %sc::span_name(sc::OP_CHAT, model),
                otel.kind = sc::SPAN_KIND_CLIENT,
                gen_ai.operation.name = sc::OP_CHAT,
                gen_ai.provider.name = label(provider),
                gen_ai.request.model = model,
                server.address = Empty,
                server.port = Empty,
                gen_ai.response.model = Empty,
                gen_ai.response.id = Empty,
                gen_ai.response.finish_reasons = Empty,
                gen_ai.response.time_to_first_chunk = Empty,
                gen_ai.usage.input_tokens = Empty,
                gen_ai.usage.output_tokens = Empty,
                gen_ai.usage.cache_read.input_tokens = Empty,
                gen_ai.usage.cache_creation.input_tokens = Empty,
                toolplane.usage.reasoning_tokens = Empty,
                error.type = Empty,
                otel.status_code = Empty,
            );
            (span, true)
        };
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
        match result {
            Ok(response) => {
                self.span.record(sc::GEN_AI_RESPONSE_MODEL, label(&response.model));
                if let Some(id) = &response.id {
                    self.span.record(sc::GEN_AI_RESPONSE_ID, label(id));
                }
                self.span
                    .record(sc::GEN_AI_RESPONSE_FINISH_REASONS, finish_reason(&response.stop_reason));
                record_usage(&self.span, &response.usage);
            }
            Err(e) => record_error(&self.span, e),
        }
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
        Box::pin(TracedStream {
            stream,
            span: self.span,
            usage: None,
            done: false,
        })
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

/// A stream that keeps its `chat` span open until it ends.
struct TracedStream {
    stream: ChatStream,
    span: Span,
    usage: Option<Usage>,
    done: bool,
}

impl Stream for TracedStream {
    type Item = Result<StreamEvent, ProviderError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let polled = {
            let _entered = this.span.enter();
            this.stream.as_mut().poll_next(cx)
        };
        if this.done {
            return polled;
        }
        match &polled {
            Poll::Ready(Some(Ok(StreamEvent::Start { id, model }))) => {
                if let Some(id) = id {
                    this.span.record(sc::GEN_AI_RESPONSE_ID, label(id));
                }
                if let Some(model) = model {
                    this.span.record(sc::GEN_AI_RESPONSE_MODEL, label(model));
                }
            }
            Poll::Ready(Some(Ok(StreamEvent::Usage { usage }))) => this.usage = Some(*usage),
            Poll::Ready(Some(Ok(StreamEvent::Stop { reason }))) => {
                this.done = true;
                this.span
                    .record(sc::GEN_AI_RESPONSE_FINISH_REASONS, finish_reason(reason));
                if let Some(usage) = &this.usage {
                    record_usage(&this.span, usage);
                }
            }
            Poll::Ready(Some(Err(e))) => {
                this.done = true;
                record_error(&this.span, e);
            }
            Poll::Ready(None) => this.done = true,
            _ => {}
        }
        polled
    }
}
