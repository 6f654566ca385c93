//! The router as a provider: route, send, fall back, record.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use async_trait::async_trait;
use futures_core::Stream;
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, ChatStream, ProviderCapabilities, ProviderError,
    ProviderErrorKind, StreamEvent, Usage,
};

use crate::dispatch_log::Recorder;
use crate::router::RANK_BATCH;
use crate::router::{FailureClass, Inner, Router, failure_class};
use crate::select::{Query, Selection};

const NAME: &str = "router";

impl Inner {
    fn no_provider(&self, sel: &Selection) -> ProviderError {
        let reasons: Vec<String> = sel
            .removed
            .iter()
            .map(|(i, r)| format!("{}: {}", self.experts[*i].id, r.detail()))
            .collect();
        ProviderError::new(
            ProviderErrorKind::NoProvider,
            NAME,
            format!("no expert can take this request ({})", reasons.join("; ")),
        )
    }

    fn request_id<'a>(request: &'a ChatRequest, ctx: &'a CallContext) -> &'a str {
        request.metadata.request_id.as_deref().unwrap_or(&ctx.request_id)
    }
}

/// The experts of one request, ranked a batch at a time: the first batch
/// is ranked up front; the next only if all of it failed.
struct Attempts<'a> {
    inner: &'a Inner,
    q: &'a Query,
    limit: usize,
    tried: Vec<usize>,
    batch: Vec<usize>,
    pos: usize,
    last: Option<ProviderError>,
    first: Option<Selection>,
}

impl<'a> Attempts<'a> {
    fn new(inner: &'a Inner, q: &'a Query) -> Self {
        let limit = inner.attempts(q.task);
        let sel = inner.select(q, limit.min(RANK_BATCH), false, &[]);
        Self {
            inner,
            q,
            limit,
            tried: Vec::new(),
            batch: sel.ranked.iter().map(|r| r.idx).collect(),
            pos: 0,
            last: None,
            first: Some(sel),
        }
    }

    /// The next expert to call (its breaker claimed), `None` when done.
    fn next(&mut self, ctx: &CallContext) -> Result<Option<usize>, ProviderError> {
        loop {
            if self.tried.len() >= self.limit {
                return Ok(None);
            }
            if self.pos == self.batch.len() {
                let left = (self.limit - self.tried.len()).min(RANK_BATCH);
                let mut skip = self.tried.clone();
                skip.extend(self.batch.iter().copied());
                let sel = self.inner.select(self.q, left, false, &skip);
                if sel.ranked.is_empty() {
                    return Ok(None);
                }
                self.batch = sel.ranked.iter().map(|r| r.idx).collect();
                self.pos = 0;
            }
            let idx = self.batch[self.pos];
            self.pos += 1;
            if ctx.cancel.is_cancelled() {
                return Err(ProviderError::new(ProviderErrorKind::Cancelled, NAME, "cancelled"));
            }
            if ctx.is_expired() {
                let tried = self.tried.len();
                return Err(self.last.take().unwrap_or_else(|| {
                    ProviderError::new(
                        ProviderErrorKind::Timeout,
                        NAME,
                        format!("deadline passed after {tried} attempt(s)"),
                    )
                }));
            }
            if self.inner.states[idx].breaker.try_acquire(self.inner.clock.now()) {
                self.tried.push(idx);
                return Ok(Some(idx));
            }
        }
    }

    /// Records a failure; stops when the request itself is at fault.
    fn failed(&mut self, idx: usize, e: ProviderError) -> Result<(), ProviderError> {
        self.inner.record_failure(idx, &e);
        if failure_class(e.kind()) == FailureClass::RequestFault {
            return Err(e);
        }
        self.last = Some(e);
        Ok(())
    }

    /// A dispatch record for this request, when the router keeps a log.
    fn recorder(&self, request_id: &str, task: usize, streamed: bool) -> Option<Recorder> {
        let sel = self.first.as_ref()?;
        self.inner.dispatch_log.as_ref()?;
        Some(Recorder::start(self.inner, request_id, task, streamed, sel))
    }

    /// The error when no attempt succeeded.
    fn exhausted(mut self) -> ProviderError {
        if let Some(e) = self.last.take() {
            return e;
        }
        match &self.first {
            Some(sel) => self.inner.no_provider(sel),
            None => ProviderError::new(ProviderErrorKind::NoProvider, NAME, "no expert available"),
        }
    }
}

#[async_trait]
impl ChatProvider for Router {
    fn name(&self) -> &str {
        NAME
    }

    /// Tools and streaming when any expert has them; the largest context window.
    fn capabilities(&self) -> ProviderCapabilities {
        let ex = &self.inner.experts;
        ProviderCapabilities {
            tools: ex.iter().any(|e| e.capabilities.tools),
            streaming: ex.iter().any(|e| e.capabilities.streaming),
            parallel_tool_calls: ex.iter().any(|e| e.capabilities.parallel_tool_calls),
            vision: ex.iter().any(|e| e.capabilities.vision),
            structured_output: ex.iter().any(|e| e.capabilities.structured_output),
            max_context_tokens: ex
                .iter()
                .map(|e| e.capabilities.max_context_tokens)
                .try_fold(0u64, |m, c| c.map(|c| m.max(c))),
        }
    }

