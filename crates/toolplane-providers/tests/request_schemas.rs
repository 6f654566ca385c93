#![allow(clippy::unwrap_used, clippy::panic)]
//! The request bodies the OpenAI and Mistral providers send (tools, every tool
//! choice, tool results, stream options) validate against the vendors'
//! official OpenAPI descriptions in the shared fixtures.
//!
//! The component schema is converted to JSON Schema 2020-12: the document's
//! `components` are kept so `#/components/schemas/..` references resolve, and
//! OpenAPI 3.0 leftovers are rewritten (`nullable: true` adds `"null"` to the
//! type; a `oneOf` with a `discriminator` becomes `anyOf`, since the tag, not
//! exclusivity, picks the branch; `x-*` keys are dropped).

use serde_json::{Map, Value, json};
use toolplane_core::{ChatRequest, Message, ResponseFormat, ToolCall, ToolChoice, ToolResult, ToolSpec};
use toolplane_providers::{MistralProvider, OpenAiProvider, ProviderConfig};

fn convert(v: &mut Value) {
    match v {
        Value::Object(map) => {
            // With a discriminator, OpenAPI picks the branch by the tag, so
            // overlapping branches are fine there; JSON Schema's `oneOf`
            // would reject a value that fits two. `anyOf` says the same thing.
            if map.remove("discriminator").is_some() {
                if let Some(branches) = map.remove("oneOf") {
                    map.insert("anyOf".into(), branches);
                }
            }
            map.retain(|k, _| !k.starts_with("x-"));
            if map.remove("nullable") == Some(Value::Bool(true)) {
                match map.get_mut("type") {
                    Some(Value::String(t)) => {
                        let t = t.clone();
                        map.insert("type".into(), json!([t, "null"]));
                    }
                    Some(Value::Array(ts)) if !ts.contains(&json!("null")) => ts.push(json!("null")),
                    Some(_) => {}
                    None => {
                        // `nullable` beside a `$ref`/`allOf`: accept null too.
                        let inner: Map<String, Value> = std::mem::take(map);
                        map.insert("anyOf".into(), json!([Value::Object(inner), { "type": "null" }]));
                    }
                }
            }
            for child in map.values_mut() {
                convert(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(convert),
        _ => {}
    }
}

fn validator(file: &str, component: &str) -> Option<jsonschema::Validator> {
    let path = toolplane_testkit::fixture(file)?;
    // OpenAI's `seed.minimum` (-9223372036854776000, a rounded float) does not
    // fit an i64; use i64::MIN, which is what it means.
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("-9223372036854776000", "-9223372036854775808");
    let doc: Value = serde_yaml_ng::from_str(&text).unwrap();
    let mut components = doc["components"].clone();
    convert(&mut components);
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/components/schemas/{component}"),
        "components": components,
    });
    Some(jsonschema::options().build(&root).unwrap())
}

fn weather() -> ToolSpec {
    ToolSpec::new("get_weather", "The weather in a city.").with_input_schema(json!({
        "type": "object",
        "properties": { "city": { "type": "string" } },
        "required": ["city"],
    }))
}

/// Requests covering tools, each tool choice, parallel calls, a tool round
/// trip with an error result, images, stop sequences and structured output.
fn requests() -> Vec<ChatRequest> {
    let round_trip = vec![
        Message::system("Be brief."),
        Message::user("Weather in Paris and Rome?"),
        Message {
            role: toolplane_core::Role::Assistant,
            content: vec![
                toolplane_core::ContentPart::Text {
                    text: "Checking.".into(),
                },
                toolplane_core::ContentPart::ToolCall(ToolCall::new(
                    "call_CTf1nWJLqSeRgDqaCG27xZ74",
                    "get_weather",
                    r#"{"city":"Paris"}"#,
                )),
                toolplane_core::ContentPart::ToolCall(ToolCall::new("call_2", "get_weather", r#"{"city":"Rome"}"#)),
            ],
        },
        Message::tool_results(vec![
            ToolResult::ok("call_CTf1nWJLqSeRgDqaCG27xZ74", "18C").with_name("get_weather"),
            ToolResult::error("call_2", "upstream timeout").with_name("get_weather"),
        ]),
    ];
    let mut out = Vec::new();
    for choice in [
        None,
        Some(ToolChoice::Auto),
        Some(ToolChoice::None),
        Some(ToolChoice::Required),
        Some(ToolChoice::Tool {
            name: "get_weather".into(),
        }),
    ] {
        let mut r = ChatRequest::new("m", round_trip.clone()).with_tools(vec![weather(), ToolSpec::new("now", "")]);
        r.tool_choice = choice;
        r.parallel_tool_calls = Some(true);
        out.push(r);
    }
    let mut full = ChatRequest::new(
        "m",
        vec![Message {
            role: toolplane_core::Role::User,
            content: vec![
                toolplane_core::ContentPart::Text {
                    text: "What is this?".into(),
                },
                toolplane_core::ContentPart::Image {
                    source: toolplane_core::ImageSource::Url {
                        url: "https://example.com/a.png".into(),
                    },
                },
            ],
        }],
    )
    .with_max_tokens(100)
    .with_temperature(0.2);
    full.stop = vec!["END".into()];
    full.seed = Some(7);
    full.top_p = Some(0.9);
    full.response_format = Some(ResponseFormat::JsonSchema {
        name: "answer".into(),
        schema: json!({ "type": "object", "properties": { "a": { "type": "string" } } }),
        strict: true,
    });
    full.metadata.user = Some("user-1".into());
    out.push(full);
    out
}

fn check(validator: &jsonschema::Validator, body: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {body}\n{}", errors.join("\n"));
}

/// Every sample request, streamed and not, as `body` builds it, matches the schema.
fn check_every_request(validator: &jsonschema::Validator, body: impl Fn(&ChatRequest, bool) -> Value) {
    for (i, r) in requests().iter().enumerate() {
        for stream in [false, true] {
            check(validator, &body(r, stream), &format!("request {i}, stream {stream}"));
        }
    }
}

#[test]
fn openai_request_bodies_match_the_official_schema() {
    let Some(v) = validator("providers/openai/openapi.yaml", "CreateChatCompletionRequest") else {
        return;
    };
    let p = OpenAiProvider::new(ProviderConfig::new("http://127.0.0.1:9").with_api_key("k")).unwrap();
    check_every_request(&v, |r, stream| p.request_body(r, stream));
    // The validator is not vacuous: a wrong tool choice and a tool message without its id fail.
    let mut bad = p.request_body(&requests()[0], true);
    bad["tool_choice"] = json!("sometimes");
    assert!(!v.is_valid(&bad));
    let mut bad = p.request_body(&requests()[0], false);
    bad["messages"][3].as_object_mut().unwrap().remove("tool_call_id");
    assert!(!v.is_valid(&bad));
}

#[test]
fn mistral_request_bodies_match_the_official_schema() {
    let Some(v) = validator("providers/mistral/openapi.yaml", "ChatCompletionRequest") else {
        return;
    };
    let p = MistralProvider::new(ProviderConfig::new("http://127.0.0.1:9").with_api_key("k")).unwrap();
    check_every_request(&v, |r, stream| p.request_body(r, stream));
    let body = p.request_body(&requests()[0], false);
    // Call ids rewritten to 9 alphanumerics, the same in the call and its result.
    let call_id = body["messages"][2]["tool_calls"][0]["id"].as_str().unwrap();
    assert_eq!(call_id.len(), 9);
    assert!(call_id.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(body["messages"][3]["tool_call_id"], call_id);
    assert_eq!(body["messages"][3]["name"], "get_weather");
    assert_eq!(
        body["messages"][4]["tool_call_id"],
        body["messages"][2]["tool_calls"][1]["id"]
    );
    assert_eq!(p.request_body(&requests()[3], false)["tool_choice"], "any");
    let mut bad = body.clone();
    bad["tool_choice"] = json!("sometimes");
    assert!(!v.is_valid(&bad));
}

#[test]
fn responses_request_bodies_match_the_official_schema() {
    let Some(v) = validator("providers/openai/openapi.yaml", "CreateResponse") else {
        return;
    };
    let p =
        toolplane_providers::OpenAiResponsesProvider::new(ProviderConfig::new("http://127.0.0.1:9").with_api_key("k"))
            .unwrap();
    check_every_request(&v, |r, stream| p.request_body(r, stream));
    let mut bad = p.request_body(&requests()[0], false);
    bad["input"][2]["type"] = json!("function_call_outputs");
    assert!(!v.is_valid(&bad));
}

/// Namespaced tools (and one whose name no vendor accepts), with a history
/// that calls one of them and a tool choice naming it.
fn namespaced_requests() -> Vec<ChatRequest> {
    let specs = vec![
        ToolSpec::new("github.issues_create", "Open an issue.").with_input_schema(json!({
            "type": "object",
            "properties": {
                "title": { "type": "string" },
                "labels": { "type": "array", "items": { "type": "string" } },
                "milestone": { "$ref": "#/$defs/milestone" },
            },
            "required": ["title"],
            "$defs": { "milestone": { "type": "object", "properties": { "number": { "type": "integer" } } } },
        })),
        ToolSpec::new("demo.weather", "The weather.").with_input_schema(json!({
            "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"],
        })),
        ToolSpec::new("ops/rëstart service!", ""),
        weather(),
    ];
    let history = vec![
        Message::user("File it."),
        Message {
            role: toolplane_core::Role::Assistant,
            content: vec![toolplane_core::ContentPart::ToolCall(ToolCall::new(
                "call_1",
                "github.issues_create",
                r#"{"title":"a"}"#,
            ))],
        },
        Message::tool_results(vec![ToolResult::ok("call_1", "#1").with_name("github.issues_create")]),
    ];
    [
        None,
        Some(ToolChoice::Tool {
            name: "github.issues_create".into(),
        }),
    ]
    .into_iter()
    .map(|choice| {
        let mut r = ChatRequest::new("m", history.clone()).with_tools(specs.clone());
        r.tool_choice = choice;
        r
    })
    .collect()
}

/// Every tool name in `body` is valid for `rule` and no registry name with a `.` is left.
fn check_names(body: &Value, identifier: bool, what: &str) {
    let text = body.to_string();
    assert!(!text.contains("github.issues_create"), "{what}: {text}");
    assert!(!text.contains("demo.weather"), "{what}: {text}");
    for t in body["tools"].as_array().unwrap() {
        let name = t
            .pointer("/function/name")
            .or_else(|| t.get("name"))
            .and_then(Value::as_str)
            .unwrap();
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || (!identifier && b == b'-'))
            && (!identifier || !name.as_bytes()[0].is_ascii_digit());
        assert!(ok, "{what}: `{name}`");
    }
}

#[test]
fn namespaced_tools_make_valid_openai_mistral_and_responses_bodies() {
    let url = "http://127.0.0.1:9";
    let cfg = |strict: bool| {
        ProviderConfig::new(url)
            .with_api_key("k-0123456789")
            .with_strict_tools(strict)
    };
    if let Some(v) = validator("providers/openai/openapi.yaml", "CreateChatCompletionRequest") {
        for strict in [false, true] {
            let p = OpenAiProvider::new(cfg(strict)).unwrap();
            for (i, r) in namespaced_requests().iter().enumerate() {
                let body = p.request_body(r, i == 1);
                check(&v, &body, &format!("openai strict={strict} {i}"));
                check_names(&body, false, "openai");
                assert_eq!(body["tools"][0]["function"]["name"], "github__issues_create");
                assert_eq!(body["tools"][1]["function"]["name"], "demo__weather");
                // The profile's rewrite: strict closes the schema and resolves nothing away.
                assert_eq!(body["tools"][0]["function"].get("strict") == Some(&json!(true)), strict);
            }
        }
    }
    if let Some(v) = validator("providers/mistral/openapi.yaml", "ChatCompletionRequest") {
        let p = MistralProvider::new(cfg(false)).unwrap();
        for (i, r) in namespaced_requests().iter().enumerate() {
            let body = p.request_body(r, false);
            check(&v, &body, &format!("mistral {i}"));
            check_names(&body, false, "mistral");
            // Mistral's profile inlines `$ref`s.
            assert!(!body["tools"][0].to_string().contains("$ref"), "{}", body["tools"][0]);
            assert_eq!(body["messages"][2]["name"], "github__issues_create");
        }
    }
    if let Some(v) = validator("providers/openai/openapi.yaml", "CreateResponse") {
        for strict in [false, true] {
            let p = toolplane_providers::OpenAiResponsesProvider::new(cfg(strict)).unwrap();
            for (i, r) in namespaced_requests().iter().enumerate() {
                let body = p.request_body(r, false);
                check(&v, &body, &format!("responses strict={strict} {i}"));
                check_names(&body, false, "responses");
                assert_eq!(body["tools"][0]["strict"], strict);
            }
        }
    }
}

/// Anthropic and Cohere publish no request schema in the fixtures: their
/// names follow the documented rules and their schemas the profiles.
#[test]
fn namespaced_tools_follow_the_anthropic_and_cohere_rules() {
    let cfg = ProviderConfig::new("http://127.0.0.1:9").with_api_key("k-0123456789");
    let a = toolplane_providers::AnthropicProvider::new(cfg.clone()).unwrap();
    let c = toolplane_providers::CohereProvider::new(cfg).unwrap();
    for r in namespaced_requests() {
        let body = a.request_body(&r, false);
        check_names(&body, false, "anthropic");
        assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
        let body = c.request_body(&r, false);
        check_names(&body, true, "cohere");
        assert!(!body["tools"][0].to_string().contains("$ref"), "{}", body["tools"][0]);
    }
}

/// GitHub's whole REST API converted (every operation a tool, named
/// `github.<operation>`): Mistral takes them all in one request and the body
/// validates; OpenAI takes at most 128, strict and not; every name fits each
/// vendor's rule (Anthropic's and Cohere's too), and no two collide.
#[test]
fn github_converted_tools_make_valid_bodies() {
    let Some(dir) = toolplane_testkit::corpus_dir("octokit-openapi-23.0.2") else {
        return;
    };
    let spec = toolplane_openapi::OpenApiSpec::from_path(dir.join("generated/api.github.com.json")).unwrap();
    let conversion = toolplane_openapi::Converter::new(toolplane_openapi::ConvertOptions::default()).convert(&spec);
    let specs: Vec<ToolSpec> = conversion
        .specs()
        .into_iter()
        .map(|mut s| {
            s.name = format!("github.{}", s.name);
            s
        })
        .collect();
    assert!(specs.len() > 1000, "{} tools", specs.len());
    let names = |body: &Value| -> Vec<String> {
        body["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                t.pointer("/function/name")
                    .or_else(|| t.get("name"))
                    .and_then(Value::as_str)
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let cfg = |strict: bool| {
        ProviderConfig::new("http://127.0.0.1:9")
            .with_api_key("k-0123456789")
            .with_strict_tools(strict)
    };
    let all = ChatRequest::new("m", vec![Message::user("x")]).with_tools(specs.clone());
    let mistral = MistralProvider::new(cfg(false)).unwrap().request_body(&all, false);
    if let Some(v) = validator("providers/mistral/openapi.yaml", "ChatCompletionRequest") {
        check(&v, &mistral, "mistral, all GitHub tools");
    }
    let anthropic = toolplane_providers::AnthropicProvider::new(cfg(false))
        .unwrap()
        .request_body(&all, false);
    let cohere = toolplane_providers::CohereProvider::new(cfg(false))
        .unwrap()
        .request_body(&all, false);
    for (vendor, body, identifier) in [
        ("mistral", &mistral, false),
        ("anthropic", &anthropic, false),
        ("cohere", &cohere, true),
    ] {
        check_names(body, identifier, vendor);
        let n = names(body);
        assert_eq!(n.len(), specs.len(), "{vendor}");
        let unique: std::collections::HashSet<&String> = n.iter().collect();
        assert_eq!(unique.len(), n.len(), "{vendor}: names collide");
        assert!(n.iter().any(|x| x == "github__issues_create"), "{vendor}");
    }
    if let Some(v) = validator("providers/openai/openapi.yaml", "CreateChatCompletionRequest") {
        let first = ChatRequest::new("m", vec![Message::user("x")]).with_tools(specs[..128].to_vec());
        for strict in [false, true] {
            let body = OpenAiProvider::new(cfg(strict)).unwrap().request_body(&first, false);
            check(&v, &body, &format!("openai, 128 GitHub tools, strict {strict}"));
            check_names(&body, false, "openai");
        }
    }
}
