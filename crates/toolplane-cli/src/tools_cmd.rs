//! `toolplane tools`: the built-in tools, as a table, as definitions, or in
//! a provider's request format.

use std::io::Write;

use clap::Args;
use toolplane_registry::builtin;
use toolplane_schema::{Profile, UnknownProfile, export};

use crate::CliError;

/// Arguments of `toolplane tools`.
#[derive(Debug, Args)]
pub(crate) struct ToolsArgs {
    /// Print the full definitions (name, description, input schema, annotations) as JSON.
    #[arg(long, conflicts_with = "provider")]
    json: bool,
    /// Print the definitions as a provider's request carries them (its
    /// `tools` field), for a schema profile: openai, openai-strict,
    /// openai-responses, openai-responses-strict, anthropic, gemini,
    /// gemini-json-schema, cohere or mistral (`openai-chat` and `cohere-v2`
    /// are read as `openai` and `cohere`).
    #[arg(long, alias = "profile", value_name = "PROFILE")]
    provider: Option<String>,
    /// With an OpenAI profile, its strict form (`openai` → `openai-strict`).
    #[arg(long, requires = "provider")]
    strict: bool,
}

/// Runs the subcommand, writing to `out`.
pub(crate) fn run(args: &ToolsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let specs = builtin::builtin_specs();
    if let Some(format) = &args.provider {
        let mut profile: Profile = format
            .parse()
            .map_err(|e: UnknownProfile| CliError::Usage(e.to_string()))?;
        if args.strict {
            profile = profile.strict().ok_or_else(|| {
                CliError::Usage(format!(
                    "`{profile}` has no strict form; --strict is for the OpenAI profiles"
                ))
            })?;
        }
        // The function the providers build their requests with.
        let exported = export(&specs, profile);
        for w in &exported.warnings {
            eprintln!("warning: {w}");
        }
        writeln!(out, "{}", pretty(&exported.into_tools_field()))?;
        return Ok(());
    }
    if args.json {
        let value = serde_json::to_value(&specs).map_err(|e| CliError::Usage(e.to_string()))?;
        writeln!(out, "{}", pretty(&value))?;
        return Ok(());
    }
    let width = specs.iter().map(|s| s.name.len()).max().unwrap_or(4).max(4);
    writeln!(out, "{:<width$}  DESCRIPTION", "NAME")?;
    for spec in &specs {
        writeln!(out, "{:<width$}  {}", spec.name, first_sentence(&spec.description))?;
    }
    Ok(())
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// The description up to its first full stop, so the table stays one line a tool.
fn first_sentence(text: &str) -> &str {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'.' && bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()) {
            return &text[..=i];
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sentence_stops_at_a_full_stop() {
        assert_eq!(first_sentence("Does a. Then b."), "Does a.");
        assert_eq!(first_sentence("Version 1.2 is out"), "Version 1.2 is out");
    }
}
