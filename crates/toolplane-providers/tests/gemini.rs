#![allow(clippy::unwrap_used, clippy::panic)]
//! Gemini: the recorded responses in the shared fixtures replayed through a
//! local server (whole, byte by byte and in odd chunks), the thought
//! signature round trip into the next request, usage, safety blocks, and
//! hand-written errors for each Google status.

mod server;

use std::time::Duration;

use serde_json::{Value, json};
use server::{Reply, TestServer, accumulate, drain};
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ContentPart, Message, ProviderErrorKind, ResponseFormat, StopReason,
    StreamEvent, ToolChoice, ToolResult, ToolSpec, Usage,
};
use toolplane_providers::decode::decode_all;
use toolplane_providers::gemini::GenerateContentDecoder;
use toolplane_providers::{GeminiProvider, ProviderConfig, RetryPolicy, provider_from_name};

const MODEL: &str = "gemini-2.5-flash";

fn recorded(name: &str) -> Option<String> {
    let path = toolplane_testkit::fixture(&format!("providers/gemini/recorded/{name}"))?;
    Some(std::fs::read_to_string(path).unwrap())
}

fn gemini(url: &str, retry: RetryPolicy) -> GeminiProvider {
    GeminiProvider::new(ProviderConfig::new(url).with_api_key("AIzaTestKey").with_retry(retry)).unwrap()
}

fn fast_retries(n: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_retries(n)
        .with_backoff(Duration::from_millis(1), Duration::from_secs(1))
        .with_jitter(false)
}

fn weather_tool() -> ToolSpec {
    ToolSpec::new("getWeather", "Current weather of a city").with_input_schema(json!({
        "type": "object",
        "properties": {
            "location": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
        },
        "required": ["location"]
    }))
}

/// An independent reading of a recorded SSE body with serde_json::Value:
/// (answer text, last usageMetadata).
fn oracle(body: &str) -> (String, Value) {
    let mut text = String::new();
    let mut usage = Value::Null;
    for line in body.lines() {
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let v: Value = serde_json::from_str(data).unwrap();
        for p in v["candidates"][0]["content"]["parts"].as_array().into_iter().flatten() {
            text.push_str(p["text"].as_str().unwrap_or(""));
        }
        if !v["usageMetadata"].is_null() {
            usage = v["usageMetadata"].clone();
        }
    }
    (text, usage)
}

fn usage_of(meta: &Value) -> Usage {
    let n = |k: &str| meta[k].as_u64().unwrap_or(0);
    Usage {
        input_tokens: n("promptTokenCount"),
        output_tokens: n("candidatesTokenCount") + n("thoughtsTokenCount"),
        cache_read_tokens: n("cachedContentTokenCount"),
        cache_write_tokens: 0,
        cache_write_1h_tokens: 0,
        reasoning_tokens: n("thoughtsTokenCount"),
    }
}

#[tokio::test]
async fn recorded_text_streams_in_any_chunking() {
    for name in [
        "streaming-response.txt",
        "streaming_function_calling-response_1.json",
        "streaming_long-response.json",
    ] {
        let Some(body) = recorded(name) else { return };
        let (text, meta) = oracle(&body);
        assert!(!text.is_empty(), "{name}");
        for chunk in [1, 7, 64, 1021, body.len()] {
            let server = TestServer::start(vec![Reply::sse(&body, chunk)]).await;
            let p = gemini(&server.url, RetryPolicy::none());
            let req = ChatRequest::new(MODEL, vec![Message::user("hi")]);
            let (events, err) = drain(p.chat_stream(&req, &CallContext::new("t")).await.unwrap()).await;
            assert!(err.is_none(), "{name}/{chunk}: {err:?}");
            assert!(matches!(events.first(), Some(StreamEvent::Start { .. })), "{name}");
            assert!(matches!(events.last(), Some(StreamEvent::Stop { .. })), "{name}");
            let resp = accumulate("gemini", &events).finish().unwrap();
            assert_eq!(resp.text(), text, "{name}/{chunk}");
            assert_eq!(resp.stop_reason, StopReason::EndTurn, "{name}");
            assert_eq!(resp.usage, usage_of(&meta), "{name}/{chunk}");
            let r = server.last_request();
            assert_eq!(r.path, format!("/models/{MODEL}:streamGenerateContent"));
            assert_eq!(r.query.as_deref(), Some("alt=sse"));
            assert_eq!(r.headers["x-goog-api-key"], "AIzaTestKey");
            assert!(r.headers.get("authorization").is_none());
        }
    }
}

