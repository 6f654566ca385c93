//! The OpenAI Responses API (`POST {base_url}/responses`): `function_call`
//! and `function_call_output` items, and its typed stream events.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, ChatStream, ContentPart, ImageSource, Message, ProviderError,
    RateLimitSnapshot, ResponseFormat, Role, StopReason, StreamEvent, ToolCall, ToolChoice, Usage,
};

use crate::config::{ConfigError, ProviderConfig};
use crate::decode::{
    DecodedItem, PendingCall, StreamDecoder, decode_error, finish_calls, incomplete, open_call, read_event,
};
use crate::errors;
use crate::http::HttpClient;
use crate::sse::SseEvent;
use crate::tools::{OPENAI_RESPONSES_TOOLS, WireTools};

/// The request body for `POST /responses`. System messages become
/// `instructions`; tool calls are `function_call` items and tool results
/// `function_call_output` items, joined by `call_id`.
/// `req` names its tools as the wire does and `tools` holds their shaped
/// (Chat Completions) definitions, flattened here into Responses' shape.
pub(crate) fn request_body(req: &ChatRequest, tools: &WireTools, model: &str, stream: bool) -> Value {
    let mut input = Vec::new();
    let mut instructions = Vec::new();
    for m in &req.messages {
        if m.role == Role::System {
            instructions.push(m.text());
            continue;
        }
        let text: String = m
            .content
            .iter()
            .filter_map(|p| match p {
                ContentPart::Text { text } | ContentPart::Refusal { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        let images: Vec<Value> = m
            .content
            .iter()
            .filter_map(|p| match p {
                ContentPart::Image { source } => Some(json!({
                    "type": "input_image", "detail": "auto", "image_url": match source {
                        ImageSource::Url { url } => url.clone(),
                        ImageSource::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
                    },
                })),
                _ => None,
            })
            .collect();
        if m.role == Role::User && !images.is_empty() {
            let mut content = vec![json!({ "type": "input_text", "text": text })];
            content.extend(images);
            input.push(json!({ "role": "user", "content": content }));
        } else if !text.is_empty() {
            let role = if m.role == Role::Assistant { "assistant" } else { "user" };
            input.push(json!({ "role": role, "content": text }));
        }
        for part in &m.content {
            match part {
                ContentPart::ToolCall(c) => input.push(json!({
                    "type": "function_call", "call_id": c.id, "name": c.name,
                    "arguments": if c.arguments.is_empty() { "{}" } else { &c.arguments },
                })),
                ContentPart::ToolResult(r) => {
                    let output = if r.is_error {
                        format!("error: {}", r.content)
                    } else {
                        r.content.clone()
                    };
                    input.push(json!({ "type": "function_call_output", "call_id": r.call_id, "output": output }));
                }
                _ => {}
            }
        }
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("input".into(), Value::Array(input));
    if !instructions.is_empty() {
        body.insert("instructions".into(), json!(instructions.join("\n\n")));
    }
    if !req.tools.is_empty() {
        // The `openai-responses` profile's flat definitions, `"strict": false`
        // where the schema is not strict (the API's default is strict).
        body.insert("tools".into(), tools.field());
        if let Some(choice) = &req.tool_choice {
            let v = match choice {
                ToolChoice::Auto => json!("auto"),
                ToolChoice::None => json!("none"),
                ToolChoice::Required => json!("required"),
                ToolChoice::Tool { name } => json!({ "type": "function", "name": name }),
            };
            body.insert("tool_choice".into(), v);
        }
        if let Some(p) = req.parallel_tool_calls {
            body.insert("parallel_tool_calls".into(), json!(p));
        }
    }
    if let Some(n) = req.max_tokens {
        body.insert("max_output_tokens".into(), json!(n));
    }
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        body.insert("top_p".into(), json!(p));
    }
    match &req.response_format {
        Some(ResponseFormat::JsonObject) => {
            body.insert("text".into(), json!({ "format": { "type": "json_object" } }));
        }
        Some(ResponseFormat::JsonSchema { name, schema, strict }) => {
            body.insert(
                "text".into(),
                json!({ "format": { "type": "json_schema", "name": name, "schema": schema, "strict": strict } }),
            );
        }
        _ => {}
    }
    if let Some(key) = req.cache.as_ref().and_then(|c| c.key.as_ref()) {
        body.insert("prompt_cache_key".into(), json!(key));
    }
    if let Some(user) = &req.metadata.user {
        body.insert("user".into(), json!(user));
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    for (k, v) in &req.extra {
        body.insert(k.clone(), v.clone());
    }
    Value::Object(body)
}

#[derive(Deserialize, Default)]
struct WireUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    input_tokens_details: Option<Details>,
    output_tokens_details: Option<Details>,
}

#[derive(Deserialize)]
struct Details {
    cached_tokens: Option<u64>,
    reasoning_tokens: Option<u64>,
}

impl WireUsage {
    /// Like Chat Completions, `input_tokens` includes the cached ones.
    fn normalize(&self) -> Usage {
        Usage {
            input_tokens: self.input_tokens.unwrap_or(0),
            output_tokens: self.output_tokens.unwrap_or(0),
            cache_read_tokens: self
                .input_tokens_details
                .as_ref()
                .and_then(|d| d.cached_tokens)
                .unwrap_or(0),
            cache_write_tokens: 0,
            cache_write_1h_tokens: 0,
            reasoning_tokens: self
                .output_tokens_details
                .as_ref()
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0),
        }
    }
}

#[derive(Deserialize)]
struct Response {
    id: Option<String>,
    model: Option<String>,
    status: Option<String>,
    #[serde(default)]
    output: Vec<Item>,
    usage: Option<WireUsage>,
    incomplete_details: Option<Incomplete>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Incomplete {
    reason: Option<String>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(rename = "type")]
    kind: String,
    call_id: Option<String>,
    name: Option<String>,
    arguments: Option<String>,
    content: Option<Vec<Value>>,
    summary: Option<Vec<Value>>,
}

fn stop_for(r: &Response, has_calls: bool) -> StopReason {
    match r.status.as_deref() {
        Some("incomplete") => match r.incomplete_details.as_ref().and_then(|d| d.reason.as_deref()) {
            Some("content_filter") => StopReason::ContentFilter,
            Some("max_output_tokens") | None => StopReason::MaxTokens,
            Some(other) => StopReason::Other(other.to_owned()),
        },
        _ if has_calls => StopReason::ToolUse,
        _ => StopReason::EndTurn,
    }
}

fn texts(parts: &[Value], kind: &str, field: &str) -> String {
    parts
        .iter()
        .filter(|p| p.get("type").and_then(Value::as_str) == Some(kind))
        .filter_map(|p| p.get(field).and_then(Value::as_str))
        .collect()
}

/// Reads a complete `response` object.
pub(crate) fn parse_response(provider: &str, model: &str, body: &[u8]) -> Result<ChatResponse, ProviderError> {
    let r: Response = serde_json::from_slice(body).map_err(|e| decode_error(provider, "the response", &e))?;
    if let Some(err) = r.error.as_ref().filter(|e| !e.is_null()) {
        return Err(errors::from_stream_event(provider, &json!({ "error": err }), None));
    }
    let mut content = Vec::new();
    let mut calls = 0;
    for item in &r.output {
        match item.kind.as_str() {
            "message" => {
                let parts = item.content.as_deref().unwrap_or_default();
                let t = texts(parts, "output_text", "text");
                if !t.is_empty() {
                    content.push(ContentPart::Text { text: t });
                }
                let refusal = texts(parts, "refusal", "refusal");
                if !refusal.is_empty() {
                    content.push(ContentPart::Refusal { text: refusal });
                }
            }
            "reasoning" => {
                let t = texts(item.summary.as_deref().unwrap_or_default(), "summary_text", "text");
                if !t.is_empty() {
                    content.push(ContentPart::Thinking {
                        text: t,
                        signature: None,
                    });
                }
            }
            "function_call" => {
                calls += 1;
                content.push(ContentPart::ToolCall(ToolCall::new(
                    item.call_id.clone().unwrap_or_default(),
                    item.name.clone().unwrap_or_default(),
                    item.arguments.clone().unwrap_or_default(),
                )));
            }
            _ => {}
        }
    }
    let stop = stop_for(&r, calls > 0);
    let mut resp = ChatResponse::new(
        provider,
        r.model.clone().unwrap_or_else(|| model.to_owned()),
        Message {
            role: Role::Assistant,
            content,
        },
        stop,
    );
    resp.id = r.id.clone();
    resp.usage = r.usage.as_ref().map(WireUsage::normalize).unwrap_or_default();
    Ok(resp)
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: Option<String>,
    response: Option<Response>,
    output_index: Option<usize>,
    item: Option<Item>,
    delta: Option<String>,
    arguments: Option<String>,
}

/// Decodes Responses API stream events. Function calls are keyed by
/// `output_index`; `response.output_item.done` carries the authoritative
/// arguments. `response.completed`/`response.incomplete` end the stream;
/// `response.failed` and `error` are typed errors.
#[derive(Debug)]
pub struct ResponsesDecoder {
    provider: String,
    started: bool,
    calls: Vec<PendingCall>,
    done: bool,
}

impl ResponsesDecoder {
    /// A decoder whose errors name `provider`.
    pub fn new(provider: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            started: false,
            calls: Vec::new(),
            done: false,
        }
    }

    fn call(&self, output_index: Option<usize>) -> Option<usize> {
        let key = output_index?;
        self.calls.iter().position(|c| c.key == key)
    }

    fn handle(&mut self, ev: Event, raw: &str, out: &mut Vec<DecodedItem>) {
        let kind = ev.kind.unwrap_or_default();
        match kind.as_str() {
            "response.created" | "response.in_progress" if !self.started => {
                self.started = true;
                let (id, model) = ev.response.map_or((None, None), |r| (r.id, r.model));
                out.push(Ok(StreamEvent::Start { id, model }));
            }
            "response.output_text.delta" => {
                if let Some(t) = ev.delta.filter(|t| !t.is_empty()) {
                    out.push(Ok(StreamEvent::TextDelta { text: t }));
                }
            }
            "response.refusal.delta" => {
                if let Some(t) = ev.delta.filter(|t| !t.is_empty()) {
                    out.push(Ok(StreamEvent::RefusalDelta { text: t }));
                }
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                if let Some(t) = ev.delta.filter(|t| !t.is_empty()) {
                    out.push(Ok(StreamEvent::ThinkingDelta { text: t }));
                }
            }
            "response.output_item.added" => {
                let Some(item) = ev.item.filter(|i| i.kind == "function_call") else {
                    return;
                };
                let index = self.calls.len();
                let c = PendingCall {
                    key: ev.output_index.unwrap_or(usize::MAX - index),
                    id: item.call_id.unwrap_or_else(|| format!("call_{index}")),
                    name: item.name.unwrap_or_default(),
                    arguments: item.arguments.unwrap_or_default(),
                    ended: false,
                };
                open_call(&mut self.calls, c, out);
            }
            "response.function_call_arguments.delta" => {
                let (Some(index), Some(f)) = (self.call(ev.output_index), ev.delta.filter(|d| !d.is_empty())) else {
                    return;
                };
                self.calls[index].arguments.push_str(&f);
                out.push(Ok(StreamEvent::ToolCallDelta { index, fragment: f }));
            }
            "response.function_call_arguments.done" | "response.output_item.done" => {
                let Some(index) = self.call(ev.output_index) else {
                    return;
                };
                let full = ev.arguments.or_else(|| ev.item.and_then(|i| i.arguments));
                let c = &mut self.calls[index];
                if c.ended {
                    return;
                }
                if let Some(full) = full {
                    c.arguments = full;
                }
                c.ended = true;
                out.push(Ok(StreamEvent::ToolCallEnd {
                    index,
                    call: c.to_call(),
                }));
            }
            "response.completed" | "response.incomplete" => {
                self.done = true;
                let Some(r) = ev.response else {
                    finish_calls(&self.provider, &mut self.calls, StopReason::EndTurn, out);
                    return;
                };
                if let Some(u) = &r.usage {
                    out.push(Ok(StreamEvent::Usage { usage: u.normalize() }));
                }
                let reason = stop_for(&r, !self.calls.is_empty());
                finish_calls(&self.provider, &mut self.calls, reason, out);
            }
            "response.failed" | "error" => {
                self.done = true;
                let v: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
                let err = v.get("response").and_then(|r| r.get("error")).cloned().unwrap_or(v);
                let wrapped = if err.get("error").is_some() {
                    err
                } else {
                    json!({ "error": err })
                };
                out.push(Err(errors::from_stream_event(&self.provider, &wrapped, None)));
            }
            _ => {}
        }
    }
}

impl StreamDecoder for ResponsesDecoder {
    fn event(&mut self, event: &SseEvent, out: &mut Vec<DecodedItem>) {
        let data = event.data.trim();
        if self.done || data.is_empty() || data == "[DONE]" {
            return;
        }
        let Some(mut ev) = read_event::<Event>(&self.provider, "a stream event", data, &mut self.done, out) else {
            return;
        };
        if ev.kind.is_none() && !event.event.is_empty() {
            ev.kind = Some(event.event.clone());
        }
        self.handle(ev, data, out);
    }

    fn end(&mut self, out: &mut Vec<DecodedItem>) {
        if !self.done {
            self.done = true;
            out.push(Err(incomplete(
                &self.provider,
                "the stream ended before response.completed",
            )));
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn provider(&self) -> &str {
        &self.provider
    }
}

/// A Responses API client (`POST {base_url}/responses`), stateless: the whole
/// conversation is sent each time.
///
/// ```
/// use toolplane_providers::{OpenAiResponsesProvider, ProviderConfig};
/// let p = OpenAiResponsesProvider::new(ProviderConfig::new("https://api.openai.com/v1").with_api_key("sk-..."))?;
/// # let _ = p;
/// # Ok::<(), toolplane_providers::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct OpenAiResponsesProvider {
    http: HttpClient,
}

impl OpenAiResponsesProvider {
    /// A client with Bearer auth.
    pub fn new(cfg: ProviderConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            http: HttpClient::new("openai", cfg)?,
        })
    }

    /// `OPENAI_API_KEY` and `OPENAI_BASE_URL`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(super::OPENAI_ENV.config()?)
    }

    /// The last rate-limit headers any response carried.
    pub fn rate_limit(&self) -> Option<RateLimitSnapshot> {
        self.http.last_rate_limit()
    }

    /// The request body this provider sends for `request`.
    pub fn request_body(&self, request: &ChatRequest, stream: bool) -> Value {
        let tools = self.http.wire_tools(request, None, OPENAI_RESPONSES_TOOLS);
        request_body(&tools.request(request), &tools, &self.http.model(request), stream)
    }
}

#[async_trait]
impl ChatProvider for OpenAiResponsesProvider {
    fn name(&self) -> &str {
        self.http.provider()
    }

    async fn chat(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        let model = self.http.model(request);
        let tools = self.http.wire_tools(request, Some(ctx), OPENAI_RESPONSES_TOOLS);
        let body = request_body(&tools.request(request), &tools, &model, false);
        self.http
            .post_chat(&model, "/responses", &body, ctx, &tools, |b| {
                parse_response(self.name(), &model, b)
            })
            .await
    }

    async fn chat_stream(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatStream, ProviderError> {
        let tools = self.http.wire_tools(request, Some(ctx), OPENAI_RESPONSES_TOOLS);
        let body = request_body(&tools.request(request), &tools, &self.http.model(request), true);
        self.http
            .post_stream(&self.http.model(request), "/responses", &body, ctx, tools, || {
                ResponsesDecoder::new("openai")
            })
            .await
    }
}
