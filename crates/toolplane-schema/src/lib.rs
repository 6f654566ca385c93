//! Provider schema profiles and tool names for LLM tool definitions.
//!
//! Tools in toolplane carry one *internal* input schema (JSON Schema 2020-12,
//! one object, `$ref`s into its own `$defs`); the executor validates against
//! it. Each provider accepts a different dialect; this crate derives them as
//! pure transforms:
//!
//! | profile | rewrite |
//! | --- | --- |
//! | `openai` | as is; root made a plain object |
//! | `openai-strict` | every object closed and fully required, optional properties nullable, unsupported keywords moved into descriptions, budgets checked; falls back to non-strict per tool |
//! | `anthropic` | as is (`input_schema`) |
//! | `gemini` | OpenAPI subset, `$ref`s inlined with bounded recursion and a visible marker, safe property names with a reverse map |
//! | `cohere`, `mistral` | OpenAI-style function, `$ref`s inlined |
//!
//! and [`names`] makes any string a valid, bounded, unique tool name.
//!
//! Depend on it to export tools to a provider (registries, provider adapters,
//! the CLI). It has no I/O and no async.
//!
//! ```
//! use serde_json::json;
//! use toolplane_core::ToolSpec;
//! use toolplane_schema::{names::sanitize_name, tool_definition, Profile};
//!
//! let name = sanitize_name("issues/list-for-repo", 64);
//! let spec = ToolSpec::new(name, "List issues.").with_input_schema(json!({
//!     "type": "object",
//!     "properties": {"state": {"type": "string", "enum": ["open", "closed"]}},
//! }));
//! let def = tool_definition(&spec, Profile::OpenAiStrict);
//! assert_eq!(def["function"]["name"], "issues_list_for_repo");
//! assert_eq!(def["function"]["strict"], true);
//! assert_eq!(def["function"]["parameters"]["properties"]["state"]["enum"], json!(["open", "closed", null]));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod gemini;
pub mod inline;
mod keyword_notes;
pub mod names;
mod profile;
pub mod strict;
pub mod strict_check;

pub use gemini::RenameTree;
pub use names::{DEFAULT_MAX_NAME_LEN, is_valid_name, sanitize_name, unique_names};
pub use profile::{
    Profile, ProfiledSchema, ProfiledTool, UnknownProfile, apply_profile, profiled_tool, tool_definition, tools_field,
};