#[tokio::test]
async fn the_long_stream_usage_is_the_last_cumulative_count() {
    let Some(body) = recorded("streaming_long-response.json") else {
        return;
    };
    let server = TestServer::start(vec![Reply::sse(&body, 333)]).await;
    let p = gemini(&server.url, RetryPolicy::none());
    let req = ChatRequest::new(MODEL, vec![Message::user("Write tetris game")]);
    let (events, err) = drain(p.chat_stream(&req, &CallContext::new("t")).await.unwrap()).await;
    assert!(err.is_none(), "{err:?}");
    let usages: Vec<Usage> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Usage { usage } => Some(*usage),
            _ => None,
        })
        .collect();
    assert_eq!(usages.len(), 123, "every chunk carries its totals");
    assert!(usages.windows(2).all(|w| w[0].output_tokens <= w[1].output_tokens));
    let last = accumulate("gemini", &events).finish().unwrap().usage;
    // The last chunk: prompt 4, candidates 5947, thoughts 2042, total 7993.
    assert_eq!(
        last,
        Usage {
            input_tokens: 4,
            output_tokens: 5947 + 2042,
            reasoning_tokens: 2042,
            ..Usage::default()
        }
    );
    assert_eq!(last.total_tokens(), 7993, "total = prompt + candidates + thoughts");
}

