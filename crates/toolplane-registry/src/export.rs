//! Tool definitions in each provider's wire format, within its limits.
//!
//! Names are always sent in their flat form (`github__issues_create`); the
//! executor resolves a flat name back to the registered one, so a model's
//! call round-trips. Schemas go through a [`SchemaAdapter`]: by default the
//! toolplane-schema provider profiles ([`ProfileAdapter`]); `None` sends them
//! as registered.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde_json::{Value, json};
use toolplane_core::ToolSpec;

use crate::names::flatten;
use crate::registry::ToolRegistry;

/// A provider's tool format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProviderFormat {
    /// OpenAI Chat Completions: `{"type":"function","function":{name,description,parameters,strict?}}`.
    OpenAiChat,
    /// OpenAI Responses: `{"type":"function",name,description,parameters,strict}`.
    OpenAiResponses,
    /// Anthropic Messages: `{name,description,input_schema}`.
    Anthropic,
    /// Mistral chat: the OpenAI Chat Completions shape.
    Mistral,
    /// Cohere v2 chat: the OpenAI Chat Completions shape, stricter names.
    CohereV2,
    /// Gemini: one `{"functionDeclarations":[{name,description,parametersJsonSchema}]}` tool.
    Gemini,
}

/// What a provider accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderLimits {
    /// Most tools in one request, where the provider documents a cap.
    pub max_tools: Option<usize>,
    /// Longest tool name in bytes.
    pub max_name_len: usize,
    /// The name rule, for error messages.
    pub name_rule: &'static str,
}

impl ProviderFormat {
    /// Every format.
    pub const ALL: [ProviderFormat; 6] = [
        Self::OpenAiChat,
        Self::OpenAiResponses,
        Self::Anthropic,
        Self::Mistral,
        Self::CohereV2,
        Self::Gemini,
    ];

    /// A stable label (`openai-chat`, `openai-responses`, `anthropic`, `mistral`, `cohere-v2`, `gemini`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAiChat => "openai-chat",
            Self::OpenAiResponses => "openai-responses",
            Self::Anthropic => "anthropic",
            Self::Mistral => "mistral",
            Self::CohereV2 => "cohere-v2",
            Self::Gemini => "gemini",
        }
    }

    /// The provider's limits.
    pub fn limits(self) -> ProviderLimits {
        match self {
            Self::OpenAiChat | Self::OpenAiResponses => ProviderLimits {
                max_tools: Some(128),
                max_name_len: 64,
                name_rule: "^[a-zA-Z0-9_-]{1,64}$",
            },
            Self::Anthropic | Self::Mistral => ProviderLimits {
                max_tools: None,
                max_name_len: 64,
                name_rule: "^[a-zA-Z0-9_-]{1,64}$",
            },
            Self::CohereV2 => ProviderLimits {
                max_tools: None,
                max_name_len: 64,
                name_rule: "^[a-zA-Z_][a-zA-Z0-9_]{0,63}$",
            },
            Self::Gemini => ProviderLimits {
                max_tools: None,
                max_name_len: 64,
                name_rule: "^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$",
            },
        }
    }

    /// Checks a flat name against the provider's rule.
    pub fn check_name(self, flat: &str) -> Result<(), String> {
        let max = self.limits().max_name_len;
        if flat.is_empty() || flat.len() > max {
            return Err(format!("{} bytes; the limit is 1 to {max}", flat.len()));
        }
        let first_letter = matches!(self, Self::CohereV2 | Self::Gemini);
        if let Some(first) = flat.chars().next() {
            if first_letter && !(first.is_ascii_alphabetic() || first == '_') {
                return Err(format!("it starts with {first:?}; it must start with a letter or `_`"));
            }
        }
        let extra: &[char] = match self {
            Self::CohereV2 => &['_'],
            Self::Gemini => &['_', '-', '.', ':'],
            _ => &['_', '-'],
        };
        match flat.chars().find(|c| !c.is_ascii_alphanumeric() && !extra.contains(c)) {
            Some(bad) => Err(format!("character {bad:?} is not allowed")),
            None => Ok(()),
        }
    }
}

