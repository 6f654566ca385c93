//! A chat interceptor that records every call, streamed ones included.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use async_trait::async_trait;
use futures_core::Stream;
use toolplane_core::{
    CallContext, ChatInterceptor, ChatNext, ChatRequest, ChatResponse, ChatStream, ProviderError, ProviderErrorKind,
    StreamEvent, Usage,
};

use crate::{Execution, Outcome, ProviderMetricsCollector};

/// Records each call that passes through it into a
/// [`ProviderMetricsCollector`]: provider (the name of the provider at the
/// end of the chain), the requested model, task type and request id (from
/// the request's metadata, else from the [`CallContext`]), usage, latency,
/// time to first token for streams, and success or the error kind.
///
/// Streams are wrapped: time to first token is taken at the first content
/// event (text, refusal, reasoning or tool-call event; `Start` is not
/// content), and the call is recorded once: at the `Stop` event (success),
/// at the first error (its kind), at an end without `Stop` (`incomplete`),
/// or when dropped before any of these (`cancelled`), with the usage seen so far.
///
/// Metrics never change the call: a record the collector rejects is only
/// counted in [`ProviderMetricsCollector::rejected_records`]. Usage whose
/// cache counts exceed its input (or reasoning its output) is widened so the
/// totals include them, rather than rejected.
///
/// ```
/// use std::sync::Arc;
/// use toolplane_core::{CallContext, ChatProvider, ChatRequest, InterceptedProvider, Message, ScriptedProvider};
/// use toolplane_metrics::{MetricsInterceptor, MetricsQuery, ProviderMetricsCollector};
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let metrics = Arc::new(ProviderMetricsCollector::new());
/// let provider = InterceptedProvider::new(Arc::new(ScriptedProvider::new("scripted").with_text("hi")), vec![])
///     .with(Arc::new(MetricsInterceptor::new(Arc::clone(&metrics))));
/// let req = ChatRequest::new("demo", vec![Message::user("hello")]).with_task_type("chat");
/// provider.chat(&req, &CallContext::new("req-1")).await.unwrap();
/// let report = metrics.snapshot(&MetricsQuery::all_time()).unwrap();
/// assert_eq!(report.totals.calls, 1);
/// assert_eq!(report.totals.unpriced_calls, 1); // "demo" has no price
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct MetricsInterceptor {
    collector: Arc<ProviderMetricsCollector>,
}

impl MetricsInterceptor {
    /// An interceptor recording into `collector`.
    pub fn new(collector: Arc<ProviderMetricsCollector>) -> Self {
        Self { collector }
    }

    /// The collector.
    pub fn collector(&self) -> &Arc<ProviderMetricsCollector> {
        &self.collector
    }
}

/// The owned facts of a call, kept until it can be recorded.
#[derive(Debug)]
struct CallFacts {
    provider: String,
    model: String,
    task_type: Option<String>,
    request_id: Option<String>,
    start: Instant,
}

impl CallFacts {
    fn new(provider: &str, req: &ChatRequest, ctx: &CallContext) -> Self {
        let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        Self {
            provider: provider.to_owned(),
            model: req.model.clone(),
            task_type: nonempty(&req.metadata.task_type).or_else(|| nonempty(&ctx.task_type)),
            request_id: nonempty(&req.metadata.request_id)
                .or_else(|| Some(ctx.request_id.clone()).filter(|s| !s.is_empty())),
            start: Instant::now(),
        }
    }

    fn record(&self, c: &ProviderMetricsCollector, outcome: Outcome, mut usage: Usage, ttft_ms: Option<f64>) {
        let latency_ms = self.start.elapsed().as_secs_f64() * 1000.0;
        // A provider adapter that reports cached or reasoning tokens outside the
        // totals should not lose the call: widen the totals to include them.
        usage.input_tokens = usage
            .input_tokens
            .max(usage.cache_read_tokens.saturating_add(usage.cache_write_tokens));
        usage.output_tokens = usage.output_tokens.max(usage.reasoning_tokens);
        let e = Execution {
            provider: &self.provider,
            model: &self.model,
            task_type: self.task_type.as_deref(),
            request_id: self.request_id.as_deref(),
            usage,
            cost_usd: None,
            latency_ms,
            ttft_ms: ttft_ms.map(|t| t.min(latency_ms)),
            outcome,
            timestamp: None,
        };
        // A rejected record is counted by the collector; the call is unaffected.
        let _ = c.record(&e);
    }
}

