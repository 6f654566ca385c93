//! Tool definitions, tool names and call ids in vendor form.
//!
//! Every provider shapes the request's tools the same way ([`WireTools`]):
//!
//! 1. **Names.** A name the vendor accepts is sent as it is. Another
//!    (`demo.weather`, which breaks OpenAI's `^[a-zA-Z0-9_-]{1,64}$`) is sent
//!    in the registry's flat form (`.` becomes `__`: `demo__weather`, the
//!    name `ToolRegistry::export` writes and the executor resolves) when that
//!    is valid, else as toolplane-schema's
//!    [`sanitize_name`](toolplane_schema::sanitize_name) makes it; a clash
//!    with another tool's wire name gets a numbered variant. The model's
//!    tool calls (whole answers and streamed `ToolCallStart`/`ToolCallEnd`)
//!    are mapped back to the request's names before the caller sees them,
//!    and earlier turns' calls, tool results and a named tool choice are
//!    sent under the wire names, so the model sees one consistent set.
//! 2. **Schemas.** Each definition is toolplane-schema's
//!    [`profiled_tool`](toolplane_schema::profiled_tool) for the vendor's
//!    profile (`openai`, `openai-strict` when strict tools are asked for,
//!    `anthropic`, `mistral`, `cohere`), the same function the export API
//!    uses, so what the model receives is what the export promises.
//! 3. **Strict.** With strict tools, OpenAI tools whose schema can be strict
//!    carry `"strict": true`; the `null`s strict mode forces on optional
//!    properties are removed from the model's arguments in the mapped-back
//!    calls (`ToolCallEnd` and whole answers; `ToolCallDelta` fragments stay
//!    as the model wrote them).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::Value;
use toolplane_core::{ChatRequest, ChatResponse, ContentPart, StreamEvent, ToolCall, ToolChoice, ToolSpec};
use toolplane_schema::{DEFAULT_MAX_NAME_LEN, Profile, ProfiledSchema, is_valid_name, profiled_tool, sanitize_name};

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

/// Which tool names a vendor accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(all(feature = "openai", feature = "cohere")), allow(dead_code))]
pub(crate) enum NameRule {
    /// `^[a-zA-Z0-9_-]{1,64}$`: OpenAI, Anthropic, Mistral.
    LettersDigitsDashes,
    /// `^[a-zA-Z_][a-zA-Z0-9_]{0,63}$`: Cohere.
    Identifier,
}

impl NameRule {
    pub(crate) fn accepts(self, name: &str) -> bool {
        match self {
            Self::LettersDigitsDashes => {
                !name.is_empty()
                    && name.len() <= DEFAULT_MAX_NAME_LEN
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            }
            Self::Identifier => is_valid_name(name, DEFAULT_MAX_NAME_LEN),
        }
    }
}

/// How one vendor wants tools: its schema profile (non-strict and strict)
/// and its name rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ToolDialect {
    pub(crate) profile: Profile,
    /// The profile used when strict tools are asked for, if the vendor has one.
    pub(crate) strict_profile: Option<Profile>,
    pub(crate) names: NameRule,
}

#[cfg(feature = "openai")]
pub(crate) const OPENAI_TOOLS: ToolDialect = ToolDialect {
    profile: Profile::OpenAi,
    strict_profile: Some(Profile::OpenAiStrict),
    names: NameRule::LettersDigitsDashes,
};
#[cfg(feature = "anthropic")]
pub(crate) const ANTHROPIC_TOOLS: ToolDialect = ToolDialect {
    profile: Profile::Anthropic,
    strict_profile: None,
    names: NameRule::LettersDigitsDashes,
};
#[cfg(feature = "mistral")]
pub(crate) const MISTRAL_TOOLS: ToolDialect = ToolDialect {
    profile: Profile::Mistral,
    strict_profile: None,
    names: NameRule::LettersDigitsDashes,
};
#[cfg(feature = "cohere")]
pub(crate) const COHERE_TOOLS: ToolDialect = ToolDialect {
    profile: Profile::Cohere,
    strict_profile: None,
    names: NameRule::Identifier,
};

/// Gemini takes full JSON Schema as `parametersJsonSchema`, so its tools are
/// shaped with the profile that keeps a schema as it is (Anthropic's) and
/// renamed to `parametersJsonSchema` by the Gemini wire code.
#[cfg(feature = "gemini")]
pub(crate) const GEMINI_TOOLS: ToolDialect = ToolDialect {
    profile: Profile::Anthropic,
    strict_profile: None,
    names: NameRule::LettersDigitsDashes,
};

