//! The one export: tools as one vendor's request receives them.
//!
//! ```text
//! ToolSpec (registry name, internal schema)
//!    │  wire_names(names, profile.name_rule())   names the vendor accepts
//!    │  profiled_tool_named(spec, wire, profile) schema rewrite + definition shape
//!    ▼
//! Export { tools: [ExportedTool], warnings } ──tools_field()──▶ the request's `tools`
//! ```
//!
//! The providers build their requests' `tools` with [`export`], and the
//! registry, the OpenAPI conversion and the CLI export through it, so what a
//! model receives is what an export shows.

use std::fmt;

use serde::Serialize;
use serde_json::{Value, json};
use toolplane_core::ToolSpec;

use crate::profile::{Profile, ProfiledSchema, profiled_tool_named};
use crate::vendor_names::wire_names;

/// One tool as exported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportedTool {
    /// The tool's own (registry) name.
    pub name: String,
    /// The name the vendor receives and the model calls it by (equal to
    /// `name` when the vendor accepts that).
    pub wire_name: String,
    /// Exactly one element of the vendor's `tools` array (for the Gemini
    /// profiles: one element of `functionDeclarations`).
    pub definition: Value,
    /// The schema rewrite behind it (strictness, renamed properties, notes).
    pub schema: ProfiledSchema,
}

/// Something an export did that its user may want to know (the export still
/// holds every tool).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExportWarning {
    /// More tools than the vendor documents for one request; its API may
    /// refuse the request.
    TooManyTools {
        /// The profile.
        profile: Profile,
        /// Tools exported.
        count: usize,
        /// The vendor's cap.
        max: usize,
    },
    /// A tool's schema was not rewritten fully (a strict fallback, a cut recursion).
    Schema {
        /// The tool's own name.
        tool: String,
        /// What happened.
        note: String,
    },
}

impl fmt::Display for ExportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooManyTools { profile, count, max } => write!(
                f,
                "{profile} accepts at most {max} tools in one request; {count} were exported (offer fewer, or use search_tools/call_tool)"
            ),
            Self::Schema { tool, note } => write!(f, "`{tool}`: {note}"),
        }
    }
}

/// Tools as one vendor receives them: definitions under valid names, the
/// name map, and warnings. Made by [`export`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Export {
    /// The profile.
    pub profile: Profile,
    /// One entry per tool, in the order given.
    pub tools: Vec<ExportedTool>,
    /// What the export could not do as asked.
    pub warnings: Vec<ExportWarning>,
}

impl Export {
    /// The whole value of the request's `tools` field: an array of
    /// definitions, or for the Gemini profiles one `{"functionDeclarations": [...]}`
    /// entry (an empty array when there are no tools).
    pub fn tools_field(&self) -> Value {
        field(self.profile, self.definitions().cloned().collect())
    }

    /// [`tools_field`](Self::tools_field), consuming the export.
    pub fn into_tools_field(self) -> Value {
        field(self.profile, self.tools.into_iter().map(|t| t.definition).collect())
    }

    /// The definitions, in order.
    pub fn definitions(&self) -> impl Iterator<Item = &Value> {
        self.tools.iter().map(|t| &t.definition)
    }

    /// The name the vendor receives for the tool named `name`.
    pub fn wire_name(&self, name: &str) -> Option<&str> {
        self.tools.iter().find(|t| t.name == name).map(|t| t.wire_name.as_str())
    }

    /// The tool's own name for a name the model used (a wire name).
    pub fn tool_name(&self, wire_name: &str) -> Option<&str> {
        self.tools
            .iter()
            .find(|t| t.wire_name == wire_name)
            .map(|t| t.name.as_str())
    }

    /// `(name, wire_name)` of the tools sent under another name.
    pub fn renamed(&self) -> impl Iterator<Item = (&str, &str)> {
        self.tools
            .iter()
            .filter(|t| t.name != t.wire_name)
            .map(|t| (t.name.as_str(), t.wire_name.as_str()))
    }
}

fn field(profile: Profile, definitions: Vec<Value>) -> Value {
    match profile {
        Profile::Gemini | Profile::GeminiJsonSchema if !definitions.is_empty() => {
            json!([{"functionDeclarations": definitions}])
        }
        _ => Value::Array(definitions),
    }
}

