#![allow(clippy::unwrap_used, clippy::panic)]
//! Namespaced tools round-trip through every vendor: the request carries
//! each tool under a name the vendor accepts (`github.issues_create` as
//! `github__issues_create`), shaped by the vendor's toolplane-schema profile;
//! the model calls it by that wire name, whole or streamed; the caller
//! receives `github.issues_create`. Strict tools are asked for per request
//! or per provider. The `tools` field is the export's, byte for byte.

mod server;

use std::sync::Arc;

use serde_json::{Value, json};
use server::{Reply, TestServer, accumulate, drain, own_fixture};
use toolplane_core::EchoTool;
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ContentPart, Message, Role, StreamEvent, ToolCall, ToolChoice, ToolResult,
    ToolSpec,
};
use toolplane_providers::{
    AnthropicProvider, CohereProvider, GeminiProvider, MistralProvider, OpenAiProvider, OpenAiResponsesProvider,
    ProviderConfig, RequestOptions, RetryPolicy,
};
use toolplane_registry::{Profile, ToolRegistry};

const REGISTRY: &str = "github.issues_create";
const WIRE: &str = "github__issues_create";

fn issues_create() -> ToolSpec {
    ToolSpec::new(REGISTRY, "Open an issue.").with_input_schema(json!({
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "labels": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["title"],
    }))
}

fn weather() -> ToolSpec {
    ToolSpec::new("get_weather", "The weather in a city.").with_input_schema(json!({
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
    }))
}

/// A request whose history already calls the namespaced tool, with its
/// result named, and a tool choice naming it.
fn request(choice: Option<ToolChoice>) -> ChatRequest {
    let mut r = ChatRequest::new(
        "m",
        vec![
            Message::user("File two issues."),
            Message {
                role: Role::Assistant,
                content: vec![ContentPart::ToolCall(ToolCall::new(
                    "call_0",
                    REGISTRY,
                    r#"{"title":"first"}"#,
                ))],
            },
            Message::tool_results(vec![ToolResult::ok("call_0", "#1").with_name(REGISTRY)]),
        ],
    )
    .with_tools(vec![issues_create(), weather()]);
    r.tool_choice = choice;
    r
}

fn make(vendor: &str, cfg: ProviderConfig) -> Arc<dyn ChatProvider> {
    match vendor {
        "openai" => Arc::new(OpenAiProvider::new(cfg).unwrap()),
        "responses" => Arc::new(OpenAiResponsesProvider::new(cfg).unwrap()),
        "anthropic" => Arc::new(AnthropicProvider::new(cfg).unwrap()),
        "mistral" => Arc::new(MistralProvider::new(cfg).unwrap()),
        "cohere" => Arc::new(CohereProvider::new(cfg).unwrap()),
        other => panic!("unknown vendor {other}"),
    }
}

fn cfg(url: &str) -> ProviderConfig {
    ProviderConfig::new(url)
        .with_api_key("sk-names-0123456789abcdef")
        .with_retry(RetryPolicy::none())
}

/// A whole answer in which the model calls the tool by its wire name.
fn answer(vendor: &str, args: &Value) -> Value {
    let text = args.to_string();
    match vendor {
        "openai" | "mistral" => json!({"id":"c1","model":"m","choices":[{"index":0,"finish_reason":"tool_calls",
            "message":{"role":"assistant","content":null,"tool_calls":[
                {"id":"call_1","type":"function","function":{"name":WIRE,"arguments":text}}]}}]}),
        "responses" => json!({"id":"resp_1","model":"m","status":"completed","output":[
            {"type":"function_call","id":"fc_1","call_id":"call_1","name":WIRE,"arguments":text,"status":"completed"}]}),
        "anthropic" => json!({"id":"msg_1","model":"m","stop_reason":"tool_use",
            "content":[{"type":"tool_use","id":"toolu_1","name":WIRE,"input":args}],
            "usage":{"input_tokens":1,"output_tokens":1}}),
        "cohere" => json!({"id":"co_1","finish_reason":"TOOL_CALL","message":{"role":"assistant","tool_calls":[
            {"id":"tc_1","type":"function","function":{"name":WIRE,"arguments":text}}]},
            "usage":{"tokens":{"input_tokens":1,"output_tokens":1}}}),
        other => panic!("{other}"),
    }
}

/// A streamed answer in which the model calls the tool by its wire name.
fn streamed(vendor: &str) -> Vec<u8> {
    let renamed = |file: &str| {
        String::from_utf8(own_fixture(file))
            .unwrap()
            .replace(r#""name":"get_weather""#, &format!(r#""name":"{WIRE}""#))
            .into_bytes()
    };
    match vendor {
        "openai" | "mistral" => renamed("mistral-stream.sse"),
        "responses" => renamed("responses-stream.sse"),
        "cohere" => renamed("cohere-tool-stream.sse"),
        "anthropic" => [
            json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m",
                "content":[],"stop_reason":null,"usage":{"input_tokens":5,"output_tokens":1}}}),
            json!({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":WIRE,"input":{}}}),
            json!({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"title\":\"t\"}"}}),
            json!({"type":"content_block_stop","index":0}),
            json!({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}),
            json!({"type":"message_stop"}),
        ]
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect::<String>()
        .into_bytes(),
        other => panic!("{other}"),
    }
}

