//! The Messages API stream decoder.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;
use toolplane_core::{StopReason, StreamEvent, Usage};

use crate::decode::{DecodedItem, PendingCall, StreamDecoder, finish_calls, incomplete, open_call, read_event};
use crate::errors;
use crate::sse::SseEvent;

/// Anthropic `usage`, shared with the complete-answer parser.
#[derive(Debug, Deserialize, Default, Clone, Copy)]
pub(crate) struct WireUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    /// The writes by lifetime (`ephemeral_5m_input_tokens`, `ephemeral_1h_input_tokens`).
    cache_creation: Option<CacheCreation>,
}

#[derive(Debug, Deserialize, Default, Clone, Copy)]
struct CacheCreation {
    ephemeral_1h_input_tokens: Option<u64>,
}

impl WireUsage {
    /// Anthropic's `input_tokens` excludes cache reads and writes; core's includes them.
    pub(crate) fn normalize(&self) -> Usage {
        let read = self.cache_read_input_tokens.unwrap_or(0);
        let write = self.cache_creation_input_tokens.unwrap_or(0);
        Usage {
            input_tokens: self
                .input_tokens
                .unwrap_or(0)
                .saturating_add(read)
                .saturating_add(write),
            output_tokens: self.output_tokens.unwrap_or(0),
            cache_read_tokens: read,
            cache_write_tokens: write,
            cache_write_1h_tokens: self
                .cache_creation
                .and_then(|c| c.ephemeral_1h_input_tokens)
                .unwrap_or(0)
                .min(write),
            reasoning_tokens: 0,
        }
    }

    /// Fields present in `later` replace ours (`message_delta` counts are cumulative).
    fn merge(&mut self, later: &WireUsage) {
        let pick = |a: &mut Option<u64>, b: Option<u64>| {
            if b.is_some() {
                *a = b;
            }
        };
        pick(&mut self.input_tokens, later.input_tokens);
        pick(&mut self.output_tokens, later.output_tokens);
        pick(&mut self.cache_read_input_tokens, later.cache_read_input_tokens);
        pick(&mut self.cache_creation_input_tokens, later.cache_creation_input_tokens);
        if later.cache_creation.is_some() {
            self.cache_creation = later.cache_creation;
        }
    }
}

/// Maps a Messages API `stop_reason`.
pub(crate) fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "end_turn" => StopReason::EndTurn,
        "max_tokens" | "model_context_window_exceeded" => StopReason::MaxTokens,
        "stop_sequence" => StopReason::StopSequence,
        "tool_use" => StopReason::ToolUse,
        "refusal" => StopReason::Refusal,
        "pause_turn" => StopReason::PauseTurn,
        other => StopReason::Other(other.to_owned()),
    }
}

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    index: Option<usize>,
    message: Option<StartMessage>,
    content_block: Option<Block>,
    #[serde(borrow)]
    delta: Option<Delta<'a>>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct StartMessage {
    id: Option<String>,
    model: Option<String>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
    name: Option<String>,
    text: Option<String>,
    thinking: Option<String>,
    signature: Option<String>,
    input: Option<Value>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    partial_json: Option<Cow<'a, str>>,
    #[serde(borrow)]
    thinking: Option<Cow<'a, str>>,
    #[serde(borrow)]
    signature: Option<Cow<'a, str>>,
    #[serde(borrow)]
    stop_reason: Option<Cow<'a, str>>,
}

/// Decodes Messages API events. Tool calls are reassembled by content block:
/// `content_block_start` (tool_use) opens one, `input_json_delta` fragments
/// are appended, `content_block_stop` closes it. `ping` and unknown events
/// are skipped; an `error` event is a typed error; a `max_tokens` stop that
/// cuts a tool call's JSON short is [`Incomplete`](toolplane_core::ProviderErrorKind::Incomplete).
#[derive(Debug)]
pub struct MessagesDecoder {
    provider: String,
    started: bool,
    calls: Vec<PendingCall>,
    usage: WireUsage,
    stop: Option<StopReason>,
    done: bool,
}

