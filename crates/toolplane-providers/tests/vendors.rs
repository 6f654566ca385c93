#![allow(clippy::unwrap_used, clippy::panic)]
//! Hand-written fixtures for all four vendors, through a local HTTP server:
//! every error status and body, rate-limit headers, streams cut mid-event,
//! tool-call arguments split inside a `\u` escape and a multibyte character,
//! unknown events, empty choices, Cohere tool plans and tool calls, and the
//! Responses API.

mod server;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use server::{Reply, TestServer, accumulate, drain, own_fixture};
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ContentPart, Message, ProviderErrorKind, RateLimitSnapshot, StopReason,
    StreamEvent, ToolCall, ToolChoice, ToolResult, ToolSpec, Usage,
};
use toolplane_providers::{
    AnthropicProvider, CohereProvider, MistralProvider, OpenAiProvider, OpenAiResponsesProvider, ProviderConfig,
    RetryPolicy,
};

type RateLimitFn = Box<dyn Fn() -> Option<RateLimitSnapshot>>;

/// The provider, and its (inherent, vendor-specific) `rate_limit` as a closure.
fn paired<P: ChatProvider + 'static>(
    provider: P,
    rate_limit: fn(&P) -> Option<RateLimitSnapshot>,
) -> (Arc<dyn ChatProvider>, RateLimitFn) {
    let p = Arc::new(provider);
    (p.clone(), Box::new(move || rate_limit(&p)))
}

fn make(vendor: &str, url: &str) -> (Arc<dyn ChatProvider>, RateLimitFn) {
    let cfg = ProviderConfig::new(url)
        .with_api_key("sk-test-secret-key-0123456789")
        .with_retry(RetryPolicy::none());
    match vendor {
        "openai" => paired(OpenAiProvider::new(cfg).unwrap(), OpenAiProvider::rate_limit),
        "anthropic" => paired(AnthropicProvider::new(cfg).unwrap(), AnthropicProvider::rate_limit),
        "mistral" => paired(MistralProvider::new(cfg).unwrap(), MistralProvider::rate_limit),
        "cohere" => paired(CohereProvider::new(cfg).unwrap(), CohereProvider::rate_limit),
        "responses" => paired(
            OpenAiResponsesProvider::new(cfg).unwrap(),
            OpenAiResponsesProvider::rate_limit,
        ),
        other => panic!("unknown vendor {other}"),
    }
}

fn req() -> ChatRequest {
    ChatRequest::new("m", vec![Message::user("weather?")]).with_tools(vec![ToolSpec::new("get_weather", "w")])
}

async fn stream_fixture(
    vendor: &str,
    file: &str,
    chunk: usize,
) -> (Vec<StreamEvent>, Option<toolplane_core::ProviderError>, TestServer) {
    let server = TestServer::start(vec![
        Reply::sse(own_fixture(file), chunk).header("x-request-id", "req_stream_1"),
    ])
    .await;
    let (p, _) = make(vendor, &server.url);
    let stream = p.chat_stream(&req(), &CallContext::new("t")).await.unwrap();
    let (events, err) = drain(stream).await;
    (events, err, server)
}

#[tokio::test]
async fn every_error_status_and_body_maps_to_its_kind() {
    let cases: Vec<Value> = serde_json::from_slice(&own_fixture("errors.json")).unwrap();
    for case in cases {
        let vendor = case["vendor"].as_str().unwrap();
        let status = case["status"].as_u64().unwrap() as u16;
        let mut reply = Reply::json(status, &case["body"])
            .header("x-request-id", "req_123")
            .header("request-id", "req_123");
        for (k, v) in case["headers"].as_object().into_iter().flatten() {
            reply = reply.header(k, v.as_str().unwrap());
        }
        let server = TestServer::start(vec![reply]).await;
        let (p, rate_limit) = make(vendor, &server.url);
        let err = p.chat(&req(), &CallContext::new("t")).await.unwrap_err();
        let what = format!("{vendor} {status}: {err}");
        assert_eq!(err.kind().as_str(), case["kind"].as_str().unwrap(), "{what}");
        assert_eq!(err.status(), Some(status), "{what}");
        assert_eq!(err.request_id(), Some("req_123"), "{what}");
        assert_eq!(err.provider(), vendor, "{what}");
        assert!(
            !err.to_string().contains("sk-proj-abcdefghijkl"),
            "a key leaked: {what}"
        );
        assert!(!err.to_string().contains("sk-test-secret"), "our key leaked: {what}");
        if let Some(ms) = case["retry_after_ms"].as_u64() {
            assert_eq!(err.retry_after(), Some(Duration::from_millis(ms)), "{what}");
        }
        if case["headers"].is_object() {
            let snap = rate_limit().expect("a rate-limit snapshot");
            if case["headers"]
                .as_object()
                .unwrap()
                .keys()
                .any(|k| k.contains("remaining"))
            {
                assert!(snap.is_exhausted(), "{what}: {snap:?}");
            } else {
                assert_eq!(snap.retry_after, err.retry_after(), "{what}");
            }
        }
    }
}

