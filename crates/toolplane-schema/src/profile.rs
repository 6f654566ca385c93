//! Provider profiles: the internal JSON Schema rewritten for one provider, and
//! the tool definition object its `tools` field accepts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use toolplane_core::ToolSpec;

use crate::gemini::{RenameTree, to_gemini};
use crate::inline::{DEFAULT_NODE_BUDGET, DEFAULT_RECURSION_DEPTH, inline_refs, resolve_local};
use crate::strict::{StrictBudget, to_openai_strict};
use crate::vendor_names::NameRule;

/// Which vendor's shape: the one vocabulary for "tools as vendor X wants
/// them", used by [`export`](crate::export()), the providers' requests, the
/// registry, the OpenAPI conversion and the CLI. It fixes the definition's
/// shape, the schema rewrite, the name rule and the tool-count limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// OpenAI Chat Completions, non-strict: the schema as it is (`$ref`/`$defs` kept).
    #[serde(rename = "openai")]
    OpenAi,
    /// OpenAI Chat Completions with `strict: true` (structured outputs rules);
    /// falls back to non-strict per tool when the schema cannot be strict.
    #[serde(rename = "openai-strict")]
    OpenAiStrict,
    /// Anthropic Messages: `input_schema`, full JSON Schema.
    Anthropic,
    /// Google Gemini `functionDeclarations` with `parameters`: OpenAPI-subset
    /// schema, no `$ref`, safe property names (see [`RenameTree`]).
    Gemini,
    /// Cohere v2 chat: OpenAI-style function, `$ref`s inlined.
    Cohere,
    /// Mistral chat: OpenAI-style function, `$ref`s inlined.
    Mistral,
    /// OpenAI Responses: flat `{"type":"function",name,description,parameters,"strict":false}`,
    /// the schema as it is.
    #[serde(rename = "openai-responses")]
    OpenAiResponses,
    /// OpenAI Responses with `strict: true` where the schema can be strict
    /// (the rewrite of [`OpenAiStrict`](Self::OpenAiStrict)).
    #[serde(rename = "openai-responses-strict")]
    OpenAiResponsesStrict,
    /// Google Gemini `functionDeclarations` with `parametersJsonSchema`: the
    /// full JSON Schema, no rewrite (what the Gemini provider sends).
    GeminiJsonSchema,
}

impl Profile {
    /// All profiles.
    pub const ALL: [Profile; 9] = [
        Profile::OpenAi,
        Profile::OpenAiStrict,
        Profile::OpenAiResponses,
        Profile::OpenAiResponsesStrict,
        Profile::Anthropic,
        Profile::Gemini,
        Profile::GeminiJsonSchema,
        Profile::Cohere,
        Profile::Mistral,
    ];

    /// The profile's name (`openai-strict`).
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::OpenAi => "openai",
            Profile::OpenAiStrict => "openai-strict",
            Profile::OpenAiResponses => "openai-responses",
            Profile::OpenAiResponsesStrict => "openai-responses-strict",
            Profile::Anthropic => "anthropic",
            Profile::Gemini => "gemini",
            Profile::GeminiJsonSchema => "gemini-json-schema",
            Profile::Cohere => "cohere",
            Profile::Mistral => "mistral",
        }
    }

    /// The tool names the vendor accepts (names that break it are sent
    /// under a valid name; see [`wire_names`](crate::wire_names)).
    pub fn name_rule(self) -> NameRule {
        match self {
            Profile::Cohere => NameRule::Identifier,
            Profile::Gemini | Profile::GeminiJsonSchema => NameRule::Gemini,
            Profile::OpenAi
            | Profile::OpenAiStrict
            | Profile::OpenAiResponses
            | Profile::OpenAiResponsesStrict
            | Profile::Anthropic
            | Profile::Mistral => NameRule::LettersDigitsDashes,
        }
    }

    /// The most tools the vendor documents for one request, if it documents a cap
    /// (OpenAI: 128).
    pub fn max_tools(self) -> Option<usize> {
        match self {
            Profile::OpenAi | Profile::OpenAiStrict | Profile::OpenAiResponses | Profile::OpenAiResponsesStrict => {
                Some(128)
            }
            _ => None,
        }
    }

    /// The strict form of this profile, if the vendor has strict tools
    /// (`openai` → `openai-strict`; a strict profile is its own strict form).
    ///
    /// ```
    /// use toolplane_schema::Profile;
    /// assert_eq!(Profile::OpenAiResponses.strict(), Some(Profile::OpenAiResponsesStrict));
    /// assert_eq!(Profile::Anthropic.strict(), None);
    /// ```
    pub fn strict(self) -> Option<Profile> {
        match self {
            Profile::OpenAi | Profile::OpenAiStrict => Some(Profile::OpenAiStrict),
            Profile::OpenAiResponses | Profile::OpenAiResponsesStrict => Some(Profile::OpenAiResponsesStrict),
            _ => None,
        }
    }

    /// True for the profiles that ask for strict tools.
    pub fn is_strict(self) -> bool {
        matches!(self, Profile::OpenAiStrict | Profile::OpenAiResponsesStrict)
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown profile name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown schema profile `{0}` (expected one of: openai, openai-strict, openai-responses, openai-responses-strict, anthropic, gemini, gemini-json-schema, cohere, mistral)"
)]
pub struct UnknownProfile(pub String);

