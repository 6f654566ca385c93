//! Cohere v2 chat: request bodies, complete answers and the stream decoder.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use toolplane_core::{
    ChatRequest, ChatResponse, ContentPart, Message, ProviderError, ProviderErrorKind, ResponseFormat, Role,
    StopReason, StreamEvent, ToolCall, ToolChoice, Usage,
};

use crate::decode::{
    DecodedItem, PendingCall, StreamDecoder, decode_error, finish_calls, incomplete, open_call, read_event,
};
use crate::errors;
use crate::sse::SseEvent;
use crate::tools::WireTools;

/// The request body for `POST /v2/chat`. `tool_choice` is upper case
/// (`REQUIRED`, `NONE`; auto is the default and is omitted); a named tool
/// choice sends only that tool with `REQUIRED`. Tool results are `tool`
/// messages with `tool_call_id`; a thinking part of an assistant turn is sent
/// back as its `tool_plan`.
/// `req` names its tools as the wire does and `tools` holds their shaped
/// definitions; strict tools set `strict_tools`.
pub(crate) fn request_body(req: &ChatRequest, tools: &WireTools, model: &str, stream: bool) -> Value {
    let mut messages = Vec::new();
    for m in &req.messages {
        let mut text = String::new();
        let mut plan = String::new();
        let mut calls = Vec::new();
        for part in &m.content {
            match part {
                ContentPart::Text { text: t } | ContentPart::Refusal { text: t } => text.push_str(t),
                ContentPart::Thinking { text: t, .. } => plan.push_str(t),
                ContentPart::ToolCall(c) => calls.push(json!({
                    "id": c.id, "type": "function",
                    "function": { "name": c.name, "arguments": if c.arguments.is_empty() { "{}" } else { &c.arguments } },
                })),
                ContentPart::ToolResult(r) => {
                    let content = if r.is_error { format!("error: {}", r.content) } else { r.content.clone() };
                    messages.push(json!({
                        "role": "tool",
                        "tool_call_id": r.call_id,
                        "content": [{ "type": "document", "document": { "data": content } }],
                    }));
                }
                _ => {}
            }
        }
        let role = match m.role {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => continue,
        };
        if text.is_empty() && calls.is_empty() {
            continue;
        }
        let mut msg = json!({ "role": role });
        if !calls.is_empty() {
            msg["tool_calls"] = Value::Array(calls);
            if !plan.is_empty() {
                msg["tool_plan"] = json!(plan);
            }
        }
        if !text.is_empty() {
            msg["content"] = json!(text);
        }
        messages.push(msg);
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("messages".into(), Value::Array(messages));
    if !req.tools.is_empty() {
        let only = match &req.tool_choice {
            Some(ToolChoice::Tool { name }) => Some(name.as_str()),
            _ => None,
        };
        let definitions = req
            .tools
            .iter()
            .zip(tools.export.definitions())
            .filter(|(t, _)| only.is_none_or(|n| n == t.name))
            .map(|(_, d)| d.clone())
            .collect();
        body.insert("tools".into(), Value::Array(definitions));
        if tools.strict_asked {
            body.insert("strict_tools".into(), json!(true));
        }
        match &req.tool_choice {
            Some(ToolChoice::Required | ToolChoice::Tool { .. }) => {
                body.insert("tool_choice".into(), json!("REQUIRED"));
            }
            Some(ToolChoice::None) => {
                body.insert("tool_choice".into(), json!("NONE"));
            }
            Some(ToolChoice::Auto) | None => {}
        }
    }
    if let Some(n) = req.max_tokens {
        body.insert("max_tokens".into(), json!(n));
    }
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        body.insert("p".into(), json!(p));
    }
    if !req.stop.is_empty() {
        body.insert("stop_sequences".into(), json!(req.stop));
    }
    if let Some(seed) = req.seed {
        body.insert("seed".into(), json!(seed));
    }
    match &req.response_format {
        Some(ResponseFormat::JsonObject) => {
            body.insert("response_format".into(), json!({ "type": "json_object" }));
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            body.insert(
                "response_format".into(),
                json!({ "type": "json_object", "json_schema": schema }),
            );
        }
        _ => {}
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    for (k, v) in &req.extra {
        body.insert(k.clone(), v.clone());
    }
    Value::Object(body)
}

/// Cohere `usage`: `tokens` (what the model read and wrote) and
/// `billed_units` (what is charged, prompt template excluded).
#[derive(Deserialize, Default, Debug)]
pub(crate) struct WireUsage {
    tokens: Option<Counts>,
    billed_units: Option<Counts>,
}

#[derive(Deserialize, Default, Debug, Clone, Copy)]
struct Counts {
    input_tokens: Option<f64>,
    output_tokens: Option<f64>,
}

impl WireUsage {
    /// Core usage counts every token the model processed, so `tokens` wins;
    /// `billed_units` is the fallback when `tokens` is absent.
    pub(crate) fn normalize(&self) -> Usage {
        let c = self.tokens.or(self.billed_units).unwrap_or_default();
        let n = |v: Option<f64>| v.filter(|x| x.is_finite() && *x >= 0.0).map_or(0, |x| x as u64);
        Usage {
            input_tokens: n(c.input_tokens),
            output_tokens: n(c.output_tokens),
            ..Usage::default()
        }
    }
}

/// Maps a Cohere `finish_reason`.
pub(crate) fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "COMPLETE" => StopReason::EndTurn,
        "MAX_TOKENS" => StopReason::MaxTokens,
        "STOP_SEQUENCE" => StopReason::StopSequence,
        "TOOL_CALL" => StopReason::ToolUse,
        other => StopReason::Other(other.to_ascii_lowercase()),
    }
}

