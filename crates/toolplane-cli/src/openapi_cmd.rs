//! `toolplane openapi`: inspect an OpenAPI description, or convert it into the
//! `tools` field a provider's API accepts.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use toolplane_openapi::{ConvertOptions, Converter, Filters, HttpMethod, OpenApiSpec, Profile};

use crate::CliError;

/// Arguments of `toolplane openapi`.
#[derive(Debug, Args)]
pub(crate) struct OpenApiArgs {
    #[command(subcommand)]
    command: OpenApiCommand,
}

#[derive(Debug, Subcommand)]
enum OpenApiCommand {
    /// Operations, the tool name each gets, and warnings per operation.
    Inspect {
        /// The description (JSON or YAML, OpenAPI 3.0 or 3.1).
        spec: PathBuf,
        #[command(flatten)]
        filters: FilterArgs,
    },
    /// Prints the tool definitions as JSON, exactly as the provider's `tools` field accepts them.
    Convert {
        /// The description (JSON or YAML, OpenAPI 3.0 or 3.1).
        spec: PathBuf,
        /// openai, openai-strict, anthropic, gemini, cohere or mistral.
        #[arg(long, default_value = "openai")]
        profile: String,
        #[command(flatten)]
        filters: FilterArgs,
    },
}

/// Which operations become tools (each flag may repeat).
#[derive(Debug, Args)]
pub(crate) struct FilterArgs {
    /// Keep operations with this tag.
    #[arg(long = "include-tag", value_name = "TAG")]
    include_tags: Vec<String>,
    /// Drop operations with this tag.
    #[arg(long = "exclude-tag", value_name = "TAG")]
    exclude_tags: Vec<String>,
    /// Keep operations with this method (get, post, ...).
    #[arg(long = "include-method", value_name = "METHOD")]
    include_methods: Vec<String>,
    /// Drop operations with this method.
    #[arg(long = "exclude-method", value_name = "METHOD")]
    exclude_methods: Vec<String>,
    /// Keep operations whose path matches this glob (`/repos/*/issues*`).
    #[arg(long = "include-path", value_name = "GLOB")]
    include_paths: Vec<String>,
    /// Drop operations whose path matches this glob.
    #[arg(long = "exclude-path", value_name = "GLOB")]
    exclude_paths: Vec<String>,
    /// Keep the operation with this operationId.
    #[arg(long = "include-op", value_name = "ID")]
    include_ops: Vec<String>,
    /// Drop the operation with this operationId.
    #[arg(long = "exclude-op", value_name = "ID")]
    exclude_ops: Vec<String>,
    /// Longest tool name (48 leaves room for a host prefix).
    #[arg(long, value_name = "N", default_value_t = 64)]
    max_name_len: usize,
}

fn methods(names: &[String]) -> Result<Vec<HttpMethod>, CliError> {
    names
        .iter()
        .map(|m| HttpMethod::parse(m).ok_or_else(|| CliError::Usage(format!("unknown HTTP method `{m}`"))))
        .collect()
}

impl FilterArgs {
    pub(crate) fn options(&self) -> Result<ConvertOptions, CliError> {
        if !(1..=1024).contains(&self.max_name_len) {
            return Err(CliError::Usage(format!(
                "--max-name-len must be 1 to 1024, not {}",
                self.max_name_len
            )));
        }
        let filters = Filters {
            include_tags: self.include_tags.clone(),
            exclude_tags: self.exclude_tags.clone(),
            include_methods: methods(&self.include_methods)?,
            exclude_methods: methods(&self.exclude_methods)?,
            include_paths: self.include_paths.clone(),
            exclude_paths: self.exclude_paths.clone(),
            include_operation_ids: self.include_ops.clone(),
            exclude_operation_ids: self.exclude_ops.clone(),
        };
        Ok(ConvertOptions {
            filters,
            max_name_len: self.max_name_len,
            ..ConvertOptions::default()
        })
    }
}

fn load(path: &PathBuf) -> Result<OpenApiSpec, CliError> {
    OpenApiSpec::from_path(path).map_err(|e| CliError::Input(e.to_string()))
}

/// Runs the subcommand, writing to `out`.
pub(crate) fn run(args: &OpenApiArgs, out: &mut dyn Write) -> Result<(), CliError> {
    match &args.command {
        OpenApiCommand::Inspect { spec, filters } => {
            let converter = Converter::new(filters.options()?);
            let inspection = converter.inspect(&load(spec)?);
            write!(out, "{inspection}")?;
        }
        OpenApiCommand::Convert { spec, profile, filters } => {
            let profile: Profile = profile
                .parse()
                .map_err(|e: toolplane_schema::UnknownProfile| CliError::Usage(e.to_string()))?;
            let conversion = Converter::new(filters.options()?).convert(&load(spec)?);
            for w in &conversion.warnings {
                eprintln!("warning: {w}");
            }
            let tools = conversion.tools_field(profile);
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&tools).unwrap_or_else(|_| tools.to_string())
            )?;
        }
    }
    Ok(())
}