impl FromStr for Profile {
    type Err = UnknownProfile;
    /// A profile's name, any case; `openai-chat` and `cohere-v2` (the names
    /// the registry's export used) are read as `openai` and `cohere`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("openai-chat") {
            return Ok(Profile::OpenAi);
        }
        if s.eq_ignore_ascii_case("cohere-v2") {
            return Ok(Profile::Cohere);
        }
        Profile::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownProfile(s.to_string()))
    }
}

/// A schema rewritten for one profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfiledSchema {
    /// The profile.
    pub profile: Profile,
    /// The schema to send.
    pub schema: Value,
    /// For a strict profile: the schema is strict. False after a fallback.
    pub strict: bool,
    /// Property renames to undo on the model's arguments (Gemini).
    #[serde(default, skip_serializing_if = "RenameTree::is_empty")]
    pub renames: RenameTree,
    /// What was changed or given up (strict fallback reason, recursion cut).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl ProfiledSchema {
    /// Turns arguments the model wrote against this profile's schema back into
    /// arguments for the internal schema: renamed properties get their original
    /// names, and `null`s that strict mode forced on optional properties are
    /// removed where the internal schema does not accept `null`.
    pub fn restore_arguments(&self, internal: &Value, args: Value) -> Value {
        let args = self.renames.restore(args);
        if self.profile.is_strict() && self.strict {
            strip_forced_nulls(internal, internal, args, 0)
        } else {
            args
        }
    }
}

fn accepts_null(root: &Value, s: &Value, depth: usize) -> bool {
    if depth > 32 {
        return true;
    }
    let Value::Object(m) = s else { return true };
    if let Some(Value::String(r)) = m.get("$ref") {
        return resolve_local(root, r).is_none_or(|t| accepts_null(root, t, depth + 1));
    }
    if m.get("nullable") == Some(&Value::Bool(true)) {
        return true;
    }
    for k in ["anyOf", "oneOf"] {
        if let Some(Value::Array(bs)) = m.get(k) {
            return bs.iter().any(|b| accepts_null(root, b, depth + 1));
        }
    }
    match m.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "null"),
        _ => match (m.get("const"), m.get("enum")) {
            (Some(c), _) => c.is_null(),
            (None, Some(e)) => e.as_array().is_some_and(|a| a.contains(&Value::Null)),
            (None, None) => true,
        },
    }
}

fn strip_forced_nulls(root: &Value, schema: &Value, args: Value, depth: usize) -> Value {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) if depth < 32 => match resolve_local(root, r) {
            Some(t) => return strip_forced_nulls(root, t, args, depth + 1),
            None => schema,
        },
        _ => schema,
    };
    match args {
        Value::Object(m) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut out = Map::new();
            for (k, v) in m {
                let ps = props.and_then(|p| p.get(&k));
                if v.is_null() && !required.contains(&k.as_str()) && ps.is_some_and(|s| !accepts_null(root, s, 0)) {
                    continue;
                }
                let v = match ps {
                    Some(s) => strip_forced_nulls(root, s, v, depth + 1),
                    None => v,
                };
                out.insert(k, v);
            }
            Value::Object(out)
        }
        Value::Array(a) => match schema.get("items") {
            Some(items) => Value::Array(
                a.into_iter()
                    .map(|v| strip_forced_nulls(root, items, v, depth + 1))
                    .collect(),
            ),
            None => Value::Array(a),
        },
        other => other,
    }
}