#[tokio::test]
async fn a_streamed_function_call_keeps_its_signature_into_the_next_request() {
    let (Some(first), Some(second)) = (
        recorded("streaming_function_calling-response_0.json"),
        recorded("streaming_function_calling-response_1.json"),
    ) else {
        return;
    };
    let recorded_sig: String = {
        let data = first.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
        let v: Value = serde_json::from_str(data).unwrap();
        v["candidates"][0]["content"]["parts"][0]["thoughtSignature"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for chunk in [1, 5, 97] {
        let server = TestServer::start(vec![Reply::sse(&first, chunk), Reply::sse(&second, chunk)]).await;
        let p = gemini(&server.url, RetryPolicy::none());
        let mut req =
            ChatRequest::new(MODEL, vec![Message::user("今日の東京の天気を教えて")]).with_tools(vec![weather_tool()]);
        let (events, err) = drain(p.chat_stream(&req, &CallContext::new("t")).await.unwrap()).await;
        assert!(err.is_none(), "{chunk}: {err:?}");
        let resp = accumulate("gemini", &events).finish().unwrap();
        assert_eq!(resp.stop_reason, StopReason::ToolUse, "STOP with a call is tool use");
        let call = resp.tool_calls().next().unwrap().clone();
        assert_eq!(call.name, "getWeather");
        assert_eq!(call.arguments_value().unwrap(), json!({"location": "Tokyo"}));
        assert!(call.id.starts_with("gemini_call_0_"), "{}", call.id);
        assert_eq!(
            resp.usage,
            Usage {
                input_tokens: 83,
                output_tokens: 14 + 104,
                reasoning_tokens: 104,
                ..Usage::default()
            }
        );
        assert_eq!(resp.usage.total_tokens(), 201);
        // The same bytes give the same call id (stable ids).
        let again = decode_all(GenerateContentDecoder::new("gemini"), first.as_bytes());
        let again_id = again.iter().find_map(|e| match e {
            Ok(StreamEvent::ToolCallStart { id, .. }) => Some(id.clone()),
            _ => None,
        });
        assert_eq!(again_id.as_deref(), Some(call.id.as_str()));

        // Next turn: the assistant message as accumulated, then the result.
        req.messages.push(resp.message.clone());
        req.messages.push(Message::tool_results(vec![ToolResult::ok(
            call.id.clone(),
            r#"{"location":"Tokyo","unit":"celsius","temperature":22,"condition":"Cloudy"}"#,
        )]));
        let (events, err) = drain(p.chat_stream(&req, &CallContext::new("t")).await.unwrap()).await;
        assert!(err.is_none(), "{err:?}");
        let answer = accumulate("gemini", &events).finish().unwrap();
        assert_eq!(answer.text(), "今日の東京の天気は曇りで、気温は22度です。\n");
        assert_eq!(answer.stop_reason, StopReason::EndTurn);

        let sent = server.last_request().body;
        let contents = sent["contents"].as_array().unwrap();
        assert_eq!(contents.len(), 3);
        assert_eq!(contents[1]["role"], "model");
        let model_parts = contents[1]["parts"].as_array().unwrap();
        assert_eq!(model_parts.len(), 1, "{model_parts:?}");
        assert_eq!(model_parts[0]["functionCall"]["name"], "getWeather");
        assert_eq!(model_parts[0]["functionCall"]["args"], json!({"location": "Tokyo"}));
        assert!(
            model_parts[0]["functionCall"].get("id").is_none(),
            "our own ids are never sent to Gemini"
        );
        assert_eq!(
            model_parts[0]["thoughtSignature"], recorded_sig,
            "the signature goes back unchanged on its part"
        );
        assert_eq!(contents[2]["role"], "user");
        assert_eq!(
            contents[2]["parts"][0]["functionResponse"],
            json!({"name": "getWeather", "response": {"location": "Tokyo", "unit": "celsius", "temperature": 22, "condition": "Cloudy"}})
        );
    }
}

#[tokio::test]
async fn recorded_generate_content_answers() {
    let (Some(text), Some(call)) = (
        recorded("text-response.json"),
        recorded("function_calling-response.json"),
    ) else {
        return;
    };
    let server = TestServer::start(vec![
        Reply::new(200, &text).header("content-type", "application/json"),
        Reply::new(200, &call).header("content-type", "application/json"),
        Reply::new(200, &call).header("content-type", "application/json"),
    ])
    .await;
    let p = gemini(&server.url, RetryPolicy::none());
    let req = ChatRequest::new(format!("models/{MODEL}"), vec![Message::user("Say hello")]).with_max_tokens(50);
    let resp = p.chat(&req, &CallContext::new("t")).await.unwrap();
    assert_eq!(resp.text(), "Hello!");
    assert_eq!(resp.stop_reason, StopReason::EndTurn);
    assert_eq!(resp.id.as_deref(), Some("FugfaZasF6ra2roP_9i9KQ"));
    assert_eq!(resp.model, MODEL);
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: 3,
            output_tokens: 2 + 17,
            reasoning_tokens: 17,
            ..Usage::default()
        }
    );
    let r = server.last_request();
    assert_eq!(
        r.path,
        format!("/models/{MODEL}:generateContent"),
        "the models/ prefix is optional"
    );
    assert_eq!(r.body["generationConfig"]["maxOutputTokens"], 50);
    assert_eq!(
        r.body["contents"],
        json!([{"role": "user", "parts": [{"text": "Say hello"}]}])
    );

    let req = ChatRequest::new(MODEL, vec![Message::user("Search for hello")]);
    let a = p.chat(&req, &CallContext::new("t")).await.unwrap();
    let b = p.chat(&req, &CallContext::new("t")).await.unwrap();
    assert_eq!(a.stop_reason, StopReason::ToolUse);
    let (ca, cb) = (a.tool_calls().next().unwrap(), b.tool_calls().next().unwrap());
    assert_eq!(ca.name, "search");
    assert_eq!(ca.arguments_value().unwrap(), json!({"query": "weather in Tokyo"}));
    assert_eq!(ca.id, cb.id, "the same answer yields the same call id");
    assert_eq!(a.usage.total_tokens(), 28);
}

