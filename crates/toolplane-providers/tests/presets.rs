#![allow(clippy::unwrap_used, clippy::panic)]
//! One conformance test per OpenAI-compatible preset: a local axum server
//! enforces that server's documented request rules (answering a violation
//! with the server's own error shape, so a wrong request fails the test
//! loudly) and streams its documented answer shape.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::{Value, json};
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ContentPart, Message, ResponseFormat, StopReason, StreamAccumulator,
    ToolChoice, ToolSpec, Usage,
};
use toolplane_providers::presets::{self, CompatPreset};
use toolplane_providers::{OpenAiProvider, ProviderConfig};

type Check = dyn Fn(&HeaderMap, &Value) -> Result<(), String> + Send + Sync;

#[derive(Clone)]
struct Enforcing {
    check: Arc<Check>,
    error: fn(&str) -> Value,
    answer: Arc<Vec<String>>,
    seen: Arc<Mutex<Vec<Value>>>,
}

async fn handle(State(s): State<Enforcing>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    s.seen.lock().unwrap().push(body.clone());
    if parts.uri.path() != "/v1/chat/completions" {
        return Response::builder().status(404).body(Body::from("not found")).unwrap();
    }
    if let Err(why) = (s.check)(&parts.headers, &body) {
        return Response::builder()
            .status(400)
            .header("content-type", "application/json")
            .body(Body::from((s.error)(&why).to_string()))
            .unwrap();
    }
    // Odd chunks, so every event is split somewhere.
    let text: String = s.answer.concat();
    let chunks: Vec<Vec<u8>> = text.as_bytes().chunks(11).map(<[u8]>::to_vec).collect();
    let stream = futures_util::stream::iter(chunks).map(Ok::<_, std::convert::Infallible>);
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap()
}

async fn serve(
    check: impl Fn(&HeaderMap, &Value) -> Result<(), String> + Send + Sync + 'static,
    error: fn(&str) -> Value,
    answer: Vec<String>,
) -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let state = Enforcing {
        check: Arc::new(check),
        error,
        answer: Arc::new(answer),
        seen: seen.clone(),
    };
    let app = axum::Router::new().fallback(handle).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/v1"), seen)
}

fn openai_error(message: &str) -> Value {
    json!({"error": {"message": message, "type": "invalid_request_error"}})
}

fn data(v: Value) -> String {
    format!("data: {v}\n\n")
}

