//! The server side of OpenAI's Chat Completions wire format: a request body
//! to a [`ChatRequest`], a [`ChatResponse`] to a response body, and stream
//! events to `chat.completion.chunk` objects.
//!
//! The providers crate holds the client side (our requests to OpenAI, their
//! answers to us); this is the mirror image, for clients calling us.

use serde_json::{Map, Value, json};
use toolplane_core::{
    ChatRequest, ChatResponse, ContentPart, ImageSource, Message, ResponseFormat, Role, StopReason, StreamEvent,
    ToolCall, ToolChoice, ToolResult, ToolSpec, Usage,
};

use crate::error::ApiError;

/// What a request asks of the transport rather than the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamFlags {
    /// `stream: true`.
    pub stream: bool,
    /// `stream_options.include_usage: true`.
    pub include_usage: bool,
}

/// Fields we map ourselves; everything else goes to `extra` for the upstream.
const KNOWN: &[&str] = &[
    "model",
    "messages",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "stop",
    "seed",
    "response_format",
    "stream",
    "stream_options",
    "user",
    "metadata",
    "functions",
    "function_call",
];

fn bad(param: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(param, message)
}

fn text_of(content: &Value, param: &str) -> Result<Vec<ContentPart>, ApiError> {
    match content {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![ContentPart::Text { text: s.clone() }]),
        Value::Array(parts) => {
            let mut out = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                let at = format!("{param}[{i}]");
                match p.get("type").and_then(Value::as_str) {
                    Some("text") => out.push(ContentPart::Text {
                        text: p
                            .get("text")
                            .and_then(Value::as_str)
                            .ok_or_else(|| bad(&format!("{at}.text"), "a text part needs a string `text`"))?
                            .to_owned(),
                    }),
                    Some("image_url") => {
                        let url = p.pointer("/image_url/url").and_then(Value::as_str).ok_or_else(|| {
                            bad(&format!("{at}.image_url.url"), "an image part needs `image_url.url`")
                        })?;
                        let source = match url.strip_prefix("data:").and_then(|r| r.split_once(";base64,")) {
                            Some((media_type, data)) => ImageSource::Base64 {
                                media_type: media_type.to_owned(),
                                data: data.to_owned(),
                            },
                            None => ImageSource::Url { url: url.to_owned() },
                        };
                        out.push(ContentPart::Image { source });
                    }
                    Some("refusal") => out.push(ContentPart::Refusal {
                        text: p.get("refusal").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    }),
                    Some(other) => {
                        return Err(bad(
                            &format!("{at}.type"),
                            format!("content part type `{other}` is not supported"),
                        ));
                    }
                    None => return Err(bad(&format!("{at}.type"), "a content part needs a `type`")),
                }
            }
            Ok(out)
        }
        _ => Err(bad(param, "`content` must be a string, an array of parts, or null")),
    }
}

fn message(m: &Value, i: usize) -> Result<Message, ApiError> {
    let at = |f: &str| format!("messages[{i}].{f}");
    let role = m
        .get("role")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(&at("role"), "every message needs a `role`"))?;
    let content = m.get("content").unwrap_or(&Value::Null);
    match role {
        "system" | "developer" => Ok(Message {
            role: Role::System,
            content: text_of(content, &at("content"))?,
        }),
        "user" => Ok(Message {
            role: Role::User,
            content: text_of(content, &at("content"))?,
        }),
        "assistant" => {
            let mut parts = text_of(content, &at("content"))?;
            if let Some(calls) = m.get("tool_calls").filter(|v| !v.is_null()) {
                let calls = calls
                    .as_array()
                    .ok_or_else(|| bad(&at("tool_calls"), "`tool_calls` must be an array"))?;
                for (j, c) in calls.iter().enumerate() {
                    let id = c.get("id").and_then(Value::as_str).unwrap_or_default();
                    let name = c.pointer("/function/name").and_then(Value::as_str).ok_or_else(|| {
                        bad(
                            &at(&format!("tool_calls[{j}].function.name")),
                            "a tool call needs a name",
                        )
                    })?;
                    let args = c.pointer("/function/arguments").and_then(Value::as_str).unwrap_or("{}");
                    parts.push(ContentPart::ToolCall(ToolCall::new(id, name, args)));
                }
            }
            Ok(Message {
                role: Role::Assistant,
                content: parts,
            })
        }
        "tool" => {
            let id = m
                .get("tool_call_id")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(&at("tool_call_id"), "a tool message needs `tool_call_id`"))?;
            let text: String = text_of(content, &at("content"))?
                .iter()
                .filter_map(|p| match p {
                    ContentPart::Text { text } => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            Ok(Message::tool_results(vec![ToolResult::ok(id, text)]))
        }
        other => Err(bad(
            &at("role"),
            format!("role `{other}` is not one of system, developer, user, assistant, tool"),
        )),
    }
}