#[async_trait]
impl ChatInterceptor for MetricsInterceptor {
    async fn chat(
        &self,
        req: &ChatRequest,
        ctx: &CallContext,
        next: ChatNext<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        let facts = CallFacts::new(next.provider().name(), req, ctx);
        let result = next.chat(req, ctx).await;
        match &result {
            Ok(resp) => facts.record(&self.collector, Outcome::Success, resp.usage, None),
            Err(e) => facts.record(&self.collector, Outcome::Error(e.kind()), Usage::default(), None),
        }
        result
    }

    async fn chat_stream(
        &self,
        req: &ChatRequest,
        ctx: &CallContext,
        next: ChatNext<'_>,
    ) -> Result<ChatStream, ProviderError> {
        let facts = CallFacts::new(next.provider().name(), req, ctx);
        match next.chat_stream(req, ctx).await {
            Ok(inner) => Ok(Box::pin(MetricsStream {
                inner,
                collector: Arc::clone(&self.collector),
                facts: Some(facts),
                ttft_ms: None,
                usage: Usage::default(),
                stopped: false,
            })),
            Err(e) => {
                facts.record(&self.collector, Outcome::Error(e.kind()), Usage::default(), None);
                Err(e)
            }
        }
    }
}

/// A stream that records its call once: at its end, its first error, or
/// when dropped early.
struct MetricsStream {
    inner: ChatStream,
    collector: Arc<ProviderMetricsCollector>,
    /// `None` once recorded.
    facts: Option<CallFacts>,
    ttft_ms: Option<f64>,
    usage: Usage,
    stopped: bool,
}

impl std::fmt::Debug for MetricsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsStream")
            .field("recorded", &self.facts.is_none())
            .field("ttft_ms", &self.ttft_ms)
            .finish()
    }
}

impl MetricsStream {
    fn finish(&mut self, outcome: Outcome) {
        if let Some(facts) = self.facts.take() {
            facts.record(&self.collector, outcome, self.usage, self.ttft_ms);
        }
    }

    fn observe(&mut self, ev: &StreamEvent) {
        let content = matches!(
            ev,
            StreamEvent::TextDelta { .. }
                | StreamEvent::RefusalDelta { .. }
                | StreamEvent::ThinkingDelta { .. }
                | StreamEvent::ToolCallStart { .. }
                | StreamEvent::ToolCallDelta { .. }
                | StreamEvent::ToolCallEnd { .. }
        );
        if content && self.ttft_ms.is_none() {
            if let Some(f) = &self.facts {
                self.ttft_ms = Some(f.start.elapsed().as_secs_f64() * 1000.0);
            }
        }
        match ev {
            StreamEvent::Usage { usage } => self.usage = *usage,
            StreamEvent::Stop { .. } => self.stopped = true,
            _ => {}
        }
    }
}

impl Stream for MetricsStream {
    type Item = Result<StreamEvent, ProviderError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let polled = this.inner.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(ev))) => {
                this.observe(ev);
                // `Stop` is the last event: record now, the caller may not poll again.
                if this.stopped {
                    this.finish(Outcome::Success);
                }
            }
            Poll::Ready(Some(Err(e))) => this.finish(Outcome::Error(e.kind())),
            Poll::Ready(None) => {
                let outcome = if this.stopped {
                    Outcome::Success
                } else {
                    Outcome::Error(ProviderErrorKind::Incomplete)
                };
                this.finish(outcome);
            }
            Poll::Pending => {}
        }
        polled
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl Drop for MetricsStream {
    fn drop(&mut self) {
        self.finish(Outcome::Error(ProviderErrorKind::Cancelled));
    }
}
