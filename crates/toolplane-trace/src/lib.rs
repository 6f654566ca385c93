//! The OpenTelemetry GenAI `chat {model}` span helpers shared by toolplane's
//! layers, with names from [`toolplane_core::semconv`].
//!
//! # Who should depend on this crate
//!
//! toolplane's own crates that emit GenAI spans: the provider transport
//! (`toolplane-providers`), the router (`toolplane-router`) and the agent
//! loop (`toolplane-pipeline`). Applications and hosts do not need it: they
//! install a subscriber (see `toolplane-otel`) and read the spans.
//! `toolplane-core` stays free of `tracing`; this is the one place where the
//! `chat` span's shape and its recording live.
//!
//! # What it holds
//!
//! - [`chat_span!`]: opens a `chat` span with the GenAI fields every layer
//!   records (each layer passes its own target and any extra fields).
//! - [`is_chat_span`], [`current_or_open`]: whether a span is such a span,
//!   so an inner layer adds to the outer layer's span instead of opening a
//!   second one.
//! - [`record_chat`], [`record_usage`], [`record_error`]: a whole answer, its
//!   token usage, or an error, on a span.
//! - [`traced_stream`]: keeps a span open for as long as a [`ChatStream`],
//!   recording the answer's id, model, usage, stop reason or error.
//! - [`label`], [`finish_reason`]: bounded labels for span values.
//! - [`set_remote_parent`], [`continue_remote`]: a server span continues a
//!   caller's W3C trace context that arrived in a message (MCP `_meta`)
//!   rather than in a header, through a function the host's OpenTelemetry
//!   set-up installs (`toolplane-otel` does).
//!
//! No message content is recorded: names, ids, counts and outcomes only.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use futures_core::Stream;
use toolplane_core::semconv as sc;
use toolplane_core::trace_context::TraceParent;
use toolplane_core::{ChatResponse, ChatStream, ProviderError, StopReason, StreamEvent, Usage};
use tracing::Span;

/// Model names, ids and other labels are cut to this many characters in spans.
pub const MAX_LABEL_CHARS: usize = 128;

