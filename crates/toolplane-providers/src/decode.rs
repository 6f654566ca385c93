//! Stream decoders: SSE events in, normalized [`StreamEvent`]s out.
//!
//! Every vendor's decoder implements [`StreamDecoder`]; [`Decoding`] joins one
//! to the shared [`SseReader`] so bytes go in and events come out. Decoders
//! never panic: unknown event types and fields are skipped, malformed JSON is
//! a [`ProviderErrorKind::Decode`] error, an error event is a typed error, and
//! a stream that ends before its stop event is [`ProviderErrorKind::Incomplete`].

use std::fmt;

use toolplane_core::{ProviderError, ProviderErrorKind, StopReason, StreamEvent, ToolCall};

use crate::sse::{SseEvent, SseReader};

/// What a decoder produces: events, or the error that ends the stream.
pub type DecodedItem = Result<StreamEvent, ProviderError>;

/// Turns one vendor's SSE events into normalized stream events.
pub trait StreamDecoder: Send + fmt::Debug {
    /// Handles one SSE event, appending what it produced.
    fn event(&mut self, event: &SseEvent, out: &mut Vec<DecodedItem>);

    /// The byte stream ended; appends the final events, or an
    /// [`ProviderErrorKind::Incomplete`] error when the answer was not complete.
    fn end(&mut self, out: &mut Vec<DecodedItem>);

    /// True once the decoder emitted its last item (a `Stop` or an error).
    fn is_done(&self) -> bool;

    /// The provider name errors carry.
    fn provider(&self) -> &str;
}

/// An SSE reader joined to a decoder: push bytes, take events.
///
/// ```
/// use toolplane_core::StreamEvent;
/// use toolplane_providers::decode::Decoding;
/// use toolplane_providers::openai::ChatChunkDecoder;
/// let mut d = Decoding::new(ChatChunkDecoder::new("openai"));
/// let mut out = Vec::new();
/// d.push(b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n", &mut out);
/// d.push(b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n", &mut out);
/// d.finish(&mut out);
/// assert!(matches!(out[1], Ok(StreamEvent::TextDelta { ref text }) if text == "Hi"));
/// assert!(matches!(out.last(), Some(Ok(StreamEvent::Stop { .. }))));
/// ```
#[derive(Debug)]
pub struct Decoding<D> {
    reader: SseReader,
    decoder: D,
    finished: bool,
}

impl<D: StreamDecoder> Decoding<D> {
    /// Joins a decoder to a fresh reader.
    pub fn new(decoder: D) -> Self {
        Self {
            reader: SseReader::new(),
            decoder,
            finished: false,
        }
    }

    /// Sets the longest event-stream line (and event `data`) accepted, in
    /// bytes; past it the stream ends with a
    /// [`ProviderErrorKind::Decode`] error naming the limit.
    pub fn with_max_line(mut self, bytes: usize) -> Self {
        self.reader = SseReader::new().with_max_line(bytes);
        self
    }

    /// Takes in a chunk of bytes.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<DecodedItem>) {
        if self.finished || self.decoder.is_done() {
            return;
        }
        let Self { reader, decoder, .. } = self;
        reader.push_each(chunk, |ev| {
            if !decoder.is_done() {
                decoder.event(ev, out);
            }
        });
        if reader.exceeded() && !decoder.is_done() {
            self.finished = true;
            out.push(Err(line_too_long(decoder.provider(), reader.max_line())));
        }
    }

    /// True once the stream ended: the decoder emitted its last item, or a
    /// line passed the limit.
    pub fn is_finished(&self) -> bool {
        self.finished || self.decoder.is_done()
    }

    /// The bytes ended.
    pub fn finish(&mut self, out: &mut Vec<DecodedItem>) {
        if self.finished {
            return;
        }
        self.finished = true;
        if self.decoder.is_done() {
            return;
        }
        if let Some(cut) = self.reader.finish() {
            // A final event without its blank line: decode it if it is whole
            // (some servers close right after the last data line).
            if serde_json::from_str::<serde::de::IgnoredAny>(&cut.data).is_ok() || cut.data == "[DONE]" {
                self.decoder.event(&cut, out);
            } else if !self.decoder.is_done() {
                out.push(Err(incomplete(
                    self.decoder.provider(),
                    "the stream was cut in the middle of an event",
                )));
                return;
            }
        }
        if !self.decoder.is_done() {
            self.decoder.end(out);
        }
    }

    /// True once the decoder emitted its last item.
    pub fn is_done(&self) -> bool {
        self.decoder.is_done()
    }
}