fn chunk(id: &str, model: &str, delta: Value, finish: Option<&str>) -> Value {
    json!({"id": id, "object": "chat.completion.chunk", "created": 1_733_000_000, "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

/// A request that uses everything a preset may have to shape away.
fn demanding_request(model: &str) -> ChatRequest {
    let tools = vec![
        ToolSpec::new("get_weather", "Weather for a city").with_input_schema(
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        ),
        ToolSpec::new("get_time", "Local time of a city").with_input_schema(
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        ),
    ];
    let mut req = ChatRequest::new(
        model,
        vec![Message::system("Be brief."), Message::user("Weather in Paris?")],
    )
    .with_tools(tools)
    .with_tool_choice(ToolChoice::Tool {
        name: "get_weather".into(),
    })
    .with_max_tokens(200);
    req.parallel_tool_calls = Some(false);
    req.seed = Some(7);
    req.metadata.user = Some("user-1".into());
    req.response_format = Some(ResponseFormat::JsonSchema {
        name: "answer".into(),
        schema: json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": false}),
        strict: true,
    });
    req.extra.insert("logprobs".into(), json!(true));
    req.extra.insert("top_logprobs".into(), json!(2));
    req.cache = Some(toolplane_core::PromptCache::default().with_key("tenant-42"));
    req
}

async fn run(p: &OpenAiProvider, req: &ChatRequest) -> toolplane_core::ChatResponse {
    let mut stream = p.chat_stream(req, &CallContext::new("t")).await.unwrap();
    let mut acc = StreamAccumulator::new(p.name(), req.model.clone());
    while let Some(e) = stream.next().await {
        acc.push(&e.unwrap());
    }
    acc.finish().unwrap()
}

fn provider(preset: &'static CompatPreset, url: &str, key: Option<&str>) -> OpenAiProvider {
    let mut cfg = ProviderConfig::new(url);
    if let Some(k) = key {
        cfg = cfg.with_api_key(k);
    }
    OpenAiProvider::with_preset(preset, cfg).unwrap()
}

fn has(body: &Value, field: &str) -> bool {
    body.get(field).is_some()
}

fn tools_strict(body: &Value) -> bool {
    body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|t| t["function"].get("strict").is_some())
        || body["response_format"]["json_schema"].get("strict").is_some()
}

#[tokio::test]
async fn ollama_accepts_only_its_documented_fields_and_sends_usage_last() {
    // docs.ollama.com/api/openai-compatibility: the supported request fields.
    const SUPPORTED: &[&str] = &[
        "model",
        "messages",
        "frequency_penalty",
        "presence_penalty",
        "response_format",
        "seed",
        "stop",
        "stream",
        "stream_options",
        "temperature",
        "top_p",
        "max_tokens",
        "tools",
        "tool_choice",
        "reasoning_effort",
        "reasoning",
        "logprobs",
        "top_logprobs",
    ];
    let answer = vec![
        data(chunk(
            "chatcmpl-1",
            "llama3.2",
            json!({"role": "assistant", "content": "Sunny"}),
            None,
        )),
        data(chunk(
            "chatcmpl-1",
            "llama3.2",
            json!({"role": "assistant", "content": ", 21 C."}),
            None,
        )),
        data(chunk(
            "chatcmpl-1",
            "llama3.2",
            json!({"role": "assistant", "content": ""}),
            Some("stop"),
        )),
        // With stream_options.include_usage, the last chunk has no choices and the usage.
        data(
            json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1_733_000_000, "model": "llama3.2",
            "system_fingerprint": "fp_ollama", "choices": [], "usage": {"prompt_tokens": 31, "completion_tokens": 6, "total_tokens": 37}}),
        ),
        "data: [DONE]\n\n".into(),
    ];
    let (url, seen) = serve(
        |h, b| {
            if h.get("authorization").is_some() {
                return Err("a local server needs no key".into());
            }
            for k in b.as_object().unwrap().keys() {
                if !SUPPORTED.contains(&k.as_str()) {
                    return Err(format!("unsupported field {k}"));
                }
            }
            if !b["tool_choice"].is_string() {
                return Err("tool_choice must be a string".into());
            }
            if b["stream_options"]["include_usage"] != true {
                return Err("this test wants usage".into());
            }
            Ok(())
        },
        openai_error,
        answer,
    )
    .await;
    let p = provider(&presets::OLLAMA, &url, None);
    let resp = run(&p, &demanding_request("llama3.2")).await;
    assert_eq!(resp.text(), "Sunny, 21 C.");
    assert_eq!(resp.usage.input_tokens, 31);
    assert_eq!(resp.usage.output_tokens, 6);
    assert_eq!(p.name(), "ollama");
    let sent = seen.lock().unwrap()[0].clone();
    assert_eq!(sent["tool_choice"], "required");
    assert_eq!(sent["tools"].as_array().unwrap().len(), 1, "only the named tool");
    assert!(!has(&sent, "parallel_tool_calls") && !has(&sent, "user") && !tools_strict(&sent));
    assert_eq!(sent["max_tokens"], 200);
}

