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

use crate::catalogue::{Catalogue, TaskOf};
use crate::dispatch_log::Recorder;
use crate::live::{FailureClass, LiveState, failure_class};
use crate::router::{Inner, RANK_BATCH, Router};
use crate::select::{Query, Removed, Selection, Want, select};
use crate::trace::{RouteTrace, Tried};

const NAME: &str = "router";

fn no_provider(cat: &Catalogue, sel: &Selection) -> ProviderError {
    let reasons: Vec<String> = sel
        .removed
        .iter()
        .map(|(i, r)| format!("{}: {}", cat.experts[*i].id, r.detail()))
        .collect();
    ProviderError::new(
        no_provider_kind(&sel.removed),
        NAME,
        format!("no expert can take this request ({})", reasons.join("; ")),
    )
}

/// When every expert refused the request for what it asks (its size, its
/// tools, streaming), not for its own state (a breaker, a budget), no retry
/// can help: the caller has to change the request. That is `ContextTooLong`
/// (or `InvalidRequest`), not `NoProvider`, which a gateway reports as an
/// outage to retry.
fn no_provider_kind(removed: &[(usize, Removed)]) -> ProviderErrorKind {
    let for_the_request = |r: &Removed| matches!(r, Removed::Context { .. } | Removed::Tools | Removed::Streaming);
    let state = removed
        .iter()
        .any(|(_, r)| !for_the_request(r) && !matches!(r, Removed::Rule));
    let asked: Vec<&Removed> = removed.iter().map(|(_, r)| r).filter(|r| for_the_request(r)).collect();
    if state || asked.is_empty() {
        ProviderErrorKind::NoProvider
    } else if asked.iter().all(|r| matches!(r, Removed::Context { .. })) {
        ProviderErrorKind::ContextTooLong
    } else {
        ProviderErrorKind::InvalidRequest
    }
}

/// The request id feedback finds a call by: the request's (deprecated) own
/// id when set, else the context's.
#[allow(deprecated)] // `RequestMetadata::request_id` is still honoured for existing callers
fn request_id<'a>(request: &'a ChatRequest, ctx: &'a CallContext) -> &'a str {
    request.metadata.request_id.as_deref().unwrap_or(&ctx.request_id)
}

/// What an expert receives: the request with the expert's model and the
/// resolved task type in `metadata.task_type` (the task type's one home),
/// so interceptors around the expert (metrics, budgets, audit) see the task
/// type the router routed by, whoever decided it. A task type the caller
/// set is kept as it is.
struct Outgoing {
    request: ChatRequest,
}

impl Outgoing {
    fn new(request: &ChatRequest, task: &TaskOf<'_>) -> Self {
        let mut request = request.clone();
        if request.metadata.task_type.is_none() {
            request.metadata.task_type = Some(task.name.to_owned());
        }
        Self { request }
    }

    /// The request for one expert.
    fn to(&mut self, model: &str) -> &ChatRequest {
        model.clone_into(&mut self.request.model);
        &self.request
    }
}

/// The experts of one request, ranked a batch at a time: the first batch
/// is ranked up front; the next only if all of it failed.
struct Attempts<'a> {
    cat: &'a Catalogue,
    live: &'a LiveState,
    q: &'a Query,
    limit: usize,
    tried: Vec<usize>,
    batch: Vec<usize>,
    pos: usize,
    last: Option<ProviderError>,
    first: Selection,
}

impl<'a> Attempts<'a> {
    fn new(inner: &'a Inner, q: &'a Query) -> Self {
        let (cat, live) = (&inner.cat, &inner.live);
        let limit = cat.attempts(q.task);
        let first = select(
            cat,
            live,
            q,
            Want::Top {
                top: limit.min(RANK_BATCH),
                exclude: &[],
            },
        );
        Self {
            cat,
            live,
            q,
            limit,
            tried: Vec::new(),
            batch: first.ranked.iter().map(|r| r.idx).collect(),
            pos: 0,
            last: None,
            first,
        }
    }