    async fn chat(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        let inner = &self.inner;
        let (task, _) = inner.task_of(request, Some(ctx));
        let q = Query::new(inner, request, task, false);
        let mut attempts = Attempts::new(inner, &q);
        let mut log = attempts.recorder(Inner::request_id(request, ctx), task, false);
        let result = async {
            while let Some(idx) = attempts.next(ctx)? {
                let expert = &inner.experts[idx];
                let mut req = request.clone();
                req.model.clone_from(&expert.key.model);
                let started = Instant::now();
                match expert.provider.chat(&req, ctx).await {
                    Ok(resp) => {
                        inner.record_success(idx, started.elapsed(), &resp);
                        inner.remember(Inner::request_id(request, ctx), idx, task);
                        if let Some(log) = log.as_mut() {
                            log.attempt(inner, idx, started.elapsed(), Ok(()));
                        }
                        return Ok(resp);
                    }
                    Err(e) => {
                        if let Some(log) = log.as_mut() {
                            log.attempt(inner, idx, started.elapsed(), Err(&e));
                        }
                        attempts.failed(idx, e)?
                    }
                }
            }
            Err(attempts.exhausted())
        }
        .await;
        if let (Some(log), Some(sink)) = (log, inner.dispatch_log.as_ref()) {
            log.finish(sink);
        }
        result
    }

    /// Falls back while opening the stream; once events flow, errors pass
    /// through (the answer has begun). The outcome is recorded when the stream ends.
    async fn chat_stream(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatStream, ProviderError> {
        let inner = &self.inner;
        let (task, _) = inner.task_of(request, Some(ctx));
        let q = Query::new(inner, request, task, true);
        let mut attempts = Attempts::new(inner, &q);
        let mut log = attempts.recorder(Inner::request_id(request, ctx), task, true);
        let finish = |log: Option<Recorder>| {
            if let (Some(log), Some(sink)) = (log, inner.dispatch_log.as_ref()) {
                log.finish(sink);
            }
        };
        loop {
            let idx = match attempts.next(ctx) {
                Ok(Some(idx)) => idx,
                Ok(None) => break,
                Err(e) => {
                    finish(log);
                    return Err(e);
                }
            };
            let expert = &inner.experts[idx];
            let mut req = request.clone();
            req.model.clone_from(&expert.key.model);
            let started = Instant::now();
            match expert.provider.chat_stream(&req, ctx).await {
                Ok(stream) => {
                    inner.remember(Inner::request_id(request, ctx), idx, task);
                    if let Some(l) = log.as_mut() {
                        l.attempt(inner, idx, started.elapsed(), Ok(()));
                    }
                    finish(log);
                    return Ok(Box::pin(Recording {
                        inner: Arc::clone(&self.inner),
                        stream,
                        expert: idx,
                        started,
                        usage: Usage::default(),
                        done: false,
                    }));
                }
                Err(e) => {
                    if let Some(l) = log.as_mut() {
                        l.attempt(inner, idx, started.elapsed(), Err(&e));
                    }
                    if let Err(e) = attempts.failed(idx, e) {
                        finish(log);
                        return Err(e);
                    }
                }
            }
        }
        finish(log);
        Err(attempts.exhausted())
    }
}

/// Passes a stream through and records its outcome when it ends.
struct Recording {
    inner: Arc<Inner>,
    stream: ChatStream,
    expert: usize,
    started: Instant,
    usage: Usage,
    done: bool,
}

impl Stream for Recording {
    type Item = Result<StreamEvent, ProviderError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.stream.as_mut().poll_next(cx);
        if self.done {
            return polled;
        }
        match &polled {
            Poll::Ready(Some(Ok(StreamEvent::Usage { usage }))) => self.usage = *usage,
            Poll::Ready(Some(Ok(StreamEvent::Stop { .. }))) => {
                self.done = true;
                let expert = &self.inner.experts[self.expert];
                let resp = ChatResponse::new(
                    expert.key.provider.clone(),
                    expert.key.model.clone(),
                    toolplane_core::Message::assistant(""),
                    toolplane_core::StopReason::EndTurn,
                )
                .with_usage(self.usage);
                self.inner.record_success(self.expert, self.started.elapsed(), &resp);
            }
            Poll::Ready(Some(Err(e))) => {
                self.done = true;
                self.inner.record_failure(self.expert, e);
            }
            Poll::Ready(None) => {
                self.done = true;
                let e = ProviderError::new(ProviderErrorKind::Incomplete, NAME, "stream ended without a stop event");
                self.inner.record_failure(self.expert, &e);
            }
            _ => {}
        }
        polled
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if !self.done {
            // Dropped mid-answer by the caller: no verdict, free a half-open probe.
            self.inner.states[self.expert].breaker.release();
        }
    }
}