#[tokio::test]
async fn vllm_keeps_its_features_and_reads_reasoning_content() {
    let answer = vec![
        data(chunk(
            "cmpl-9",
            "Qwen/Qwen3-8B",
            json!({"role": "assistant", "reasoning_content": "Paris is in France."}),
            None,
        )),
        data(chunk(
            "cmpl-9",
            "Qwen/Qwen3-8B",
            json!({"content": "{\"a\":\"sunny\"}"}),
            None,
        )),
        data(chunk("cmpl-9", "Qwen/Qwen3-8B", json!({}), Some("stop"))),
        data(
            json!({"id": "cmpl-9", "object": "chat.completion.chunk", "model": "Qwen/Qwen3-8B", "choices": [],
            "usage": {"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52}}),
        ),
        "data: [DONE]\n\n".into(),
    ];
    let (url, seen) = serve(
        |h, b| {
            if h.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer token-abc123") {
                return Err("vllm serve --api-key token-abc123".into());
            }
            if b["tool_choice"]["function"]["name"] != "get_weather" {
                return Err("named tool choice is supported and expected".into());
            }
            if b["parallel_tool_calls"] != false || b["seed"] != 7 || b["response_format"]["type"] != "json_schema" {
                return Err("supported fields must be kept".into());
            }
            Ok(())
        },
        openai_error,
        answer,
    )
    .await;
    let p = provider(&presets::VLLM, &url, Some("token-abc123"));
    let resp = run(&p, &demanding_request("Qwen/Qwen3-8B")).await;
    assert_eq!(resp.text(), "{\"a\":\"sunny\"}");
    assert!(matches!(&resp.message.content[0], ContentPart::Thinking { text, .. } if text == "Paris is in France."));
    assert_eq!((resp.usage.input_tokens, resp.usage.output_tokens), (40, 12));
    assert!(!tools_strict(&seen.lock().unwrap()[0]));
}

#[tokio::test]
async fn llama_cpp_gets_a_string_tool_choice_and_sends_usage_with_timings() {
    let answer = vec![
        data(chunk(
            "chatcmpl-x",
            "gguf",
            json!({"role": "assistant", "content": null, "tool_calls": [
            {"index": 0, "id": "abc", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":"}}]}),
            None,
        )),
        data(chunk(
            "chatcmpl-x",
            "gguf",
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]}),
            None,
        )),
        // llama-server: usage and timings ride on the finishing chunk.
        data(
            json!({"id": "chatcmpl-x", "object": "chat.completion.chunk", "model": "gguf",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 14, "total_tokens": 134},
            "timings": {"prompt_n": 120, "predicted_n": 14, "predicted_per_second": 41.2}}),
        ),
        "data: [DONE]\n\n".into(),
    ];
    let (url, seen) = serve(
        |_, b| {
            if !matches!(b["tool_choice"].as_str(), Some("auto" | "none" | "required")) {
                return Err("tool_choice: only auto, none, required".into());
            }
            if has(b, "stream_options") || has(b, "user") {
                return Err("unsupported field".into());
            }
            Ok(())
        },
        openai_error,
        answer,
    )
    .await;
    let p = provider(&presets::LLAMA_CPP, &url, None);
    let resp = run(&p, &demanding_request("gguf")).await;
    assert_eq!(resp.stop_reason, StopReason::ToolUse);
    let call = resp.tool_calls().next().unwrap();
    assert_eq!(
        (call.name.as_str(), call.arguments.as_str()),
        ("get_weather", "{\"city\":\"Paris\"}")
    );
    assert_eq!(resp.usage.input_tokens, 120);
    let sent = seen.lock().unwrap()[0].clone();
    assert_eq!(sent["tools"].as_array().unwrap().len(), 1);
}

fn groq_error(message: &str) -> Value {
    json!({"error": {"message": message, "type": "invalid_request_error", "code": "invalid_request_error"}})
}

#[tokio::test]
async fn groq_never_gets_the_fields_it_rejects_and_reports_usage_in_x_groq() {
    let answer = vec![
        data(chunk(
            "chatcmpl-g",
            "llama-3.3-70b-versatile",
            json!({"role": "assistant", "content": "Hi"}),
            None,
        )),
        data(
            json!({"id": "chatcmpl-g", "object": "chat.completion.chunk", "model": "llama-3.3-70b-versatile",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "x_groq": {"id": "req_01", "usage": {"prompt_tokens": 18, "completion_tokens": 2, "total_tokens": 20}}}),
        ),
        "data: [DONE]\n\n".into(),
    ];
    let (url, _) = serve(
        |h, b| {
            if h.get("authorization").is_none() {
                return Err("Invalid API Key".into());
            }
            // console.groq.com/docs/openai: these are a 400.
            for f in ["logprobs", "logit_bias", "top_logprobs"] {
                if has(b, f) {
                    return Err(format!("property '{f}' is unsupported"));
                }
            }
            if b["messages"].as_array().unwrap().iter().any(|m| has(m, "name")) {
                return Err("'messages.0' : property 'name' is unsupported".into());
            }
            if b.get("n").is_some_and(|n| n != 1) {
                return Err("'n' : number must be at most 1".into());
            }
            Ok(())
        },
        groq_error,
        answer,
    )
    .await;
    let p = provider(&presets::GROQ, &url, Some("gsk_test"));
    let mut req = demanding_request("llama-3.3-70b-versatile");
    req.extra.insert("logit_bias".into(), json!({"50256": -100}));
    req.extra.insert("n".into(), json!(2));
    let resp = run(&p, &req).await;
    assert_eq!(resp.text(), "Hi");
    assert_eq!(resp.usage.total_tokens(), 20);
}

