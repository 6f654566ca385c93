#![allow(clippy::unwrap_used, clippy::panic, clippy::await_holding_lock)]
//! The router's trace: one `chat` span per routed call (the router's, when it
//! is used directly; the providers under it add to it rather than opening
//! their own), and a routing event saying the task type and where it came
//! from, the strategy, the expert that answered and the fallbacks tried and
//! why. The experts are real OpenAI-compatible providers against servers on
//! 127.0.0.1; the first answers 429.

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::response::IntoResponse;
use futures_util::StreamExt;
use toolplane_core::semconv as sc;
use toolplane_core::{CallContext, ChatProvider, ChatRequest, Message};
use toolplane_providers::{OpenAiProvider, ProviderConfig, RetryPolicy};
use toolplane_router::{Expert, Router, Strategy, TaskPolicy};
use toolplane_testkit::spans::Collector;

/// A server answering every request with `status` and `body`; counts requests.
async fn server(status: u16, body: &'static str, content_type: &'static str) -> (String, Arc<Mutex<u32>>) {
    let hits = Arc::new(Mutex::new(0u32));
    let seen = Arc::clone(&hits);
    let app = axum::Router::new().fallback(move || {
        let seen = Arc::clone(&seen);
        async move {
            *seen.lock().unwrap() += 1;
            (
                StatusCode::from_u16(status).unwrap(),
                [("content-type", content_type)],
                body,
            )
                .into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), hits)
}

const LIMITED: &str = r#"{"error":{"message":"rate limit reached","code":"rate_limit_exceeded"}}"#;
const ANSWER: &str = r#"{"id":"chatcmpl-b","model":"m-b","choices":[{"index":0,"message":{"role":"assistant","content":"from b"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#;
const STREAM: &str = concat!(
    "data: {\"id\":\"chatcmpl-s\",\"model\":\"m-b\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"from b\"}}]}\n\n",
    "data: {\"id\":\"chatcmpl-s\",\"model\":\"m-b\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    "data: {\"id\":\"chatcmpl-s\",\"model\":\"m-b\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n",
    "data: [DONE]\n\n",
);

fn openai(url: &str) -> Arc<dyn ChatProvider> {
    Arc::new(
        OpenAiProvider::new(
            ProviderConfig::new(url)
                .with_api_key("sk-test-0123456789")
                .with_retry(RetryPolicy::none()),
        )
        .unwrap(),
    )
}

async fn router(second: (&'static str, &'static str)) -> (Router, Arc<Mutex<u32>>, Arc<Mutex<u32>>) {
    let (a, hits_a) = server(429, LIMITED, "application/json").await;
    let (b, hits_b) = server(200, second.0, second.1).await;
    let router = Router::builder()
        .seed(1)
        .default_policy(TaskPolicy::new(Strategy::Static {
            order: vec!["a".into(), "b".into()],
        }))
        .expert(Expert::new(openai(&a), "m-a").with_id("a"))
        .expert(Expert::new(openai(&b), "m-b").with_id("b"))
        .build()
        .unwrap();
    (router, hits_a, hits_b)
}

fn request() -> ChatRequest {
    let mut r = ChatRequest::new("auto", vec![Message::user("hello")]);
    r.metadata.task_type = Some("chat".into());
    r
}

#[tokio::test]
async fn a_fallback_after_a_429_is_one_chat_span_with_a_routing_event() {
    let (spans, _g) = Collector::install();
    let (router, hits_a, hits_b) = router((ANSWER, "application/json")).await;
    let resp = router.chat(&request(), &CallContext::new("r1")).await.unwrap();
    assert_eq!(resp.text(), "from b");
    assert_eq!((*hits_a.lock().unwrap(), *hits_b.lock().unwrap()), (1, 1));

    let chat = spans.span_named(sc::OP_CHAT);
    assert_eq!(
        chat.target, "toolplane::router",
        "the router owns the span; the providers add to it"
    );
    assert!(chat.closed);
    assert_eq!(chat.get(sc::OTEL_NAME), Some("chat auto"));
    assert_eq!(chat.get(sc::OTEL_KIND), Some(sc::SPAN_KIND_CLIENT));
    assert_eq!(chat.get(sc::GEN_AI_REQUEST_MODEL), Some("auto"));
    assert_eq!(chat.get(sc::GEN_AI_PROVIDER_NAME), Some("openai"));
    assert_eq!(chat.get(sc::GEN_AI_RESPONSE_MODEL), Some("m-b"));
    assert_eq!(chat.get(sc::GEN_AI_RESPONSE_ID), Some("chatcmpl-b"));
    assert_eq!(chat.get(sc::GEN_AI_USAGE_INPUT_TOKENS), Some("5"));
    assert_eq!(
        chat.get(sc::SERVER_ADDRESS),
        Some("127.0.0.1"),
        "recorded by the transport"
    );
    assert_eq!(chat.get(sc::ERROR_TYPE), None, "the fallback answered");

    let routing = spans.events_named(sc::EVENT_ROUTING);
    assert_eq!(routing.len(), 1);
    let e = &routing[0];
    assert_eq!(e.span, Some(chat.index));
    assert_eq!(e.get(sc::TOOLPLANE_ROUTE_TASK_TYPE), Some("chat"));
    assert_eq!(e.get(sc::TOOLPLANE_ROUTE_TASK_SOURCE), Some("request"));
    assert_eq!(e.get(sc::TOOLPLANE_ROUTE_STRATEGY), Some("static"));
    assert_eq!(e.get(sc::TOOLPLANE_ROUTE_CHOSEN), Some("openai:m-b"));
    assert_eq!(e.get(sc::TOOLPLANE_ROUTE_ATTEMPTS), Some("2"));
    assert_eq!(e.get(sc::TOOLPLANE_ROUTE_FALLBACKS), Some("a=rate_limited"));
}

#[tokio::test]
async fn a_streamed_fallback_keeps_the_span_open_until_the_stream_ends() {
    let (spans, _g) = Collector::install();
    let (router, _, _) = router((STREAM, "text/event-stream")).await;
    let mut stream = router.chat_stream(&request(), &CallContext::new("r2")).await.unwrap();
    assert!(!spans.span_named(sc::OP_CHAT).closed);
    while let Some(item) = stream.next().await {
        item.unwrap();
    }
    drop(stream);
    let chat = spans.span_named(sc::OP_CHAT);
    assert!(chat.closed);
    assert_eq!(chat.get(sc::GEN_AI_RESPONSE_FINISH_REASONS), Some("end_turn"));
    assert_eq!(chat.get(sc::GEN_AI_USAGE_OUTPUT_TOKENS), Some("2"));
    assert!(chat.get(sc::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK).is_some());
    assert_eq!(chat.get(sc::ERROR_TYPE), None);
    let routing = spans.events_named(sc::EVENT_ROUTING);
    assert_eq!(routing[0].get(sc::TOOLPLANE_ROUTE_FALLBACKS), Some("a=rate_limited"));
}

#[tokio::test]
async fn when_every_expert_fails_the_span_has_the_error() {
    let (spans, _g) = Collector::install();
    let (a, _) = server(429, LIMITED, "application/json").await;
    let router = Router::builder()
        .default_policy(TaskPolicy::new(Strategy::Static { order: vec![] }))
        .expert(Expert::new(openai(&a), "m-a").with_id("a"))
        .build()
        .unwrap();
    let err = router.chat(&request(), &CallContext::new("r3")).await.unwrap_err();
    let chat = spans.span_named(sc::OP_CHAT);
    assert_eq!(chat.get(sc::ERROR_TYPE), Some(err.kind().as_str()));
    let routing = spans.events_named(sc::EVENT_ROUTING);
    assert_eq!(routing[0].get(sc::TOOLPLANE_ROUTE_CHOSEN), None);
}