/// The wire name of each of `names` under `rule`, in order (see the module docs).
pub(crate) fn wire_names(names: &[&str], rule: NameRule) -> Vec<String> {
    let mut out: Vec<Option<String>> = names.iter().map(|n| rule.accepts(n).then(|| (*n).to_owned())).collect();
    let mut taken: HashSet<String> = out.iter().flatten().cloned().collect();
    for (slot, name) in out.iter_mut().zip(names) {
        if slot.is_some() {
            continue;
        }
        let flat = name.replace('.', "__");
        let mut wire = if rule.accepts(&flat) {
            flat
        } else {
            sanitize_name(name, DEFAULT_MAX_NAME_LEN)
        };
        let mut n = 2usize;
        while taken.contains(&wire) {
            wire = sanitize_name(&format!("{name} {n}"), DEFAULT_MAX_NAME_LEN);
            n += 1;
        }
        taken.insert(wire.clone());
        *slot = Some(wire);
    }
    out.into_iter().map(Option::unwrap_or_default).collect()
}

/// A request's tools as one vendor receives them, and the way back.
#[derive(Debug, Default)]
pub(crate) struct WireTools {
    /// One definition per request tool, in order, under its wire name.
    pub(crate) definitions: Vec<Value>,
    /// Request name to wire name, for the names that change.
    to_wire: HashMap<String, String>,
    /// Wire name to request name, for the names that change.
    from_wire: HashMap<String, String>,
    /// Tools sent strict: wire name to (profiled schema, internal schema).
    strict: HashMap<String, (ProfiledSchema, Value)>,
    /// Whether strict tools were asked for (Cohere's `strict_tools`).
    #[cfg_attr(not(feature = "cohere"), allow(dead_code))]
    pub(crate) strict_asked: bool,
}

impl WireTools {
    /// Shapes `tools` for `dialect`; `strict` asks for strict definitions.
    pub(crate) fn new(tools: &[ToolSpec], dialect: ToolDialect, strict: bool) -> Self {
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        let wire = wire_names(&names, dialect.names);
        let profile = match dialect.strict_profile {
            Some(p) if strict => p,
            _ => dialect.profile,
        };
        let mut out = Self {
            strict_asked: strict,
            ..Self::default()
        };
        for (spec, wire) in tools.iter().zip(wire) {
            let shaped = if wire == spec.name {
                profiled_tool(spec, profile)
            } else {
                out.to_wire.insert(spec.name.clone(), wire.clone());
                out.from_wire.insert(wire.clone(), spec.name.clone());
                let mut renamed = spec.clone();
                renamed.name = wire.clone();
                profiled_tool(&renamed, profile)
            };
            if shaped.schema.strict && shaped.schema.profile == Profile::OpenAiStrict {
                out.strict.insert(wire, (shaped.schema, spec.input_schema.clone()));
            }
            out.definitions.push(shaped.definition);
        }
        out
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
        if let Some((profiled, internal)) = self.strict.get(&call.name) {
            if let Ok(args) = serde_json::from_str::<Value>(&call.arguments) {
                let restored = profiled.restore_arguments(internal, args);
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

#[cfg(test)]
mod wire_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any list of names: every wire name is valid for the rule, all are
        /// distinct, names the rule accepts are kept, and the result does not
        /// depend on anything but the list.
        #[test]
        fn wire_names_are_valid_unique_and_stable(
            names in proptest::collection::vec("[a-zA-Z0-9_.:/ é-]{0,80}", 0..12),
        ) {
            let mut names = names;
            names.sort();
            names.dedup();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            for rule in [NameRule::LettersDigitsDashes, NameRule::Identifier] {
                let wire = wire_names(&refs, rule);
                prop_assert_eq!(wire.len(), refs.len());
                let unique: HashSet<&String> = wire.iter().collect();
                prop_assert_eq!(unique.len(), wire.len(), "{:?} -> {:?}", refs, wire);
                for (n, w) in refs.iter().zip(&wire) {
                    prop_assert!(rule.accepts(w), "{} -> {}", n, w);
                    if rule.accepts(n) {
                        prop_assert_eq!(n, w);
                    }
                }
                prop_assert_eq!(&wire, &wire_names(&refs, rule));
            }
        }
    }

    #[test]
    fn names_are_kept_flattened_or_sanitized_and_never_clash() {
        let names = [
            "get_weather",
            "demo.weather",
            "my-tool",
            "demo__weather",
            "a.b.c",
            "ünï.cødé",
            "9lives",
        ];
        let dashes = wire_names(&names, NameRule::LettersDigitsDashes);
        assert_eq!(dashes[0], "get_weather");
        assert_eq!(dashes[2], "my-tool");
        assert_eq!(dashes[3], "demo__weather", "a valid name keeps its own form");
        assert_ne!(dashes[1], "demo__weather", "and the dotted one does not take it");
        assert_eq!(dashes[4], "a__b__c");
        assert_eq!(dashes[6], "9lives");
        let cohere = wire_names(&names, NameRule::Identifier);
        assert_eq!(cohere[2], "my_tool");
        assert_eq!(cohere[6], "_9lives");
        for set in [&dashes, &cohere] {
            let unique: HashSet<&String> = set.iter().collect();
            assert_eq!(unique.len(), names.len(), "{set:?}");
        }
        for n in &dashes {
            assert!(NameRule::LettersDigitsDashes.accepts(n), "{n}");
        }
        for n in &cohere {
            assert!(NameRule::Identifier.accepts(n), "{n}");
        }
    }
}