/// The root as a plain object schema (adds `"type": "object"` and empty
/// `properties` where missing, drops `$schema`/`$id`).
fn object_root(schema: &Value) -> Value {
    let mut m = match schema {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    m.remove("$schema");
    m.remove("$id");
    m.insert("type".into(), json!("object"));
    m.entry("properties").or_insert_with(|| json!({}));
    Value::Object(m)
}

/// Rewrites an internal JSON Schema (2020-12, one object) for `profile`.
///
/// ```
/// use serde_json::json;
/// use toolplane_schema::{apply_profile, Profile};
/// let s = json!({"type": "object", "properties": {"q": {"type": "string"}, "n": {"type": "integer", "default": 10}}, "required": ["q"]});
/// let p = apply_profile(&s, Profile::OpenAiStrict);
/// assert!(p.strict);
/// assert_eq!(p.schema["required"].as_array().map(Vec::len), Some(2));
/// assert_eq!(p.schema["properties"]["n"]["type"], json!(["integer", "null"]));
/// assert_eq!(p.restore_arguments(&s, json!({"q": "x", "n": null})), json!({"q": "x"}));
/// ```
pub fn apply_profile(schema: &Value, profile: Profile) -> ProfiledSchema {
    let base = object_root(schema);
    let mut notes = Vec::new();
    let mut strict = false;
    let mut renames = RenameTree::default();
    let out = match profile {
        Profile::OpenAi | Profile::OpenAiResponses | Profile::Anthropic | Profile::GeminiJsonSchema => base,
        Profile::OpenAiStrict | Profile::OpenAiResponsesStrict => {
            match to_openai_strict(&base, &StrictBudget::default()) {
                Ok(s) => {
                    strict = true;
                    s
                }
                Err(why) => {
                    notes.push(format!("not strict: {why}"));
                    base
                }
            }
        }
        Profile::Cohere | Profile::Mistral => {
            let (inlined, cut) = inline_refs(&base, DEFAULT_RECURSION_DEPTH, DEFAULT_NODE_BUDGET);
            notes.extend(cut.into_iter().map(|c| format!("recursion cut in `{c}`")));
            inlined
        }
        Profile::Gemini => {
            let (s, r) = to_gemini(&base);
            renames = r;
            s
        }
    };
    ProfiledSchema {
        profile,
        schema: out,
        strict,
        renames,
        notes,
    }
}

/// A tool definition for one provider, with what was done to get it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfiledTool {
    /// Exactly one element of the provider's `tools` array (for Gemini: one
    /// element of `functionDeclarations`).
    pub definition: Value,
    /// The schema rewrite behind it (renames, strictness, notes).
    pub schema: ProfiledSchema,
}

/// One tool's definition for `profile` under the name it has, plus its
/// rewrite details: the building block of [`export`](crate::export()), which
/// also makes names valid for the vendor. Use `export` for a request's tools.
pub fn profiled_tool(spec: &ToolSpec, profile: Profile) -> ProfiledTool {
    profiled_tool_named(spec, &spec.name, profile)
}

/// [`profiled_tool`] under another name (the wire name), without copying the spec.
pub(crate) fn profiled_tool_named(spec: &ToolSpec, name: &str, profile: Profile) -> ProfiledTool {
    let schema = apply_profile(&spec.input_schema, profile);
    let mut func = Map::new();
    func.insert("name".into(), Value::String(name.to_owned()));
    if !spec.description.is_empty() {
        func.insert("description".into(), Value::String(spec.description.clone()));
    }
    let definition = match profile {
        Profile::Anthropic => {
            func.insert("input_schema".into(), schema.schema.clone());
            Value::Object(func)
        }
        Profile::Gemini => {
            let has_params = schema
                .schema
                .get("properties")
                .is_some_and(|p| p.as_object().is_some_and(|o| !o.is_empty()));
            if has_params {
                func.insert("parameters".into(), schema.schema.clone());
            }
            Value::Object(func)
        }
        Profile::GeminiJsonSchema => {
            func.insert("parametersJsonSchema".into(), schema.schema.clone());
            Value::Object(func)
        }
        Profile::OpenAiResponses | Profile::OpenAiResponsesStrict => {
            func.insert("type".into(), json!("function"));
            func.insert("parameters".into(), schema.schema.clone());
            // The Responses API makes tools strict unless told otherwise, so a
            // schema that is not strict says so.
            func.insert("strict".into(), Value::Bool(schema.strict));
            Value::Object(func)
        }
        Profile::OpenAi | Profile::OpenAiStrict | Profile::Cohere | Profile::Mistral => {
            func.insert("parameters".into(), schema.schema.clone());
            if profile == Profile::OpenAiStrict {
                func.insert("strict".into(), Value::Bool(schema.strict));
            }
            json!({"type": "function", "function": Value::Object(func)})
        }
    };
    ProfiledTool { definition, schema }
}

/// The tool definition object for one tool under its own name.
#[deprecated(note = "use `toolplane_schema::export`, which also makes names valid for the vendor")]
pub fn tool_definition(spec: &ToolSpec, profile: Profile) -> Value {
    profiled_tool(spec, profile).definition
}

/// The whole value of the provider's `tools` field for these tools.
#[deprecated(note = "use `toolplane_schema::export(specs, profile).tools_field()`")]
pub fn tools_field(specs: &[ToolSpec], profile: Profile) -> Value {
    crate::export(specs, profile).into_tools_field()
}