fn tool(t: &Value, i: usize) -> Result<ToolSpec, ApiError> {
    let at = |f: &str| format!("tools[{i}].{f}");
    if t.get("type").and_then(Value::as_str) != Some("function") {
        return Err(bad(&at("type"), "only `function` tools are supported"));
    }
    let f = t
        .get("function")
        .ok_or_else(|| bad(&at("function"), "`function` is required"))?;
    let name = f
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad(&at("function.name"), "a tool needs a name"))?;
    let mut spec = ToolSpec::new(name, f.get("description").and_then(Value::as_str).unwrap_or_default());
    if let Some(p) = f.get("parameters") {
        if !p.is_object() {
            return Err(bad(
                &at("function.parameters"),
                "`parameters` must be a JSON Schema object",
            ));
        }
        spec = spec.with_input_schema(p.clone());
    }
    Ok(spec)
}

/// Reads a Chat Completions request body.
///
/// # Errors
/// A 400 naming the field at fault.
pub fn parse_request(body: Value) -> Result<(ChatRequest, StreamFlags), ApiError> {
    let Value::Object(mut obj) = body else {
        return Err(bad("", "the request body must be a JSON object"));
    };
    let model = obj
        .get("model")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad(
                "model",
                "`model` is required (an expert id, `auto`, or a task type; see GET /v1/models)",
            )
        })?
        .to_owned();
    let messages = obj
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("messages", "`messages` is required and must be an array"))?;
    if messages.is_empty() {
        return Err(bad("messages", "`messages` must not be empty"));
    }
    let messages = messages
        .iter()
        .enumerate()
        .map(|(i, m)| message(m, i))
        .collect::<Result<Vec<_>, _>>()?;
    let mut req = ChatRequest::new(model, merge_tool_results(messages));
    if let Some(tools) = obj.get("tools").filter(|v| !v.is_null()) {
        let tools = tools
            .as_array()
            .ok_or_else(|| bad("tools", "`tools` must be an array"))?;
        req.tools = tools
            .iter()
            .enumerate()
            .map(|(i, t)| tool(t, i))
            .collect::<Result<_, _>>()?;
    }
    req.tool_choice = match obj.get("tool_choice") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(match s.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Required,
            other => return Err(bad("tool_choice", format!("`{other}` is not auto, none or required"))),
        }),
        Some(v) => Some(ToolChoice::Tool {
            name: v
                .pointer("/function/name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("tool_choice.function.name", "name the tool to force"))?
                .to_owned(),
        }),
    };
    let get_bool = |k: &str| -> Result<Option<bool>, ApiError> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(bad(k, format!("`{k}` must be true or false"))),
        }
    };
    req.parallel_tool_calls = get_bool("parallel_tool_calls")?;
    let stream = get_bool("stream")?.unwrap_or(false);
    let include_usage = obj
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let get_u64 = |k: &str| -> Result<Option<u64>, ApiError> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| bad(k, format!("`{k}` must be a non-negative integer"))),
        }
    };
    let get_f32 = |k: &str| -> Result<Option<f32>, ApiError> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .map(|f| Some(f as f32))
                .ok_or_else(|| bad(k, format!("`{k}` must be a number"))),
        }
    };
    let max = get_u64("max_completion_tokens")?.or(get_u64("max_tokens")?);
    req.max_tokens = max
        .map(|m| u32::try_from(m).map_err(|_| bad("max_tokens", "`max_tokens` is too large")))
        .transpose()?;
    req.temperature = get_f32("temperature")?;
    req.top_p = get_f32("top_p")?;
    req.seed = get_u64("seed")?;
    req.stop = match obj.get("stop") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| bad("stop", "`stop` must hold strings"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(bad("stop", "`stop` must be a string or an array of strings")),
    };
    req.response_format = match obj.get("response_format") {
        None | Some(Value::Null) => None,
        Some(f) => Some(match f.get("type").and_then(Value::as_str) {
            Some("text") => ResponseFormat::Text,
            Some("json_object") => ResponseFormat::JsonObject,
            Some("json_schema") => {
                let s = f
                    .get("json_schema")
                    .ok_or_else(|| bad("response_format.json_schema", "`json_schema` is required"))?;
                ResponseFormat::JsonSchema {
                    name: s.get("name").and_then(Value::as_str).unwrap_or("response").to_owned(),
                    schema: s.get("schema").cloned().unwrap_or_else(|| json!({})),
                    strict: s.get("strict").and_then(Value::as_bool).unwrap_or(false),
                }
            }
            _ => return Err(bad("response_format.type", "must be text, json_object or json_schema")),
        }),
    };
    req.metadata.user = obj.get("user").and_then(Value::as_str).map(str::to_owned);
    if let Some(Value::Object(m)) = obj.get("metadata") {
        for (k, v) in m {
            if let Some(s) = v.as_str() {
                req.metadata.tags.insert(k.clone(), s.to_owned());
            }
        }
    }
    obj.retain(|k, _| !KNOWN.contains(&k.as_str()));
    req.extra = obj;
    Ok((req, StreamFlags { stream, include_usage }))
}

