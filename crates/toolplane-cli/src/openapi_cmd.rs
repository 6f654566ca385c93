//! `toolplane openapi`: inspect an OpenAPI description, or convert it into the
//! `tools` field a provider's API accepts.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use toolplane_openapi::{
    ConversionWarning, ConvertOptions, Converter, Filters, HttpMethod, Inspection, LoadOptions, OpenApiSpec, Profile,
};

use crate::CliError;
use crate::terminal::{escape_json, escape_line};

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
        load: LoadArgs,
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
        load: LoadArgs,
        #[command(flatten)]
        filters: FilterArgs,
    },
}

/// Where external `$ref`s may lead.
#[derive(Debug, Args)]
struct LoadArgs {
    /// Let external `$ref`s resolve to files anywhere under this folder
    /// (default: only inside the description's own folder).
    #[arg(long = "ref-root", value_name = "DIR")]
    ref_root: Option<PathBuf>,
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

fn load(path: &PathBuf, args: &LoadArgs) -> Result<OpenApiSpec, CliError> {
    let options = LoadOptions {
        file_root: args.ref_root.clone(),
        ..LoadOptions::default()
    };
    OpenApiSpec::from_path_with(path, &options).map_err(|e| CliError::Input(escape_line(&e.to_string()).into_owned()))
}

fn escape_warning(w: &ConversionWarning) -> ConversionWarning {
    ConversionWarning {
        pointer: escape_line(&w.pointer).into_owned(),
        message: escape_line(&w.message).into_owned(),
    }
}

/// The inspection with every text from the description escaped for a terminal.
fn escaped(mut i: Inspection) -> Inspection {
    let esc = |s: &mut String| *s = escape_line(s).into_owned();
    esc(&mut i.title);
    esc(&mut i.api_version);
    esc(&mut i.openapi);
    for o in &mut i.operations {
        esc(&mut o.path);
        o.operation_id.as_mut().map(esc);
        o.tool_name.as_mut().map(esc);
        o.tags.iter_mut().for_each(esc);
        o.warnings = o.warnings.iter().map(escape_warning).collect();
    }
    i.warnings = i.warnings.iter().map(escape_warning).collect();
    i
}

/// Runs the subcommand, writing to `out`.
pub(crate) fn run(args: &OpenApiArgs, out: &mut dyn Write) -> Result<(), CliError> {
    match &args.command {
        OpenApiCommand::Inspect { spec, load: l, filters } => {
            let converter = Converter::new(filters.options()?);
            let inspection = converter.inspect(&load(spec, l)?);
            write!(out, "{}", escaped(inspection))?;
        }
        OpenApiCommand::Convert {
            spec,
            profile,
            load: l,
            filters,
        } => {
            let profile: Profile = profile.parse().map_err(|e: toolplane_schema::UnknownProfile| {
                CliError::Usage(escape_line(&e.to_string()).into_owned())
            })?;
            let conversion = Converter::new(filters.options()?).convert(&load(spec, l)?);
            // The same warnings `inspect` shows, on stderr, so stdout stays the JSON alone.
            for w in &conversion.warnings {
                eprintln!("warning: {}", escape_warning(w));
            }
            for tool in &conversion.tools {
                for w in &tool.warnings {
                    eprintln!("warning: {}: {}", escape_line(&tool.spec.name), escape_warning(w));
                }
            }
            let exported = conversion.export(profile);
            for w in &exported.warnings {
                eprintln!("warning: {}", escape_line(&w.to_string()));
            }
            let tools = exported.into_tools_field();
            let text = serde_json::to_string_pretty(&tools).unwrap_or_else(|_| tools.to_string());
            writeln!(out, "{}", escape_json(&text))?;
        }
    }
    Ok(())
}