/// The request body uses the wire name everywhere and never the registry name.
fn assert_wire_names(vendor: &str, body: &Value) {
    let text = body.to_string();
    assert!(!text.contains(REGISTRY), "{vendor}: {text}");
    assert!(text.contains(WIRE), "{vendor}: {text}");
    let tools = body["tools"].as_array().unwrap();
    let names: Vec<&str> = tools
        .iter()
        .map(|t| {
            t.pointer("/function/name")
                .or_else(|| t.get("name"))
                .and_then(Value::as_str)
                .unwrap()
        })
        .collect();
    for n in &names {
        assert!(
            !n.is_empty() && n.len() <= 64 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
            "{vendor}: {n}"
        );
    }
    assert!(names.contains(&WIRE), "{vendor}: {names:?}");
}

#[tokio::test]
async fn a_namespaced_tool_round_trips_through_every_vendor() {
    for vendor in ["openai", "responses", "anthropic", "mistral", "cohere"] {
        // Whole answers.
        let server = TestServer::start(vec![Reply::json(200, &answer(vendor, &json!({"title": "t"})))]).await;
        let p = make(vendor, cfg(&server.url));
        let req = request(Some(ToolChoice::Tool { name: REGISTRY.into() }));
        let resp = p.chat(&req, &CallContext::new("t")).await.unwrap();
        let calls: Vec<&ToolCall> = resp.tool_calls().collect();
        assert_eq!(calls.len(), 1, "{vendor}");
        assert_eq!(calls[0].name, REGISTRY, "{vendor}");
        assert_eq!(calls[0].arguments_value().unwrap()["title"], "t", "{vendor}");
        assert_wire_names(vendor, &server.last_request().body);

        // Streams: the start and the end of each call carry the registry name.
        let server = TestServer::start(vec![Reply::sse(streamed(vendor), 11)]).await;
        let p = make(vendor, cfg(&server.url));
        let (events, err) = drain(p.chat_stream(&request(None), &CallContext::new("t")).await.unwrap()).await;
        assert!(err.is_none(), "{vendor}: {err:?}");
        let mut starts = 0;
        for e in &events {
            match e {
                StreamEvent::ToolCallStart { name, .. } if name != "now" => {
                    starts += 1;
                    assert_eq!(name, REGISTRY, "{vendor}");
                }
                StreamEvent::ToolCallEnd { call, .. } if call.name != "now" => {
                    assert_eq!(call.name, REGISTRY, "{vendor}")
                }
                _ => {}
            }
        }
        assert!(starts >= 1, "{vendor}: {events:?}");
        let whole = accumulate(vendor, &events).finish().unwrap();
        assert!(whole.tool_calls().any(|c| c.name == REGISTRY), "{vendor}");
        assert!(whole.tool_calls().all(|c| c.name != WIRE), "{vendor}");
        assert_wire_names(vendor, &server.last_request().body);
    }
}

