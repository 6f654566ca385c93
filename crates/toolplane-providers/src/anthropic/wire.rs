//! Messages API request bodies and complete answers.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use toolplane_core::{
    ChatRequest, ChatResponse, ContentPart, ImageSource, Message, ProviderError, Role, StopReason, ToolCall, ToolChoice,
};

use super::stream::{WireUsage, stop_reason};
use crate::tools::WireTools;

/// The output limit sent when a request sets none (the API requires one).
pub(crate) const DEFAULT_MAX_TOKENS: u32 = 4096;

fn block(part: &ContentPart) -> Option<Value> {
    Some(match part {
        ContentPart::Text { text } | ContentPart::Refusal { text } => {
            if text.is_empty() {
                return None;
            }
            json!({ "type": "text", "text": text })
        }
        ContentPart::Image { source } => match source {
            ImageSource::Url { url } => json!({ "type": "image", "source": { "type": "url", "url": url } }),
            ImageSource::Base64 { media_type, data } => json!({
                "type": "image", "source": { "type": "base64", "media_type": media_type, "data": data },
            }),
        },
        ContentPart::ToolCall(c) => {
            let input = c.arguments_value().unwrap_or_else(|_| json!({}));
            let input = if input.is_object() { input } else { json!({}) };
            json!({ "type": "tool_use", "id": c.id, "name": c.name, "input": input })
        }
        ContentPart::ToolResult(r) => {
            let mut b = json!({ "type": "tool_result", "tool_use_id": r.call_id, "content": r.content });
            if r.is_error {
                b["is_error"] = json!(true);
            }
            b
        }
        ContentPart::Thinking {
            text,
            signature: Some(sig),
        } => json!({ "type": "thinking", "thinking": text, "signature": sig }),
        _ => return None,
    })
}

/// The request body for `POST /v1/messages`. System messages go to `system`;
/// tool results become `tool_result` blocks in a user message; consecutive
/// messages of one role are merged, as the API wants turns to alternate.
/// `req` names its tools as the wire does and `tools` holds their shaped definitions.
pub(crate) fn request_body(req: &ChatRequest, tools: &WireTools, model: &str, stream: bool) -> Value {
    let mut system = Vec::new();
    let mut messages: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for m in &req.messages {
        let role = match m.role {
            Role::System => {
                system.push(m.text());
                continue;
            }
            Role::User | Role::Tool => "user",
            Role::Assistant => "assistant",
        };
        // Tool results must come first in their user turn (sorted below).
        let blocks: Vec<Value> = m.content.iter().filter_map(block).collect();
        if blocks.is_empty() {
            continue;
        }
        match messages.last_mut() {
            Some((r, existing)) if *r == role => {
                existing.extend(blocks);
                existing.sort_by_key(|b| b.get("type").and_then(Value::as_str) != Some("tool_result"));
            }
            _ => messages.push((role, blocks)),
        }
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("max_tokens".into(), json!(req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)));
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    body.insert(
        "messages".into(),
        Value::Array(
            messages
                .into_iter()
                .map(|(role, content)| json!({ "role": role, "content": content }))
                .collect(),
        ),
    );
    if !req.tools.is_empty() {
        body.insert("tools".into(), tools.field());
        let disable_parallel = req.parallel_tool_calls == Some(false);
        let mut choice = match req.tool_choice.as_ref().unwrap_or(&ToolChoice::Auto) {
            ToolChoice::Auto => json!({ "type": "auto" }),
            ToolChoice::None => json!({ "type": "none" }),
            ToolChoice::Required => json!({ "type": "any" }),
            ToolChoice::Tool { name } => json!({ "type": "tool", "name": name }),
        };
        if disable_parallel && choice["type"] != "none" {
            choice["disable_parallel_tool_use"] = json!(true);
        }
        if req.tool_choice.is_some() || disable_parallel {
            body.insert("tool_choice".into(), choice);
        }
    }
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if !req.stop.is_empty() {
        body.insert("stop_sequences".into(), json!(req.stop));
    }
    if let Some(user) = &req.metadata.user {
        body.insert("metadata".into(), json!({ "user_id": user }));
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    for (k, v) in &req.extra {
        body.insert(k.clone(), v.clone());
    }
    let mut body = Value::Object(body);
    if let Some(cache) = &req.cache {
        super::cache::apply(&mut body, cache);
    }
    body
}

#[derive(Deserialize)]
struct Answer {
    id: Option<String>,
    model: Option<String>,
    #[serde(default)]
    content: Vec<AnswerBlock>,
    stop_reason: Option<String>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct AnswerBlock {
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
    thinking: Option<String>,
    signature: Option<String>,
    id: Option<String>,
    name: Option<String>,
    input: Option<Value>,
}

/// Reads a complete `message` answer.
pub(crate) fn parse_response(provider: &str, model: &str, body: &[u8]) -> Result<ChatResponse, ProviderError> {
    let a: Answer =
        serde_json::from_slice(body).map_err(|e| crate::decode::decode_error(provider, "the message", &e))?;
    let mut content = Vec::new();
    for b in a.content {
        match b.kind.as_str() {
            "text" => {
                if let Some(t) = b.text.filter(|t| !t.is_empty()) {
                    content.push(ContentPart::Text { text: t });
                }
            }
            "thinking" => content.push(ContentPart::Thinking {
                text: b.thinking.unwrap_or_default(),
                signature: b.signature,
            }),
            "tool_use" => content.push(ContentPart::ToolCall(ToolCall::new(
                b.id.unwrap_or_default(),
                b.name.unwrap_or_default(),
                b.input.unwrap_or_else(|| json!({})).to_string(),
            ))),
            _ => {}
        }
    }
    let stop = a.stop_reason.as_deref().map_or(StopReason::EndTurn, stop_reason);
    let mut resp = ChatResponse::new(
        provider,
        a.model.unwrap_or_else(|| model.to_owned()),
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