#[test]
fn request_body_shapes_tools_choice_system_and_schema() {
    let p = GeminiProvider::new(ProviderConfig::new("http://127.0.0.1:9").with_api_key("k")).unwrap();
    let mut req = ChatRequest::new(
        MODEL,
        vec![
            Message::system("Be brief."),
            Message::user("Weather in Paris and Rome?"),
        ],
    )
    .with_tools(vec![weather_tool(), ToolSpec::new("ping", "")])
    .with_tool_choice(ToolChoice::Tool {
        name: "getWeather".into(),
    });
    req.stop = vec!["END".into()];
    req.temperature = Some(0.5);
    req.response_format = Some(ResponseFormat::JsonSchema {
        name: "out".into(),
        schema: json!({"type": "object", "properties": {"a": {"type": "integer"}}}),
        strict: true,
    });
    req.extra.insert(
        "generationConfig".into(),
        json!({"thinkingConfig": {"thinkingBudget": 0}}),
    );
    // Two calls answered out of order, one result without a name.
    let calls = vec![
        toolplane_core::ToolCall::new("gemini_call_0_aa", "getWeather", r#"{"location":"Paris"}"#),
        toolplane_core::ToolCall::new("fc-rome", "getWeather", r#"{"location":"Rome"}"#),
    ];
    req.messages.push(Message::assistant_tool_calls(calls));
    req.messages.push(Message::tool_results(vec![
        ToolResult::ok("fc-rome", "sunny"),
        ToolResult::error("gemini_call_0_aa", "upstream down"),
    ]));
    let body = p.request_body(&req).unwrap();
    assert_eq!(body["systemInstruction"], json!({"parts": [{"text": "Be brief."}]}));
    let decls = &body["tools"][0]["functionDeclarations"];
    assert_eq!(decls[0]["name"], "getWeather");
    assert_eq!(decls[0]["parametersJsonSchema"]["required"], json!(["location"]));
    assert_eq!(
        decls[1],
        json!({"name": "ping", "parametersJsonSchema": {"type": "object", "properties": {}}})
    );
    assert_eq!(
        body["toolConfig"],
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["getWeather"]}})
    );
    let g = &body["generationConfig"];
    assert_eq!(g["stopSequences"], json!(["END"]));
    assert_eq!(g["temperature"], 0.5);
    assert_eq!(g["responseMimeType"], "application/json");
    assert_eq!(g["responseJsonSchema"]["properties"]["a"]["type"], "integer");
    assert_eq!(g["thinkingConfig"], json!({"thinkingBudget": 0}));
    let contents = body["contents"].as_array().unwrap();
    assert_eq!(contents[1]["parts"][0]["functionCall"].get("id"), None);
    assert_eq!(
        contents[1]["parts"][1]["functionCall"]["id"], "fc-rome",
        "Gemini's own ids go back"
    );
    let results = contents[2]["parts"].as_array().unwrap();
    assert_eq!(
        results[0]["functionResponse"],
        json!({"name": "getWeather", "response": {"error": "upstream down"}}),
        "results follow the calls' order"
    );
    assert_eq!(
        results[1]["functionResponse"],
        json!({"name": "getWeather", "id": "fc-rome", "response": {"output": "sunny"}})
    );

    // A result whose call is unknown and that names no tool cannot be sent.
    let orphan = ChatRequest::new(MODEL, vec![Message::tool_results(vec![ToolResult::ok("x", "1")])]);
    let err = p.request_body(&orphan).unwrap_err();
    assert_eq!(err.kind(), ProviderErrorKind::InvalidRequest);
    assert!(err.message().contains("call `x`"), "{err}");
}