impl MessagesDecoder {
    /// A decoder whose errors name `provider`.
    pub fn new(provider: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            started: false,
            calls: Vec::new(),
            usage: WireUsage::default(),
            stop: None,
            done: false,
        }
    }

    fn call_for_block(&self, block: usize) -> Option<usize> {
        self.calls.iter().position(|c| c.key == block)
    }

    fn handle(&mut self, ev: Event<'_>, raw: &str, out: &mut Vec<DecodedItem>) {
        match ev.kind.as_deref().unwrap_or("") {
            "message_start" => {
                let (id, model) = match ev.message {
                    Some(m) => {
                        if let Some(u) = m.usage {
                            self.usage.merge(&u);
                        }
                        (m.id, m.model)
                    }
                    None => (None, None),
                };
                if !self.started {
                    self.started = true;
                    out.push(Ok(StreamEvent::Start { id, model }));
                    out.push(Ok(StreamEvent::Usage {
                        usage: self.usage.normalize(),
                    }));
                }
            }
            "content_block_start" => {
                let (Some(block), Some(bi)) = (ev.content_block, ev.index) else {
                    return;
                };
                match block.kind.as_str() {
                    "tool_use" | "server_tool_use" => {
                        let index = self.calls.len();
                        // Non-streaming proxies may send the whole input up front.
                        let arguments = block
                            .input
                            .filter(|v| v.as_object().is_some_and(|o| !o.is_empty()))
                            .map(|input| input.to_string())
                            .unwrap_or_default();
                        let call = PendingCall {
                            key: bi,
                            id: block.id.unwrap_or_else(|| format!("toolu_{index}")),
                            name: block.name.unwrap_or_default(),
                            arguments,
                            ended: false,
                        };
                        open_call(&mut self.calls, call, out);
                    }
                    "text" => {
                        if let Some(t) = block.text.filter(|t| !t.is_empty()) {
                            out.push(Ok(StreamEvent::TextDelta { text: t }));
                        }
                    }
                    "thinking" => {
                        if let Some(t) = block.thinking.filter(|t| !t.is_empty()) {
                            out.push(Ok(StreamEvent::ThinkingDelta { text: t }));
                        }
                        if let Some(signature) = block.signature.filter(|s| !s.is_empty()) {
                            out.push(Ok(StreamEvent::ThinkingSignature { signature }));
                        }
                    }
                    _ => {}
                }
            }
            "content_block_delta" => {
                let Some(delta) = ev.delta else { return };
                match delta.kind.as_deref().unwrap_or("") {
                    "text_delta" => {
                        if let Some(t) = delta.text.filter(|t| !t.is_empty()) {
                            out.push(Ok(StreamEvent::TextDelta { text: t.into_owned() }));
                        }
                    }
                    "thinking_delta" => {
                        if let Some(t) = delta.thinking.filter(|t| !t.is_empty()) {
                            out.push(Ok(StreamEvent::ThinkingDelta { text: t.into_owned() }));
                        }
                    }
                    "signature_delta" => {
                        if let Some(signature) = delta.signature.filter(|s| !s.is_empty()) {
                            out.push(Ok(StreamEvent::ThinkingSignature {
                                signature: signature.into_owned(),
                            }));
                        }
                    }
                    "input_json_delta" => {
                        let Some(index) = ev.index.and_then(|b| self.call_for_block(b)) else {
                            return;
                        };
                        if let Some(f) = delta.partial_json.filter(|f| !f.is_empty()) {
                            self.calls[index].arguments.push_str(&f);
                            out.push(Ok(StreamEvent::ToolCallDelta {
                                index,
                                fragment: f.into_owned(),
                            }));
                        }
                    }
                    _ => {}
                }
            }
            "content_block_stop" => {
                let Some(index) = ev.index.and_then(|b| self.call_for_block(b)) else {
                    return;
                };
                let call = &mut self.calls[index];
                if !call.ended {
                    if call.arguments.is_empty() {
                        call.arguments.push_str("{}");
                    }
                    call.ended = true;
                    out.push(Ok(StreamEvent::ToolCallEnd {
                        index,
                        call: call.to_call(),
                    }));
                }
            }
            "message_delta" => {
                if let Some(r) = ev.delta.and_then(|d| d.stop_reason) {
                    self.stop = Some(stop_reason(&r));
                }
                if let Some(u) = ev.usage {
                    self.usage.merge(&u);
                    out.push(Ok(StreamEvent::Usage {
                        usage: self.usage.normalize(),
                    }));
                }
            }
            "message_stop" => {
                self.done = true;
                let reason = self.stop.take().unwrap_or(StopReason::EndTurn);
                // Calls still open at the stop were cut short.
                for c in self.calls.iter_mut().filter(|c| !c.ended && c.arguments.is_empty()) {
                    c.arguments.push_str("{}");
                }
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

impl StreamDecoder for MessagesDecoder {
    fn event(&mut self, event: &SseEvent, out: &mut Vec<DecodedItem>) {
        if self.done || event.event == "ping" || event.data.is_empty() {
            return;
        }
        let Some(mut ev) = read_event::<Event>(&self.provider, "a stream event", &event.data, &mut self.done, out)
        else {
            return;
        };
        if ev.kind.is_none() && !event.event.is_empty() {
            ev.kind = Some(Cow::Borrowed(event.event.as_str()));
        }
        self.handle(ev, &event.data, out);
    }

    fn end(&mut self, out: &mut Vec<DecodedItem>) {
        if !self.done {
            self.done = true;
            out.push(Err(incomplete(&self.provider, "the stream ended before message_stop")));
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn provider(&self) -> &str {
        &self.provider
    }
}
