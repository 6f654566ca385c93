//! The server side of Anthropic's Messages wire format: a request body to a
//! [`ChatRequest`], a [`ChatResponse`] to a `message` object, and stream
//! events to Anthropic's SSE events (`message_start`, `content_block_*`,
//! `message_delta`, `message_stop`).

use serde_json::{Value, json};
use toolplane_core::{
    ChatRequest, ChatResponse, ContentPart, ImageSource, Message, Role, StopReason, StreamEvent, ToolCall, ToolChoice,
    ToolResult, ToolSpec, Usage,
};

use crate::error::{ApiError, Dialect};

const KNOWN: &[&str] = &[
    "model",
    "messages",
    "system",
    "max_tokens",
    "tools",
    "tool_choice",
    "temperature",
    "top_p",
    "stop_sequences",
    "stream",
    "metadata",
];

fn bad(param: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(param, format!("{param}: {}", message.into())).in_dialect(Dialect::Anthropic)
}

fn text_blocks(v: &Value, at: &str) -> Result<String, ApiError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Array(blocks) => {
            let mut s = String::new();
            for (i, b) in blocks.iter().enumerate() {
                match b.get("type").and_then(Value::as_str) {
                    Some("text") => s.push_str(b.get("text").and_then(Value::as_str).unwrap_or_default()),
                    _ => return Err(bad(&format!("{at}[{i}].type"), "only text blocks are allowed here")),
                }
            }
            Ok(s)
        }
        Value::Null => Ok(String::new()),
        _ => Err(bad(at, "must be a string or an array of text blocks")),
    }
}

fn block(b: &Value, at: &str, out: &mut Vec<ContentPart>) -> Result<(), ApiError> {
    match b.get("type").and_then(Value::as_str) {
        Some("text") => out.push(ContentPart::Text {
            text: b
                .get("text")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(&format!("{at}.text"), "a text block needs `text`"))?
                .to_owned(),
        }),
        Some("image") => {
            let s = b
                .get("source")
                .ok_or_else(|| bad(&format!("{at}.source"), "an image needs a source"))?;
            let source = match s.get("type").and_then(Value::as_str) {
                Some("base64") => ImageSource::Base64 {
                    media_type: s
                        .get("media_type")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    data: s.get("data").and_then(Value::as_str).unwrap_or_default().to_owned(),
                },
                Some("url") => ImageSource::Url {
                    url: s.get("url").and_then(Value::as_str).unwrap_or_default().to_owned(),
                },
                _ => return Err(bad(&format!("{at}.source.type"), "must be base64 or url")),
            };
            out.push(ContentPart::Image { source });
        }
        Some("tool_use") => {
            let id = b.get("id").and_then(Value::as_str).unwrap_or_default();
            let name = b
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(&format!("{at}.name"), "a tool_use block needs a name"))?;
            let input = b.get("input").cloned().unwrap_or_else(|| json!({}));
            out.push(ContentPart::ToolCall(ToolCall::from_value(id, name, &input)));
        }
        Some("tool_result") => {
            let id = b
                .get("tool_use_id")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(&format!("{at}.tool_use_id"), "a tool_result needs `tool_use_id`"))?;
            let content = text_blocks(b.get("content").unwrap_or(&Value::Null), &format!("{at}.content"))?;
            let mut r = ToolResult::ok(id, content);
            r.is_error = b.get("is_error").and_then(Value::as_bool).unwrap_or(false);
            out.push(ContentPart::ToolResult(r));
        }
        Some("thinking") => out.push(ContentPart::Thinking {
            text: b.get("thinking").and_then(Value::as_str).unwrap_or_default().to_owned(),
            signature: b.get("signature").and_then(Value::as_str).map(str::to_owned),
        }),
        Some(other) => {
            return Err(bad(
                &format!("{at}.type"),
                format!("block type `{other}` is not supported"),
            ));
        }
        None => return Err(bad(&format!("{at}.type"), "a content block needs a `type`")),
    }
    Ok(())
}

