#![allow(clippy::unwrap_used, clippy::panic)]
//! Prompt caching through the one provider-neutral option
//! ([`PromptCache`]): what each vendor's request carries, and the cache
//! tokens each vendor reports, normalized in `Usage` and priced by the
//! metrics crate's built-in table.

mod server;

use serde_json::{Value, json};
use server::{Reply, TestServer};
use toolplane_core::{
    CacheTtl, CallContext, ChatProvider, ChatRequest, ContentPart, Message, PromptCache, ToolSpec, Usage,
};
use toolplane_metrics::PricingTable;
use toolplane_providers::{
    AnthropicProvider, GeminiProvider, MistralProvider, OpenAiProvider, ProviderConfig, RequestOptions,
};

fn conversation() -> ChatRequest {
    let tools = vec![
        ToolSpec::new("search", "Search the docs"),
        ToolSpec::new("fetch", "Fetch a page"),
    ];
    ChatRequest::new(
        "claude-sonnet-4-5",
        vec![
            Message::system("You answer from the manual. <long manual text>"),
            Message::user("How do I reset it?"),
            Message {
                role: toolplane_core::Role::Assistant,
                content: vec![
                    ContentPart::Thinking {
                        text: "look it up".into(),
                        signature: Some("sig".into()),
                    },
                    ContentPart::Text {
                        text: "Hold the button.".into(),
                    },
                ],
            },
            Message::user("And then?"),
        ],
    )
    .with_tools(tools)
}

