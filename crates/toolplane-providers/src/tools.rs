//! Tool definitions, tool names and call ids in vendor form.
//!
//! Every provider shapes the request's tools the same way ([`WireTools`]),
//! through toolplane-schema's [`export`](toolplane_schema::export()), the
//! function `ToolRegistry::export_all` and the CLI use, so what the model
//! receives is what an export shows (byte for byte):
//!
//! 1. **Names.** A name the vendor accepts is sent as it is. Another
//!    (`demo.weather`, which breaks OpenAI's `^[a-zA-Z0-9_-]{1,64}$`) is sent
//!    under the name [`wire_names`](toolplane_schema::wire_names) gives it
//!    (`demo__weather`). The model's tool calls (whole answers and streamed
//!    `ToolCallStart`/`ToolCallEnd`) are mapped back to the request's names
//!    before the caller sees them, and earlier turns' calls, tool results and
//!    a named tool choice are sent under the wire names, so the model sees
//!    one consistent set.
//! 2. **Schemas.** Each definition is shaped for the vendor's
//!    [`Profile`] (`openai`, `openai-responses`, their strict forms when
//!    strict tools are asked for, `anthropic`, `mistral`, `cohere`,
//!    `gemini-json-schema`).
//! 3. **Strict.** With strict tools, OpenAI tools whose schema can be strict
//!    carry `"strict": true`; the `null`s strict mode forces on optional
//!    properties are removed from the model's arguments in the mapped-back
//!    calls (`ToolCallEnd` and whole answers; `ToolCallDelta` fragments stay
//!    as the model wrote them).

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;
use toolplane_core::{ChatRequest, ChatResponse, ContentPart, StreamEvent, ToolCall, ToolChoice, ToolSpec};
use toolplane_schema::{Export, Profile, export};

/// Mistral accepts only tool-call ids of exactly 9 ASCII letters and digits.
/// Ids that already fit are kept; others are hashed (FNV-1a, 64 bits) into 9
/// base-62 characters, so one id maps to the same value in the call and in
/// its result, in every request.
///
/// ```
/// use toolplane_providers::mistral_call_id;
/// assert_eq!(mistral_call_id("abcDEF123"), "abcDEF123");
/// let id = mistral_call_id("call_CTf1nWJLqSeRgDqaCG27xZ74");
/// assert_eq!(id.len(), 9);
/// assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
/// assert_eq!(id, mistral_call_id("call_CTf1nWJLqSeRgDqaCG27xZ74"));
/// ```
pub fn mistral_call_id(id: &str) -> String {
    if id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return id.to_owned();
    }
    const ALPHABET: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = String::with_capacity(9);
    for _ in 0..9 {
        out.push(char::from(ALPHABET[(hash % 62) as usize]));
        hash /= 62;
    }
    out
}

/// The profile each vendor's requests are shaped with; strict tools use
/// its [`Profile::strict`] form where the vendor has one.
#[cfg(feature = "openai")]
pub(crate) const OPENAI_TOOLS: Profile = Profile::OpenAi;
#[cfg(feature = "openai")]
pub(crate) const OPENAI_RESPONSES_TOOLS: Profile = Profile::OpenAiResponses;
#[cfg(feature = "anthropic")]
pub(crate) const ANTHROPIC_TOOLS: Profile = Profile::Anthropic;
#[cfg(feature = "mistral")]
pub(crate) const MISTRAL_TOOLS: Profile = Profile::Mistral;
#[cfg(feature = "cohere")]
pub(crate) const COHERE_TOOLS: Profile = Profile::Cohere;
/// Gemini takes full JSON Schema as `parametersJsonSchema`.
#[cfg(feature = "gemini")]
pub(crate) const GEMINI_TOOLS: Profile = Profile::GeminiJsonSchema;

/// A request's tools as one vendor receives them, and the way back.
#[derive(Debug)]
pub(crate) struct WireTools {
    /// The request's tools, exported for the vendor's profile, in order.
    pub(crate) export: Export,
    /// Request name to wire name, for the names that change.
    to_wire: HashMap<String, String>,
    /// Wire name to request name, for the names that change.
    from_wire: HashMap<String, String>,
    /// Tools sent strict: wire name to (index in the export, internal schema).
    strict: HashMap<String, (usize, Value)>,
    /// Whether strict tools were asked for (Cohere's `strict_tools`).
    #[cfg_attr(not(feature = "cohere"), allow(dead_code))]
    pub(crate) strict_asked: bool,
}