#[tokio::test]
async fn strict_tools_are_sent_strict_and_forced_nulls_are_removed() {
    for vendor in ["openai", "responses"] {
        let args = json!({"title": "t", "labels": null});
        // Asked for per request.
        let server = TestServer::start(vec![Reply::json(200, &answer(vendor, &args))]).await;
        let p = make(vendor, cfg(&server.url));
        let ctx = CallContext::new("t").with_extension(RequestOptions::new().with_strict_tools(true));
        let resp = p.chat(&request(None), &ctx).await.unwrap();
        let call = resp.tool_calls().next().unwrap();
        assert_eq!(call.name, REGISTRY);
        assert_eq!(call.arguments_value().unwrap(), json!({"title": "t"}), "{vendor}");
        let body = server.last_request().body;
        let tool = &body["tools"][0];
        let def = tool.get("function").unwrap_or(tool);
        assert_eq!(def["strict"], true, "{vendor}: {tool}");
        let mut required: Vec<&str> = def["parameters"]["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        required.sort_unstable();
        assert_eq!(required, ["labels", "title"], "{vendor}");
        assert_eq!(def["parameters"]["additionalProperties"], false, "{vendor}");

        // Asked for by the provider's configuration.
        let server = TestServer::start(vec![Reply::json(200, &answer(vendor, &args))]).await;
        let p = make(vendor, cfg(&server.url).with_strict_tools(true));
        let resp = p.chat(&request(None), &CallContext::new("t")).await.unwrap();
        assert_eq!(
            resp.tool_calls().next().unwrap().arguments_value().unwrap(),
            json!({"title": "t"})
        );
        // A request can turn it off again.
        let server = TestServer::start(vec![Reply::json(200, &answer(vendor, &args))]).await;
        let p = make(vendor, cfg(&server.url).with_strict_tools(true));
        let ctx = CallContext::new("t").with_extension(RequestOptions::new().with_strict_tools(false));
        let resp = p.chat(&request(None), &ctx).await.unwrap();
        assert_eq!(resp.tool_calls().next().unwrap().arguments_value().unwrap(), args);
        let body = server.last_request().body;
        let tool = &body["tools"][0];
        let def = tool.get("function").unwrap_or(tool);
        assert_ne!(def.get("strict"), Some(&json!(true)), "{vendor}: {tool}");
    }
    // Cohere has one request-wide flag.
    let p = CohereProvider::new(cfg("http://127.0.0.1:9").with_strict_tools(true)).unwrap();
    assert_eq!(p.request_body(&request(None), false)["strict_tools"], true);
    let p = CohereProvider::new(cfg("http://127.0.0.1:9")).unwrap();
    assert!(p.request_body(&request(None), false).get("strict_tools").is_none());
}

#[tokio::test]
async fn a_streamed_strict_call_ends_with_its_nulls_removed() {
    let sse = [
        json!({"id":"c","model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[
            {"index":0,"id":"call_1","type":"function","function":{"name":WIRE,"arguments":""}}]}}]}),
        json!({"id":"c","model":"m","choices":[{"index":0,"delta":{"tool_calls":[
            {"index":0,"function":{"arguments":"{\"title\":\"t\",\"labels\":null}"}}]}}]}),
        json!({"id":"c","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}),
    ]
    .iter()
    .map(|e| format!("data: {e}\n\n"))
    .collect::<String>()
        + "data: [DONE]\n\n";
    let server = TestServer::start(vec![Reply::sse(sse, 13)]).await;
    let p = OpenAiProvider::new(cfg(&server.url).with_strict_tools(true)).unwrap();
    let (events, err) = drain(p.chat_stream(&request(None), &CallContext::new("t")).await.unwrap()).await;
    assert!(err.is_none(), "{err:?}");
    let end = events
        .iter()
        .find_map(|e| match e {
            StreamEvent::ToolCallEnd { call, .. } => Some(call.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(end.name, REGISTRY);
    assert_eq!(end.arguments_value().unwrap(), json!({"title": "t"}));
}

/// The `tools` field each provider sends is, byte for byte, the one export
/// entry point's (`toolplane_schema::export`, which `ToolRegistry::export_all`
/// goes through), for every vendor and both strict settings: namespaced
/// names, a free-form tool that cannot be strict, a `$ref` that Mistral and
/// Cohere inline, and a tool without a description.
#[test]
fn the_wire_tools_field_is_the_export_byte_for_byte() {
    let free = ToolSpec::new("admin.call", "").with_input_schema(json!({
        "type": "object",
        "properties": {"args": {"type": "object", "additionalProperties": true}, "node": {"$ref": "#/$defs/N"}},
        "$defs": {"N": {"type": "object", "properties": {"id": {"type": "integer"}}}},
    }));
    let specs = vec![issues_create(), weather(), free];
    let mut registry = ToolRegistry::new();
    for s in &specs {
        registry.register(Arc::new(EchoTool::new(s.clone()))).unwrap();
    }
    // The registry lists its tools by name; the request carries them in that order too.
    let specs = registry.specs();
    let req = ChatRequest::new("m", vec![Message::user("x")]).with_tools(specs.clone());
    let url = "http://127.0.0.1:9";
    let mut checked = Vec::new();
    for strict in [false, true] {
        let c = || cfg(url).with_strict_tools(strict);
        let gemini = GeminiProvider::new(c().with_api_key("k"))
            .unwrap()
            .request_body(&req)
            .unwrap();
        let bodies = [
            (
                Profile::OpenAi,
                OpenAiProvider::new(c()).unwrap().request_body(&req, false),
            ),
            (
                Profile::OpenAiResponses,
                OpenAiResponsesProvider::new(c()).unwrap().request_body(&req, false),
            ),
            (
                Profile::Anthropic,
                AnthropicProvider::new(c()).unwrap().request_body(&req, false),
            ),
            (
                Profile::Mistral,
                MistralProvider::new(c()).unwrap().request_body(&req, false),
            ),
            (
                Profile::Cohere,
                CohereProvider::new(c()).unwrap().request_body(&req, false),
            ),
            (Profile::GeminiJsonSchema, gemini),
        ];
        for (vendor, body) in bodies {
            let profile = if strict {
                vendor.strict().unwrap_or(vendor)
            } else {
                vendor
            };
            let wire = serde_json::to_string(&body["tools"]).unwrap();
            let exported = toolplane_schema::export(&specs, profile);
            assert_eq!(
                wire,
                serde_json::to_string(&exported.tools_field()).unwrap(),
                "{profile}"
            );
            assert_eq!(
                wire,
                serde_json::to_string(&registry.export_all(profile).tools_field()).unwrap(),
                "{profile}"
            );
            assert_eq!(exported.wire_name(REGISTRY), Some(WIRE), "{profile}");
            checked.push(profile);
        }
    }
    assert_eq!(checked.len(), 12);
    for strict in [Profile::OpenAiStrict, Profile::OpenAiResponsesStrict] {
        assert!(checked.contains(&strict), "{strict} was compared");
    }
}