    /// The next expert to call (its breaker claimed), `None` when done.
    fn next(&mut self, ctx: &CallContext) -> Result<Option<usize>, ProviderError> {
        loop {
            if self.tried.len() >= self.limit {
                return Ok(None);
            }
            if self.pos == self.batch.len() {
                let top = (self.limit - self.tried.len()).min(RANK_BATCH);
                let mut skip = self.tried.clone();
                skip.extend(self.batch.iter().copied());
                let sel = select(self.cat, self.live, self.q, Want::Top { top, exclude: &skip });
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
            if self.live.states[idx].breaker.try_acquire(self.live.clock.now()) {
                self.tried.push(idx);
                return Ok(Some(idx));
            }
        }
    }

    /// Records a failure; stops when the request itself is at fault.
    fn failed(&mut self, idx: usize, e: ProviderError) -> Result<(), ProviderError> {
        self.live.record_failure(self.cat, idx, &e);
        if failure_class(e.kind()) == FailureClass::RequestFault {
            return Err(e);
        }
        self.last = Some(e);
        Ok(())
    }

    /// A dispatch record for this request, when the router keeps a log.
    fn recorder(&self, inner: &Inner, request_id: &str, streamed: bool) -> Option<Recorder> {
        inner.log.as_ref()?;
        Some(Recorder::start(self.cat, request_id, streamed, &self.first))
    }

    /// The error when no attempt succeeded.
    fn exhausted(mut self) -> ProviderError {
        match self.last.take() {
            Some(e) => e,
            None => no_provider(self.cat, &self.first),
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
        let ex = &self.inner.cat.experts;
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
        let inner = &*self.inner;
        let (cat, live) = (&inner.cat, &inner.live);
        let task = cat.task_of(request, Some(ctx));
        let q = Query::new(cat, request, task.slot, false);
        let mut attempts = Attempts::new(inner, &q);
        let mut log = attempts.recorder(inner, request_id(request, ctx), false);
        let mut out = Outgoing::new(request, &task);
        let trace = RouteTrace::start(&request.model);
        let mut tried = Tried::default();
        let mut chosen = None;
        let work = async {
            while let Some(idx) = attempts.next(ctx)? {
                let expert = &cat.experts[idx];
                let req = out.to(&expert.key.model);
                let started = Instant::now();
                tried.attempts += 1;
                match expert.provider.chat(req, ctx).await {
                    Ok(resp) => {
                        live.record_success(cat, idx, started.elapsed(), &resp);
                        live.remember(request_id(request, ctx), idx, task.slot);
                        if let Some(log) = log.as_mut() {
                            log.attempt(cat, idx, started.elapsed(), Ok(()));
                        }
                        chosen = Some(idx);
                        return Ok(resp);
                    }
                    Err(e) => {
                        if let Some(log) = log.as_mut() {
                            log.attempt(cat, idx, started.elapsed(), Err(&e));
                        }
                        tried.failed(&trace, &expert.id, &e);
                        attempts.failed(idx, e)?
                    }
                }
            }
            Err(attempts.exhausted())
        };
        let result = trace.run(work).await;
        if let (Some(log), Some(sink)) = (log, inner.log.as_ref()) {
            log.finish(sink);
        }
        trace.routed(cat, &task, chosen, &tried);
        trace.finish(&result);
        result
    }

    /// Falls back while opening the stream; once events flow, errors pass
    /// through (the answer has begun). The outcome is recorded when the stream ends.
    async fn chat_stream(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatStream, ProviderError> {
        let inner = &*self.inner;
        let (cat, live) = (&inner.cat, &inner.live);
        let task = cat.task_of(request, Some(ctx));
        let q = Query::new(cat, request, task.slot, true);
        let mut attempts = Attempts::new(inner, &q);
        let mut log = attempts.recorder(inner, request_id(request, ctx), true);
        let mut out = Outgoing::new(request, &task);
        let trace = RouteTrace::start(&request.model);
        let mut tried = Tried::default();
        let finish = |log: Option<Recorder>| {
            if let (Some(log), Some(sink)) = (log, inner.log.as_ref()) {
                log.finish(sink);
            }
        };
        let work = async {
            loop {
                let idx = match attempts.next(ctx) {
                    Ok(Some(idx)) => idx,
                    Ok(None) => break,
                    Err(e) => {
                        finish(log);
                        return Err(e);
                    }
                };
                let expert = &cat.experts[idx];
                let req = out.to(&expert.key.model);
                let started = Instant::now();
                tried.attempts += 1;
                match expert.provider.chat_stream(req, ctx).await {
                    Ok(stream) => {
                        live.remember(request_id(request, ctx), idx, task.slot);
                        if let Some(l) = log.as_mut() {
                            l.attempt(cat, idx, started.elapsed(), Ok(()));
                        }
                        finish(log);
                        return Ok((idx, stream, started));
                    }
                    Err(e) => {
                        if let Some(l) = log.as_mut() {
                            l.attempt(cat, idx, started.elapsed(), Err(&e));
                        }
                        tried.failed(&trace, &expert.id, &e);
                        if let Err(e) = attempts.failed(idx, e) {
                            finish(log);
                            return Err(e);
                        }
                    }
                }
            }
            finish(log);
            Err(attempts.exhausted())
        };
        match trace.run(work).await {
            Ok((idx, stream, started)) => {
                trace.routed(cat, &task, Some(idx), &tried);
                Ok(trace.stream(Box::pin(Recording {
                    inner: Arc::clone(&self.inner),
                    stream,
                    expert: idx,
                    started,
                    usage: Usage::default(),
                    done: false,
                })))
            }
            Err(e) => {
                trace.routed(cat, &task, None, &tried);
                trace.failed(&e);
                Err(e)
            }
        }
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
                let expert = &self.inner.cat.experts[self.expert];
                let resp = ChatResponse::new(
                    expert.key.provider.clone(),
                    expert.key.model.clone(),
                    toolplane_core::Message::assistant(""),
                    toolplane_core::StopReason::EndTurn,
                )
                .with_usage(self.usage);
                let inner = &*self.inner;
                inner
                    .live
                    .record_success(&inner.cat, self.expert, self.started.elapsed(), &resp);
            }
            Poll::Ready(Some(Err(e))) => {
                self.done = true;
                self.inner.live.record_failure(&self.inner.cat, self.expert, e);
            }
            Poll::Ready(None) => {
                self.done = true;
                let e = ProviderError::new(ProviderErrorKind::Incomplete, NAME, "stream ended without a stop event");
                self.inner.live.record_failure(&self.inner.cat, self.expert, &e);
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
            self.inner.live.states[self.expert].breaker.release();
        }
    }
}