/// Reads a Messages request body; returns the request and whether to stream.
///
/// # Errors
/// A 400 (Anthropic-shaped) naming the field at fault.
pub fn parse_request(body: Value) -> Result<(ChatRequest, bool), ApiError> {
    let Value::Object(mut obj) = body else {
        return Err(bad("body", "the request body must be a JSON object"));
    };
    let model = obj
        .get("model")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("model", "`model` is required"))?
        .to_owned();
    let max_tokens = obj
        .get("max_tokens")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("max_tokens", "`max_tokens` is required and must be a positive integer"))?;
    let list = obj
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("messages", "`messages` is required and must be an array"))?;
    let mut messages = Vec::new();
    if let Some(system) = obj.get("system") {
        let text = text_blocks(system, "system")?;
        if !text.is_empty() {
            messages.push(Message::system(text));
        }
    }
    for (i, m) in list.iter().enumerate() {
        let at = format!("messages.{i}");
        let role = match m.get("role").and_then(Value::as_str) {
            Some("user") => Role::User,
            Some("assistant") => Role::Assistant,
            _ => return Err(bad(&format!("{at}.role"), "must be `user` or `assistant`")),
        };
        let mut parts = Vec::new();
        match m.get("content") {
            Some(Value::String(s)) => parts.push(ContentPart::Text { text: s.clone() }),
            Some(Value::Array(blocks)) => {
                for (j, b) in blocks.iter().enumerate() {
                    block(b, &format!("{at}.content.{j}"), &mut parts)?;
                }
            }
            _ => return Err(bad(&format!("{at}.content"), "must be a string or an array of blocks")),
        }
        // Tool results travel in user turns for Anthropic; the core keeps them in tool turns.
        let (results, rest): (Vec<_>, Vec<_>) =
            parts.into_iter().partition(|p| matches!(p, ContentPart::ToolResult(_)));
        if !results.is_empty() {
            messages.push(Message {
                role: Role::Tool,
                content: results,
            });
        }
        if !rest.is_empty() {
            messages.push(Message { role, content: rest });
        }
    }
    if messages.iter().all(|m| m.role == Role::System) {
        return Err(bad("messages", "at least one message is needed"));
    }
    let mut req = ChatRequest::new(model, messages);
    req.max_tokens = Some(u32::try_from(max_tokens).map_err(|_| bad("max_tokens", "too large"))?);
    if let Some(tools) = obj.get("tools").and_then(Value::as_array) {
        for (i, t) in tools.iter().enumerate() {
            let name = t
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(&format!("tools.{i}.name"), "a tool needs a name"))?;
            let mut spec = ToolSpec::new(name, t.get("description").and_then(Value::as_str).unwrap_or_default());
            if let Some(s) = t.get("input_schema") {
                spec = spec.with_input_schema(s.clone());
            }
            req.tools.push(spec);
        }
    }
    if let Some(c) = obj.get("tool_choice") {
        req.tool_choice = Some(match c.get("type").and_then(Value::as_str) {
            Some("auto") => ToolChoice::Auto,
            Some("any") => ToolChoice::Required,
            Some("none") => ToolChoice::None,
            Some("tool") => ToolChoice::Tool {
                name: c.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
            },
            _ => return Err(bad("tool_choice.type", "must be auto, any, none or tool")),
        });
        if let Some(false) = c.get("disable_parallel_tool_use").and_then(Value::as_bool).map(|d| !d) {
            req.parallel_tool_calls = Some(false);
        }
    }
    req.temperature = obj.get("temperature").and_then(Value::as_f64).map(|f| f as f32);
    req.top_p = obj.get("top_p").and_then(Value::as_f64).map(|f| f as f32);
    if let Some(stops) = obj.get("stop_sequences").and_then(Value::as_array) {
        req.stop = stops.iter().filter_map(Value::as_str).map(str::to_owned).collect();
    }
    req.metadata.user = obj
        .get("metadata")
        .and_then(|m| m.get("user_id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let stream = obj.get("stream").and_then(Value::as_bool).unwrap_or(false);
    obj.retain(|k, _| !KNOWN.contains(&k.as_str()));
    req.extra = obj;
    Ok((req, stream))
}

/// Anthropic's `stop_reason`.
pub fn stop_reason(r: &StopReason) -> &'static str {
    match r {
        StopReason::MaxTokens => "max_tokens",
        StopReason::ToolUse => "tool_use",
        StopReason::StopSequence => "stop_sequence",
        StopReason::Refusal | StopReason::ContentFilter => "refusal",
        StopReason::PauseTurn => "pause_turn",
        _ => "end_turn",
    }
}

fn usage_json(u: &Usage) -> Value {
    json!({
        "input_tokens": u.input_tokens.saturating_sub(u.cache_read_tokens + u.cache_write_tokens),
        "output_tokens": u.output_tokens,
        "cache_read_input_tokens": u.cache_read_tokens,
        "cache_creation_input_tokens": u.cache_write_tokens,
    })
}

fn tool_input(c: &ToolCall) -> Value {
    c.arguments_value().unwrap_or_else(|_| json!({}))
}