#[tokio::test]
async fn rate_limit_snapshot_reads_openai_and_anthropic_headers() {
    let body = json!({"id":"c","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]});
    let server = TestServer::start(vec![
        Reply::json(200, &body)
            .header("x-ratelimit-limit-tokens", "30000")
            .header("x-ratelimit-remaining-tokens", "29000")
            .header("x-ratelimit-reset-tokens", "1m30s")
            .header("x-ratelimit-reset-requests", "12ms")
            .header("x-request-id", "req_ok"),
    ])
    .await;
    let (p, rate_limit) = make("openai", &server.url);
    let resp = p.chat(&req(), &CallContext::new("t")).await.unwrap();
    assert_eq!(resp.request_id.as_deref(), Some("req_ok"));
    let snap = resp.rate_limit.unwrap();
    assert_eq!(snap.tokens_limit, Some(30_000));
    assert_eq!(snap.tokens_remaining, Some(29_000));
    assert_eq!(snap.tokens_reset, Some(Duration::from_secs(90)));
    assert_eq!(snap.requests_reset, Some(Duration::from_millis(12)));
    assert_eq!(rate_limit(), Some(snap));

    let body = json!({"id":"msg","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":1}});
    let server = TestServer::start(vec![
        Reply::json(200, &body)
            .header("anthropic-ratelimit-tokens-remaining", "100")
            .header("anthropic-ratelimit-tokens-reset", "2099-01-01T00:00:00Z"),
    ])
    .await;
    let (p, _) = make("anthropic", &server.url);
    let snap = p
        .chat(&req(), &CallContext::new("t"))
        .await
        .unwrap()
        .rate_limit
        .unwrap();
    assert_eq!(snap.tokens_remaining, Some(100));
    assert!(snap.tokens_reset.unwrap() > Duration::from_secs(365 * 24 * 3600));
}

#[tokio::test]
async fn openai_split_escape_multibyte_unknown_fields_and_empty_choices() {
    // One byte per chunk: every UTF-8 character and every line is split.
    let (events, err, _s) = stream_fixture("openai", "openai-split-unicode.sse", 1).await;
    assert!(err.is_none(), "{err:?}");
    let resp = accumulate("openai", &events).finish().unwrap();
    let calls: Vec<ToolCall> = resp.tool_calls().cloned().collect();
    assert_eq!(
        calls,
        vec![
            ToolCall::new(
                "call_abc",
                "get_weather",
                "{\"city\":\"Z\\u00fcrich\",\"note\":\"Zürich 🌤\"}"
            ),
            ToolCall::new("call_def", "now", "{}"),
        ]
    );
    assert_eq!(calls[0].arguments_value().unwrap()["city"], "Zürich");
    assert_eq!(resp.stop_reason, StopReason::ToolUse);
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: 1200,
            output_tokens: 30,
            cache_read_tokens: 1024,
            ..Usage::default()
        }
    );
    assert_eq!(resp.usage.uncached_input_tokens(), 176);
}

#[tokio::test]
async fn streams_cut_mid_event_are_incomplete() {
    for (vendor, file, text) in [
        ("openai", "openai-cut-mid-event.sse", "Hel"),
        ("anthropic", "anthropic-cut.sse", "Hello"),
    ] {
        let (events, err, _s) = stream_fixture(vendor, file, 16).await;
        let err = err.expect("an incomplete stream is an error");
        assert_eq!(err.kind(), ProviderErrorKind::Incomplete, "{vendor}: {err}");
        assert_eq!(err.request_id(), Some("req_stream_1"));
        assert_eq!(accumulate(vendor, &events).finish_partial().text(), text);
    }
}