/// Consecutive tool-result messages become one message (the loop's shape).
fn merge_tool_results(messages: Vec<Message>) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::with_capacity(messages.len());
    for m in messages {
        let is_results = |m: &Message| m.role == Role::Tool;
        if let Some(last) = out.last_mut() {
            if is_results(last) && is_results(&m) {
                last.content.extend(m.content);
                continue;
            }
        }
        out.push(m);
    }
    out
}

/// OpenAI's `finish_reason`.
pub fn finish_reason(r: &StopReason) -> &'static str {
    match r {
        StopReason::MaxTokens => "length",
        StopReason::ToolUse => "tool_calls",
        StopReason::ContentFilter | StopReason::Refusal => "content_filter",
        _ => "stop",
    }
}

/// The `usage` object.
pub fn usage_json(u: &Usage) -> Value {
    json!({
        "prompt_tokens": u.input_tokens,
        "completion_tokens": u.output_tokens,
        "total_tokens": u.total_tokens(),
        "prompt_tokens_details": {"cached_tokens": u.cache_read_tokens},
        "completion_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
    })
}

fn tool_call_json(c: &ToolCall) -> Value {
    json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}})
}

/// A `chat.completion` object; `model` is the expert that answered.
pub fn response_body(r: &ChatResponse, id: &str, model: &str, created: u64) -> Value {
    let text = r.text();
    let calls: Vec<Value> = r.tool_calls().map(tool_call_json).collect();
    let refusal: Option<String> = r.message.content.iter().find_map(|p| match p {
        ContentPart::Refusal { text } => Some(text.clone()),
        _ => None,
    });
    let mut message = Map::new();
    message.insert("role".into(), json!("assistant"));
    message.insert(
        "content".into(),
        if text.is_empty() && !calls.is_empty() {
            Value::Null
        } else {
            json!(text)
        },
    );
    message.insert("refusal".into(), json!(refusal));
    if !calls.is_empty() {
        message.insert("tool_calls".into(), Value::Array(calls));
    }
    json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(&r.stop_reason),
        }],
        "usage": usage_json(&r.usage),
    })
}

/// Turns stream events into `chat.completion.chunk` objects.
#[derive(Debug)]
pub struct ChunkWriter {
    id: String,
    model: String,
    created: u64,
    include_usage: bool,
    usage: Usage,
    started: bool,
}

impl ChunkWriter {
    /// A writer for one streamed answer.
    pub fn new(id: String, model: String, created: u64, include_usage: bool) -> Self {
        Self {
            id,
            model,
            created,
            include_usage,
            usage: Usage::default(),
            started: false,
        }
    }

