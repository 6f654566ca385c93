//! `generateContent` request bodies and complete answers.
//!
//! Gemini differs from the other vendors in three ways this module absorbs:
//! function calls usually carry no id (we make stable ones and match results
//! back by position), parts may carry a `thoughtSignature` that must go back
//! unchanged on the same part, and safety blocks arrive as a finish or block
//! reason instead of an error.

use std::collections::HashMap;

use crate::tools::WireTools;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use toolplane_core::{
    ChatRequest, ChatResponse, ContentPart, ImageSource, Message, ProviderError, ProviderErrorKind, ResponseFormat,
    Role, StopReason, ToolCall, ToolChoice, ToolResult, Usage,
};

/// The prefix of the call ids this crate makes for Gemini's id-less calls.
/// Ids with it are never sent back to Gemini (it did not choose them).
pub(crate) const CALL_ID_PREFIX: &str = "gemini_call_";

/// A stable id for the `index`-th function call of a response: the same
/// response always yields the same ids, and two responses (told apart by
/// `response_id`, else by the call itself) do not collide.
pub(crate) fn call_id(response_id: Option<&str>, index: usize, name: &str, args: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in response_id
        .unwrap_or("")
        .bytes()
        .chain([0])
        .chain(name.bytes())
        .chain([0])
        .chain(args.bytes())
    {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{CALL_ID_PREFIX}{index}_{hash:016x}")
}

/// The id to send back with a call or result: Gemini's own ids, never ours.
fn wire_id(id: &str) -> Option<&str> {
    (!id.is_empty() && !id.starts_with(CALL_ID_PREFIX)).then_some(id)
}

/// The MIME type of an image URL, guessed from its extension (Gemini's
/// `fileData` wants one).
fn mime_from_url(url: &str) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or(url).to_ascii_lowercase();
    match path.rsplit('.').next() {
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        Some("heic") => "image/heic",
        Some("heif") => "image/heif",
        Some("pdf") => "application/pdf",
        _ => "image/jpeg",
    }
}

/// A tool result's `response` object: a JSON object result as it is, any
/// other result under `output`, a failure under `error` (the keys Gemini's
/// documentation names).
fn function_response(r: &ToolResult) -> Value {
    let parsed = serde_json::from_str::<Value>(&r.content).unwrap_or_else(|_| Value::String(r.content.clone()));
    if r.is_error {
        return json!({ "error": parsed });
    }
    match parsed {
        Value::Object(_) => parsed,
        other => json!({ "output": other }),
    }
}

/// The parts of one assistant message. A signature (kept on a
/// [`ContentPart::Thinking`] part) goes back on the part it came with: the
/// first function call after it, or, when no call follows, the next text.
fn model_parts(m: &Message) -> Vec<Value> {
    let mut out = Vec::new();
    let mut pending: Option<&str> = None;
    for (i, part) in m.content.iter().enumerate() {
        let calls_follow = || m.content[i + 1..].iter().any(|p| matches!(p, ContentPart::ToolCall(_)));
        let mut v = match part {
            ContentPart::Thinking { signature, .. } => {
                if let Some(s) = signature.as_deref().filter(|s| !s.is_empty()) {
                    pending = Some(s);
                }
                continue;
            }
            ContentPart::Text { text } | ContentPart::Refusal { text } => {
                if text.is_empty() {
                    continue;
                }
                let mut v = json!({ "text": text });
                if pending.is_some() && !calls_follow() {
                    v["thoughtSignature"] = json!(pending.take());
                }
                out.push(v);
                continue;
            }
            ContentPart::ToolCall(c) => {
                let args = c
                    .arguments_value()
                    .ok()
                    .filter(Value::is_object)
                    .unwrap_or_else(|| json!({}));
                let mut f = json!({ "name": c.name, "args": args });
                if let Some(id) = wire_id(&c.id) {
                    f["id"] = json!(id);
                }
                json!({ "functionCall": f })
            }
            ContentPart::Image { source } => image_part(source),
            _ => continue,
        };
        if let (Some(sig), true) = (pending.take(), v.get("functionCall").is_some()) {
            v["thoughtSignature"] = json!(sig);
        }
        out.push(v);
    }
    if let Some(sig) = pending {
        // A signature that came alone (the empty last chunk of a stream).
        out.push(json!({ "text": "", "thoughtSignature": sig }));
    }
    out
}