#[tokio::test]
async fn error_events_mid_stream_are_typed_errors() {
    let (events, err, _s) = stream_fixture("openai", "openai-error-event.sse", 64).await;
    assert_eq!(err.unwrap().kind(), ProviderErrorKind::Server);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, StreamEvent::TextDelta { text } if text == "Par"))
    );
    let (events, err, _s) = stream_fixture("anthropic", "anthropic-error-after-content.sse", 64).await;
    let err = err.unwrap();
    assert_eq!(err.kind(), ProviderErrorKind::Overloaded);
    assert!(err.message().contains("Overloaded"));
    assert_eq!(accumulate("anthropic", &events).finish_partial().text(), "Hel");
}

#[tokio::test]
async fn anthropic_thinking_unknown_events_split_escape_and_cache_usage() {
    let (events, err, _s) = stream_fixture("anthropic", "anthropic-unknown-events.sse", 3).await;
    assert!(err.is_none(), "{err:?}");
    let resp = accumulate("anthropic", &events).finish().unwrap();
    let calls: Vec<ToolCall> = resp.tool_calls().cloned().collect();
    assert_eq!(
        calls,
        vec![
            ToolCall::new("toolu_own1", "get_weather", "{\"city\": \"Z\\u00fcrich 日本\"}"),
            ToolCall::new("toolu_own2", "now", "{}"),
        ]
    );
    assert!(
        matches!(&resp.message.content[0], ContentPart::Thinking { text, .. } if text == "The user wants weather.")
    );
    // The signature arrives in a `signature_delta` and is kept: Anthropic refuses
    // a follow-up turn whose thinking block lost it.
    assert!(
        matches!(&resp.message.content[0], ContentPart::Thinking { signature: Some(s), .. } if s == "EqQBCgIYAhIM"),
        "{:?}",
        resp.message.content[0]
    );
    let provider = toolplane_providers::AnthropicProvider::new(
        toolplane_providers::ProviderConfig::new("http://127.0.0.1:9").with_api_key("k"),
    )
    .unwrap();
    let next = toolplane_core::ChatRequest::new(
        "claude-sonnet-4-5",
        vec![toolplane_core::Message::user("Weather?"), resp.message.clone()],
    );
    let body = provider.request_body(&next, false);
    assert_eq!(body["messages"][1]["content"][0]["type"], "thinking");
    assert_eq!(body["messages"][1]["content"][0]["signature"], "EqQBCgIYAhIM");
    assert_eq!(resp.stop_reason, StopReason::ToolUse);
    // input 20 + cache read 1000 + cache write 200; output cumulative 42.
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: 1220,
            output_tokens: 42,
            cache_read_tokens: 1000,
            cache_write_tokens: 200,
            cache_write_1h_tokens: 0,
            reasoning_tokens: 0
        }
    );
    assert_eq!(resp.usage.uncached_input_tokens(), 20);
}