    fn chunk(&self, delta: Value, finish: Option<&str>) -> Value {
        json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        })
    }

    /// The chunks for one event (none for events OpenAI has no chunk for).
    pub fn push(&mut self, e: &StreamEvent) -> Vec<Value> {
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            out.push(self.chunk(json!({"role": "assistant", "content": ""}), None));
        }
        match e {
            StreamEvent::TextDelta { text } => out.push(self.chunk(json!({"content": text}), None)),
            StreamEvent::RefusalDelta { text } => out.push(self.chunk(json!({"refusal": text}), None)),
            StreamEvent::ToolCallStart { index, id, name } => out.push(self.chunk(
                json!({"tool_calls": [{"index": index, "id": id, "type": "function",
                    "function": {"name": name, "arguments": ""}}]}),
                None,
            )),
            StreamEvent::ToolCallDelta { index, fragment } => out.push(self.chunk(
                json!({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}),
                None,
            )),
            StreamEvent::Usage { usage } => self.usage = *usage,
            StreamEvent::Stop { reason } => {
                let mut last = self.chunk(json!({}), Some(finish_reason(reason)));
                if self.include_usage {
                    last["usage"] = Value::Null;
                }
                out.push(last);
            }
            _ => {}
        }
        if self.include_usage {
            for c in &mut out {
                if c.get("usage").is_none() {
                    c["usage"] = Value::Null;
                }
            }
        }
        out
    }

    /// The final usage chunk (empty `choices`), when the client asked for it.
    pub fn finish(&self) -> Option<Value> {
        self.include_usage.then(|| {
            json!({
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "choices": [],
                "usage": usage_json(&self.usage),
            })
        })
    }
}

/// The JSON Schema of the request body [`parse_request`] accepts: the fields
/// it reads, with the shapes it checks; other fields pass through to the upstream.
pub fn request_schema() -> Value {
    let text_part = json!({"type": "object", "required": ["type", "text"],
        "properties": {"type": {"const": "text"}, "text": {"type": "string"}}});
    let part = json!({"oneOf": [
        text_part,
        {"type": "object", "required": ["type", "image_url"], "properties": {"type": {"const": "image_url"},
            "image_url": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string",
                "description": "An http(s) URL or a `data:<media type>;base64,<data>` URL."}}}}},
        {"type": "object", "required": ["type"], "properties": {"type": {"const": "refusal"}, "refusal": {"type": "string"}}}
    ]});
    let text_content = json!({"anyOf": [{"type": "string"}, {"type": "array", "items": text_part}, {"type": "null"}]});
    let content = json!({"anyOf": [{"type": "string"}, {"type": "array", "items": part}, {"type": "null"}]});
    let tool_call = json!({"type": "object", "required": ["function"], "properties": {
        "id": {"type": "string"}, "type": {"const": "function"},
        "function": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"}, "arguments": {"type": "string", "description": "The arguments as JSON text."}}}}});
    let message = json!({"oneOf": [
        {"type": "object", "required": ["role"], "properties": {
            "role": {"enum": ["system", "developer"]}, "content": text_content, "name": {"type": "string"}}},
        {"type": "object", "required": ["role"], "properties": {
            "role": {"const": "user"}, "content": content, "name": {"type": "string"}}},
        {"type": "object", "required": ["role"], "properties": {
            "role": {"const": "assistant"}, "content": content,
            "tool_calls": {"type": ["array", "null"], "items": tool_call}}},
        {"type": "object", "required": ["role", "tool_call_id"], "properties": {
            "role": {"const": "tool"}, "tool_call_id": {"type": "string"}, "content": text_content}}
    ]});
    let tool = json!({"type": "object", "required": ["type", "function"], "properties": {
        "type": {"const": "function"},
        "function": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string", "minLength": 1}, "description": {"type": "string"},
            "parameters": {"type": "object", "description": "The tool's arguments as a JSON Schema."},
            "strict": {"type": "boolean"}}}}});
    let max = json!({"type": ["integer", "null"], "minimum": 0, "maximum": u32::MAX});
    let number = json!({"type": ["number", "null"]});
    json!({
        "type": "object",
        "required": ["model", "messages"],
        "description": "OpenAI's Chat Completions request. Fields not listed pass through to the upstream unchanged.",
        "properties": {
            "model": {"type": "string", "description": "An expert id, `auto`, or a task type (GET /v1/models)."},
            "messages": {"type": "array", "minItems": 1, "items": message},
            "tools": {"type": ["array", "null"], "items": tool},
            "tool_choice": {"anyOf": [
                {"enum": ["auto", "none", "required"]},
                {"type": "object", "required": ["function"], "properties": {"type": {"const": "function"},
                    "function": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}},
                {"type": "null"}]},
            "parallel_tool_calls": {"type": ["boolean", "null"]},
            "max_tokens": max,
            "max_completion_tokens": max,
            "temperature": number,
            "top_p": number,
            "seed": {"type": ["integer", "null"], "minimum": 0},
            "stop": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
            "response_format": {"anyOf": [
                {"type": "object", "required": ["type"], "properties": {"type": {"enum": ["text", "json_object"]}}},
                {"type": "object", "required": ["type", "json_schema"], "properties": {"type": {"const": "json_schema"},
                    "json_schema": {"type": "object", "properties": {"name": {"type": "string"},
                        "schema": {"type": "object"}, "strict": {"type": "boolean"}}}}},
                {"type": "null"}]},
            "stream": {"type": ["boolean", "null"], "description": "Answer as server-sent events of `chat.completion.chunk` objects."},
            "stream_options": {"type": ["object", "null"], "properties": {"include_usage": {"type": "boolean"}}},
            "user": {"type": "string"},
            "metadata": {"type": "object", "additionalProperties": {"type": "string"}}
        }
    })
}