impl fmt::Display for ProviderFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProviderFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| {
            let all: Vec<&str> = Self::ALL.iter().map(|p| p.as_str()).collect();
            format!("unknown provider format `{s}` (one of: {})", all.join(", "))
        })
    }
}

/// A schema rewritten for one provider.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptedSchema {
    /// The schema to send.
    pub schema: Value,
    /// Whether to ask an OpenAI format for strict adherence for this tool
    /// (an adapter may fall back to non-strict for a schema that cannot be strict).
    pub strict: bool,
}

/// Rewrites a tool's input schema for one provider (a schema profile).
pub trait SchemaAdapter: Send + Sync + fmt::Debug {
    /// The schema to send for `spec` to `format`, given whether strict mode
    /// was asked for; an error names the problem.
    fn adapt(&self, format: ProviderFormat, spec: &ToolSpec, strict: bool) -> Result<AdaptedSchema, String>;
}

/// The toolplane-schema provider profiles as a [`SchemaAdapter`] (the default):
///
/// | format | profile |
/// | --- | --- |
/// | OpenAI chat / Responses | `openai`, or `openai-strict` when strict is asked (per-tool fallback to non-strict) |
/// | Anthropic | `anthropic` |
/// | Mistral | `mistral` (`$ref`s inlined) |
/// | Cohere v2 | `cohere` (`$ref`s inlined) |
/// | Gemini | `anthropic` (full JSON Schema, sent as `parametersJsonSchema`, so no property renames) |
///
/// Strict mode makes optional properties nullable; run such calls through an
/// executor with [`ExecutorConfig::arguments_profile`](crate::ExecutorConfig::arguments_profile)
/// set to `Profile::OpenAiStrict`, so the `null`s the model must send are
/// dropped before validation.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProfileAdapter;

impl SchemaAdapter for ProfileAdapter {
    fn adapt(&self, format: ProviderFormat, spec: &ToolSpec, strict: bool) -> Result<AdaptedSchema, String> {
        use toolplane_schema::{Profile, apply_profile};
        let profile = match format {
            ProviderFormat::OpenAiChat | ProviderFormat::OpenAiResponses if strict => Profile::OpenAiStrict,
            ProviderFormat::OpenAiChat | ProviderFormat::OpenAiResponses => Profile::OpenAi,
            ProviderFormat::Anthropic | ProviderFormat::Gemini => Profile::Anthropic,
            ProviderFormat::Mistral => Profile::Mistral,
            ProviderFormat::CohereV2 => Profile::Cohere,
        };
        let p = apply_profile(&spec.input_schema, profile);
        Ok(AdaptedSchema {
            schema: p.schema,
            strict: p.strict,
        })
    }
}

/// How to export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Ask OpenAI formats for strict schema adherence (`"strict": true`),
    /// where the adapter can make the schema strict.
    pub strict: bool,
    /// Rewrites schemas per provider; `None` sends them as registered.
    /// Default: [`ProfileAdapter`].
    pub adapter: Option<Arc<dyn SchemaAdapter>>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            strict: false,
            adapter: Some(Arc::new(ProfileAdapter)),
        }
    }
}

impl ExportOptions {
    /// Schemas exactly as registered, no strict mode.
    pub fn as_is() -> Self {
        Self {
            strict: false,
            adapter: None,
        }
    }

    /// The default profiles, with OpenAI strict mode asked for.
    pub fn strict() -> Self {
        Self {
            strict: true,
            ..Self::default()
        }
    }
}