/// Cohere's `ERROR` and `TIMEOUT` finish reasons mean the generation failed.
fn failed(provider: &str, reason: &str) -> Option<ProviderError> {
    let kind = match reason {
        "ERROR" => ProviderErrorKind::Server,
        "TIMEOUT" => ProviderErrorKind::Timeout,
        _ => return None,
    };
    Some(ProviderError::new(
        kind,
        provider,
        format!("the generation ended with finish_reason {reason}"),
    ))
}

#[derive(Deserialize)]
struct Answer {
    id: Option<String>,
    finish_reason: Option<String>,
    message: Option<AnswerMessage>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct AnswerMessage {
    content: Option<Vec<Value>>,
    tool_plan: Option<String>,
    tool_calls: Option<Vec<WireCall>>,
}

#[derive(Deserialize, Default)]
struct WireCall {
    id: Option<String>,
    function: Option<WireFunction>,
}

#[derive(Deserialize, Default)]
struct WireFunction {
    name: Option<String>,
    arguments: Option<String>,
}

/// Reads a complete v2 chat answer.
pub(crate) fn parse_response(provider: &str, model: &str, body: &[u8]) -> Result<ChatResponse, ProviderError> {
    let a: Answer = serde_json::from_slice(body).map_err(|e| decode_error(provider, "the chat answer", &e))?;
    let mut content = Vec::new();
    if let Some(m) = a.message {
        if let Some(plan) = m.tool_plan.filter(|p| !p.is_empty()) {
            content.push(ContentPart::Thinking {
                text: plan,
                signature: None,
            });
        }
        let text: String = m
            .content
            .unwrap_or_default()
            .iter()
            .filter_map(|c| c.get("text").and_then(Value::as_str))
            .collect();
        if !text.is_empty() {
            content.push(ContentPart::Text { text });
        }
        for c in m.tool_calls.unwrap_or_default() {
            let f = c.function.unwrap_or_default();
            content.push(ContentPart::ToolCall(ToolCall::new(
                c.id.unwrap_or_default(),
                f.name.unwrap_or_default(),
                f.arguments.unwrap_or_default(),
            )));
        }
    }
    if let Some(err) = a.finish_reason.as_deref().and_then(|r| failed(provider, r)) {
        return Err(err);
    }
    let stop = a.finish_reason.as_deref().map_or(StopReason::EndTurn, stop_reason);
    let mut resp = ChatResponse::new(
        provider,
        model,
        Message {
            role: Role::Assistant,
            content,
        },
        stop,
    );
    resp.id = a.id;
    resp.usage = a.usage.unwrap_or_default().normalize();
    Ok(resp)
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<String>,
    index: Option<usize>,
    delta: Option<EventDelta>,
}

#[derive(Deserialize)]
struct EventDelta {
    message: Option<DeltaMessage>,
    finish_reason: Option<String>,
    usage: Option<WireUsage>,
    error: Option<String>,
}

/// `content` and `tool_calls` are objects in deltas but empty arrays in
/// `message-start`, so they are read loosely.
#[derive(Deserialize)]
struct DeltaMessage {
    content: Option<Value>,
    tool_plan: Option<String>,
    tool_calls: Option<Value>,
}

impl DeltaMessage {
    fn text(&self) -> Option<String> {
        self.content.as_ref()?.get("text")?.as_str().map(str::to_owned)
    }

