#![allow(clippy::unwrap_used, clippy::panic)]
//! Retries, timeouts, cancellation, auth styles, custom headers and query
//! parameters, and key hygiene, against a local HTTP server.

mod server;

use std::time::Duration;

use serde_json::json;
use server::{Reply, TestServer, accumulate, drain, own_fixture};
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, Message, ProviderError, ProviderErrorKind, StreamEvent,
};
use toolplane_providers::{
    AnthropicProvider, ConfigError, OpenAiProvider, ProviderConfig, RequestOptions, RetryPolicy, Timeouts,
    provider_from_name,
};

const KEY: &str = "sk-test-secret-key-0123456789";

fn fast_retries(n: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_retries(n)
        .with_backoff(Duration::from_millis(1), Duration::from_secs(1))
        .with_jitter(false)
}

fn ok_body() -> serde_json::Value {
    json!({"id":"chatcmpl-1","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],
           "usage":{"prompt_tokens":3,"completion_tokens":1}})
}

fn req() -> ChatRequest {
    ChatRequest::new("m", vec![Message::user("hi")])
}

fn openai(url: &str, retry: RetryPolicy) -> OpenAiProvider {
    OpenAiProvider::new(ProviderConfig::new(url).with_api_key(KEY).with_retry(retry)).unwrap()
}

/// One `chat` call of [`openai`] with a fresh context.
async fn openai_chat(url: &str, retry: RetryPolicy) -> Result<ChatResponse, ProviderError> {
    openai(url, retry).chat(&req(), &CallContext::new("t")).await
}

#[tokio::test]
async fn retryable_statuses_are_retried_and_others_are_not() {
    let server = TestServer::start(vec![
        Reply::json(503, &json!({"error":{"message":"busy","type":"server_error"}})),
        Reply::json(
            429,
            &json!({"error":{"message":"slow","type":"requests","code":"rate_limit_exceeded"}}),
        )
        .header("retry-after-ms", "5"),
        Reply::json(200, &ok_body()),
    ])
    .await;
    let resp = openai_chat(&server.url, fast_retries(3)).await.unwrap();
    assert_eq!(resp.text(), "ok");
    assert_eq!(server.requests().len(), 3);

    let server = TestServer::start(vec![
        Reply::json(400, &json!({"error":{"message":"bad","type":"invalid_request_error"}})),
        Reply::json(200, &ok_body()),
    ])
    .await;
    let err = openai_chat(&server.url, fast_retries(3)).await.unwrap_err();
    assert_eq!(err.kind(), ProviderErrorKind::InvalidRequest);
    assert_eq!(server.requests().len(), 1, "a 400 is never retried");

    let server = TestServer::start(vec![Reply::json(500, &json!({})), Reply::json(500, &json!({}))]).await;
    let err = openai_chat(&server.url, fast_retries(1)).await.unwrap_err();
    assert_eq!(err.kind(), ProviderErrorKind::Server);
    assert_eq!(server.requests().len(), 2, "one try plus one retry");
}