#[tokio::test]
async fn safety_blocks_are_refusals_never_empty_answers() {
    let blocked_prompt = json!({"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []},
        "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9}});
    let cut = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Here is"}]},
        "finishReason": "RECITATION", "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": true}]}],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2, "totalTokenCount": 7}});
    let server = TestServer::start(vec![
        Reply::json(200, &blocked_prompt),
        Reply::json(200, &cut),
        Reply::sse(format!("data: {blocked_prompt}\n\n"), 11),
        Reply::sse(format!("data: {cut}\n\n"), 13),
    ])
    .await;
    let p = gemini(&server.url, RetryPolicy::none());
    let req = ChatRequest::new(MODEL, vec![Message::user("something bad")]);
    let a = p.chat(&req, &CallContext::new("t")).await.unwrap();
    assert_eq!(a.stop_reason, StopReason::Refusal);
    assert!(a.text().contains("blockReason SAFETY"), "{}", a.text());
    assert!(matches!(a.message.content[0], ContentPart::Refusal { .. }));
    let b = p.chat(&req, &CallContext::new("t")).await.unwrap();
    assert_eq!(b.stop_reason, StopReason::ContentFilter);
    assert!(
        b.text().contains("finishReason RECITATION") && b.text().contains("HARM_CATEGORY_HARASSMENT"),
        "{}",
        b.text()
    );
    for want in [StopReason::Refusal, StopReason::ContentFilter] {
        let (events, err) = drain(p.chat_stream(&req, &CallContext::new("t")).await.unwrap()).await;
        assert!(err.is_none(), "{err:?}");
        let r = accumulate("gemini", &events).finish().unwrap();
        assert_eq!(r.stop_reason, want);
        assert!(
            r.message
                .content
                .iter()
                .any(|p| matches!(p, ContentPart::Refusal { text } if text.contains("Gemini")))
        );
    }
}

fn google_error(code: u16, status: &str, message: &str, details: Value) -> Value {
    json!({"error": {"code": code, "message": message, "status": status, "details": details}})
}

#[tokio::test]
async fn google_statuses_map_onto_error_kinds() {
    let cases = [
        (429, "RESOURCE_EXHAUSTED", ProviderErrorKind::RateLimited),
        (503, "UNAVAILABLE", ProviderErrorKind::Overloaded),
        (400, "INVALID_ARGUMENT", ProviderErrorKind::InvalidRequest),
        (403, "PERMISSION_DENIED", ProviderErrorKind::PermissionDenied),
        (404, "NOT_FOUND", ProviderErrorKind::NotFound),
        (500, "INTERNAL", ProviderErrorKind::Server),
        (504, "DEADLINE_EXCEEDED", ProviderErrorKind::Timeout),
        // The status says more than an unusual HTTP code.
        (400, "RESOURCE_EXHAUSTED", ProviderErrorKind::RateLimited),
        (500, "UNAVAILABLE", ProviderErrorKind::Overloaded),
    ];
    for (code, status, kind) in cases {
        let server = TestServer::start(vec![Reply::json(
            code,
            &google_error(code, status, "went wrong", json!([])),
        )])
        .await;
        let p = gemini(&server.url, RetryPolicy::none());
        let err = p
            .chat(
                &ChatRequest::new(MODEL, vec![Message::user("hi")]),
                &CallContext::new("t"),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{code} {status}: {err}");
        assert_eq!(err.status(), Some(code));
        assert!(
            err.message().contains(status) && err.message().contains("went wrong"),
            "{err}"
        );
    }
    // A wrong key is a 400 INVALID_ARGUMENT whose ErrorInfo says API_KEY_INVALID.
    let bad_key = google_error(
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]),
    );
    let server = TestServer::start(vec![Reply::json(400, &bad_key)]).await;
    let err = gemini(&server.url, RetryPolicy::none())
        .chat(
            &ChatRequest::new(MODEL, vec![Message::user("hi")]),
            &CallContext::new("t"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ProviderErrorKind::Authentication, "{err}");
}