#[tokio::test]
async fn openrouter_sends_attribution_headers_and_reads_reasoning_after_comments() {
    let answer = vec![
        ": OPENROUTER PROCESSING\n\n".to_owned(),
        data(chunk(
            "gen-1",
            "deepseek/deepseek-r1",
            json!({"role": "assistant", "content": "", "reasoning": "Think."}),
            None,
        )),
        ": OPENROUTER PROCESSING\n\n".to_owned(),
        data(chunk(
            "gen-1",
            "deepseek/deepseek-r1",
            json!({"content": "Done."}),
            None,
        )),
        data(
            json!({"id": "gen-1", "object": "chat.completion.chunk", "model": "deepseek/deepseek-r1",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 30, "total_tokens": 39,
                "prompt_tokens_details": {"cached_tokens": 4}, "completion_tokens_details": {"reasoning_tokens": 25}}}),
        ),
        "data: [DONE]\n\n".into(),
    ];
    let (url, _) = serve(
        |h, _| {
            let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok());
            if get("authorization") != Some("Bearer sk-or-test") {
                return Err("No auth credentials found".into());
            }
            if get("http-referer") != Some("https://example.app") || get("x-title") != Some("Example App") {
                return Err("attribution headers missing".into());
            }
            Ok(())
        },
        openai_error,
        answer,
    )
    .await;
    let cfg = ProviderConfig::new(&url)
        .with_api_key("sk-or-test")
        .with_header("HTTP-Referer", "https://example.app")
        .with_header("X-Title", "Example App");
    let p = OpenAiProvider::with_preset(&presets::OPENROUTER, cfg).unwrap();
    let resp = run(&p, &demanding_request("deepseek/deepseek-r1")).await;
    assert_eq!(resp.text(), "Done.");
    assert!(matches!(&resp.message.content[0], ContentPart::Thinking { text, .. } if text == "Think."));
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: 9,
            output_tokens: 30,
            cache_read_tokens: 4,
            reasoning_tokens: 25,
            ..Usage::default()
        }
    );
}