#[tokio::test]
async fn a_retry_after_longer_than_the_cap_is_not_waited_for() {
    let server = TestServer::start(vec![
        Reply::json(429, &json!({"error":{"message":"slow","code":"rate_limit_exceeded"}}))
            .header("retry-after", "3600"),
        Reply::json(200, &ok_body()),
    ])
    .await;
    let err = openai_chat(&server.url, fast_retries(3)).await.unwrap_err();
    assert_eq!(err.kind(), ProviderErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_stream_is_retried_before_its_first_event_but_never_after() {
    let good = std::fs::read(
        toolplane_testkit::fixture("providers/anthropic/message-streams/basic-response.sse").unwrap_or_default(),
    )
    .unwrap_or_else(|_| own_fixture("anthropic-unknown-events.sse"));
    // An overload event right after the 200, before any content: retried.
    let (events, err, requests) = anthropic_stream_then(own_fixture("anthropic-overloaded-event.sse"), &good).await;
    assert!(err.is_none(), "{err:?}");
    assert!(accumulate("anthropic", &events).finish().is_ok());
    assert_eq!(requests, 2);

    // The same error after text reached the caller: returned, not retried.
    let (events, err, requests) = anthropic_stream_then(own_fixture("anthropic-error-after-content.sse"), &good).await;
    assert_eq!(err.unwrap().kind(), ProviderErrorKind::Overloaded);
    assert!(!events.is_empty());
    assert_eq!(requests, 1);
}

/// Streams from an Anthropic provider allowed two retries, against a server
/// that answers `first` and then `good`: what the caller saw, and how many
/// requests the server got.
async fn anthropic_stream_then(first: Vec<u8>, good: &[u8]) -> (Vec<StreamEvent>, Option<ProviderError>, usize) {
    let server = TestServer::start(vec![Reply::sse(first, 32), Reply::sse(good, 32)]).await;
    let p = AnthropicProvider::new(
        ProviderConfig::new(&server.url)
            .with_api_key(KEY)
            .with_retry(fast_retries(2)),
    )
    .unwrap();
    let (events, err) = drain(p.chat_stream(&req(), &CallContext::new("t")).await.unwrap()).await;
    (events, err, server.requests().len())
}

#[tokio::test]
async fn timeouts_and_connection_failures_are_typed() {
    // A stream that goes silent longer than the first-byte/idle limit.
    let body = own_fixture("openai-split-unicode.sse");
    let server = TestServer::start(vec![Reply::sse(&body, 64).pause(Duration::from_secs(5))]).await;
    let cfg = ProviderConfig::new(&server.url)
        .with_api_key(KEY)
        .with_retry(RetryPolicy::none())
        .with_timeouts(Timeouts {
            first_byte: Duration::from_millis(100),
            ..Timeouts::default()
        });
    let p = OpenAiProvider::new(cfg).unwrap();
    let err = match p.chat_stream(&req(), &CallContext::new("t")).await {
        Err(e) => e,
        Ok(s) => drain(s).await.1.unwrap(),
    };
    assert_eq!(err.kind(), ProviderErrorKind::Timeout, "{err}");

    // A body slower than the whole-call limit.
    let server = TestServer::start(vec![Reply::json(200, &ok_body()).pause(Duration::from_secs(5))]).await;
    let cfg = ProviderConfig::new(&server.url)
        .with_api_key(KEY)
        .with_retry(RetryPolicy::none())
        .with_timeouts(Timeouts {
            total: Duration::from_millis(150),
            ..Timeouts::default()
        });
    let err = OpenAiProvider::new(cfg)
        .unwrap()
        .chat(&req(), &CallContext::new("t"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ProviderErrorKind::Timeout, "{err}");

    // The context's deadline shortens the call too.
    let server = TestServer::start(vec![Reply::json(200, &ok_body()).pause(Duration::from_secs(5))]).await;
    let ctx = CallContext::new("t").with_timeout(Duration::from_millis(150));
    let err = openai(&server.url, RetryPolicy::none())
        .chat(&req(), &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ProviderErrorKind::Timeout, "{err}");

    // Nothing listens: a transport error, without the key in it.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let err = openai_chat(&format!("http://{closed}"), RetryPolicy::none())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ProviderErrorKind::Transport, "{err}");
    assert!(!format!("{err} {err:?}").contains(KEY));
}

#[tokio::test]
async fn a_cancelled_context_is_not_sent() {
    let server = TestServer::start(vec![Reply::json(200, &ok_body())]).await;
    let ctx = CallContext::new("t");
    ctx.cancel.cancel();
    let err = openai(&server.url, fast_retries(2))
        .chat(&req(), &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ProviderErrorKind::Cancelled);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn azure_uses_deployment_path_api_version_and_api_key_header() {
    let server = TestServer::start(vec![Reply::json(200, &ok_body())]).await;
    let p = OpenAiProvider::azure(&server.url, "gpt4o-prod", "2024-10-21", "azure-key-123").unwrap();
    let resp = p
        .chat(
            &ChatRequest::new("", vec![Message::user("hi")]).with_max_tokens(5),
            &CallContext::new("t"),
        )
        .await
        .unwrap();
    assert_eq!(resp.text(), "ok");
    let sent = server.last_request();
    assert_eq!(sent.path, "/openai/deployments/gpt4o-prod/chat/completions");
    assert_eq!(sent.query.as_deref(), Some("api-version=2024-10-21"));
    assert_eq!(sent.headers["api-key"], "azure-key-123");
    assert!(sent.headers.get("authorization").is_none());
    assert_eq!(sent.body["model"], "gpt4o-prod");
    assert_eq!(sent.body["max_completion_tokens"], 5);
    assert!(!format!("{p:?}").contains("azure-key-123"));
}

#[tokio::test]
async fn client_and_request_headers_and_query_are_sent() {
    let server = TestServer::start(vec![Reply::json(200, &ok_body())]).await;
    let cfg = ProviderConfig::new(&server.url)
        .with_api_key(KEY)
        .with_header("OpenAI-Organization", "org-1")
        .with_query("tenant", "t1");
    let p = OpenAiProvider::compatible("vllm", cfg).unwrap();
    let ctx = CallContext::new("t").with_extension(
        RequestOptions::new()
            .with_header("x-trace-id", "abc")
            .with_query("q", "1"),
    );
    let resp = p.chat(&req().with_max_tokens(9), &ctx).await.unwrap();
    assert_eq!(resp.provider, "vllm");
    let sent = server.last_request();
    assert_eq!(sent.headers["openai-organization"], "org-1");
    assert_eq!(sent.headers["x-trace-id"], "abc");
    assert_eq!(sent.headers["authorization"], format!("Bearer {KEY}"));
    assert_eq!(sent.query.as_deref(), Some("tenant=t1&q=1"));
    assert_eq!(sent.body["max_tokens"], 9, "compatible servers get max_tokens");
    let shown = format!("{p:?} {ctx:?} {:?}", ctx.extensions.get::<RequestOptions>());
    assert!(
        !shown.contains(KEY) && !shown.contains("org-1") && !shown.contains("abc"),
        "{shown}"
    );
}

#[tokio::test]
async fn provider_from_name_builds_working_providers() {
    let server = TestServer::start(vec![Reply::json(200, &ok_body())]).await;
    let p = provider_from_name("ollama", "llama3.2", Some(&server.url)).unwrap();
    assert_eq!(p.name(), "ollama");
    let resp = p
        .chat(&ChatRequest::new("", vec![Message::user("hi")]), &CallContext::new("t"))
        .await
        .unwrap();
    assert_eq!(resp.text(), "ok");
    assert_eq!(server.last_request().body["model"], "llama3.2");
    assert!(server.last_request().headers.get("authorization").is_none());

    assert!(matches!(
        provider_from_name("no-such-vendor", "m", None),
        Err(ConfigError::UnknownProvider(..))
    ));
    assert!(matches!(
        provider_from_name("ollama", "m", Some("ftp://x")),
        Err(ConfigError::BadBaseUrl { .. })
    ));
    if std::env::var_os("CO_API_KEY").is_none() {
        let err = provider_from_name("cohere", "command-r", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cohere: no API key; set CO_API_KEY or pass one in code"
        );
    }
}

#[tokio::test]
async fn cancelling_a_silent_stream_ends_it_with_cancelled() {
    // The server would stay silent for 30 s per chunk; the idle limit is the
    // default (minutes). Only the cancel flag can end this quickly.
    let body = own_fixture("openai-split-unicode.sse");
    let server = TestServer::start(vec![Reply::sse(&body, 64).pause(Duration::from_secs(30))]).await;
    let p = openai(&server.url, fast_retries(2));
    let ctx = CallContext::new("t");
    let flag = ctx.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        flag.cancel();
    });
    let err = match p.chat_stream(&req(), &ctx).await {
        Err(e) => e,
        Ok(s) => drain(s).await.1.expect("the stream cannot complete"),
    };
    assert_eq!(err.kind(), ProviderErrorKind::Cancelled, "{err}");
    assert_eq!(server.requests().len(), 1, "a cancelled call is not retried");
}
