//! The `streamGenerateContent?alt=sse` decoder.

use serde_json::json;
use toolplane_core::{StopReason, StreamEvent};

use super::wire::{Answer, WireUsage, candidate_refusal, finish_reason, prompt_refusal};
use crate::decode::{DecodedItem, PendingCall, StreamDecoder, finish_calls, incomplete, open_call, read_event};
use crate::errors;
use crate::sse::SseEvent;

/// Decodes Gemini's SSE stream. Each event is a whole
/// `GenerateContentResponse` chunk: text parts are deltas, `thought` parts
/// reasoning, a `functionCall` part a complete call (Gemini never splits
/// one), a `thoughtSignature` becomes
/// [`ThinkingSignature`](StreamEvent::ThinkingSignature), and
/// `usageMetadata` holds the totals so far. Gemini sends no terminal event,
/// so the stop is emitted when the bytes end after a `finishReason`; a stream
/// that ends without one is [`Incomplete`](toolplane_core::ProviderErrorKind::Incomplete).
/// A safety block becomes refusal text and a `ContentFilter` (finish reason)
/// or `Refusal` (prompt block) stop, never an empty answer.
#[derive(Debug)]
pub struct GenerateContentDecoder {
    provider: String,
    started: bool,
    response_id: Option<String>,
    calls: Vec<PendingCall>,
    usage: WireUsage,
    stop: Option<StopReason>,
    done: bool,
}

impl GenerateContentDecoder {
    /// A decoder whose errors name `provider`.
    pub fn new(provider: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            started: false,
            response_id: None,
            calls: Vec::new(),
            usage: WireUsage::default(),
            stop: None,
            done: false,
        }
    }

    fn handle(&mut self, a: Answer, out: &mut Vec<DecodedItem>) {
        if let Some(err) = a.error {
            self.done = true;
            out.push(Err(errors::from_stream_event(
                &self.provider,
                &json!({ "error": err }),
                None,
            )));
            return;
        }
        if !self.started {
            self.started = true;
            self.response_id.clone_from(&a.response_id);
            out.push(Ok(StreamEvent::Start {
                id: a.response_id.clone(),
                model: a.model_version.clone(),
            }));
        }
        if let Some(u) = a.usage_metadata {
            self.usage = u;
        }
        if let Some(text) = a.prompt_feedback.as_ref().and_then(prompt_refusal) {
            out.push(Ok(StreamEvent::RefusalDelta { text }));
            out.push(Ok(StreamEvent::Usage {
                usage: self.usage.normalize(),
            }));
            out.push(Ok(StreamEvent::Stop {
                reason: StopReason::Refusal,
            }));
            self.done = true;
            return;
        }
        for c in a.candidates.iter().filter(|c| c.index == 0) {
            for p in c.content.iter().flat_map(|c| &c.parts) {
                if let Some(signature) = p.thought_signature.clone().filter(|s| !s.is_empty()) {
                    out.push(Ok(StreamEvent::ThinkingSignature { signature }));
                }
                if let Some(f) = &p.function_call {
                    let index = self.calls.len();
                    let call = f.to_call(self.response_id.as_deref(), index);
                    open_call(
                        &mut self.calls,
                        PendingCall {
                            key: index,
                            id: call.id,
                            name: call.name,
                            arguments: call.arguments,
                            ended: false,
                        },
                        out,
                    );
                } else if let Some(t) = p.text.clone().filter(|t| !t.is_empty()) {
                    out.push(Ok(if p.thought {
                        StreamEvent::ThinkingDelta { text: t }
                    } else {
                        StreamEvent::TextDelta { text: t }
                    }));
                }
            }
            if let Some(r) = &c.finish_reason {
                let (reason, refused) = finish_reason(r);
                if refused {
                    out.push(Ok(StreamEvent::RefusalDelta {
                        text: candidate_refusal(r, c.finish_message.as_deref(), &c.safety_ratings),
                    }));
                }
                self.stop = Some(reason);
            }
        }
        if a.usage_metadata.is_some() {
            out.push(Ok(StreamEvent::Usage {
                usage: self.usage.normalize(),
            }));
        }
    }
}

impl StreamDecoder for GenerateContentDecoder {
    fn event(&mut self, event: &SseEvent, out: &mut Vec<DecodedItem>) {
        if self.done || event.data.is_empty() {
            return;
        }
        if let Some(a) = read_event::<Answer>(&self.provider, "a stream chunk", &event.data, &mut self.done, out) {
            self.handle(a, out);
        }
    }

    fn end(&mut self, out: &mut Vec<DecodedItem>) {
        if self.done {
            return;
        }
        self.done = true;
        match self.stop.take() {
            Some(reason) => finish_calls(&self.provider, &mut self.calls, reason, out),
            None => out.push(Err(incomplete(
                &self.provider,
                "the stream ended before a finishReason",
            ))),
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn provider(&self) -> &str {
        &self.provider
    }
}