/// The JSON Schema of [`usage_json`].
pub fn usage_schema() -> Value {
    let count = json!({"type": "integer", "minimum": 0});
    json!({
        "type": "object",
        "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
        "properties": {
            "prompt_tokens": count, "completion_tokens": count, "total_tokens": count,
            "prompt_tokens_details": {"type": "object", "properties": {"cached_tokens": count}},
            "completion_tokens_details": {"type": "object", "properties": {"reasoning_tokens": count}}
        }
    })
}

fn tool_call_schema(streamed: bool) -> Value {
    if streamed {
        json!({"type": "object", "required": ["index", "function"], "properties": {
            "index": {"type": "integer", "minimum": 0}, "id": {"type": "string"}, "type": {"const": "function"},
            "function": {"type": "object", "properties": {"name": {"type": "string"}, "arguments": {"type": "string"}}}}})
    } else {
        json!({"type": "object", "required": ["id", "type", "function"], "properties": {
            "id": {"type": "string"}, "type": {"const": "function"},
            "function": {"type": "object", "required": ["name", "arguments"], "properties": {
                "name": {"type": "string"}, "arguments": {"type": "string"}}}}})
    }
}

fn finish_reason_schema() -> Value {
    json!({"enum": ["stop", "length", "tool_calls", "content_filter"]})
}

/// The JSON Schema of [`response_body`] (a `chat.completion` object).
pub fn response_schema() -> Value {
    json!({
        "type": "object",
        "required": ["id", "object", "created", "model", "choices", "usage"],
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "chat.completion"},
            "created": {"type": "integer", "minimum": 0, "description": "Unix seconds."},
            "model": {"type": "string", "description": "The expert that answered."},
            "choices": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
                "type": "object",
                "required": ["index", "message", "logprobs", "finish_reason"],
                "properties": {
                    "index": {"const": 0},
                    "message": {"type": "object", "required": ["role", "content", "refusal"], "properties": {
                        "role": {"const": "assistant"},
                        "content": {"type": ["string", "null"]},
                        "refusal": {"type": ["string", "null"]},
                        "tool_calls": {"type": "array", "minItems": 1, "items": tool_call_schema(false)}}},
                    "logprobs": {"type": "null"},
                    "finish_reason": finish_reason_schema()
                }
            }},
            "usage": usage_schema()
        }
    })
}

/// The JSON Schema of one `chat.completion.chunk` of [`ChunkWriter`].
pub fn chunk_schema() -> Value {
    json!({
        "type": "object",
        "required": ["id", "object", "created", "model", "choices"],
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "chat.completion.chunk"},
            "created": {"type": "integer", "minimum": 0},
            "model": {"type": "string"},
            "choices": {"type": "array", "maxItems": 1, "items": {
                "type": "object",
                "required": ["index", "delta", "finish_reason"],
                "properties": {
                    "index": {"const": 0},
                    "delta": {"type": "object", "properties": {
                        "role": {"const": "assistant"},
                        "content": {"type": "string"},
                        "refusal": {"type": "string"},
                        "tool_calls": {"type": "array", "items": tool_call_schema(true)}}},
                    "logprobs": {"type": "null"},
                    "finish_reason": {"anyOf": [finish_reason_schema(), {"type": "null"}]}
                }
            }},
            "usage": {"anyOf": [usage_schema(), {"type": "null"}],
                "description": "With `stream_options.include_usage`: null on every chunk but the last, whose `choices` is empty."}
        }
    })
}