/// Why a set of tools could not be exported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A requested tool is not registered.
    #[error("cannot export `{name}`: no such tool{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownTool {
        /// The requested name.
        name: String,
        /// The nearest registered name.
        suggestion: Option<String>,
    },
    /// More tools than the provider accepts in one request.
    #[error(
        "{format} accepts at most {max} tools in one request; {count} were selected (offer fewer, or use search_tools/call_tool)"
    )]
    TooManyTools {
        /// The provider format.
        format: ProviderFormat,
        /// Tools selected.
        count: usize,
        /// The provider's cap.
        max: usize,
    },
    /// A name breaks the provider's rule.
    #[error("{format} does not accept the tool name `{flat}` (from `{name}`): {reason}; rule {rule}")]
    InvalidName {
        /// The provider format.
        format: ProviderFormat,
        /// The registered name.
        name: String,
        /// The flat name that was checked.
        flat: String,
        /// What is wrong.
        reason: String,
        /// The provider's rule.
        rule: &'static str,
    },
    /// The schema adapter refused a schema.
    #[error("{format}: the input schema of `{tool}` cannot be adapted: {message}")]
    Schema {
        /// The provider format.
        format: ProviderFormat,
        /// The tool.
        tool: String,
        /// What the adapter said.
        message: String,
    },
}

/// Exports `specs` in `format`: the array to put in the request's `tools` field.
///
/// ```
/// use toolplane_core::ToolSpec;
/// use toolplane_registry::{export_specs, ExportOptions, ProviderFormat};
/// let specs = [ToolSpec::new("github.issues_create", "Open an issue.")];
/// let tools = export_specs(ProviderFormat::Anthropic, &specs, &ExportOptions::default())?;
/// assert_eq!(tools[0]["name"], "github__issues_create");
/// assert_eq!(tools[0]["input_schema"]["type"], "object");
/// # Ok::<(), toolplane_registry::ExportError>(())
/// ```
///
/// # Errors
/// [`ExportError::TooManyTools`], [`ExportError::InvalidName`], [`ExportError::Schema`].
pub fn export_specs(
    format: ProviderFormat,
    specs: &[ToolSpec],
    opts: &ExportOptions,
) -> Result<Vec<Value>, ExportError> {
    let limits = format.limits();
    if let Some(max) = limits.max_tools {
        if specs.len() > max {
            return Err(ExportError::TooManyTools {
                format,
                count: specs.len(),
                max,
            });
        }
    }
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        let flat = flatten(&spec.name);
        format.check_name(&flat).map_err(|reason| ExportError::InvalidName {
            format,
            name: spec.name.clone(),
            flat: flat.clone(),
            reason,
            rule: limits.name_rule,
        })?;
        let AdaptedSchema { schema, strict } = match &opts.adapter {
            Some(a) => a
                .adapt(format, spec, opts.strict)
                .map_err(|message| ExportError::Schema {
                    format,
                    tool: spec.name.clone(),
                    message,
                })?,
            None => AdaptedSchema {
                schema: spec.input_schema.clone(),
                strict: opts.strict,
            },
        };
        let d = &spec.description;
        out.push(match format {
            ProviderFormat::OpenAiChat => {
                let mut f = json!({"name": flat, "description": d, "parameters": schema});
                if strict {
                    f["strict"] = Value::Bool(true);
                }
                json!({"type": "function", "function": f})
            }
            ProviderFormat::OpenAiResponses => {
                json!({"type": "function", "name": flat, "description": d, "parameters": schema, "strict": strict})
            }
            ProviderFormat::Anthropic => json!({"name": flat, "description": d, "input_schema": schema}),
            ProviderFormat::Mistral | ProviderFormat::CohereV2 => {
                json!({"type": "function", "function": {"name": flat, "description": d, "parameters": schema}})
            }
            ProviderFormat::Gemini => json!({"name": flat, "description": d, "parametersJsonSchema": schema}),
        });
    }
    if format == ProviderFormat::Gemini {
        return Ok(if out.is_empty() {
            Vec::new()
        } else {
            vec![json!({"functionDeclarations": out})]
        });
    }
    Ok(out)
}