fn breakpoints(v: &Value, out: &mut Vec<String>, path: &str) {
    match v {
        Value::Object(o) => {
            if let Some(cc) = o.get("cache_control") {
                out.push(format!("{path} {cc}"));
            }
            for (k, c) in o {
                breakpoints(c, out, &format!("{path}/{k}"));
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                breakpoints(c, out, &format!("{path}/{i}"));
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn anthropic_places_at_most_four_breakpoints_with_the_ttl() {
    let answer = json!({"id": "msg_1", "model": "claude-sonnet-4-5", "type": "message", "role": "assistant",
        "content": [{"type": "text", "text": "Then release it."}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 50, "output_tokens": 10, "cache_read_input_tokens": 1000,
            "cache_creation_input_tokens": 2000,
            "cache_creation": {"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 1500}}});
    let server = TestServer::start(vec![Reply::json(200, &answer), Reply::json(200, &answer)]).await;
    let p = AnthropicProvider::new(ProviderConfig::new(&server.url).with_api_key("sk-ant-test")).unwrap();
    let req = conversation().with_cache(PromptCache::default().with_ttl(CacheTtl::OneHour));
    let ctx = CallContext::new("t").with_extension(RequestOptions::new().with_header("anthropic-beta", "tools-2024"));
    let resp = p.chat(&req, &ctx).await.unwrap();
    let sent = server.last_request();
    let mut marks = Vec::new();
    breakpoints(&sent.body, &mut marks, "");
    let hour = r#"{"ttl":"1h","type":"ephemeral"}"#;
    assert_eq!(
        marks,
        vec![
            format!("/messages/0/content/0 {hour}"),
            format!("/messages/2/content/0 {hour}"),
            format!("/system/0 {hour}"),
            format!("/tools/1 {hour}"),
        ],
        "last tool, system, last message, the user turn before it"
    );
    assert_eq!(
        sent.body["system"][0]["text"],
        "You answer from the manual. <long manual text>"
    );
    assert!(
        sent.body["messages"][1]["content"][0].get("cache_control").is_none(),
        "thinking blocks never carry one"
    );
    // The 1-hour lifetime's beta joins the caller's.
    assert_eq!(
        sent.headers["anthropic-beta"],
        "tools-2024,extended-cache-ttl-2025-04-11"
    );

    // Usage: input includes reads and writes; the 1-hour part of the writes is kept.
    let u = resp.usage;
    assert_eq!(
        u,
        Usage {
            input_tokens: 3050,
            output_tokens: 10,
            cache_read_tokens: 1000,
            cache_write_tokens: 2000,
            cache_write_1h_tokens: 1500,
            reasoning_tokens: 0,
        }
    );
    let cost = PricingTable::builtin()
        .cost("anthropic", "claude-sonnet-4-5", &u)
        .unwrap();
    // 50 * $3 + 1000 * $0.30 + 500 * $3.75 + 1500 * $6 + 10 * $15, per million
    let want = (50.0 * 3.0 + 1000.0 * 0.30 + 500.0 * 3.75 + 1500.0 * 6.0 + 10.0 * 15.0) / 1e6;
    assert!((cost - want).abs() < 1e-12, "{cost} != {want}");

    // Five minutes: no ttl field, no beta header; breakpoints from `extra` count.
    let mut req = conversation().with_cache(PromptCache::default());
    req.extra.insert(
        "system".into(),
        json!([{"type": "text", "text": "a"}, {"type": "text", "text": "b", "cache_control": {"type": "ephemeral"}},
               {"type": "text", "text": "c", "cache_control": {"type": "ephemeral"}}]),
    );
    p.chat(&req, &CallContext::new("t")).await.unwrap();
    let sent = server.last_request();
    let mut marks = Vec::new();
    breakpoints(&sent.body, &mut marks, "");
    assert_eq!(marks.len(), 4, "{marks:?}");
    assert!(
        marks.iter().all(|m| m.ends_with(r#"{"type":"ephemeral"}"#)),
        "{marks:?}"
    );
    assert!(sent.headers.get("anthropic-beta").is_none());
    // Without the option, nothing is marked.
    let body = p.request_body(&conversation(), false);
    let mut marks = Vec::new();
    breakpoints(&body, &mut marks, "");
    assert!(marks.is_empty());
    assert!(body["system"].is_string());
}

#[tokio::test]
async fn openai_sends_the_cache_key_and_prices_cached_tokens() {
    let answer = json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
            "prompt_tokens_details": {"cached_tokens": 1920}, "completion_tokens_details": {"reasoning_tokens": 0}}});
    let server = TestServer::start(vec![Reply::json(200, &answer)]).await;
    let p = OpenAiProvider::new(ProviderConfig::new(&server.url).with_api_key("sk-test")).unwrap();
    let req =
        ChatRequest::new("gpt-4o", vec![Message::user("hi")]).with_cache(PromptCache::default().with_key("tenant-42"));
    let resp = p.chat(&req, &CallContext::new("t")).await.unwrap();
    assert_eq!(server.last_request().body["prompt_cache_key"], "tenant-42");
    assert_eq!(resp.usage.cache_read_tokens, 1920);
    assert_eq!(
        resp.usage.input_tokens, 2006,
        "OpenAI's prompt tokens include the cached ones"
    );
    let cost = PricingTable::builtin()
        .cost("openai", "gpt-4o-2024-08-06", &resp.usage)
        .unwrap();
    let want = (86.0 * 2.50 + 1920.0 * 1.25 + 300.0 * 10.0) / 1e6;
    assert!((cost - want).abs() < 1e-12, "{cost} != {want}");

    // Mistral has no cache key.
    let m = MistralProvider::new(ProviderConfig::new("http://127.0.0.1:9").with_api_key("k")).unwrap();
    assert!(m.request_body(&req, false).get("prompt_cache_key").is_none());
}

#[tokio::test]
async fn gemini_reads_a_cached_content_and_prices_its_tokens() {
    let answer = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 10_000, "cachedContentTokenCount": 9_000, "candidatesTokenCount": 100,
            "thoughtsTokenCount": 50, "totalTokenCount": 10_150},
        "modelVersion": "gemini-2.5-flash"});
    let server = TestServer::start(vec![Reply::json(200, &answer)]).await;
    let p = GeminiProvider::new(ProviderConfig::new(&server.url).with_api_key("k")).unwrap();
    let req = ChatRequest::new("gemini-2.5-flash", vec![Message::user("summarize")])
        .with_cache(PromptCache::default().with_cached_content("cachedContents/abc123"));
    let resp = p.chat(&req, &CallContext::new("t")).await.unwrap();
    assert_eq!(server.last_request().body["cachedContent"], "cachedContents/abc123");
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: 10_000,
            output_tokens: 150,
            cache_read_tokens: 9_000,
            reasoning_tokens: 50,
            ..Usage::default()
        }
    );
    assert_eq!(resp.usage.total_tokens(), 10_150);
    let cost = PricingTable::builtin()
        .cost("gemini", "gemini-2.5-flash", &resp.usage)
        .unwrap();
    let want = (1_000.0 * 0.30 + 9_000.0 * 0.03 + 150.0 * 2.50) / 1e6;
    assert!((cost - want).abs() < 1e-12, "{cost} != {want}");
}
