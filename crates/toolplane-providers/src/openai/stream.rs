//! The Chat Completions stream decoder (OpenAI and every compatible server, Mistral included).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;
use toolplane_core::{StopReason, StreamEvent, Usage};

use crate::decode::{DecodedItem, PendingCall, StreamDecoder, finish_calls, incomplete, open_call, read_event};
use crate::errors;
use crate::sse::SseEvent;

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    choices: Option<Vec<Choice<'a>>>,
    usage: Option<WireUsage>,
    error: Option<Value>,
    x_groq: Option<XGroq>,
}

#[derive(Deserialize)]
struct XGroq {
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(default)]
    index: Option<u64>,
    #[serde(borrow)]
    delta: Option<Delta<'a>>,
    #[serde(borrow)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow)]
    refusal: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reasoning: Option<Cow<'a, str>>,
    tool_calls: Option<Vec<ToolDelta>>,
}

#[derive(Deserialize)]
struct ToolDelta {
    index: Option<usize>,
    id: Option<String>,
    function: Option<FnDelta>,
}

#[derive(Deserialize)]
struct FnDelta {
    name: Option<String>,
    arguments: Option<Value>,
}

/// Chat Completions `usage`, shared with the complete-answer parser.
#[derive(Deserialize, Default)]
pub(crate) struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    prompt_tokens_details: Option<PromptDetails>,
    completion_tokens_details: Option<CompletionDetails>,
    /// DeepSeek's cache hits (its `prompt_tokens` is hits + misses).
    #[serde(default)]
    prompt_cache_hit_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct PromptDetails {
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct CompletionDetails {
    reasoning_tokens: Option<u64>,
}

impl WireUsage {
    /// OpenAI's `prompt_tokens` already includes `cached_tokens`.
    pub(crate) fn normalize(&self) -> Usage {
        Usage {
            input_tokens: self.prompt_tokens.unwrap_or(0),
            output_tokens: self.completion_tokens.unwrap_or(0),
            cache_read_tokens: self
                .prompt_tokens_details
                .as_ref()
                .and_then(|d| d.cached_tokens)
                .or(self.prompt_cache_hit_tokens)
                .unwrap_or(0),
            cache_write_tokens: 0,
            cache_write_1h_tokens: 0,
            reasoning_tokens: self
                .completion_tokens_details
                .as_ref()
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0),
        }
    }
}

/// Maps a Chat Completions `finish_reason`.
pub(crate) fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "stop" | "eos" => StopReason::EndTurn,
        "length" | "model_length" => StopReason::MaxTokens,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "content_filter" => StopReason::ContentFilter,
        other => StopReason::Other(other.to_owned()),
    }
}

/// Decodes `chat.completion.chunk` events. Tool calls are reassembled by
/// their `index`; a fragment with a new `id` at a known index starts a new
/// call (servers that number every call 0). Only choice 0 is read.
#[derive(Debug)]
pub struct ChatChunkDecoder {
    provider: String,
    started: bool,
    calls: Vec<PendingCall>,
    finish: Option<StopReason>,
    done: bool,
}

