#![allow(clippy::unwrap_used, clippy::panic, clippy::await_holding_lock)]
//! The transport's `chat {model}` client span against a local server: a
//! streamed answer with a tool call (time to first chunk, response id,
//! usage, the server), a retry after a 429 as an event with the wait and the
//! reason, one span only when an outer layer already opened the `chat` span,
//! and `traceparent` on the request.

mod server;

use std::time::Duration;

use serde_json::json;
use server::{Reply, TestServer, drain};
use toolplane_core::semconv as sc;
use toolplane_core::trace_context::TraceParent;
use toolplane_core::{CallContext, ChatProvider, ChatRequest, Message, StreamEvent};
use toolplane_providers::{OpenAiProvider, ProviderConfig, RetryPolicy};
use toolplane_testkit::spans::Collector;

const TOOL_STREAM: &str = concat!(
    "data: {\"id\":\"chatcmpl-77\",\"model\":\"gpt-served\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}}]}\n\n",
    "data: {\"id\":\"chatcmpl-77\",\"model\":\"gpt-served\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\"}\"}}]}}]}\n\n",
    "data: {\"id\":\"chatcmpl-77\",\"model\":\"gpt-served\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
    "data: {\"id\":\"chatcmpl-77\",\"model\":\"gpt-served\",\"choices\":[],\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":9,\"prompt_tokens_details\":{\"cached_tokens\":32},\"completion_tokens_details\":{\"reasoning_tokens\":4}}}\n\n",
    "data: [DONE]\n\n",
);

fn provider(url: &str, retry: RetryPolicy) -> OpenAiProvider {
    OpenAiProvider::new(
        ProviderConfig::new(url)
            .with_api_key("sk-test-0123456789")
            .with_retry(retry),
    )
    .unwrap()
}

fn req() -> ChatRequest {
    ChatRequest::new("gpt-asked", vec![Message::user("weather in Oslo?")])
}

fn ok_body() -> serde_json::Value {
    json!({"id":"chatcmpl-9","model":"gpt-served","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],
           "usage":{"prompt_tokens":3,"completion_tokens":1}})
}

const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[tokio::test]
async fn a_streamed_answer_with_a_tool_call_is_one_client_span() {
    let (spans, _g) = Collector::install();
    let server = TestServer::start(vec![Reply::sse(TOOL_STREAM, 37)]).await;
    let mut ctx = CallContext::new("t");
    ctx.extensions.insert(PARENT.parse::<TraceParent>().unwrap());
    let stream = provider(&server.url, RetryPolicy::none())
        .chat_stream(&req(), &ctx)
        .await
        .unwrap();
    let chat = spans.span_named(sc::OP_CHAT);
    assert!(!chat.closed, "the span lives as long as the stream");
    let (events, err) = drain(stream).await;
    assert!(err.is_none());
    assert!(
        events
            .iter()
            .any(|e| matches!(e, StreamEvent::ToolCallEnd { call, .. } if call.name == "get_weather"))
    );

    let chat = spans.span_named(sc::OP_CHAT);
    assert!(chat.closed);
    assert_eq!(chat.target, "toolplane::provider");
    assert_eq!(chat.parent, None);
    assert_eq!(chat.get(sc::OTEL_NAME), Some("chat gpt-asked"));
    assert_eq!(chat.get(sc::OTEL_KIND), Some(sc::SPAN_KIND_CLIENT));
    assert_eq!(chat.get(sc::GEN_AI_OPERATION_NAME), Some("chat"));
    assert_eq!(chat.get(sc::GEN_AI_PROVIDER_NAME), Some("openai"));
    assert_eq!(chat.get(sc::GEN_AI_REQUEST_MODEL), Some("gpt-asked"));
    assert_eq!(chat.get(sc::GEN_AI_RESPONSE_MODEL), Some("gpt-served"));
    assert_eq!(chat.get(sc::GEN_AI_RESPONSE_ID), Some("chatcmpl-77"));
    assert_eq!(chat.get(sc::GEN_AI_RESPONSE_FINISH_REASONS), Some("tool_use"));
    assert_eq!(chat.get(sc::GEN_AI_USAGE_INPUT_TOKENS), Some("40"));
    assert_eq!(chat.get(sc::GEN_AI_USAGE_OUTPUT_TOKENS), Some("9"));
    assert_eq!(chat.get(sc::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS), Some("32"));
    assert_eq!(chat.get(sc::TOOLPLANE_USAGE_REASONING_TOKENS), Some("4"));
    assert_eq!(chat.get(sc::SERVER_ADDRESS), Some("127.0.0.1"));
    assert_eq!(chat.get(sc::SERVER_PORT), Some(server.url.rsplit(':').next().unwrap()));
    let ttfc: f64 = chat
        .get(sc::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK)
        .unwrap()
        .parse()
        .unwrap();
    assert!(ttfc.is_finite() && ttfc >= 0.0, "{ttfc}");
    assert_eq!(chat.get(sc::ERROR_TYPE), None);
    // With no OpenTelemetry source installed, the context's own traceparent goes out.
    let sent = server.last_request();
    assert_eq!(sent.headers.get("traceparent").unwrap(), PARENT);
}

