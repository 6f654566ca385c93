#![cfg(feature = "structured")]
#![allow(clippy::unwrap_used, clippy::panic)]
//! Typed structured answers per vendor, against local servers: the request
//! each vendor gets, the parse of valid answers, the repair turn after an
//! invalid one, and the errors when an answer never conforms or a provider
//! cannot comply.

mod server;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use server::{Reply, TestServer};
use toolplane_core::{CallContext, ChatRequest, Message, ProviderCapabilities, ScriptedProvider};
use toolplane_providers::structured::{STRUCTURED_TOOL, StructuredError};
use toolplane_providers::{
    AnthropicProvider, ChatStructuredExt, CohereProvider, GeminiProvider, MistralProvider, OpenAiProvider,
    ProviderConfig,
};

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
struct Trip {
    city: String,
    days: u32,
    notes: Option<String>,
}

fn ask() -> ChatRequest {
    ChatRequest::new("m", vec![Message::user("Plan a trip to Paris as JSON")])
}

fn chat_completion(content: &str) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})
}

fn cfg(url: &str) -> ProviderConfig {
    ProviderConfig::new(url)
        .with_api_key("k")
        .with_retry(toolplane_providers::RetryPolicy::none())
}

#[tokio::test]
async fn openai_strict_schema_valid_and_repaired() {
    let server = TestServer::start(vec![
        Reply::json(200, &chat_completion(r#"{"city":"Paris","days":"three","notes":null}"#)),
        Reply::json(200, &chat_completion(r#"{"city":"Paris","days":3,"notes":null}"#)),
    ])
    .await;
    let p = OpenAiProvider::new(cfg(&server.url)).unwrap();
    let got = p.chat_structured::<Trip>(ask(), &CallContext::new("t")).await.unwrap();
    assert_eq!(
        got.value,
        Trip {
            city: "Paris".into(),
            days: 3,
            notes: None
        }
    );
    assert_eq!(got.attempts, 2);
    let reqs = server.requests();
    let rf = &reqs[0].body["response_format"];
    assert_eq!(rf["type"], "json_schema");
    assert_eq!(rf["json_schema"]["name"], "Trip");
    assert_eq!(rf["json_schema"]["strict"], true);
    assert_eq!(rf["json_schema"]["schema"]["additionalProperties"], false);
    assert_eq!(
        rf["json_schema"]["schema"]["required"],
        json!(["city", "days", "notes"])
    );
    // The repair turn: the answer, then the validator's messages.
    let msgs = reqs[1].body["messages"].as_array().unwrap();
    assert_eq!(msgs[1]["role"], "assistant");
    let repair = msgs[2]["content"].as_str().unwrap();
    assert!(repair.contains("/days") && repair.contains("not of type"), "{repair}");
}

#[tokio::test]
async fn an_answer_that_never_conforms_is_an_error_after_one_repair() {
    let server = TestServer::start(vec![
        Reply::json(200, &chat_completion("Sure! Paris is lovely.")),
        Reply::json(200, &chat_completion(r#"{"city":"Paris"}"#)),
        Reply::json(200, &chat_completion(r#"{"city":"Paris","days":3,"notes":null}"#)),
    ])
    .await;
    let p = OpenAiProvider::new(cfg(&server.url)).unwrap();
    let err = p
        .chat_structured::<Trip>(ask(), &CallContext::new("t"))
        .await
        .unwrap_err();
    let StructuredError::NonConforming { attempts, problems, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(*attempts, 2, "one answer and one repair");
    assert!(
        problems.iter().any(|p| p.contains("\"days\" is a required property")),
        "{problems:?}"
    );
    assert_eq!(server.requests().len(), 2);
    assert!(
        server.requests()[1].body["messages"][2]["content"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
}

#[tokio::test]
async fn anthropic_answers_through_a_forced_tool() {
    let tool_answer = |input: Value| {
        json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": STRUCTURED_TOOL, "input": input}],
            "stop_reason": "tool_use", "usage": {"input_tokens": 10, "output_tokens": 5}})
    };
    let server = TestServer::start(vec![
        Reply::json(200, &tool_answer(json!({"city": "Paris", "days": -2}))),
        Reply::json(
            200,
            &tool_answer(json!({"city": "Paris", "days": 2, "notes": "museums"})),
        ),
    ])
    .await;
    let p = AnthropicProvider::new(cfg(&server.url)).unwrap();
    let got = p.chat_structured::<Trip>(ask(), &CallContext::new("t")).await.unwrap();
    assert_eq!(got.value.notes.as_deref(), Some("museums"));
    assert_eq!(got.attempts, 2);
    let reqs = server.requests();
    let first = &reqs[0].body;
    assert_eq!(first["tool_choice"], json!({"type": "tool", "name": STRUCTURED_TOOL}));
    assert_eq!(first["tools"][0]["name"], STRUCTURED_TOOL);
    assert_eq!(first["tools"][0]["input_schema"]["required"], json!(["city", "days"]));
    assert!(first.get("response_format").is_none());
    // The repair answers the tool call with an error result.
    let repair = &reqs[1].body["messages"][2]["content"][0];
    assert_eq!(repair["type"], "tool_result");
    assert_eq!(repair["tool_use_id"], "toolu_1");
    assert_eq!(repair["is_error"], true);
    assert!(repair["content"].as_str().unwrap().contains("/days"), "{repair}");
}

#[tokio::test]
async fn gemini_mistral_and_cohere_use_their_json_modes() {
    let gemini_answer = |text: &str| {
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 5, "totalTokenCount": 10}})
    };
    let server = TestServer::start(vec![
        Reply::json(200, &gemini_answer("```json\n{\"city\": \"Rome\", \"days\": 4}\n```")),
        Reply::json(200, &chat_completion(r#"{"city":"Oslo","days":1,"notes":null}"#)),
        Reply::json(
            200,
            &json!({"id": "c1", "finish_reason": "COMPLETE",
                "message": {"role": "assistant", "content": [{"type": "text", "text": "{\"city\":\"Lima\",\"days\":9}"}]},
                "usage": {"tokens": {"input_tokens": 5, "output_tokens": 5}}}),
        ),
    ])
    .await;
    let g = GeminiProvider::new(cfg(&server.url)).unwrap();
    let got = g.chat_structured::<Trip>(ask(), &CallContext::new("t")).await.unwrap();
    assert_eq!((got.value.city.as_str(), got.value.days), ("Rome", 4));
    let body = server.last_request().body;
    assert_eq!(body["generationConfig"]["responseMimeType"], "application/json");
    assert_eq!(
        body["generationConfig"]["responseJsonSchema"]["required"],
        json!(["city", "days"])
    );

    let m = MistralProvider::new(cfg(&server.url)).unwrap();
    let got = m.chat_structured::<Trip>(ask(), &CallContext::new("t")).await.unwrap();
    assert_eq!(got.value.city, "Oslo");
    let body = server.last_request().body;
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(body["response_format"]["json_schema"]["name"], "Trip");

    let c = CohereProvider::new(cfg(&server.url)).unwrap();
    let got = c.chat_structured::<Trip>(ask(), &CallContext::new("t")).await.unwrap();
    assert_eq!(got.value.days, 9);
    let body = server.last_request().body;
    assert_eq!(body["response_format"]["type"], "json_object");
    assert_eq!(
        body["response_format"]["json_schema"]["required"],
        json!(["city", "days"])
    );
}

#[tokio::test]
async fn a_provider_that_cannot_comply_and_a_refusal_are_clear_errors() {
    let plain = ScriptedProvider::new("plain-echo")
        .with_text("{}")
        .with_capabilities(ProviderCapabilities {
            tools: false,
            structured_output: false,
            ..ProviderCapabilities::default()
        });
    let err = plain
        .chat_structured::<Trip>(ask(), &CallContext::new("t"))
        .await
        .unwrap_err();
    assert!(matches!(err, StructuredError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("plain-echo"), "{err}");

    let refusal = json!({"id": "x", "model": "m", "choices": [{"index": 0,
        "message": {"role": "assistant", "content": null, "refusal": "I can't help with that."}, "finish_reason": "stop"}]});
    let server = TestServer::start(vec![Reply::json(200, &refusal), Reply::json(200, &refusal)]).await;
    let p = OpenAiProvider::new(cfg(&server.url)).unwrap();
    let err = p
        .chat_structured::<Trip>(ask(), &CallContext::new("t"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("the model refused"), "{err}");
}