/// A `message` object; `model` is the expert that answered.
pub fn response_body(r: &ChatResponse, id: &str, model: &str) -> Value {
    let mut content = Vec::new();
    for p in &r.message.content {
        match p {
            ContentPart::Text { text } if !text.is_empty() => content.push(json!({"type": "text", "text": text})),
            ContentPart::Thinking { text, signature } => {
                content.push(json!({"type": "thinking", "thinking": text, "signature": signature}));
            }
            ContentPart::ToolCall(c) => {
                content.push(json!({"type": "tool_use", "id": c.id, "name": c.name, "input": tool_input(c)}));
            }
            ContentPart::Refusal { text } => content.push(json!({"type": "text", "text": text})),
            _ => {}
        }
    }
    json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(&r.stop_reason),
        "stop_sequence": null,
        "usage": usage_json(&r.usage),
    })
}

/// Turns stream events into Anthropic SSE events: `(event name, data)`.
#[derive(Debug)]
pub struct EventWriter {
    id: String,
    model: String,
    /// The open block: its index and whether it is text.
    open: Option<(usize, bool)>,
    next_index: usize,
    usage: Usage,
    started: bool,
    stop: Option<StopReason>,
}

impl EventWriter {
    /// A writer for one streamed message.
    pub fn new(id: String, model: String) -> Self {
        Self {
            id,
            model,
            open: None,
            next_index: 0,
            usage: Usage::default(),
            started: false,
            stop: None,
        }
    }

    fn close(&mut self, out: &mut Vec<(&'static str, Value)>) {
        if let Some((index, _)) = self.open.take() {
            out.push((
                "content_block_stop",
                json!({"type": "content_block_stop", "index": index}),
            ));
        }
    }

    fn start(&mut self, out: &mut Vec<(&'static str, Value)>) {
        if !self.started {
            self.started = true;
            out.push((
                "message_start",
                json!({"type": "message_start", "message": {
                    "id": self.id, "type": "message", "role": "assistant", "model": self.model,
                    "content": [], "stop_reason": null, "stop_sequence": null,
                    "usage": usage_json(&self.usage)}}),
            ));
        }
    }

    /// The events for one stream event.
    pub fn push(&mut self, e: &StreamEvent) -> Vec<(&'static str, Value)> {
        let mut out = Vec::new();
        self.start(&mut out);
        match e {
            StreamEvent::TextDelta { text } | StreamEvent::RefusalDelta { text } => {
                if !matches!(self.open, Some((_, true))) {
                    self.close(&mut out);
                    let index = self.next_index;
                    self.next_index += 1;
                    self.open = Some((index, true));
                    out.push((
                        "content_block_start",
                        json!({"type": "content_block_start", "index": index,
                            "content_block": {"type": "text", "text": ""}}),
                    ));
                }
                let index = self.open.map_or(0, |(i, _)| i);
                out.push((
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": index,
                        "delta": {"type": "text_delta", "text": text}}),
                ));
            }
            StreamEvent::ToolCallStart { id, name, .. } => {
                self.close(&mut out);
                let index = self.next_index;
                self.next_index += 1;
                self.open = Some((index, false));
                out.push((
                    "content_block_start",
                    json!({"type": "content_block_start", "index": index,
                        "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}}),
                ));
            }
            StreamEvent::ToolCallDelta { fragment, .. } => {
                let index = self.open.map_or(0, |(i, _)| i);
                out.push((
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": fragment}}),
                ));
            }
            StreamEvent::ToolCallEnd { .. } => self.close(&mut out),
            StreamEvent::Usage { usage } => self.usage = *usage,
            StreamEvent::Stop { reason } => self.stop = Some(reason.clone()),
            _ => {}
        }
        out
    }

    /// The closing events: `message_delta` with the stop reason and usage, then `message_stop`.
    pub fn finish(&mut self) -> Vec<(&'static str, Value)> {
        let mut out = Vec::new();
        self.start(&mut out);
        self.close(&mut out);
        let reason = self.stop.clone().unwrap_or(StopReason::EndTurn);
        out.push((
            "message_delta",
            json!({"type": "message_delta",
                "delta": {"stop_reason": stop_reason(&reason), "stop_sequence": null},
                "usage": usage_json(&self.usage)}),
        ));
        out.push(("message_stop", json!({"type": "message_stop"})));
        out
    }
}

/// The JSON Schema of the request body [`parse_request`] accepts (other
/// fields pass through to the upstream).
pub fn request_schema() -> Value {
    let text_block = json!({"type": "object", "required": ["type", "text"],
        "properties": {"type": {"const": "text"}, "text": {"type": "string"}}});
    let block = json!({"oneOf": [
        text_block,
        {"type": "object", "required": ["type", "source"], "properties": {"type": {"const": "image"},
            "source": {"oneOf": [
                {"type": "object", "required": ["type"], "properties": {"type": {"const": "base64"},
                    "media_type": {"type": "string"}, "data": {"type": "string"}}},
                {"type": "object", "required": ["type"], "properties": {"type": {"const": "url"}, "url": {"type": "string"}}}]}}},
        {"type": "object", "required": ["type", "name"], "properties": {"type": {"const": "tool_use"},
            "id": {"type": "string"}, "name": {"type": "string"}, "input": {"type": "object"}}},
        {"type": "object", "required": ["type", "tool_use_id"], "properties": {"type": {"const": "tool_result"},
            "tool_use_id": {"type": "string"},
            "content": {"anyOf": [{"type": "string"}, {"type": "array", "items": text_block}, {"type": "null"}]},
            "is_error": {"type": "boolean"}}},
        {"type": "object", "required": ["type"], "properties": {"type": {"const": "thinking"},
            "thinking": {"type": "string"}, "signature": {"type": "string"}}}
    ]});
    json!({
        "type": "object",
        "required": ["model", "max_tokens", "messages"],
        "description": "Anthropic's Messages request. Fields not listed pass through to the upstream unchanged.",
        "properties": {
            "model": {"type": "string", "description": "An expert id, `auto`, or a task type (GET /v1/models)."},
            "max_tokens": {"type": "integer", "minimum": 1, "maximum": u32::MAX},
            "system": {"anyOf": [{"type": "string"}, {"type": "array", "items": text_block}, {"type": "null"}]},
            "messages": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["role", "content"], "properties": {
                    "role": {"enum": ["user", "assistant"]},
                    "content": {"anyOf": [{"type": "string"}, {"type": "array", "items": block}]}}}},
            "tools": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"}, "description": {"type": "string"},
                "input_schema": {"type": "object"}}}},
            "tool_choice": {"type": "object", "required": ["type"], "properties": {
                "type": {"enum": ["auto", "any", "none", "tool"]}, "name": {"type": "string"},
                "disable_parallel_tool_use": {"type": "boolean"}}},
            "temperature": {"type": "number"},
            "top_p": {"type": "number"},
            "stop_sequences": {"type": "array", "items": {"type": "string"}},
            "stream": {"type": "boolean", "description": "Answer as Anthropic's server-sent events."},
            "metadata": {"type": "object", "properties": {"user_id": {"type": "string"}}}
        }
    })
}