/// The JSON Schema of one server-sent event of a streamed completion, as
/// OpenAPI 3.1 describes an event stream (each event an object with `data`,
/// `event`, `id`): a chunk, an error object, or the closing `[DONE]`.
pub fn stream_event_schema(error: Value) -> Value {
    json!({
        "type": "object",
        "required": ["data"],
        "properties": {
            "event": {"const": "message"},
            "data": {"anyOf": [
                {"const": "[DONE]"},
                {"type": "string", "pattern": "^\\{", "contentMediaType": "application/json",
                    "contentSchema": {"oneOf": [chunk_schema(), error]}}
            ]}
        }
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn a_full_request_maps_every_field() {
        let body = json!({
            "model": "auto",
            "messages": [
                {"role": "developer", "content": "be brief"},
                {"role": "user", "content": [{"type": "text", "text": "hi"}]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "now", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "12:00"}
            ],
            "tools": [{"type": "function", "function": {"name": "now", "parameters": {"type": "object"}}}],
            "tool_choice": {"type": "function", "function": {"name": "now"}},
            "parallel_tool_calls": false,
            "max_completion_tokens": 50,
            "stop": "END",
            "response_format": {"type": "json_object"},
            "stream": true,
            "stream_options": {"include_usage": true},
            "logit_bias": {"1": 2}
        });
        conforms(&request_schema(), &body);
        let (req, flags) = parse_request(body).unwrap();
        assert_eq!(
            flags,
            StreamFlags {
                stream: true,
                include_usage: true
            }
        );
        assert_eq!(req.messages.len(), 4);
        assert_eq!(req.messages[0].role, Role::System);
        assert_eq!(req.messages[2].tool_calls().next().unwrap().name, "now");
        assert_eq!(req.messages[3].tool_call_results().next().unwrap().content, "12:00");
        assert_eq!(req.tool_choice, Some(ToolChoice::Tool { name: "now".into() }));
        assert_eq!(req.parallel_tool_calls, Some(false));
        assert_eq!(req.max_tokens, Some(50));
        assert_eq!(req.stop, ["END"]);
        assert_eq!(req.response_format, Some(ResponseFormat::JsonObject));
        assert_eq!(req.extra["logit_bias"], json!({"1": 2}));
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse_request(json!({"model": "auto"})).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("messages"));
        let e = parse_request(json!({"model": "auto", "messages": [{"role": "robot", "content": "x"}]})).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("messages[0].role"));
        let e = parse_request(json!({"model": "a", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {}}]})).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("tools[0].function.name"));
    }

    #[test]
    fn chunks_end_with_a_usage_chunk_when_asked() {
        let mut w = ChunkWriter::new("c".into(), "m".into(), 1, true);
        let mut chunks = w.push(&StreamEvent::TextDelta { text: "hi".into() });
        chunks.extend(w.push(&StreamEvent::Usage {
            usage: Usage {
                input_tokens: 3,
                output_tokens: 1,
                ..Default::default()
            },
        }));
        chunks.extend(w.push(&StreamEvent::Stop {
            reason: StopReason::EndTurn,
        }));
        for c in &chunks {
            conforms(&chunk_schema(), c);
        }
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        assert_eq!(chunks[1]["choices"][0]["delta"]["content"], "hi");
        assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "stop");
        let last = w.finish().unwrap();
        assert_eq!(last["usage"]["total_tokens"], 4);
        assert_eq!(last["choices"], json!([]));
        conforms(&chunk_schema(), &last);
    }

    /// Fails with every error of `v` against `schema`.
    pub(crate) fn conforms(schema: &Value, v: &Value) {
        let validator = jsonschema::validator_for(schema).unwrap();
        let errors: Vec<String> = validator.iter_errors(v).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}\n{v}");
    }

    #[test]
    fn the_schemas_reject_what_the_parser_rejects() {
        for bad in [
            json!({"model": "auto"}),
            json!({"model": "auto", "messages": []}),
            json!({"model": "auto", "messages": [{"role": "robot", "content": "x"}]}),
            json!({"model": "auto", "messages": [{"role": "tool", "content": "x"}]}),
            json!({"model": "a", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {}}]}),
        ] {
            let validator = jsonschema::validator_for(&request_schema()).unwrap();
            assert!(!validator.is_valid(&bad), "{bad}");
            assert!(parse_request(bad).is_err());
        }
    }
}