#[tokio::test]
async fn together_gets_no_stream_options_and_sends_usage_on_the_last_chunk() {
    let answer = vec![
        data(chunk(
            "o1",
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            json!({"role": "assistant", "content": "Yes"}),
            None,
        )),
        data(
            json!({"id": "o1", "object": "chat.completion.chunk", "model": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "choices": [{"index": 0, "delta": {"content": "."}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14}}),
        ),
        "data: [DONE]\n\n".into(),
    ];
    let (url, _) = serve(
        |_, b| {
            for f in ["stream_options", "parallel_tool_calls"] {
                if has(b, f) {
                    return Err(format!("{f} is not supported"));
                }
            }
            if tools_strict(b) {
                return Err("strict is not supported".into());
            }
            Ok(())
        },
        openai_error,
        answer,
    )
    .await;
    let p = provider(&presets::TOGETHER, &url, Some("tg-key"));
    let resp = run(&p, &demanding_request("meta-llama/Llama-3.3-70B-Instruct-Turbo")).await;
    assert_eq!(resp.text(), "Yes.");
    assert_eq!(resp.usage.total_tokens(), 14);
}

#[tokio::test]
async fn deepseek_reasoning_deltas_are_kept_and_never_sent_back() {
    let answer = vec![
        data(chunk(
            "ds-1",
            "deepseek-reasoner",
            json!({"role": "assistant", "content": null, "reasoning_content": "9.11 < 9.8"}),
            None,
        )),
        data(chunk(
            "ds-1",
            "deepseek-reasoner",
            json!({"content": null, "reasoning_content": " because 0.8 > 0.11."}),
            None,
        )),
        data(chunk(
            "ds-1",
            "deepseek-reasoner",
            json!({"content": "9.8 is greater."}),
            None,
        )),
        data(
            json!({"id": "ds-1", "object": "chat.completion.chunk", "model": "deepseek-reasoner",
            "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 40, "total_tokens": 60,
                "prompt_cache_hit_tokens": 16, "prompt_cache_miss_tokens": 4,
                "completion_tokens_details": {"reasoning_tokens": 30}}}),
        ),
        "data: [DONE]\n\n".into(),
    ];
    let (url, seen) = serve(
        |_, b| {
            if b["messages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| has(m, "reasoning_content"))
            {
                return Err("reasoning_content is not allowed in input messages".into());
            }
            for f in ["logprobs", "top_logprobs"] {
                if has(b, f) {
                    return Err(format!("{f} is not supported by deepseek-reasoner"));
                }
            }
            if b["response_format"]["type"] == "json_schema" {
                return Err("response_format type unavailable: json_schema".into());
            }
            Ok(())
        },
        openai_error,
        answer,
    )
    .await;
    let p = provider(&presets::DEEPSEEK, &url, Some("sk-ds"));
    let mut req = demanding_request("deepseek-reasoner");
    let resp = run(&p, &req).await;
    assert_eq!(resp.text(), "9.8 is greater.");
    assert!(
        matches!(&resp.message.content[0], ContentPart::Thinking { text, .. } if text == "9.11 < 9.8 because 0.8 > 0.11.")
    );
    assert_eq!(resp.usage.cache_read_tokens, 16, "prompt_cache_hit_tokens");
    assert_eq!(resp.usage.reasoning_tokens, 30);
    // The next round carries the answer but not its reasoning.
    req.messages.push(resp.message.clone());
    req.messages.push(Message::user("And 9.9?"));
    run(&p, &req).await;
    let second = seen.lock().unwrap()[1].clone();
    assert_eq!(second["messages"][2]["content"], "9.8 is greater.");
    assert_eq!(second["response_format"], json!({"type": "json_object"}));
}

#[tokio::test]
async fn a_violation_is_a_clear_error() {
    // Without the preset, Groq's enforcing server answers 400 in its own shape.
    let (url, _) = serve(
        |_, b| {
            if has(b, "logprobs") {
                Err("property 'logprobs' is unsupported".into())
            } else {
                Ok(())
            }
        },
        groq_error,
        vec![],
    )
    .await;
    let plain = OpenAiProvider::compatible(
        "groq",
        ProviderConfig::new(&url)
            .with_api_key("k")
            .with_retry(toolplane_providers::RetryPolicy::none()),
    )
    .unwrap();
    let err = plain
        .chat_stream(&demanding_request("m"), &CallContext::new("t"))
        .await
        .err()
        .unwrap();
    assert_eq!(err.kind(), toolplane_core::ProviderErrorKind::InvalidRequest);
    assert!(err.message().contains("logprobs"), "{err}");
}

#[test]
fn presets_from_the_factory() {
    for name in ["ollama", "vllm", "llama-cpp", "llamacpp"] {
        let p = toolplane_providers::provider_from_name(name, "m", Some("http://127.0.0.1:1/v1")).unwrap();
        assert_eq!(Some(p.name()), presets::by_name(name).map(|p| p.name));
    }
    for p in presets::ALL_PRESETS {
        assert!(toolplane_providers::KNOWN_PROVIDERS.contains(&p.name), "{}", p.name);
        if p.key_required && p.key_env.is_some_and(|v| std::env::var(v).is_err()) {
            let err = toolplane_providers::provider_from_name(p.name, "m", None).unwrap_err();
            assert!(err.to_string().contains(p.key_env.unwrap()), "{err}");
        }
    }
}