impl ChatChunkDecoder {
    /// A decoder whose errors name `provider`.
    pub fn new(provider: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            started: false,
            calls: Vec::new(),
            finish: None,
            done: false,
        }
    }

    fn start(&mut self, id: Option<String>, model: Option<String>, out: &mut Vec<DecodedItem>) {
        if !self.started {
            self.started = true;
            out.push(Ok(StreamEvent::Start { id, model }));
        }
    }

    fn tool_delta(&mut self, d: ToolDelta, out: &mut Vec<DecodedItem>) {
        let key = d.index.unwrap_or(0);
        let id = d.id.filter(|s| !s.is_empty());
        let (name, args) = match d.function {
            Some(f) => (
                f.name.filter(|s| !s.is_empty()),
                match f.arguments {
                    Some(Value::String(s)) => s,
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                },
            ),
            None => (None, String::new()),
        };
        let slot = self.calls.iter().rposition(|c| {
            c.key == key && !c.ended && !(id.is_some() && !c.id.is_empty() && id.as_deref() != Some(&c.id))
        });
        let index = match slot {
            Some(i) => i,
            None => {
                let index = self.calls.len();
                let call = PendingCall {
                    key,
                    id: id.clone().unwrap_or_else(|| format!("call_{index}")),
                    name: name.clone().unwrap_or_default(),
                    ..PendingCall::default()
                };
                open_call(&mut self.calls, call, out)
            }
        };
        let call = &mut self.calls[index];
        if slot.is_some() {
            if let Some(n) = name {
                if call.name.is_empty() {
                    call.name = n;
                    out.push(Ok(StreamEvent::ToolCallStart {
                        index,
                        id: call.id.clone(),
                        name: call.name.clone(),
                    }));
                }
            }
        }
        if !args.is_empty() {
            call.arguments.push_str(&args);
            out.push(Ok(StreamEvent::ToolCallDelta { index, fragment: args }));
        }
    }

    fn stop(&mut self, out: &mut Vec<DecodedItem>) {
        self.done = true;
        let reason = self.finish.take().unwrap_or(StopReason::EndTurn);
        finish_calls(&self.provider, &mut self.calls, reason, out);
    }
}

impl StreamDecoder for ChatChunkDecoder {
    fn event(&mut self, event: &SseEvent, out: &mut Vec<DecodedItem>) {
        if self.done {
            return;
        }
        let data = event.data.trim();
        if data == "[DONE]" {
            if self.finish.is_none() {
                self.done = true;
                out.push(Err(incomplete(
                    &self.provider,
                    "the stream ended with [DONE] before a finish_reason",
                )));
                return;
            }
            self.stop(out);
            return;
        }
        if data.is_empty() {
            return;
        }
        let Some(chunk) = read_event::<Chunk>(&self.provider, "a stream chunk", data, &mut self.done, out) else {
            return;
        };
        if let Some(err) = chunk.error.filter(|e| !e.is_null()) {
            self.done = true;
            let wrapped = serde_json::json!({ "error": err });
            out.push(Err(errors::from_stream_event(&self.provider, &wrapped, None)));
            return;
        }
        if !self.started {
            self.start(chunk.id.map(Cow::into_owned), chunk.model.map(Cow::into_owned), out);
        }
        for choice in chunk.choices.unwrap_or_default() {
            if choice.index.unwrap_or(0) != 0 {
                continue;
            }
            if let Some(delta) = choice.delta {
                if let Some(t) = delta.reasoning_content.or(delta.reasoning).filter(|t| !t.is_empty()) {
                    out.push(Ok(StreamEvent::ThinkingDelta { text: t.into_owned() }));
                }
                if let Some(t) = delta.content.filter(|t| !t.is_empty()) {
                    out.push(Ok(StreamEvent::TextDelta { text: t.into_owned() }));
                }
                if let Some(t) = delta.refusal.filter(|t| !t.is_empty()) {
                    out.push(Ok(StreamEvent::RefusalDelta { text: t.into_owned() }));
                }
                for d in delta.tool_calls.unwrap_or_default() {
                    self.tool_delta(d, out);
                }
            }
            if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
                self.finish = Some(stop_reason(&reason));
            }
        }
        if let Some(u) = chunk.usage.or(chunk.x_groq.and_then(|x| x.usage)) {
            out.push(Ok(StreamEvent::Usage { usage: u.normalize() }));
        }
    }

    fn end(&mut self, out: &mut Vec<DecodedItem>) {
        if self.done {
            return;
        }
        if self.finish.is_some() {
            // Servers that close without `[DONE]` after the finish reason.
            self.stop(out);
        } else {
            self.done = true;
            out.push(Err(incomplete(
                &self.provider,
                "the stream ended before a finish_reason",
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