fn usage_schema() -> Value {
    let count = json!({"type": "integer", "minimum": 0});
    json!({"type": "object",
        "required": ["input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"],
        "properties": {"input_tokens": count, "output_tokens": count,
            "cache_read_input_tokens": count, "cache_creation_input_tokens": count}})
}

fn stop_reason_schema() -> Value {
    json!({"enum": ["end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal"]})
}

fn content_block_schema() -> Value {
    json!({"oneOf": [
        {"type": "object", "required": ["type", "text"], "properties": {"type": {"const": "text"}, "text": {"type": "string"}}},
        {"type": "object", "required": ["type", "thinking"], "properties": {"type": {"const": "thinking"},
            "thinking": {"type": "string"}, "signature": {"type": ["string", "null"]}}},
        {"type": "object", "required": ["type", "id", "name", "input"], "properties": {"type": {"const": "tool_use"},
            "id": {"type": "string"}, "name": {"type": "string"}, "input": {"type": "object"}}}
    ]})
}

/// The JSON Schema of [`response_body`] (a `message` object).
pub fn response_schema() -> Value {
    json!({
        "type": "object",
        "required": ["id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"],
        "properties": {
            "id": {"type": "string"},
            "type": {"const": "message"},
            "role": {"const": "assistant"},
            "model": {"type": "string", "description": "The expert that answered."},
            "content": {"type": "array", "items": content_block_schema()},
            "stop_reason": stop_reason_schema(),
            "stop_sequence": {"type": ["string", "null"]},
            "usage": usage_schema()
        }
    })
}

