//! Chat Completions request bodies and complete answers (OpenAI, compatible servers, Mistral).

use serde::Deserialize;
use serde_json::{Map, Value, json};
use toolplane_core::{
    ChatRequest, ChatResponse, ContentPart, ImageSource, Message, ProviderError, ProviderErrorKind, ResponseFormat,
    Role, StopReason, ToolCall, ToolChoice, ToolResult,
};

use super::stream::{WireUsage, stop_reason};
use crate::tools::WireTools;

/// How a dialect of Chat Completions differs from OpenAI's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dialect {
    /// Send `max_completion_tokens` (OpenAI) instead of `max_tokens`.
    pub(crate) max_completion_tokens: bool,
    /// Send `stream_options.include_usage` when streaming.
    pub(crate) stream_usage: bool,
    /// Mistral: `random_seed`, `tool_choice: "any"`, 9-character call ids.
    pub(crate) mistral: bool,
}

/// The `image_url` of an image part.
fn image_url(source: &ImageSource) -> String {
    match source {
        ImageSource::Url { url } => url.clone(),
        ImageSource::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
    }
}

fn call_id(dialect: Dialect, id: &str) -> String {
    if dialect.mistral {
        crate::tools::mistral_call_id(id)
    } else {
        id.to_owned()
    }
}