/// Decodes a whole body at once (tests, benchmarks, recorded traffic).
pub fn decode_all<D: StreamDecoder>(decoder: D, body: &[u8]) -> Vec<DecodedItem> {
    let mut d = Decoding::new(decoder);
    let mut out = Vec::new();
    d.push(body, &mut out);
    d.finish(&mut out);
    out
}

/// The error for an event-stream line (or event) longer than the limit.
pub(crate) fn line_too_long(provider: &str, limit: usize) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::Decode,
        provider,
        format!(
            "an event-stream line passed the limit of {limit} bytes (ResponseLimits::max_sse_line_bytes); the stream was dropped"
        ),
    )
}

pub(crate) fn incomplete(provider: &str, what: &str) -> ProviderError {
    ProviderError::new(ProviderErrorKind::Incomplete, provider, what)
}

pub(crate) fn decode_error(provider: &str, what: &str, err: &serde_json::Error) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::Decode,
        provider,
        format!("could not read {what}: {err}"),
    )
}

/// Reads one event's JSON as `E`. Malformed JSON ends the stream: `done` is
/// set and the [`ProviderErrorKind::Decode`] error naming `what` is emitted.
pub(crate) fn read_event<'a, E: serde::Deserialize<'a>>(
    provider: &str,
    what: &str,
    data: &'a str,
    done: &mut bool,
    out: &mut Vec<DecodedItem>,
) -> Option<E> {
    match serde_json::from_str(data) {
        Ok(ev) => Some(ev),
        Err(e) => {
            *done = true;
            out.push(Err(decode_error(provider, what, &e)));
            None
        }
    }
}

/// A tool call being assembled from fragments.
#[derive(Debug, Default, Clone)]
pub(crate) struct PendingCall {
    /// The vendor's key for the call (an index or a content block number).
    #[cfg_attr(
        not(any(feature = "openai", feature = "anthropic", feature = "cohere")),
        allow(dead_code)
    )]
    pub(crate) key: usize,
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) arguments: String,
    pub(crate) ended: bool,
}

impl PendingCall {
    pub(crate) fn to_call(&self) -> ToolCall {
        ToolCall::new(self.id.clone(), self.name.clone(), self.arguments.clone())
    }
}

/// Adds the next tool call: emits its `ToolCallStart`, and a `ToolCallDelta`
/// when arguments came with the start. Returns its index in `calls`.
pub(crate) fn open_call(calls: &mut Vec<PendingCall>, call: PendingCall, out: &mut Vec<DecodedItem>) -> usize {
    let index = calls.len();
    out.push(Ok(StreamEvent::ToolCallStart {
        index,
        id: call.id.clone(),
        name: call.name.clone(),
    }));
    if !call.arguments.is_empty() {
        out.push(Ok(StreamEvent::ToolCallDelta {
            index,
            fragment: call.arguments.clone(),
        }));
    }
    calls.push(call);
    index
}

/// Ends the calls not yet ended and emits the stop, or the incomplete error
/// when the output limit cut a call's arguments short.
pub(crate) fn finish_calls(provider: &str, calls: &mut [PendingCall], reason: StopReason, out: &mut Vec<DecodedItem>) {
    if reason == StopReason::MaxTokens {
        if let Some(cut) = calls
            .iter()
            .find(|c| serde_json::from_str::<serde::de::IgnoredAny>(&c.arguments).is_err() && !c.arguments.is_empty())
        {
            out.push(Err(incomplete(
                provider,
                &format!(
                    "the output token limit cut the arguments of tool call {} ({}) short; they are not valid JSON",
                    cut.id, cut.name
                ),
            )));
            return;
        }
    }
    for (index, c) in calls.iter_mut().enumerate() {
        if !c.ended {
            c.ended = true;
            out.push(Ok(StreamEvent::ToolCallEnd {
                index,
                call: c.to_call(),
            }));
        }
    }
    let reason = if reason == StopReason::EndTurn && !calls.is_empty() {
        StopReason::ToolUse
    } else {
        reason
    };
    out.push(Ok(StreamEvent::Stop { reason }));
}