/// The JSON Schema of one server-sent event of a streamed message (as
/// OpenAPI 3.1 describes an event stream: each event an object with
/// `event` and `data`), one branch per event name; `error` carries `error`.
pub fn stream_event_schema(error: Value) -> Value {
    let index = json!({"type": "integer", "minimum": 0});
    let events = [
        (
            "message_start",
            json!({"type": "object", "required": ["type", "message"], "properties": {
            "type": {"const": "message_start"},
            "message": {"type": "object", "required": ["id", "type", "role", "model", "content", "usage"], "properties": {
                "id": {"type": "string"}, "type": {"const": "message"}, "role": {"const": "assistant"},
                "model": {"type": "string"}, "content": {"type": "array", "maxItems": 0},
                "stop_reason": {"type": "null"}, "stop_sequence": {"type": "null"}, "usage": usage_schema()}}}}),
        ),
        (
            "content_block_start",
            json!({"type": "object", "required": ["type", "index", "content_block"], "properties": {
            "type": {"const": "content_block_start"}, "index": index, "content_block": content_block_schema()}}),
        ),
        (
            "content_block_delta",
            json!({"type": "object", "required": ["type", "index", "delta"], "properties": {
            "type": {"const": "content_block_delta"}, "index": index,
            "delta": {"oneOf": [
                {"type": "object", "required": ["type", "text"], "properties": {"type": {"const": "text_delta"}, "text": {"type": "string"}}},
                {"type": "object", "required": ["type", "partial_json"], "properties": {"type": {"const": "input_json_delta"},
                    "partial_json": {"type": "string"}}}]}}}),
        ),
        (
            "content_block_stop",
            json!({"type": "object", "required": ["type", "index"], "properties": {
            "type": {"const": "content_block_stop"}, "index": index}}),
        ),
        (
            "message_delta",
            json!({"type": "object", "required": ["type", "delta", "usage"], "properties": {
            "type": {"const": "message_delta"},
            "delta": {"type": "object", "required": ["stop_reason"], "properties": {
                "stop_reason": stop_reason_schema(), "stop_sequence": {"type": ["string", "null"]}}},
            "usage": usage_schema()}}),
        ),
        (
            "message_stop",
            json!({"type": "object", "required": ["type"], "properties": {"type": {"const": "message_stop"}}}),
        ),
        ("error", error),
    ];
    let branches: Vec<Value> = events
        .into_iter()
        .map(|(name, data)| {
            json!({"type": "object", "required": ["event", "data"], "properties": {
                "event": {"const": name},
                "data": {"type": "string", "pattern": "^\\{", "contentMediaType": "application/json", "contentSchema": data}}})
        })
        .collect();
    json!({"oneOf": branches})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_results_in_user_turns_become_tool_turns() {
        let body = json!({
            "model": "auto", "max_tokens": 100, "system": "be brief",
            "messages": [
                {"role": "user", "content": "time?"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "now", "input": {}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "12:00"},
                    {"type": "text", "text": "and?"}]}
            ],
            "tools": [{"name": "now", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "any"}
        });
        crate::openai_wire::tests::conforms(&request_schema(), &body);
        let (req, stream) = parse_request(body).unwrap();
        assert!(!stream);
        let roles: Vec<Role> = req.messages.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [Role::System, Role::User, Role::Assistant, Role::Tool, Role::User]
        );
        assert_eq!(req.tool_choice, Some(ToolChoice::Required));
        assert_eq!(req.max_tokens, Some(100));
    }

    #[test]
    fn missing_max_tokens_is_named() {
        let e = parse_request(json!({"model": "a", "messages": []})).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("max_tokens"));
        assert_eq!(e.body()["type"], "error");
    }

    #[test]
    fn a_stream_opens_and_closes_blocks() {
        let mut w = EventWriter::new("m1".into(), "x".into());
        let mut events: Vec<(&str, Value)> = Vec::new();
        for e in [
            StreamEvent::TextDelta { text: "a".into() },
            StreamEvent::ToolCallStart {
                index: 0,
                id: "t".into(),
                name: "now".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                fragment: "{}".into(),
            },
            StreamEvent::ToolCallEnd {
                index: 0,
                call: ToolCall::new("t", "now", "{}"),
            },
            StreamEvent::Stop {
                reason: StopReason::ToolUse,
            },
        ] {
            events.extend(w.push(&e));
        }
        events.extend(w.finish());
        let names: Vec<&str> = events.iter().map(|(n, _)| *n).collect();
        let schema = stream_event_schema(ApiError::schema(Dialect::Anthropic));
        for (name, data) in &events {
            let branch = schema["oneOf"]
                .as_array()
                .unwrap()
                .iter()
                .find(|b| b["properties"]["event"]["const"] == *name)
                .unwrap();
            crate::openai_wire::tests::conforms(&branch["properties"]["data"]["contentSchema"], data);
        }
        assert_eq!(
            names,
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
    }
}