impl WireTools {
    /// Shapes `tools` for `profile`, or its strict form when `strict` asks
    /// for strict definitions and the vendor has them.
    pub(crate) fn new(tools: &[ToolSpec], profile: Profile, strict: bool) -> Self {
        let profile = match profile.strict() {
            Some(p) if strict => p,
            _ => profile,
        };
        let export = export(tools, profile);
        let mut to_wire = HashMap::new();
        let mut from_wire = HashMap::new();
        let mut strict_tools = HashMap::new();
        for (i, (spec, t)) in tools.iter().zip(&export.tools).enumerate() {
            if t.wire_name != t.name {
                to_wire.insert(t.name.clone(), t.wire_name.clone());
                from_wire.insert(t.wire_name.clone(), t.name.clone());
            }
            if t.schema.strict && t.schema.profile.is_strict() {
                strict_tools.insert(t.wire_name.clone(), (i, spec.input_schema.clone()));
            }
        }
        Self {
            export,
            to_wire,
            from_wire,
            strict: strict_tools,
            strict_asked: strict,
        }
    }

    /// The request's whole `tools` value ([`Export::tools_field`]).
    #[cfg_attr(
        not(any(feature = "openai", feature = "anthropic", feature = "gemini")),
        allow(dead_code)
    )]
    pub(crate) fn field(&self) -> Value {
        self.export.tools_field()
    }

    /// The request with the names it mentions (earlier calls, tool results,
    /// a named tool choice) in wire form; borrowed when no name changes.
    pub(crate) fn request<'a>(&self, req: &'a ChatRequest) -> Cow<'a, ChatRequest> {
        if self.to_wire.is_empty() {
            return Cow::Borrowed(req);
        }
        let mut r = req.clone();
        for m in &mut r.messages {
            for part in &mut m.content {
                match part {
                    ContentPart::ToolCall(c) => {
                        if let Some(w) = self.to_wire.get(&c.name) {
                            c.name = w.clone();
                        }
                    }
                    ContentPart::ToolResult(res) => {
                        if let Some(w) = res.name.as_ref().and_then(|n| self.to_wire.get(n)) {
                            res.name = Some(w.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
        if let Some(ToolChoice::Tool { name }) = &mut r.tool_choice {
            if let Some(w) = self.to_wire.get(name.as_str()) {
                *name = w.clone();
            }
        }
        for t in &mut r.tools {
            if let Some(w) = self.to_wire.get(&t.name) {
                t.name = w.clone();
            }
        }
        Cow::Owned(r)
    }

    /// A call the model made, under the request's name, strict-mode `null`s removed.
    pub(crate) fn restore_call(&self, call: &mut ToolCall) {
        if let Some((i, internal)) = self.strict.get(&call.name) {
            if let (Some(t), Ok(args)) = (
                self.export.tools.get(*i),
                serde_json::from_str::<Value>(&call.arguments),
            ) {
                let restored = t.schema.restore_arguments(internal, args);
                call.arguments = restored.to_string();
            }
        }
        if let Some(original) = self.from_wire.get(&call.name) {
            call.name = original.clone();
        }
    }

    /// The answer with its tool calls restored ([`restore_call`](Self::restore_call)).
    pub(crate) fn restore_response(&self, resp: &mut ChatResponse) {
        if self.from_wire.is_empty() && self.strict.is_empty() {
            return;
        }
        for part in &mut resp.message.content {
            if let ContentPart::ToolCall(c) = part {
                self.restore_call(c);
            }
        }
    }

    /// True when stream events need [`restore_event`](Self::restore_event).
    pub(crate) fn changes_calls(&self) -> bool {
        !self.from_wire.is_empty() || !self.strict.is_empty()
    }

    /// A stream event with its tool name (and a finished call's arguments) restored.
    pub(crate) fn restore_event(&self, event: StreamEvent) -> StreamEvent {
        match event {
            StreamEvent::ToolCallStart { index, id, name } => StreamEvent::ToolCallStart {
                index,
                id,
                name: self.from_wire.get(&name).cloned().unwrap_or(name),
            },
            StreamEvent::ToolCallEnd { index, mut call } => {
                self.restore_call(&mut call);
                StreamEvent::ToolCallEnd { index, call }
            }
            other => other,
        }
    }
}
