//! The router's part of a model call's trace: the `chat` span when the router
//! is the outermost layer, and a routing event on that span.
//!
//! One `chat` span covers one model call, whichever layer sees it first (see
//! `toolplane-providers`' transport docs and docs/tracing.md): inside an
//! agent loop's `chat` span the router adds its routing event there; used
//! directly (the gateway), the router opens the span itself, and the
//! providers it calls add their transport facts (server, time to first
//! chunk, retries) to it instead of opening their own. The owner records the
//! answer or the final error, so a 429 from the first expert followed by an
//! answer from the second leaves no `error.type` on the span, only the
//! routing event's `toolplane.route.fallbacks`.

use std::fmt::Write as _;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use toolplane_core::semconv as sc;
use toolplane_core::{ChatResponse, ChatStream, ProviderError, StopReason, StreamEvent, Usage};
use tracing::Span;
use tracing::field::Empty;

use crate::catalogue::{Catalogue, TaskOf};
use crate::classify::TaskSource;

const MAX_LABEL_CHARS: usize = 128;

fn label(text: &str) -> &str {
    match text.char_indices().nth(MAX_LABEL_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

fn is_chat_span(span: &Span) -> bool {
    span.metadata()
        .is_some_and(|m| m.name() == sc::OP_CHAT && m.fields().field(sc::GEN_AI_OPERATION_NAME).is_some())
}

fn source_name(source: TaskSource) -> &'static str {
    match source {
        TaskSource::Metadata => "request",
        TaskSource::Context => "context",
        TaskSource::Classifier => "classifier",
        TaskSource::Given => "given",
    }
}

fn finish_reason(reason: &StopReason) -> &str {
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

/// The attempts of one routed call.
#[derive(Debug, Default)]
pub(crate) struct Tried {
    /// Experts called so far.
    pub(crate) attempts: usize,
    /// `expert=kind` for each failed attempt, comma-separated.
    fallbacks: String,
}

impl Tried {
    /// An expert failed with `error`; the router may fall back.
    pub(crate) fn failed(&mut self, trace: &RouteTrace, expert: &str, error: &ProviderError) {
        if trace.span.is_disabled() {
            return;
        }
        if !self.fallbacks.is_empty() {
            self.fallbacks.push_str(", ");
        }
        let _ = write!(self.fallbacks, "{}={}", label(expert), error.kind().as_str());
    }
}

/// One routed call's span.
#[derive(Debug)]
pub(crate) struct RouteTrace {
    span: Span,
    owned: bool,
}

impl RouteTrace {
    /// The current `chat` span, or a new one named after the requested model.
    pub(crate) fn start(model: &str) -> Self {
        let current = Span::current();
        let (span, owned) = if is_chat_span(&current) {
            (current, false)
        } else {
            let model = label(model);
            let span = tracing::info_span!(
                target: "toolplane::router",
                "chat",
                otel.name = %sc::span_name(sc::OP_CHAT, model),
                otel.kind = sc::SPAN_KIND_CLIENT,
                gen_ai.operation.name = sc::OP_CHAT,
                gen_ai.provider.name = Empty,
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
        Self { span, owned }
    }

    /// Runs `work` inside the span (it is already current when not owned).
    pub(crate) async fn run<F: Future>(&self, work: F) -> F::Output {
        if self.owned && !self.span.is_disabled() {
            tracing::Instrument::instrument(work, self.span.clone()).await
        } else {
            work.await
        }
    }

    /// The routing event: the task type and its source, the strategy, the
    /// expert that answered (or none) and the fallbacks tried and why.
    pub(crate) fn routed(&self, cat: &Catalogue, task: &TaskOf<'_>, chosen: Option<usize>, tried: &Tried) {
        if self.span.is_disabled() {
            return;
        }
        let strategy = cat.tasks[task.slot].policy.strategy.name();
        let chosen_key = chosen.map(|i| {
            let k = &cat.experts[i].key;
            format!("{}:{}", k.provider, k.model)
        });
        let emit = || {
            tracing::event!(
                    target: "toolplane::router",
            tracing::Level::INFO,
                    toolplane.route.task_type = label(task.name),
                    toolplane.route.task_source = source_name(task.source),
                    toolplane.route.strategy = strategy,
                    toolplane.route.chosen = chosen_key.as_deref().map(label),
                    toolplane.route.attempts = tried.attempts,
                    toolplane.route.fallbacks = (!tried.fallbacks.is_empty()).then_some(tried.fallbacks.as_str()),
                    "toolplane.routing"
                );
        };
        if self.owned {
            self.span.in_scope(emit);
        } else {
            emit();
        }
        if let (true, Some(i)) = (self.owned, chosen) {
            self.span
                .record(sc::GEN_AI_PROVIDER_NAME, label(&cat.experts[i].key.provider));
        }
    }

    /// Records the answer or the final error (when the router owns the span).
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

    /// Records the final error of a stream that could not be opened.
    pub(crate) fn failed(&self, error: &ProviderError) {
        if self.owned && !self.span.is_disabled() {
            record_error(&self.span, error);
        }
    }

    /// Keeps an owned span open for as long as the stream, recording the
    /// answer's id, model, usage, stop reason or error.
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
