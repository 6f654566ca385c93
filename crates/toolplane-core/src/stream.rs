//! Streaming: the events of one streamed answer, and how to put them back together.

use std::collections::{BTreeMap, VecDeque};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use serde::{Deserialize, Serialize};

use crate::{ChatResponse, ContentPart, Message, ProviderError, ProviderErrorKind, Role, StopReason, ToolCall, Usage};

/// One event of a streamed answer, normalized across providers.
///
/// A well-formed stream is: `Start`, then any interleaving of deltas and
/// tool-call events, `Usage` zero or more times (each replaces the previous
/// figures), and `Stop` last. Tool calls are told apart by `index`, which is
/// the call's position in the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StreamEvent {
    /// The answer began.
    Start {
        /// The provider's response id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// The model, as the provider reports it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
    },
    /// More answer text.
    TextDelta {
        /// The text.
        text: String,
    },
    /// More refusal text.
    RefusalDelta {
        /// The text.
        text: String,
    },
    /// More reasoning text.
    ThinkingDelta {
        /// The text.
        text: String,
    },
    /// The signature of the reasoning (Anthropic's `signature_delta`): it must
    /// go back unchanged with the reasoning in the next turn, so accumulators
    /// keep it on the [`ContentPart::Thinking`] part.
    ThinkingSignature {
        /// The signature.
        signature: String,
    },
    /// A tool call began.
    ToolCallStart {
        /// The call's position in the answer.
        index: usize,
        /// The provider's call id.
        id: String,
        /// The tool's name.
        name: String,
    },
    /// A fragment of a tool call's argument text.
    ToolCallDelta {
        /// The call's position in the answer.
        index: usize,
        /// The fragment, to be appended as it is.
        fragment: String,
    },
    /// A tool call is complete.
    ToolCallEnd {
        /// The call's position in the answer.
        index: usize,
        /// The whole call.
        call: ToolCall,
    },
    /// Token counts so far; replaces earlier `Usage` events.
    Usage {
        /// The counts.
        usage: Usage,
    },
    /// The answer is complete.
    Stop {
        /// Why it stopped.
        reason: StopReason,
    },
}

/// A stream over events already in memory. Used to replay a complete answer
/// as a stream, and by tests.
#[derive(Debug)]
pub struct EventStream {
    items: VecDeque<Result<StreamEvent, ProviderError>>,
}

impl EventStream {
    /// A stream that yields `items` in order, then ends.
    pub fn new(items: Vec<Result<StreamEvent, ProviderError>>) -> Self {
        Self { items: items.into() }
    }
}

impl Stream for EventStream {
    type Item = Result<StreamEvent, ProviderError>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.items.pop_front())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.items.len(), Some(self.items.len()))
    }
}

/// The events that a stream of `response` would have produced.
pub fn response_to_events(response: &ChatResponse) -> Vec<StreamEvent> {
    let mut events = vec![StreamEvent::Start {
        id: response.id.clone(),
        model: Some(response.model.clone()),
    }];
    let mut index = 0;
    for part in &response.message.content {
        match part {
            ContentPart::Text { text } => events.push(StreamEvent::TextDelta { text: text.clone() }),
            ContentPart::Refusal { text } => events.push(StreamEvent::RefusalDelta { text: text.clone() }),
            ContentPart::Thinking { text, signature } => {
                events.push(StreamEvent::ThinkingDelta { text: text.clone() });
                if let Some(signature) = signature {
                    events.push(StreamEvent::ThinkingSignature {
                        signature: signature.clone(),
                    });
                }
            }
            ContentPart::ToolCall(call) => {
                events.push(StreamEvent::ToolCallStart {
                    index,
                    id: call.id.clone(),
                    name: call.name.clone(),
                });
                events.push(StreamEvent::ToolCallDelta {
                    index,
                    fragment: call.arguments.clone(),
                });
                events.push(StreamEvent::ToolCallEnd {
                    index,
                    call: call.clone(),
                });
                index += 1;
            }
            _ => {}
        }
    }
    events.push(StreamEvent::Usage { usage: response.usage });
    events.push(StreamEvent::Stop {
        reason: response.stop_reason.clone(),
    });
    events
}

#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
    done: Option<ToolCall>,
}