impl ToolRegistry {
    /// Exports the named tools (registered or flat names) in `format`.
    ///
    /// # Errors
    /// [`ExportError::UnknownTool`] with the nearest name, then as [`export_specs`].
    pub fn export(
        &self,
        format: ProviderFormat,
        names: &[&str],
        opts: &ExportOptions,
    ) -> Result<Vec<Value>, ExportError> {
        let specs = names
            .iter()
            .map(|n| {
                self.get(n)
                    .map(|t| t.spec().clone())
                    .ok_or_else(|| ExportError::UnknownTool {
                        name: (*n).to_string(),
                        suggestion: self.suggest(n).map(str::to_string),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        export_specs(format, &specs, opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_has_its_shape() {
        let specs = [ToolSpec::new("ns.tool", "Does it.")
            .with_input_schema(json!({"type": "object", "properties": {"q": {"type": "string"}}}))];
        let o = ExportOptions::strict();
        let chat = export_specs(ProviderFormat::OpenAiChat, &specs, &o).unwrap();
        assert_eq!(chat[0]["function"]["name"], "ns__tool");
        assert_eq!(chat[0]["function"]["strict"], true);
        assert_eq!(chat[0]["function"]["parameters"]["required"], json!(["q"]));
        let as_is = export_specs(ProviderFormat::OpenAiChat, &specs, &ExportOptions::as_is()).unwrap();
        assert_eq!(as_is[0]["function"]["parameters"], specs[0].input_schema);
        let resp = export_specs(ProviderFormat::OpenAiResponses, &specs, &o).unwrap();
        assert_eq!(resp[0]["name"], "ns__tool");
        assert_eq!(resp[0]["type"], "function");
        let gem = export_specs(ProviderFormat::Gemini, &specs, &o).unwrap();
        assert_eq!(
            gem[0]["functionDeclarations"][0]["parametersJsonSchema"]["type"],
            "object"
        );
        let co = export_specs(ProviderFormat::CohereV2, &specs, &o).unwrap();
        assert!(co[0]["function"].get("strict").is_none());
        for f in ProviderFormat::ALL {
            assert_eq!(f.as_str().parse::<ProviderFormat>().unwrap(), f);
        }
        assert!("openai".parse::<ProviderFormat>().unwrap_err().contains("openai-chat"));
    }

    #[test]
    fn registry_export_resolves_names_and_suggests() {
        let mut reg = ToolRegistry::new();
        reg.register_all(crate::builtin::builtin_tools()).unwrap();
        let tools = reg
            .export(ProviderFormat::Anthropic, &["json_query"], &ExportOptions::default())
            .unwrap();
        assert_eq!(tools[0]["name"], "json_query");
        let err = reg
            .export(ProviderFormat::Anthropic, &["json_qeury"], &ExportOptions::default())
            .unwrap_err();
        assert_eq!(
            err,
            ExportError::UnknownTool {
                name: "json_qeury".into(),
                suggestion: Some("json_query".into())
            }
        );
        assert!(err.to_string().contains("did you mean `json_query`?"));
    }

    #[test]
    fn limits_are_enforced_with_clear_errors() {
        let many: Vec<ToolSpec> = (0..129).map(|i| ToolSpec::new(format!("t{i}"), "")).collect();
        let err = export_specs(ProviderFormat::OpenAiChat, &many, &ExportOptions::default()).unwrap_err();
        assert!(err.to_string().contains("at most 128 tools"), "{err}");
        assert_eq!(
            export_specs(ProviderFormat::Anthropic, &many, &ExportOptions::default())
                .unwrap()
                .len(),
            129
        );
        let dashed = [ToolSpec::new("my-tool", "")];
        let err = export_specs(ProviderFormat::CohereV2, &dashed, &ExportOptions::default()).unwrap_err();
        assert!(err.to_string().contains("'-'"), "{err}");
        let digit = [ToolSpec::new("1tool", "")];
        assert!(export_specs(ProviderFormat::Gemini, &digit, &ExportOptions::default()).is_err());
        assert!(export_specs(ProviderFormat::OpenAiChat, &digit, &ExportOptions::default()).is_ok());
    }
}