fn image_part(source: &ImageSource) -> Value {
    match source {
        ImageSource::Base64 { media_type, data } => json!({ "inlineData": { "mimeType": media_type, "data": data } }),
        ImageSource::Url { url } => json!({ "fileData": { "fileUri": url, "mimeType": mime_from_url(url) } }),
    }
}

/// The calls of the conversation so far: id to (name, position in its turn).
type CallIndex<'a> = HashMap<&'a str, (&'a str, usize)>;

/// The parts of a user or tool message; tool results become
/// `functionResponse` parts, in the order of the calls they answer.
fn user_parts(m: &Message, calls: &CallIndex<'_>) -> Result<Vec<Value>, ProviderError> {
    let mut results: Vec<(usize, Value)> = Vec::new();
    let mut out = Vec::new();
    for part in &m.content {
        match part {
            ContentPart::Text { text } | ContentPart::Refusal { text } if !text.is_empty() => {
                out.push(json!({ "text": text }));
            }
            ContentPart::Image { source } => out.push(image_part(source)),
            ContentPart::ToolResult(r) => {
                let known = calls.get(r.call_id.as_str());
                let name = r.name.as_deref().or(known.map(|(n, _)| *n)).ok_or_else(|| {
                    ProviderError::new(
                        ProviderErrorKind::InvalidRequest,
                        "gemini",
                        format!(
                            "the tool result for call `{}` has no tool name and no earlier call has that id; \
                             Gemini needs the function's name",
                            r.call_id
                        ),
                    )
                })?;
                let mut f = json!({ "name": name, "response": function_response(r) });
                if let Some(id) = wire_id(&r.call_id) {
                    f["id"] = json!(id);
                }
                let order = known.map_or(usize::MAX, |(_, pos)| *pos);
                results.push((order, json!({ "functionResponse": f })));
            }
            _ => {}
        }
    }
    // Gemini matches responses to calls by position: results go in call order.
    results.sort_by_key(|(order, _)| *order);
    let mut parts: Vec<Value> = results.into_iter().map(|(_, v)| v).collect();
    parts.extend(out);
    Ok(parts)
}

/// The request body for `models/{model}:generateContent` (the streaming
/// method takes the same body). System messages become `systemInstruction`;
/// consecutive turns of one role are merged, as Gemini wants user and model
/// turns to alternate.
pub(crate) fn request_body(req: &ChatRequest, tools: &WireTools) -> Result<Value, ProviderError> {
    let req = &*tools.request(req);
    let mut calls: CallIndex<'_> = HashMap::new();
    let mut system = Vec::new();
    let mut contents: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for m in &req.messages {
        let (role, parts) = match m.role {
            Role::System => {
                let t = m.text();
                if !t.is_empty() {
                    system.push(json!({ "text": t }));
                }
                continue;
            }
            Role::Assistant => {
                for (pos, c) in m.tool_calls().enumerate() {
                    calls.insert(c.id.as_str(), (c.name.as_str(), pos));
                }
                ("model", model_parts(m))
            }
            Role::User | Role::Tool => ("user", user_parts(m, &calls)?),
        };
        if parts.is_empty() {
            continue;
        }
        match contents.last_mut() {
            Some((r, existing)) if *r == role => existing.extend(parts),
            _ => contents.push((role, parts)),
        }
    }
    let mut body = Map::new();
    body.insert(
        "contents".into(),
        Value::Array(
            contents
                .into_iter()
                .map(|(role, parts)| json!({ "role": role, "parts": parts }))
                .collect(),
        ),
    );
    if !system.is_empty() {
        body.insert("systemInstruction".into(), json!({ "parts": system }));
    }
    if !req.tools.is_empty() {
        // The `gemini-json-schema` profile: one `functionDeclarations` entry,
        // full JSON Schema as `parametersJsonSchema`, under the wire names
        // the shared tool shaping chose (the model's calls are mapped back).
        body.insert("tools".into(), tools.field());
        if let Some(choice) = &req.tool_choice {
            let config = match choice {
                ToolChoice::Auto => json!({ "mode": "AUTO" }),
                ToolChoice::None => json!({ "mode": "NONE" }),
                ToolChoice::Required => json!({ "mode": "ANY" }),
                ToolChoice::Tool { name } => json!({ "mode": "ANY", "allowedFunctionNames": [name] }),
            };
            body.insert("toolConfig".into(), json!({ "functionCallingConfig": config }));
        }
    }
    let mut generation = Map::new();
    if let Some(n) = req.max_tokens {
        generation.insert("maxOutputTokens".into(), json!(n));
    }
    if let Some(t) = req.temperature {
        generation.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        generation.insert("topP".into(), json!(p));
    }
    if !req.stop.is_empty() {
        generation.insert("stopSequences".into(), json!(req.stop));
    }
    if let Some(seed) = req.seed {
        generation.insert("seed".into(), json!(seed));
    }
    match &req.response_format {
        Some(ResponseFormat::JsonObject) => {
            generation.insert("responseMimeType".into(), json!("application/json"));
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            generation.insert("responseMimeType".into(), json!("application/json"));
            generation.insert("responseJsonSchema".into(), schema.clone());
        }
        Some(ResponseFormat::Text) | None => {}
    }
    if let Some(name) = req.cache.as_ref().and_then(|c| c.cached_content.as_ref()) {
        body.insert("cachedContent".into(), json!(name));
    }
    for (k, v) in &req.extra {
        match (k.as_str(), v) {
            // Extra generation settings (thinkingConfig, ...) join ours.
            ("generationConfig", Value::Object(extra)) => {
                generation.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            _ => {
                body.insert(k.clone(), v.clone());
            }
        }
    }
    if !generation.is_empty() {
        body.insert("generationConfig".into(), Value::Object(generation));
    }
    Ok(Value::Object(body))
}

/// Gemini's `usageMetadata`; every streamed chunk carries the totals so far.
#[derive(Debug, Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireUsage {
    prompt_token_count: Option<u64>,
    candidates_token_count: Option<u64>,
    thoughts_token_count: Option<u64>,
    cached_content_token_count: Option<u64>,
    tool_use_prompt_token_count: Option<u64>,
}

impl WireUsage {
    /// `promptTokenCount` includes the cached content (so it is core's
    /// `input_tokens` as it is, plus tool-use prompt tokens); output is
    /// candidates plus thoughts, thoughts being the reasoning part.
    pub(crate) fn normalize(&self) -> Usage {
        let thoughts = self.thoughts_token_count.unwrap_or(0);
        Usage {
            input_tokens: self
                .prompt_token_count
                .unwrap_or(0)
                .saturating_add(self.tool_use_prompt_token_count.unwrap_or(0)),
            output_tokens: self.candidates_token_count.unwrap_or(0).saturating_add(thoughts),
            cache_read_tokens: self.cached_content_token_count.unwrap_or(0),
            cache_write_tokens: 0,
            cache_write_1h_tokens: 0,
            reasoning_tokens: thoughts,
        }
    }
}

/// One `GenerateContentResponse` (a whole answer, or one streamed chunk).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Answer {
    #[serde(default)]
    pub(crate) candidates: Vec<Candidate>,
    pub(crate) prompt_feedback: Option<PromptFeedback>,
    pub(crate) usage_metadata: Option<WireUsage>,
    pub(crate) model_version: Option<String>,
    pub(crate) response_id: Option<String>,
    /// An error object sent in the stream after a 200.
    pub(crate) error: Option<Value>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Candidate {
    pub(crate) content: Option<CandidateContent>,
    pub(crate) finish_reason: Option<String>,
    pub(crate) finish_message: Option<String>,
    #[serde(default)]
    pub(crate) safety_ratings: Vec<SafetyRating>,
    #[serde(default)]
    pub(crate) index: u32,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct CandidateContent {
    #[serde(default)]
    pub(crate) parts: Vec<Part>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Part {
    pub(crate) text: Option<String>,
    #[serde(default)]
    pub(crate) thought: bool,
    pub(crate) thought_signature: Option<String>,
    pub(crate) function_call: Option<FunctionCall>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct FunctionCall {
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) name: String,
    pub(crate) args: Option<Value>,
}

impl FunctionCall {
    /// The call, with Gemini's id when it sent one, else a stable one of ours.
    pub(crate) fn to_call(&self, response_id: Option<&str>, index: usize) -> ToolCall {
        let args = match &self.args {
            Some(v @ Value::Object(_)) => v.to_string(),
            _ => "{}".to_owned(),
        };
        let id = match self.id.as_deref().filter(|i| !i.is_empty()) {
            Some(i) => i.to_owned(),
            None => call_id(response_id, index, &self.name, &args),
        };
        ToolCall::new(id, self.name.clone(), args)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SafetyRating {
    #[serde(default)]
    pub(crate) category: String,
    #[serde(default)]
    pub(crate) blocked: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PromptFeedback {
    pub(crate) block_reason: Option<String>,
    pub(crate) block_reason_message: Option<String>,
}

/// What a finish reason means: the stop reason, and whether it is a safety
/// block that must be reported as a refusal.
pub(crate) fn finish_reason(reason: &str) -> (StopReason, bool) {
    match reason {
        "STOP" => (StopReason::EndTurn, false),
        "MAX_TOKENS" => (StopReason::MaxTokens, false),
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => (StopReason::ContentFilter, true),
        other => (StopReason::Other(other.to_ascii_lowercase()), false),
    }
}

/// The text of the refusal part for a candidate stopped by a safety reason.
pub(crate) fn candidate_refusal(reason: &str, message: Option<&str>, ratings: &[SafetyRating]) -> String {
    let mut text = format!("Gemini stopped the answer (finishReason {reason})");
    let blocked: Vec<&str> = ratings
        .iter()
        .filter(|r| r.blocked)
        .map(|r| r.category.as_str())
        .collect();
    if !blocked.is_empty() {
        text.push_str(&format!("; blocked categories: {}", blocked.join(", ")));
    }
    if let Some(m) = message.filter(|m| !m.is_empty()) {
        text.push_str(": ");
        text.push_str(m);
    }
    text
}

/// The text of the refusal part for a prompt Gemini would not answer.
pub(crate) fn prompt_refusal(feedback: &PromptFeedback) -> Option<String> {
    let reason = feedback.block_reason.as_deref()?;
    let mut text = format!("Gemini blocked the prompt (blockReason {reason})");
    if let Some(m) = feedback.block_reason_message.as_deref().filter(|m| !m.is_empty()) {
        text.push_str(": ");
        text.push_str(m);
    }
    Some(text)
}

/// Reads a complete `generateContent` answer (the first candidate).
pub(crate) fn parse_response(provider: &str, model: &str, body: &[u8]) -> Result<ChatResponse, ProviderError> {
    let a: Answer =
        serde_json::from_slice(body).map_err(|e| crate::decode::decode_error(provider, "the answer", &e))?;
    if let Some(err) = &a.error {
        return Err(crate::errors::from_stream_event(
            provider,
            &json!({ "error": err }),
            None,
        ));
    }
    let mut content = Vec::new();
    let mut stop = StopReason::EndTurn;
    if let Some(text) = a.prompt_feedback.as_ref().and_then(prompt_refusal) {
        content.push(ContentPart::Refusal { text });
        stop = StopReason::Refusal;
    } else if let Some(c) = a.candidates.iter().find(|c| c.index == 0).or(a.candidates.first()) {
        let mut call_index = 0;
        for p in c.content.iter().flat_map(|c| &c.parts) {
            let signature = p.thought_signature.clone().filter(|s| !s.is_empty());
            if p.thought {
                content.push(ContentPart::Thinking {
                    text: p.text.clone().unwrap_or_default(),
                    signature,
                });
                continue;
            }
            if signature.is_some() {
                content.push(ContentPart::Thinking {
                    text: String::new(),
                    signature,
                });
            }
            if let Some(f) = &p.function_call {
                content.push(ContentPart::ToolCall(f.to_call(a.response_id.as_deref(), call_index)));
                call_index += 1;
            } else if let Some(t) = p.text.clone().filter(|t| !t.is_empty()) {
                content.push(ContentPart::Text { text: t });
            }
        }
        if let Some(r) = &c.finish_reason {
            let (reason, refused) = finish_reason(r);
            if refused {
                content.push(ContentPart::Refusal {
                    text: candidate_refusal(r, c.finish_message.as_deref(), &c.safety_ratings),
                });
            }
            stop = reason;
        }
        if stop == StopReason::EndTurn && call_index > 0 {
            stop = StopReason::ToolUse;
        }
    } else {
        return Err(ProviderError::new(
            ProviderErrorKind::Decode,
            provider,
            "the answer has no candidates and no block reason",
        ));
    }
    let mut resp = ChatResponse::new(
        provider,
        a.model_version.unwrap_or_else(|| model.to_owned()),
        Message {
            role: Role::Assistant,
            content,
        },
        stop,
    );
    resp.id = a.response_id;
    resp.usage = a.usage_metadata.unwrap_or_default().normalize();
    Ok(resp)
}