/// Builds a [`ChatResponse`] from stream events.
///
/// Text, refusal and reasoning deltas are joined; tool calls are assembled by
/// index from their start, deltas and end; the last `Usage` wins.
/// [`StreamAccumulator::finish`] fails with [`ProviderErrorKind::Incomplete`]
/// when no `Stop` event arrived.
///
/// ```
/// use toolplane_core::{StopReason, StreamAccumulator, StreamEvent};
/// let mut acc = StreamAccumulator::new("openai", "gpt-4o");
/// acc.push(&StreamEvent::ToolCallStart { index: 0, id: "c1".into(), name: "f".into() });
/// acc.push(&StreamEvent::ToolCallDelta { index: 0, fragment: "{\"a\":".into() });
/// acc.push(&StreamEvent::ToolCallDelta { index: 0, fragment: "1}".into() });
/// acc.push(&StreamEvent::Stop { reason: StopReason::ToolUse });
/// let resp = acc.finish().unwrap();
/// assert_eq!(resp.tool_calls().next().unwrap().arguments, "{\"a\":1}");
/// ```
#[derive(Debug)]
pub struct StreamAccumulator {
    provider: String,
    model: String,
    id: Option<String>,
    text: String,
    refusal: String,
    thinking: String,
    thinking_signature: Option<String>,
    calls: BTreeMap<usize, PartialCall>,
    usage: Usage,
    stop: Option<StopReason>,
}

impl StreamAccumulator {
    /// An empty accumulator for an answer from `provider`'s `model`.
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            model: model.into(),
            id: None,
            text: String::new(),
            refusal: String::new(),
            thinking: String::new(),
            thinking_signature: None,
            calls: BTreeMap::new(),
            usage: Usage::default(),
            stop: None,
        }
    }

    /// Takes in one event.
    pub fn push(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::Start { id, model } => {
                if id.is_some() {
                    self.id.clone_from(id);
                }
                if let Some(m) = model {
                    self.model.clone_from(m);
                }
            }
            StreamEvent::TextDelta { text } => self.text.push_str(text),
            StreamEvent::RefusalDelta { text } => self.refusal.push_str(text),
            StreamEvent::ThinkingDelta { text } => self.thinking.push_str(text),
            StreamEvent::ThinkingSignature { signature } => self.thinking_signature = Some(signature.clone()),
            StreamEvent::ToolCallStart { index, id, name } => {
                let c = self.calls.entry(*index).or_default();
                c.id.clone_from(id);
                c.name.clone_from(name);
            }
            StreamEvent::ToolCallDelta { index, fragment } => {
                self.calls.entry(*index).or_default().arguments.push_str(fragment);
            }
            StreamEvent::ToolCallEnd { index, call } => {
                self.calls.entry(*index).or_default().done = Some(call.clone());
            }
            StreamEvent::Usage { usage } => self.usage = *usage,
            StreamEvent::Stop { reason } => self.stop = Some(reason.clone()),
        }
    }

    /// True once a `Stop` event arrived.
    pub fn is_complete(&self) -> bool {
        self.stop.is_some()
    }

    /// The usage seen so far.
    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// The complete response, or [`ProviderErrorKind::Incomplete`] when the
    /// stream ended without a `Stop`.
    pub fn finish(self) -> Result<ChatResponse, ProviderError> {
        let Some(stop) = self.stop.clone() else {
            return Err(ProviderError::new(
                ProviderErrorKind::Incomplete,
                self.provider,
                "the stream ended before the answer was complete",
            ));
        };
        Ok(self.build(stop))
    }

    /// Whatever arrived so far, even without a `Stop` (reported as
    /// `StopReason::Other("incomplete")`).
    pub fn finish_partial(self) -> ChatResponse {
        let stop = self
            .stop
            .clone()
            .unwrap_or_else(|| StopReason::Other("incomplete".into()));
        self.build(stop)
    }

    fn build(self, stop: StopReason) -> ChatResponse {
        let mut content = Vec::new();
        if !self.thinking.is_empty() || self.thinking_signature.is_some() {
            content.push(ContentPart::Thinking {
                text: self.thinking,
                signature: self.thinking_signature,
            });
        }
        if !self.text.is_empty() {
            content.push(ContentPart::Text { text: self.text });
        }
        if !self.refusal.is_empty() {
            content.push(ContentPart::Refusal { text: self.refusal });
        }
        for (_, c) in self.calls {
            let call = c.done.unwrap_or(ToolCall {
                id: c.id,
                name: c.name,
                arguments: c.arguments,
            });
            content.push(ContentPart::ToolCall(call));
        }
        ChatResponse {
            message: Message {
                role: Role::Assistant,
                content,
            },
            stop_reason: stop,
            usage: self.usage,
            provider: self.provider,
            model: self.model,
            id: self.id,
            request_id: None,
            rate_limit: None,
        }
    }
}