#[tokio::test]
async fn a_429_then_an_answer_is_a_retry_event_and_no_error() {
    let (spans, _g) = Collector::install();
    let server = TestServer::start(vec![
        Reply::json(
            429,
            &json!({"error":{"message":"slow down","code":"rate_limit_exceeded"}}),
        )
        .header("retry-after-ms", "3"),
        Reply::json(200, &ok_body()),
    ])
    .await;
    let retry = RetryPolicy::default()
        .with_max_retries(2)
        .with_backoff(Duration::from_millis(1), Duration::from_secs(1))
        .with_jitter(false);
    let resp = provider(&server.url, retry)
        .chat(&req(), &CallContext::new("t"))
        .await
        .unwrap();
    assert_eq!(resp.text(), "ok");
    assert!(
        server.last_request().headers.get("traceparent").is_none(),
        "no context, no header"
    );

    let chat = spans.span_named(sc::OP_CHAT);
    assert!(chat.closed);
    assert_eq!(chat.get(sc::ERROR_TYPE), None, "the retry succeeded");
    assert_eq!(chat.get(sc::GEN_AI_RESPONSE_ID), Some("chatcmpl-9"));
    assert_eq!(chat.get(sc::GEN_AI_RESPONSE_FINISH_REASONS), Some("end_turn"));
    let retries = spans.events_named(sc::EVENT_RETRY);
    assert_eq!(retries.len(), 1, "{:#?}", spans.events());
    let r = &retries[0];
    assert_eq!(r.span, Some(chat.index));
    assert_eq!(r.get(sc::TOOLPLANE_RETRY_ATTEMPT), Some("1"));
    assert_eq!(
        r.get(sc::TOOLPLANE_RETRY_WAIT_MS),
        Some("3"),
        "the server's retry-after-ms"
    );
    assert_eq!(r.get(sc::ERROR_TYPE), Some("rate_limited"));
    assert_eq!(r.get(sc::TOOLPLANE_RETRY_STATUS), Some("429"));
    assert!(!spans.all_text().contains("slow down"), "no server text in events");
}

#[tokio::test]
async fn a_failed_call_is_an_error_span() {
    let (spans, _g) = Collector::install();
    let server = TestServer::start(vec![Reply::json(401, &json!({"error":{"message":"bad key"}}))]).await;
    let err = provider(&server.url, RetryPolicy::none())
        .chat(&req(), &CallContext::new("t"))
        .await
        .unwrap_err();
    let chat = spans.span_named(sc::OP_CHAT);
    assert_eq!(chat.get(sc::ERROR_TYPE), Some(err.kind().as_str()));
    assert_eq!(chat.get(sc::OTEL_STATUS_CODE), Some(sc::STATUS_ERROR));
}

#[tokio::test]
async fn inside_an_outer_chat_span_the_transport_adds_to_it() {
    let (spans, _g) = Collector::install();
    let server = TestServer::start(vec![Reply::sse(TOOL_STREAM, 4096)]).await;
    let outer = tracing::info_span!(
        "chat",
        gen_ai.operation.name = "chat",
        server.address = tracing::field::Empty,
        gen_ai.response.time_to_first_chunk = tracing::field::Empty,
        gen_ai.response.id = tracing::field::Empty,
        error.type = tracing::field::Empty,
    );
    let p = provider(&server.url, RetryPolicy::none());
    let ctx = CallContext::new("t");
    let (events, _) = tracing::Instrument::instrument(
        async { drain(p.chat_stream(&req(), &ctx).await.unwrap()).await },
        outer.clone(),
    )
    .await;
    drop(outer);
    assert!(!events.is_empty());
    let chat = spans.span_named(sc::OP_CHAT);
    assert_eq!(chat.target, module_path!(), "the outer span, not a second one");
    assert_eq!(chat.get(sc::SERVER_ADDRESS), Some("127.0.0.1"));
    assert!(chat.get(sc::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK).is_some());
    // The owner records the answer; the transport does not write over it.
    assert_eq!(chat.get(sc::GEN_AI_RESPONSE_ID), None);
}