/// `text` cut to at most [`MAX_LABEL_CHARS`] characters (on a char boundary).
pub fn label(text: &str) -> &str {
    match text.char_indices().nth(MAX_LABEL_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// True when `span` is a GenAI `chat` span (opened by any toolplane layer).
///
/// The span is recognized by its name and its `gen_ai.operation.name` field;
/// the check is a pointer read when no subscriber is installed.
pub fn is_chat_span(span: &Span) -> bool {
    span.metadata()
        .is_some_and(|m| m.name() == sc::OP_CHAT && m.fields().field(sc::GEN_AI_OPERATION_NAME).is_some())
}

/// The span a layer records a model call on, and whether the layer owns it:
/// the current span when it is a `chat` span opened by an outer layer
/// (`false`: the owner records the answer), else the span `open` makes
/// (`true`: this layer records everything).
pub fn current_or_open(open: impl FnOnce() -> Span) -> (Span, bool) {
    let current = Span::current();
    if is_chat_span(&current) {
        (current, false)
    } else {
        (open(), true)
    }
}

/// toolplane's normalized stop reason, as a label.
pub fn finish_reason(reason: &StopReason) -> &str {
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

/// Records token usage on `span`: input and output always, cache reads,
/// cache writes (both lifetimes) and reasoning tokens when non-zero.
pub fn record_usage(span: &Span, usage: &Usage) {
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

/// Records an error on `span`: its kind as `error.type` (never its message)
/// and the error status.
pub fn record_error(span: &Span, error: &ProviderError) {
    span.record(sc::ERROR_TYPE, error.kind().as_str());
    span.record(sc::OTEL_STATUS_CODE, sc::STATUS_ERROR);
}

/// Records a whole answer (response model, id, finish reason, usage) or the
/// error on `span`. Does nothing when the span is disabled.
pub fn record_chat(span: &Span, result: &Result<ChatResponse, ProviderError>) {
    if span.is_disabled() {
        return;
    }
    match result {
        Ok(response) => {
            span.record(sc::GEN_AI_RESPONSE_MODEL, label(&response.model));
            if let Some(id) = &response.id {
                span.record(sc::GEN_AI_RESPONSE_ID, label(id));
            }
            span.record(sc::GEN_AI_RESPONSE_FINISH_REASONS, finish_reason(&response.stop_reason));
            record_usage(span, &response.usage);
        }
        Err(e) => record_error(span, e),
    }
}

/// Wraps `stream` so `span` lives as long as the stream, is entered while it
/// is polled, and records the answer's id, model, usage and stop reason (or
/// the error) as they arrive. Nothing is recorded after the stream's end.
pub fn traced_stream(stream: ChatStream, span: Span) -> ChatStream {
    Box::pin(TracedStream {
        stream,
        span,
        usage: None,
        done: false,
    })
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

/// Re-exports for [`chat_span!`]; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use toolplane_core::semconv;
    pub use tracing;
    pub use tracing::field::Empty;
}

/// Opens an INFO `chat {model}` client span with the GenAI fields every
/// toolplane layer records (response, usage, server, error: empty until
/// recorded).
///
/// `target` is the layer's target (a string literal), `provider` the value of
/// `gen_ai.provider.name` (or `Empty` when not known yet), `model` the
/// requested model, already cut with [`label`]. Optional `extra: { ... }`
/// fields go right after `gen_ai.request.model`, in `tracing`'s field syntax.
///
/// ```
/// let span = toolplane_trace::chat_span!(
///     target: "my::layer",
///     provider: "openai",
///     model: "gpt-4o",
///     extra: { toolplane.step = 1_u32, },
/// );
/// # drop(span);
/// ```
#[macro_export]
macro_rules! chat_span {
    (
        target: $target:expr,
        provider: $provider:expr,
        model: $model:expr
        $(, extra: { $($extra:tt)* })?
        $(,)?
    ) => {{
        let model: &str = $model;
        $crate::__private::tracing::info_span!(
            target: $target,
            "chat",
            otel.name = %$crate::__private::semconv::span_name($crate::__private::semconv::OP_CHAT, model),
            otel.kind = $crate::__private::semconv::SPAN_KIND_CLIENT,
            gen_ai.operation.name = $crate::__private::semconv::OP_CHAT,
            gen_ai.provider.name = $provider,
            gen_ai.request.model = model,
            $($($extra)*)?
            server.address = $crate::__private::Empty,
            server.port = $crate::__private::Empty,
            gen_ai.response.model = $crate::__private::Empty,
            gen_ai.response.id = $crate::__private::Empty,
            gen_ai.response.finish_reasons = $crate::__private::Empty,
            gen_ai.response.time_to_first_chunk = $crate::__private::Empty,
            gen_ai.usage.input_tokens = $crate::__private::Empty,
            gen_ai.usage.output_tokens = $crate::__private::Empty,
            gen_ai.usage.cache_read.input_tokens = $crate::__private::Empty,
            gen_ai.usage.cache_creation.input_tokens = $crate::__private::Empty,
            toolplane.usage.reasoning_tokens = $crate::__private::Empty,
            error.type = $crate::__private::Empty,
            otel.status_code = $crate::__private::Empty,
        )
    }};
}

/// Makes a just-created span (not yet entered) the child of a remote
/// parent; returns whether it did.
pub type RemoteParent = fn(&Span, &TraceParent) -> bool;

static REMOTE_PARENT: OnceLock<RemoteParent> = OnceLock::new();

/// Sets how spans continue a remote trace (once per process; later calls
/// return `false` and change nothing). Only the host's OpenTelemetry layer
/// knows span contexts, so it installs this (`toolplane_otel::layer` does),
/// beside core's [`traceparent` source](toolplane_core::trace_context::set_traceparent_source).
pub fn set_remote_parent(continue_trace: RemoteParent) -> bool {
    REMOTE_PARENT.set(continue_trace).is_ok()
}

/// Makes `span` (just created, not yet entered) the child of the caller's
/// `parent`, through the function [`set_remote_parent`] installed; `false`
/// when none is installed or it could not.
pub fn continue_remote(span: &Span, parent: &TraceParent) -> bool {
    REMOTE_PARENT.get().is_some_and(|f| f(span, parent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_cuts_on_a_char_boundary() {
        let long = "é".repeat(MAX_LABEL_CHARS + 5);
        assert_eq!(label(&long).chars().count(), MAX_LABEL_CHARS);
        assert_eq!(label("gpt-4o"), "gpt-4o");
    }

    #[test]
    fn finish_reason_labels() {
        assert_eq!(finish_reason(&StopReason::ToolUse), "tool_use");
        assert_eq!(
            finish_reason(&StopReason::Other("x".repeat(200))).len(),
            MAX_LABEL_CHARS
        );
    }
}
