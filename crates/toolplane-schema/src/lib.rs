//! Tools as each vendor receives them: the one export entry point, the
//! provider schema profiles and the vendors' tool-name rules.
//!
//! Tools in toolplane carry one *internal* input schema (JSON Schema 2020-12,
//! one object, `$ref`s into its own `$defs`); the executor validates against
//! it. Each vendor accepts a different dialect and different names. A
//! [`Profile`] says which vendor's shape; [`export()`] turns tools into that
//! shape: definitions under names the vendor accepts, the map back to the
//! tools' own names, and warnings. The providers build every request's
//! `tools` with it, and the registry, the OpenAPI conversion and the CLI
//! export through it, so what the model receives is what an export shows.
//!
//! | profile | definition | schema rewrite |
//! | --- | --- | --- |
//! | `openai` | `{"type":"function","function":{…}}` | as is; root made a plain object |
//! | `openai-strict` | same, `"strict"` | every object closed and fully required, optional properties nullable, unsupported keywords moved into descriptions, budgets checked; falls back to non-strict per tool |
//! | `openai-responses` | `{"type":"function",name,…,"strict":false}` | as `openai` |
//! | `openai-responses-strict` | same, `"strict"` | as `openai-strict` |
//! | `anthropic` | `{name,description,input_schema}` | as is |
//! | `gemini` | `functionDeclarations` with `parameters` | OpenAPI subset, `$ref`s inlined with bounded recursion and a visible marker, safe property names with a reverse map |
//! | `gemini-json-schema` | `functionDeclarations` with `parametersJsonSchema` | as is |
//! | `cohere`, `mistral` | OpenAI-style function | `$ref`s inlined |
//!
//! Names: [`NameRule`] per vendor and [`wire_names`]; [`names`] makes any
//! string a valid, bounded, unique identifier.
//!
//! Depend on it to export tools to a provider (registries, provider adapters,
//! the CLI). It has no I/O and no async.
//!
//! ```
//! use serde_json::json;
//! use toolplane_core::ToolSpec;
//! use toolplane_schema::{export, Profile};
//!
//! let spec = ToolSpec::new("github.issues_list", "List issues.").with_input_schema(json!({
//!     "type": "object",
//!     "properties": {"state": {"type": "string", "enum": ["open", "closed"]}},
//! }));
//! let exported = export(&[spec], Profile::OpenAiStrict);
//! let tools = exported.tools_field(); // the request's whole `tools` value
//! assert_eq!(tools[0]["function"]["name"], "github__issues_list");
//! assert_eq!(tools[0]["function"]["strict"], true);
//! assert_eq!(tools[0]["function"]["parameters"]["properties"]["state"]["enum"], json!(["open", "closed", null]));
//! // The model calls `github__issues_list`; the tool is `github.issues_list`.
//! assert_eq!(exported.tool_name("github__issues_list"), Some("github.issues_list"));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod export;
pub mod gemini;
pub mod inline;
mod keyword_notes;
pub mod names;
mod profile;
pub mod strict;
pub mod strict_check;
mod vendor_names;

pub use export::{Export, ExportWarning, ExportedTool, export};
pub use gemini::RenameTree;
pub use names::{DEFAULT_MAX_NAME_LEN, is_valid_name, sanitize_name, unique_names};
#[allow(deprecated)]
pub use profile::{
    Profile, ProfiledSchema, ProfiledTool, UnknownProfile, apply_profile, profiled_tool, tool_definition, tools_field,
};
pub use vendor_names::{NameRule, wire_names};
