//! The recording interceptor on complete and streamed calls.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::StreamExt;
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, ChatStream, EventStream, InterceptedProvider, Message,
    ProviderError, ProviderErrorKind, ScriptedProvider, StopReason, StreamEvent, Usage,
};
use toolplane_metrics::{MetricsInterceptor, MetricsQuery, ProviderMetricsCollector};

/// Streams a fixed list of events.
#[derive(Debug)]
struct Streamer {
    events: Vec<Result<StreamEvent, ProviderErrorKind>>,
}

#[async_trait]
impl ChatProvider for Streamer {
    fn name(&self) -> &str {
        "streamer"
    }
    async fn chat(&self, _r: &ChatRequest, _c: &CallContext) -> Result<ChatResponse, ProviderError> {
        Err(ProviderError::new(
            ProviderErrorKind::InvalidRequest,
            "streamer",
            "stream only",
        ))
    }
    async fn chat_stream(&self, _r: &ChatRequest, _c: &CallContext) -> Result<ChatStream, ProviderError> {
        let items = self
            .events
            .iter()
            .map(|e| e.clone().map_err(|k| ProviderError::new(k, "streamer", "boom")))
            .collect();
        Ok(Box::pin(EventStream::new(items)))
    }
}

fn wrap(inner: Arc<dyn ChatProvider>) -> (InterceptedProvider, Arc<ProviderMetricsCollector>) {
    let metrics = Arc::new(ProviderMetricsCollector::new());
    let p = InterceptedProvider::new(inner, vec![Arc::new(MetricsInterceptor::new(Arc::clone(&metrics)))]);
    (p, metrics)
}

fn usage() -> Usage {
    Usage {
        input_tokens: 1_000,
        output_tokens: 100,
        ..Default::default()
    }
}

fn text_events(stop: bool) -> Vec<Result<StreamEvent, ProviderErrorKind>> {
    let mut v = vec![
        Ok(StreamEvent::Start { id: None, model: None }),
        Ok(StreamEvent::TextDelta { text: "hel".into() }),
        Ok(StreamEvent::TextDelta { text: "lo".into() }),
        Ok(StreamEvent::Usage { usage: usage() }),
    ];
    if stop {
        v.push(Ok(StreamEvent::Stop {
            reason: StopReason::EndTurn,
        }));
    }
    v
}

#[tokio::test]
async fn complete_calls_record_success_usage_and_errors() {
    let scripted = ScriptedProvider::new("openai")
        .with_response(
            ChatResponse::new("openai", "x", Message::assistant("hi"), StopReason::EndTurn).with_usage(usage()),
        )
        .with_error(ProviderError::new(
            ProviderErrorKind::RateLimited,
            "openai",
            "slow down",
        ));
    let (p, m) = wrap(Arc::new(scripted));
    let req = ChatRequest::new("gpt-4o-mini", vec![Message::user("hi")]).with_task_type("chat");
    p.chat(&req, &CallContext::new("r1")).await.unwrap();
    let err = p.chat(&req, &CallContext::new("r2")).await.unwrap_err();
    assert_eq!(err.kind(), ProviderErrorKind::RateLimited);

    let r = m.snapshot(&MetricsQuery::all_time().task_type("chat")).unwrap();
    assert_eq!((r.totals.calls, r.totals.successes), (2, 1));
    assert_eq!(r.totals.errors.get("rate_limited"), Some(&1));
    assert_eq!(r.totals.tokens.input, 1_000);
    assert_eq!(r.models[0].model.as_deref(), Some("gpt-4o-mini"));
    assert!(r.totals.cost_usd > 0.0, "gpt-4o-mini is priced");
    // The context's request id takes late feedback.
    m.record_outcome("r1", true).unwrap();
}

#[tokio::test]
async fn streams_record_ttft_and_usage_at_stop() {
    let (p, m) = wrap(Arc::new(Streamer {
        events: text_events(true),
    }));
    let req = ChatRequest::new("claude-haiku-4-5", vec![Message::user("hi")]);
    let mut s = p.chat_stream(&req, &CallContext::default()).await.unwrap();
    let mut n = 0;
    while let Some(ev) = s.next().await {
        ev.unwrap();
        n += 1;
    }
    assert_eq!(n, 5);
    drop(s);
    let r = m.snapshot(&MetricsQuery::all_time()).unwrap();
    assert_eq!((r.totals.calls, r.totals.successes), (1, 1), "recorded once, at Stop");
    let ttft = r.totals.ttft_ms.unwrap();
    assert_eq!(ttft.count, 1);
    assert!(ttft.max <= r.totals.latency_ms.unwrap().max);
    assert_eq!(r.totals.tokens.output, 100);
}

#[tokio::test]
async fn stream_errors_ends_and_drops_are_recorded_once() {
    // An error mid-stream.
    let mut events = text_events(false);
    events.push(Err(ProviderErrorKind::Transport));
    let (p, m) = wrap(Arc::new(Streamer { events }));
    let req = ChatRequest::new("m", vec![Message::user("hi")]);
    let s = p.chat_stream(&req, &CallContext::default()).await.unwrap();
    let items: Vec<_> = s.collect().await;
    assert!(items.last().unwrap().is_err());
    let r = m.snapshot(&MetricsQuery::all_time()).unwrap();
    assert_eq!(r.totals.errors.get("transport"), Some(&1));
    assert_eq!(r.totals.calls, 1);

    // An end without Stop.
    let (p, m) = wrap(Arc::new(Streamer {
        events: text_events(false),
    }));
    let items: Vec<_> = p
        .chat_stream(&req, &CallContext::default())
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(items.len(), 4);
    let r = m.snapshot(&MetricsQuery::all_time()).unwrap();
    assert_eq!(r.totals.errors.get("incomplete"), Some(&1));

    // Dropped after the first delta.
    let (p, m) = wrap(Arc::new(Streamer {
        events: text_events(true),
    }));
    let mut s = p.chat_stream(&req, &CallContext::default()).await.unwrap();
    s.next().await.unwrap().unwrap();
    s.next().await.unwrap().unwrap();
    drop(s);
    let r = m.snapshot(&MetricsQuery::all_time()).unwrap();
    assert_eq!(r.totals.errors.get("cancelled"), Some(&1));
    assert_eq!(r.totals.ttft_ms.unwrap().count, 1);

    // A stream that fails to open.
    let (p, m) = wrap(Arc::new(ScriptedProvider::new("empty")));
    assert!(p.chat_stream(&req, &CallContext::default()).await.is_err());
    let r = m.snapshot(&MetricsQuery::all_time()).unwrap();
    assert_eq!(r.totals.errors.get("invalid_request"), Some(&1));
}

#[tokio::test]
async fn inconsistent_usage_from_an_adapter_still_counts_the_call() {
    let odd = Usage {
        input_tokens: 10,
        cache_read_tokens: 500,
        output_tokens: 5,
        reasoning_tokens: 40,
        ..Default::default()
    };
    let scripted = ScriptedProvider::new("odd")
        .with_response(ChatResponse::new("odd", "x", Message::assistant("hi"), StopReason::EndTurn).with_usage(odd));
    let (p, m) = wrap(Arc::new(scripted));
    p.chat(
        &ChatRequest::new("m", vec![Message::user("hi")]),
        &CallContext::default(),
    )
    .await
    .unwrap();
    let r = m.snapshot(&MetricsQuery::all_time()).unwrap();
    assert_eq!(r.totals.calls, 1);
    assert_eq!((r.totals.tokens.input, r.totals.tokens.output), (500, 40));
    assert_eq!(r.rejected_records, 0);
}
