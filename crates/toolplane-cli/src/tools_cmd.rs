//! `toolplane tools`: the built-in tools, as a table, as definitions, or in
//! a provider's request format.

use std::io::Write;

use clap::Args;
use toolplane_registry::{ExportOptions, ProviderFormat, builtin, export_specs};

use crate::CliError;

/// Arguments of `toolplane tools`.
#[derive(Debug, Args)]
pub(crate) struct ToolsArgs {
    /// Print the full definitions (name, description, input schema, annotations) as JSON.
    #[arg(long, conflicts_with = "provider")]
    json: bool,
    /// Print the definitions in a provider's `tools` format: openai-chat,
    /// openai-responses, anthropic, mistral, cohere-v2 or gemini.
    #[arg(long, value_name = "FORMAT")]
    provider: Option<String>,
    /// With an OpenAI format, ask for strict schema adherence.
    #[arg(long, requires = "provider")]
    strict: bool,
}

/// Runs the subcommand, writing to `out`.
pub(crate) fn run(args: &ToolsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let specs = builtin::builtin_specs();
    if let Some(format) = &args.provider {
        let format: ProviderFormat = format.parse().map_err(CliError::Usage)?;
        let opts = ExportOptions {
            strict: args.strict,
            ..ExportOptions::default()
        };
        let tools = export_specs(format, &specs, &opts).map_err(|e| CliError::Usage(e.to_string()))?;
        writeln!(out, "{}", pretty(&serde_json::Value::Array(tools)))?;
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