    fn call(&self) -> Option<WireCall> {
        self.tool_calls
            .as_ref()
            .filter(|v| v.is_object())
            .and_then(|v| WireCall::deserialize(v).ok())
    }
}

/// Decodes Cohere v2 chat stream events (`message-start`, `content-delta`,
/// `tool-plan-delta` as reasoning, `tool-call-start/delta/end` reassembled by
/// `index`, `message-end` with finish reason and usage). Citations and
/// unknown events are skipped.
#[derive(Debug)]
pub struct CohereDecoder {
    provider: String,
    started: bool,
    calls: Vec<PendingCall>,
    done: bool,
}

impl CohereDecoder {
    /// A decoder whose errors name `provider`.
    pub fn new(provider: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            started: false,
            calls: Vec::new(),
            done: false,
        }
    }

    fn handle(&mut self, ev: Event, raw: &str, out: &mut Vec<DecodedItem>) {
        let kind = ev.kind.as_deref().unwrap_or("");
        if !self.started && kind != "error" {
            self.started = true;
            out.push(Ok(StreamEvent::Start {
                id: ev.id.clone(),
                model: None,
            }));
        }
        let msg = ev.delta.as_ref().and_then(|d| d.message.as_ref());
        match kind {
            "content-delta" => {
                if let Some(t) = msg.and_then(DeltaMessage::text).filter(|t| !t.is_empty()) {
                    out.push(Ok(StreamEvent::TextDelta { text: t }));
                }
            }
            "tool-plan-delta" => {
                if let Some(t) = msg.and_then(|m| m.tool_plan.clone()).filter(|t| !t.is_empty()) {
                    out.push(Ok(StreamEvent::ThinkingDelta { text: t }));
                }
            }
            "tool-call-start" => {
                let key = ev.index.unwrap_or(self.calls.len());
                let call = msg.and_then(DeltaMessage::call);
                let call = call.as_ref();
                let index = self.calls.len();
                let f = call.and_then(|c| c.function.as_ref());
                let pending = PendingCall {
                    key,
                    id: call
                        .and_then(|c| c.id.clone())
                        .unwrap_or_else(|| format!("call_{index}")),
                    name: f.and_then(|f| f.name.clone()).unwrap_or_default(),
                    arguments: f.and_then(|f| f.arguments.clone()).unwrap_or_default(),
                    ended: false,
                };
                open_call(&mut self.calls, pending, out);
            }
            "tool-call-delta" => {
                let key = ev.index.unwrap_or(0);
                let Some(index) = self.calls.iter().rposition(|c| c.key == key) else {
                    return;
                };
                let fragment = msg
                    .and_then(DeltaMessage::call)
                    .and_then(|c| c.function)
                    .and_then(|f| f.arguments)
                    .unwrap_or_default();
                if !fragment.is_empty() {
                    self.calls[index].arguments.push_str(&fragment);
                    out.push(Ok(StreamEvent::ToolCallDelta { index, fragment }));
                }
            }
            "tool-call-end" => {
                let key = ev.index.unwrap_or(0);
                let Some(index) = self.calls.iter().rposition(|c| c.key == key) else {
                    return;
                };
                let c = &mut self.calls[index];
                if !c.ended {
                    c.ended = true;
                    out.push(Ok(StreamEvent::ToolCallEnd {
                        index,
                        call: c.to_call(),
                    }));
                }
            }
            "message-end" => {
                self.done = true;
                let delta = ev.delta;
                if let Some(err) = delta.as_ref().and_then(|d| d.error.clone()) {
                    let v = json!({ "message": err });
                    out.push(Err(errors::from_stream_event(&self.provider, &v, None)));
                    return;
                }
                if let Some(u) = delta.as_ref().and_then(|d| d.usage.as_ref()) {
                    out.push(Ok(StreamEvent::Usage { usage: u.normalize() }));
                }
                let reason = delta.and_then(|d| d.finish_reason);
                if let Some(err) = reason.as_deref().and_then(|r| failed(&self.provider, r)) {
                    out.push(Err(err));
                    return;
                }
                let reason = reason.map_or(StopReason::EndTurn, |r| stop_reason(&r));
                finish_calls(&self.provider, &mut self.calls, reason, out);
            }
            "error" => {
                self.done = true;
                let v: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
                out.push(Err(errors::from_stream_event(&self.provider, &v, None)));
            }
            _ => {}
        }
    }
}

impl StreamDecoder for CohereDecoder {
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
            out.push(Err(incomplete(&self.provider, "the stream ended before message-end")));
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn provider(&self) -> &str {
        &self.provider
    }
}