fn tool_message(dialect: Dialect, r: &ToolResult) -> Value {
    let content = if r.is_error {
        format!("error: {}", r.content)
    } else {
        r.content.clone()
    };
    let mut m = json!({ "role": "tool", "tool_call_id": call_id(dialect, &r.call_id), "content": content });
    if let Some(name) = r.name.as_ref().filter(|_| dialect.mistral) {
        m["name"] = json!(name);
    }
    m
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

/// One core message as one or more Chat Completions messages.
fn push_message(dialect: Dialect, m: &Message, out: &mut Vec<Value>) {
    let mut text = String::new();
    let mut parts: Vec<Value> = Vec::new();
    let mut has_image = false;
    let mut calls = Vec::new();
    let mut results = Vec::new();
    for part in &m.content {
        match part {
            ContentPart::Text { text: t } | ContentPart::Refusal { text: t } => {
                text.push_str(t);
                parts.push(json!({ "type": "text", "text": t }));
            }
            ContentPart::Image { source } => {
                has_image = true;
                parts.push(json!({ "type": "image_url", "image_url": { "url": image_url(source) } }));
            }
            ContentPart::ToolCall(c) => calls.push(json!({
                "id": call_id(dialect, &c.id),
                "type": "function",
                "function": { "name": c.name, "arguments": if c.arguments.is_empty() { "{}" } else { &c.arguments } },
            })),
            ContentPart::ToolResult(r) => results.push(tool_message(dialect, r)),
            _ => {}
        }
    }
    out.extend(results);
    if m.role == Role::Tool || (parts.is_empty() && calls.is_empty()) {
        return;
    }
    let mut msg = Map::new();
    msg.insert("role".into(), json!(role_name(m.role)));
    if has_image && m.role == Role::User {
        msg.insert("content".into(), Value::Array(parts));
    } else if m.role == Role::Assistant && text.is_empty() {
        msg.insert("content".into(), if dialect.mistral { json!("") } else { Value::Null });
    } else {
        msg.insert("content".into(), json!(text));
    }
    if !calls.is_empty() {
        msg.insert("tool_calls".into(), Value::Array(calls));
    }
    out.push(Value::Object(msg));
}

/// The request body for `POST /chat/completions`; `req` names its tools
/// as the wire does and `tools` holds their shaped definitions.
pub(crate) fn request_body(dialect: Dialect, req: &ChatRequest, tools: &WireTools, model: &str, stream: bool) -> Value {
    let mut messages = Vec::with_capacity(req.messages.len());
    for m in &req.messages {
        push_message(dialect, m, &mut messages);
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("messages".into(), Value::Array(messages));
    if !req.tools.is_empty() {
        body.insert("tools".into(), tools.field());
        if let Some(choice) = &req.tool_choice {
            body.insert("tool_choice".into(), tool_choice(dialect, choice));
        }
        if let Some(p) = req.parallel_tool_calls {
            body.insert("parallel_tool_calls".into(), json!(p));
        }
    }
    if let Some(n) = req.max_tokens {
        let key = if dialect.max_completion_tokens {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body.insert(key.into(), json!(n));
    }
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if !req.stop.is_empty() {
        body.insert("stop".into(), json!(req.stop));
    }
    if let Some(seed) = req.seed {
        body.insert(
            (if dialect.mistral { "random_seed" } else { "seed" }).into(),
            json!(seed),
        );
    }
    if let Some(f) = &req.response_format {
        body.insert("response_format".into(), response_format(f));
    }
    // Mistral has no cache key; OpenAI caches automatically, the key groups requests.
    if let Some(key) = req
        .cache
        .as_ref()
        .and_then(|c| c.key.as_ref())
        .filter(|_| !dialect.mistral)
    {
        body.insert("prompt_cache_key".into(), json!(key));
    }
    if let Some(user) = req.metadata.user.as_ref().filter(|_| !dialect.mistral) {
        body.insert("user".into(), json!(user));
    }
    if stream {
        body.insert("stream".into(), json!(true));
        if dialect.stream_usage {
            body.insert("stream_options".into(), json!({ "include_usage": true }));
        }
    }
    for (k, v) in &req.extra {
        body.insert(k.clone(), v.clone());
    }
    Value::Object(body)
}

fn tool_choice(dialect: Dialect, choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!(if dialect.mistral { "any" } else { "required" }),
        ToolChoice::Tool { name } => json!({ "type": "function", "function": { "name": name } }),
    }
}

fn response_format(f: &ResponseFormat) -> Value {
    match f {
        ResponseFormat::Text => json!({ "type": "text" }),
        ResponseFormat::JsonObject => json!({ "type": "json_object" }),
        ResponseFormat::JsonSchema { name, schema, strict } => json!({
            "type": "json_schema",
            "json_schema": { "name": name, "schema": schema, "strict": strict },
        }),
    }
}

#[derive(Deserialize)]
struct Completion {
    id: Option<String>,
    model: Option<String>,
    #[serde(default)]
    choices: Vec<CompletionChoice>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct CompletionChoice {
    message: Option<CompletionMessage>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct CompletionMessage {
    content: Option<Value>,
    refusal: Option<String>,
    reasoning_content: Option<String>,
    /// OpenRouter's and newer vLLM's name for `reasoning_content`.
    reasoning: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<CompletionCall>>,
}

#[derive(Deserialize)]
struct CompletionCall {
    id: Option<String>,
    function: CompletionFunction,
}

#[derive(Deserialize)]
struct CompletionFunction {
    name: String,
    arguments: Option<Value>,
}

/// Reads a complete `chat.completion` answer.
pub(crate) fn parse_response(provider: &str, model: &str, body: &[u8]) -> Result<ChatResponse, ProviderError> {
    let c: Completion =
        serde_json::from_slice(body).map_err(|e| crate::decode::decode_error(provider, "the chat completion", &e))?;
    let Some(choice) = c.choices.into_iter().next() else {
        return Err(ProviderError::new(
            ProviderErrorKind::Decode,
            provider,
            "the chat completion has no choices",
        ));
    };
    let mut content = Vec::new();
    let mut calls = 0;
    if let Some(m) = choice.message {
        if let Some(t) = m.reasoning_content.or(m.reasoning).filter(|t| !t.is_empty()) {
            content.push(ContentPart::Thinking {
                text: t,
                signature: None,
            });
        }
        match m.content {
            Some(Value::String(t)) if !t.is_empty() => content.push(ContentPart::Text { text: t }),
            Some(Value::Array(parts)) => {
                let t: String = parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect();
                if !t.is_empty() {
                    content.push(ContentPart::Text { text: t });
                }
            }
            _ => {}
        }
        if let Some(r) = m.refusal.filter(|t| !t.is_empty()) {
            content.push(ContentPart::Refusal { text: r });
        }
        for (i, call) in m.tool_calls.unwrap_or_default().into_iter().enumerate() {
            let arguments = match call.function.arguments {
                Some(Value::String(s)) => s,
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            let id = call.id.filter(|s| !s.is_empty()).unwrap_or_else(|| format!("call_{i}"));
            content.push(ContentPart::ToolCall(ToolCall::new(id, call.function.name, arguments)));
            calls += 1;
        }
    }
    let mut stop = choice.finish_reason.as_deref().map_or(StopReason::EndTurn, stop_reason);
    if stop == StopReason::EndTurn && calls > 0 {
        stop = StopReason::ToolUse;
    }
    let message = Message {
        role: Role::Assistant,
        content,
    };
    let mut resp = ChatResponse::new(provider, c.model.unwrap_or_else(|| model.to_owned()), message, stop);
    resp.id = c.id;
    if let Some(u) = c.usage {
        resp.usage = u.normalize();
    }
    Ok(resp)
}