/// Exports `specs` for `profile`: the one entry point for tool definitions,
/// used by the providers for every request, by `ToolRegistry::export` and
/// `export_all`, by `Conversion::export` and by the CLI.
///
/// Names the vendor does not accept are made valid ([`wire_names`]); schemas
/// are rewritten for the profile ([`apply_profile`](crate::apply_profile));
/// a strict profile makes each tool strict where its schema allows.
/// Nothing is refused: what could not be done as asked is in
/// [`Export::warnings`].
///
/// ```
/// use serde_json::json;
/// use toolplane_core::ToolSpec;
/// use toolplane_schema::{export, Profile};
///
/// let specs = [ToolSpec::new("github.issues_create", "Open an issue.")
///     .with_input_schema(json!({"type": "object", "properties": {"title": {"type": "string"}}}))];
/// let exported = export(&specs, Profile::OpenAiStrict);
/// assert_eq!(exported.wire_name("github.issues_create"), Some("github__issues_create"));
/// assert_eq!(exported.tool_name("github__issues_create"), Some("github.issues_create"));
/// let tools = exported.tools_field();
/// assert_eq!(tools[0]["function"]["name"], "github__issues_create");
/// assert_eq!(tools[0]["function"]["strict"], true);
/// ```
pub fn export(specs: &[ToolSpec], profile: Profile) -> Export {
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    let wire = wire_names(&names, profile.name_rule());
    let mut warnings = Vec::new();
    if let Some(max) = profile.max_tools() {
        if specs.len() > max {
            warnings.push(ExportWarning::TooManyTools {
                profile,
                count: specs.len(),
                max,
            });
        }
    }
    let tools = specs
        .iter()
        .zip(wire)
        .map(|(spec, wire_name)| {
            let shaped = profiled_tool_named(spec, &wire_name, profile);
            warnings.extend(shaped.schema.notes.iter().map(|note| ExportWarning::Schema {
                tool: spec.name.clone(),
                note: note.clone(),
            }));
            ExportedTool {
                name: spec.name.clone(),
                wire_name,
                definition: shaped.definition,
                schema: shaped.schema,
            }
        })
        .collect();
    Export {
        profile,
        tools,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs() -> Vec<ToolSpec> {
        vec![
            ToolSpec::new("ns.tool", "Does it.")
                .with_input_schema(json!({"type": "object", "properties": {"q": {"type": "string"}}})),
            ToolSpec::new("free", "").with_input_schema(json!({"type": "object", "additionalProperties": true})),
        ]
    }

    #[test]
    fn each_profile_has_its_shape() {
        let s = specs();
        let chat = export(&s, Profile::OpenAiStrict).into_tools_field();
        assert_eq!(chat[0]["function"]["name"], "ns__tool");
        assert_eq!(chat[0]["function"]["strict"], true);
        assert_eq!(chat[0]["function"]["parameters"]["required"], json!(["q"]));
        assert_eq!(chat[1]["function"]["strict"], false, "a free-form object falls back");
        let plain = export(&s, Profile::OpenAi).into_tools_field();
        assert!(plain[0]["function"].get("strict").is_none());
        let resp = export(&s, Profile::OpenAiResponses).into_tools_field();
        assert_eq!(resp[0]["type"], "function");
        assert_eq!(resp[0]["name"], "ns__tool");
        assert_eq!(resp[0]["strict"], false);
        let resp = export(&s, Profile::OpenAiResponsesStrict).into_tools_field();
        assert_eq!(resp[0]["strict"], true);
        assert_eq!(resp[1]["strict"], false);
        let anthropic = export(&s, Profile::Anthropic).into_tools_field();
        assert_eq!(anthropic[0]["name"], "ns__tool");
        assert_eq!(anthropic[0]["input_schema"]["type"], "object");
        let gem = export(&s, Profile::GeminiJsonSchema).into_tools_field();
        let decl = &gem[0]["functionDeclarations"][0];
        assert_eq!(decl["name"], "ns__tool");
        assert_eq!(decl["parametersJsonSchema"]["properties"]["q"]["type"], "string");
        let gem = export(&s, Profile::Gemini).into_tools_field();
        assert_eq!(gem[0]["functionDeclarations"][0]["parameters"]["type"], "object");
        let co = export(&[ToolSpec::new("my-tool", "")], Profile::Cohere);
        assert_eq!(co.tools[0].wire_name, "my_tool");
        assert!(co.tools[0].definition["function"].get("strict").is_none());
        for p in Profile::ALL {
            assert_eq!(p.as_str().parse::<Profile>().unwrap(), p);
            assert_eq!(export(&[], p).into_tools_field(), json!([]), "{p}");
        }
        assert_eq!("openai-chat".parse::<Profile>().unwrap(), Profile::OpenAi);
        assert_eq!("cohere-v2".parse::<Profile>().unwrap(), Profile::Cohere);
    }

    #[test]
    fn the_name_map_goes_both_ways() {
        let e = export(&specs(), Profile::Anthropic);
        assert_eq!(e.wire_name("ns.tool"), Some("ns__tool"));
        assert_eq!(e.tool_name("ns__tool"), Some("ns.tool"));
        assert_eq!(e.tool_name("free"), Some("free"));
        assert_eq!(e.renamed().collect::<Vec<_>>(), [("ns.tool", "ns__tool")]);
        assert_eq!(e.tool_name("nope"), None);
    }

    #[test]
    fn limits_and_fallbacks_are_warnings() {
        let many: Vec<ToolSpec> = (0..129).map(|i| ToolSpec::new(format!("t{i}"), "")).collect();
        let e = export(&many, Profile::OpenAi);
        assert_eq!(e.tools.len(), 129);
        assert_eq!(e.warnings.len(), 1);
        assert!(
            e.warnings[0].to_string().contains("at most 128 tools"),
            "{}",
            e.warnings[0]
        );
        assert!(export(&many, Profile::Anthropic).warnings.is_empty());
        let e = export(&specs(), Profile::OpenAiStrict);
        assert!(
            matches!(&e.warnings[..], [ExportWarning::Schema { tool, note }] if tool == "free" && note.starts_with("not strict")),
            "{:?}",
            e.warnings
        );
    }
}