#[tokio::test]
async fn mistral_calls_with_one_index_are_told_apart_by_id() {
    let (events, err, server) = stream_fixture("mistral", "mistral-stream.sse", 10).await;
    assert!(err.is_none(), "{err:?}");
    let resp = accumulate("mistral", &events).finish().unwrap();
    let calls: Vec<ToolCall> = resp.tool_calls().cloned().collect();
    assert_eq!(
        calls,
        vec![
            ToolCall::new("D681PevKs", "get_weather", r#"{"city": "Paris"}"#),
            ToolCall::new("Q2mFx91zT", "get_weather", r#"{"city": "Rome"}"#),
        ]
    );
    assert_eq!(resp.stop_reason, StopReason::ToolUse);
    assert_eq!((resp.usage.input_tokens, resp.usage.output_tokens), (90, 35));
    let sent = server.last_request();
    assert_eq!(sent.path, "/chat/completions");
    assert!(sent.body.get("stream_options").is_none());
}

#[tokio::test]
async fn cohere_tool_plan_and_tool_calls() {
    let (events, err, server) = stream_fixture("cohere", "cohere-tool-stream.sse", 9).await;
    assert!(err.is_none(), "{err:?}");
    let resp = accumulate("cohere", &events).finish().unwrap();
    assert!(
        matches!(&resp.message.content[0], ContentPart::Thinking { text, .. } if text == "I will look up the weather.")
    );
    let calls: Vec<ToolCall> = resp.tool_calls().cloned().collect();
    assert_eq!(
        calls,
        vec![
            ToolCall::new("get_weather_k3v7", "get_weather", "{\"city\": \"Z\\u00fcrich\"}"),
            ToolCall::new("now_x1", "now", "{}"),
        ]
    );
    assert_eq!(resp.stop_reason, StopReason::ToolUse);
    // `tokens` (what the model processed) wins over `billed_units`.
    assert_eq!((resp.usage.input_tokens, resp.usage.output_tokens), (1210, 64));
    assert_eq!(server.last_request().path, "/v2/chat");

    let (events, err, _s) = stream_fixture("cohere", "cohere-text-stream.sse", 4).await;
    assert!(err.is_none(), "{err:?}");
    let resp = accumulate("cohere", &events).finish().unwrap();
    assert_eq!(resp.text(), "It is 18°C.");
    assert_eq!(resp.stop_reason, StopReason::MaxTokens);
    // Without `tokens`, billed units are used.
    assert_eq!((resp.usage.input_tokens, resp.usage.output_tokens), (5, 4));
}

#[tokio::test]
async fn cohere_request_uses_v2_tool_forms() {
    let server = TestServer::start(vec![Reply::json(
        200,
        &json!({"id":"x","finish_reason":"COMPLETE","message":{"role":"assistant","content":[{"type":"text","text":"18C in Paris"}]},"usage":{"billed_units":{"input_tokens":10,"output_tokens":4},"tokens":{"input_tokens":100,"output_tokens":4}}}),
    )])
    .await;
    let (p, _) = make("cohere", &server.url);
    let mut r = req().with_tool_choice(ToolChoice::Required);
    r.messages.push(Message {
        role: toolplane_core::Role::Assistant,
        content: vec![
            ContentPart::Thinking {
                text: "I will look it up.".into(),
                signature: None,
            },
            ContentPart::ToolCall(ToolCall::new("get_weather_k3v7", "get_weather", r#"{"city":"Paris"}"#)),
        ],
    });
    r.messages.push(Message::tool_results(vec![ToolResult::error(
        "get_weather_k3v7",
        "timeout",
    )]));
    let resp = p.chat(&r, &CallContext::new("t")).await.unwrap();
    assert_eq!(resp.text(), "18C in Paris");
    assert_eq!(resp.usage.input_tokens, 100);
    let body = server.last_request().body;
    assert_eq!(body["tool_choice"], "REQUIRED");
    assert_eq!(body["messages"][1]["tool_plan"], "I will look it up.");
    assert_eq!(body["messages"][1]["tool_calls"][0]["id"], "get_weather_k3v7");
    assert_eq!(body["messages"][2]["role"], "tool");
    assert_eq!(body["messages"][2]["tool_call_id"], "get_weather_k3v7");
    assert_eq!(body["messages"][2]["content"][0]["document"]["data"], "error: timeout");
    assert_eq!(body["tools"][0]["function"]["name"], "get_weather");
}

#[tokio::test]
async fn responses_api_stream_and_request_items() {
    let (events, err, server) = stream_fixture("responses", "responses-stream.sse", 11).await;
    assert!(err.is_none(), "{err:?}");
    let resp = accumulate("openai", &events).finish().unwrap();
    assert_eq!(resp.text(), "Let me check.");
    assert_eq!(
        resp.tool_calls().cloned().collect::<Vec<_>>(),
        vec![ToolCall::new("call_r1", "get_weather", "{\"city\":\"Z\\u00fcrich\"}")]
    );
    assert_eq!(resp.stop_reason, StopReason::ToolUse);
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: 300,
            output_tokens: 25,
            cache_read_tokens: 256,
            reasoning_tokens: 10,
            ..Usage::default()
        }
    );
    assert_eq!(server.last_request().path, "/responses");

    let body = json!({"id":"resp_2","object":"response","status":"completed","model":"gpt-4.1-mini","output":[
        {"type":"reasoning","id":"rs_1","summary":[]},
        {"type":"function_call","id":"fc_1","call_id":"call_9","name":"get_weather","arguments":"{\"city\":\"Rome\"}","status":"completed"}],
        "usage":{"input_tokens":50,"output_tokens":9}});
    let server = TestServer::start(vec![Reply::json(200, &body)]).await;
    let (p, _) = make("responses", &server.url);
    let mut r = req().with_tool_choice(ToolChoice::Tool {
        name: "get_weather".into(),
    });
    r.messages.insert(0, Message::system("Be brief."));
    r.messages.push(Message::assistant_tool_calls(vec![ToolCall::new(
        "call_1",
        "get_weather",
        r#"{"city":"Paris"}"#,
    )]));
    r.messages
        .push(Message::tool_results(vec![ToolResult::ok("call_1", "18C")]));
    let resp = p.chat(&r, &CallContext::new("t")).await.unwrap();
    assert_eq!(
        resp.tool_calls().next().unwrap(),
        &ToolCall::new("call_9", "get_weather", r#"{"city":"Rome"}"#)
    );
    assert_eq!(resp.stop_reason, StopReason::ToolUse);
    let sent = server.last_request().body;
    assert_eq!(sent["instructions"], "Be brief.");
    assert_eq!(sent["tool_choice"], json!({"type": "function", "name": "get_weather"}));
    assert_eq!(
        sent["input"][1],
        json!({"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"})
    );
    assert_eq!(
        sent["input"][2],
        json!({"type":"function_call_output","call_id":"call_1","output":"18C"})
    );
    assert_eq!(sent["tools"][0]["type"], "function");
}

#[tokio::test]
async fn anthropic_request_has_tool_results_in_a_user_message() {
    let body = json!({"id":"msg","type":"message","role":"assistant","model":"claude","content":[
        {"type":"text","text":"Checking"},{"type":"tool_use","id":"toolu_2","name":"get_weather","input":{"city":"Rome"}}],
        "stop_reason":"tool_use","usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":7}});
    let server = TestServer::start(vec![Reply::json(200, &body)]).await;
    let (p, _) = make("anthropic", &server.url);
    let mut r = req().with_tool_choice(ToolChoice::Required);
    r.parallel_tool_calls = Some(false);
    r.messages.insert(0, Message::system("Be brief."));
    r.messages.push(Message::assistant_tool_calls(vec![ToolCall::new(
        "toolu_1",
        "get_weather",
        r#"{"city":"Paris"}"#,
    )]));
    r.messages
        .push(Message::tool_results(vec![ToolResult::error("toolu_1", "timeout")]));
    r.messages.push(Message::user("and Rome?"));
    let resp = p.chat(&r, &CallContext::new("t")).await.unwrap();
    assert_eq!(resp.stop_reason, StopReason::ToolUse);
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: 15,
            output_tokens: 7,
            cache_read_tokens: 5,
            ..Usage::default()
        }
    );
    assert_eq!(
        resp.tool_calls().next().unwrap().arguments_value().unwrap()["city"],
        "Rome"
    );
    let sent = server.last_request().body;
    assert_eq!(sent["system"], "Be brief.");
    assert_eq!(sent["max_tokens"], 4096);
    assert_eq!(
        sent["tool_choice"],
        json!({"type": "any", "disable_parallel_tool_use": true})
    );
    assert_eq!(sent["messages"][1]["content"][0]["input"], json!({"city": "Paris"}));
    let user = &sent["messages"][2];
    assert_eq!(user["role"], "user");
    assert_eq!(
        user["content"][0],
        json!({"type":"tool_result","tool_use_id":"toolu_1","content":"timeout","is_error":true})
    );
    assert_eq!(user["content"][1], json!({"type":"text","text":"and Rome?"}));
    assert_eq!(sent["messages"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn openai_and_mistral_complete_answers() {
    let body = json!({"id":"chatcmpl-9","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,
        "message":{"role":"assistant","content":null,"refusal":null,"tool_calls":[
            {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
        "finish_reason":"stop"}],
        "usage":{"prompt_tokens":2000,"completion_tokens":12,"prompt_tokens_details":{"cached_tokens":1536},"completion_tokens_details":{"reasoning_tokens":4}},
        "service_tier":"default","unknown":{"x":1}});
    let empty = json!({"id":"chatcmpl-10","object":"chat.completion","model":"m","choices":[]});
    let server = TestServer::start(vec![Reply::json(200, &body), Reply::json(200, &empty)]).await;
    let (p, _) = make("openai", &server.url);
    let r = req().with_tool_choice(ToolChoice::Tool {
        name: "get_weather".into(),
    });
    let resp = p.chat(&r, &CallContext::new("t")).await.unwrap();
    // A forced named tool ends with `stop`; it is still a tool-use turn.
    assert_eq!(resp.stop_reason, StopReason::ToolUse);
    assert_eq!(
        resp.tool_calls().next().unwrap(),
        &ToolCall::new("call_1", "get_weather", r#"{"city":"Paris"}"#)
    );
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: 2000,
            output_tokens: 12,
            cache_read_tokens: 1536,
            reasoning_tokens: 4,
            ..Usage::default()
        }
    );
    assert_eq!(
        server.last_request().body["tool_choice"],
        json!({"type":"function","function":{"name":"get_weather"}})
    );
    let err = p.chat(&req(), &CallContext::new("t")).await.unwrap_err();
    assert_eq!(err.kind(), ProviderErrorKind::Decode);
    assert!(err.message().contains("no choices"), "{err}");

    let body = json!({"id":"cmpl-1","object":"chat.completion","model":"mistral-small-latest","choices":[{"index":0,
        "message":{"role":"assistant","content":"","tool_calls":[{"id":"D681PevKs","function":{"name":"get_weather","arguments":"{\"city\": \"Rome\"}"}}]},
        "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":80,"completion_tokens":20,"total_tokens":100}});
    let server = TestServer::start(vec![Reply::json(200, &body)]).await;
    let (p, _) = make("mistral", &server.url);
    let mut r = req();
    r.messages.push(Message::assistant_tool_calls(vec![ToolCall::new(
        "toolu_01NRLabsLyVHZPKxbKvkfSMn",
        "get_weather",
        "{}",
    )]));
    r.messages.push(Message::tool_results(vec![
        ToolResult::ok("toolu_01NRLabsLyVHZPKxbKvkfSMn", "18C").with_name("get_weather"),
    ]));
    let resp = p.chat(&r, &CallContext::new("t")).await.unwrap();
    assert_eq!(resp.tool_calls().next().unwrap().id, "D681PevKs");
    assert_eq!((resp.usage.input_tokens, resp.usage.output_tokens), (80, 20));
    let sent = server.last_request().body;
    let id = toolplane_providers::mistral_call_id("toolu_01NRLabsLyVHZPKxbKvkfSMn");
    assert_eq!(sent["messages"][1]["tool_calls"][0]["id"], id.as_str());
    assert_eq!(sent["messages"][2]["tool_call_id"], id.as_str());
}

#[tokio::test]
async fn anthropic_thinking_signature_round_trips_in_complete_answers() {
    let body = json!({"id":"msg","type":"message","role":"assistant","model":"claude","content":[
        {"type":"thinking","thinking":"Let me think.","signature":"EqQBsig"},
        {"type":"server_tool_use","id":"srv_1","name":"web_search","input":{}},
        {"type":"text","text":"Done."}],
        "stop_reason":"end_turn","usage":{"input_tokens":10,"cache_creation_input_tokens":90,"output_tokens":7}});
    let server = TestServer::start(vec![Reply::json(200, &body), Reply::json(200, &body)]).await;
    let (p, _) = make("anthropic", &server.url);
    let resp = p.chat(&req(), &CallContext::new("t")).await.unwrap();
    assert_eq!(resp.text(), "Done.");
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: 100,
            output_tokens: 7,
            cache_write_tokens: 90,
            ..Usage::default()
        }
    );
    let mut r = req();
    r.messages.push(resp.message.clone());
    r.messages.push(Message::user("more"));
    p.chat(&r, &CallContext::new("t")).await.unwrap();
    let sent = server.last_request().body;
    assert_eq!(
        sent["messages"][1]["content"][0],
        json!({"type":"thinking","thinking":"Let me think.","signature":"EqQBsig"})
    );
}

#[tokio::test]
async fn cohere_error_finish_is_a_typed_error() {
    let (events, err, _s) = stream_fixture("cohere", "cohere-error-finish.sse", 13).await;
    let err = err.expect("ERROR is a failure");
    assert_eq!(err.kind(), ProviderErrorKind::Server);
    assert_eq!(accumulate("cohere", &events).finish_partial().text(), "Par");
}