#[tokio::test]
async fn retry_delay_from_retry_info_is_honoured() {
    let limited = |delay: &str| {
        google_error(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota",
            json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}]),
        )
    };
    let text =
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}]});
    // A short delay is waited for, then the call succeeds.
    let server = TestServer::start(vec![Reply::json(429, &limited("0.05s")), Reply::json(200, &text)]).await;
    let resp = gemini(&server.url, fast_retries(2))
        .chat(
            &ChatRequest::new(MODEL, vec![Message::user("hi")]),
            &CallContext::new("t"),
        )
        .await
        .unwrap();
    assert_eq!(resp.text(), "ok");
    assert_eq!(server.requests().len(), 2);
    // A delay longer than the policy's cap is reported, not slept through.
    let server = TestServer::start(vec![Reply::json(429, &limited("120s")), Reply::json(200, &text)]).await;
    let err = gemini(&server.url, fast_retries(2))
        .chat(
            &ChatRequest::new(MODEL, vec![Message::user("hi")]),
            &CallContext::new("t"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ProviderErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(server.requests().len(), 1);
    // The same on a stream (before any event).
    let body = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"ok\"}]},\"finishReason\":\"STOP\"}]}\n\n";
    let server = TestServer::start(vec![Reply::json(429, &limited("0.01s")), Reply::sse(body, 4)]).await;
    let stream = gemini(&server.url, fast_retries(1))
        .chat_stream(
            &ChatRequest::new(MODEL, vec![Message::user("hi")]),
            &CallContext::new("t"),
        )
        .await
        .unwrap();
    let (events, err) = drain(stream).await;
    assert!(err.is_none());
    assert_eq!(accumulate("gemini", &events).finish().unwrap().text(), "ok");
}

#[test]
fn streams_cut_short_or_failing_are_errors() {
    let cut = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"par\"}]}}]}\n\n";
    let out = decode_all(GenerateContentDecoder::new("gemini"), cut.as_bytes());
    let last = out.last().unwrap().as_ref().unwrap_err();
    assert_eq!(last.kind(), ProviderErrorKind::Incomplete);

    let failed = format!(
        "data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\"a\"}}]}}}}]}}\n\ndata: {}\n\n",
        google_error(503, "UNAVAILABLE", "The model is overloaded.", json!([]))
    );
    let out = decode_all(GenerateContentDecoder::new("gemini"), failed.as_bytes());
    let last = out.last().unwrap().as_ref().unwrap_err();
    assert_eq!(last.kind(), ProviderErrorKind::Overloaded, "{last}");

    let garbage = decode_all(GenerateContentDecoder::new("gemini"), b"data: {not json\n\n");
    assert_eq!(
        garbage.last().unwrap().as_ref().unwrap_err().kind(),
        ProviderErrorKind::Decode
    );
}

#[test]
fn thought_parts_and_signatures_on_text() {
    // Thought summaries are reasoning; a signature on the last text part goes
    // back on the text when no call follows.
    let body = concat!(
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Thinking about it\",\"thought\":true}]}}]}\n\n",
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Answer.\"}]}}]}\n\n",
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\",\"thoughtSignature\":\"c2ln\"}]},\"finishReason\":\"STOP\"}],",
        "\"usageMetadata\":{\"promptTokenCount\":10,\"candidatesTokenCount\":2,\"thoughtsTokenCount\":30,\"cachedContentTokenCount\":6}}\n\n",
    );
    let events: Vec<StreamEvent> = decode_all(GenerateContentDecoder::new("gemini"), body.as_bytes())
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let resp = accumulate("gemini", &events).finish().unwrap();
    assert_eq!(resp.text(), "Answer.");
    assert_eq!(
        resp.message.content[0],
        ContentPart::Thinking {
            text: "Thinking about it".into(),
            signature: Some("c2ln".into())
        }
    );
    assert_eq!(resp.usage.cache_read_tokens, 6);
    assert_eq!(
        resp.usage.input_tokens, 10,
        "cached content is part of the prompt count"
    );
    let p = GeminiProvider::new(ProviderConfig::new("http://127.0.0.1:9").with_api_key("k")).unwrap();
    let req = ChatRequest::new(MODEL, vec![Message::user("q"), resp.message, Message::user("and?")]);
    let body = p.request_body(&req).unwrap();
    assert_eq!(
        body["contents"][1],
        json!({"role": "model", "parts": [{"text": "Answer.", "thoughtSignature": "c2ln"}]}),
        "thought text is not sent back; the signature is"
    );
}

#[tokio::test]
async fn provider_from_name_knows_gemini() {
    assert!(toolplane_providers::KNOWN_PROVIDERS.contains(&"gemini"));
    let keyless = ["GOOGLE_API_KEY", "GEMINI_API_KEY"]
        .iter()
        .all(|v| std::env::var(v).map_or(true, |k| k.trim().is_empty()));
    if keyless {
        let err = provider_from_name("gemini", MODEL, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "gemini: no API key; set GOOGLE_API_KEY or GEMINI_API_KEY or pass one in code"
        );
    }
}
