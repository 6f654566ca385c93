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

use toolplane_core::semconv as sc;
use toolplane_core::{ChatResponse, ChatStream, ProviderError};
use toolplane_trace::{current_or_open, label, record_chat, record_error, traced_stream};
use tracing::Span;
use tracing::field::Empty;

use crate::catalogue::{Catalogue, TaskOf};
use crate::classify::TaskSource;

fn source_name(source: TaskSource) -> &'static str {
    match source {
        TaskSource::Metadata => "request",
        TaskSource::Context => "context",
        TaskSource::Classifier => "classifier",
        TaskSource::Given => "given",
    }
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
        let (span, owned) = current_or_open(|| {
            toolplane_trace::chat_span!(
                target: "toolplane::router",
                provider: Empty,
                model: label(model),
            )
        });
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
        record_chat(&self.span, result);
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
        traced_stream(stream, self.span)
    }
}
