//! `toolplane route explain`: how the router would route a request, from a
//! configuration file alone (no provider is called).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use toolplane_core::{ChatRequest, Message};
use toolplane_router::RouterConfig;

use crate::CliError;

/// Arguments of `toolplane route`.
#[derive(Debug, Args)]
pub(crate) struct RouteArgs {
    #[command(subcommand)]
    command: RouteCommand,
}

#[derive(Debug, Subcommand)]
enum RouteCommand {
    /// Shows the decision for a task type: candidates, scores, removed experts and why.
    Explain {
        /// The router configuration (TOML or JSON).
        #[arg(long)]
        config: PathBuf,
        /// The task type (code, math, summarization, extraction, chat, tool_use, or your own);
        /// without it, the router's classifier decides from the prompt, as for a real request.
        #[arg(long)]
        task: Option<String>,
        /// A prompt, for the classifier and the context-window estimate.
        #[arg(long, default_value = "")]
        prompt: String,
        /// Pretend the request carries tools (experts without tool support are removed).
        #[arg(long)]
        with_tools: bool,
        /// Print the decision as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the subcommand, writing to `out`.
pub(crate) fn run(args: &RouteArgs, out: &mut dyn Write) -> Result<(), CliError> {
    match &args.command {
        RouteCommand::Explain {
            config,
            task,
            prompt,
            with_tools,
            json,
        } => {
            let config = RouterConfig::from_path(config).map_err(|e| CliError::Input(e.to_string()))?;
            let mut request = ChatRequest::new("", vec![Message::user(prompt.as_str())]);
            if *with_tools {
                request
                    .tools
                    .push(toolplane_core::ToolSpec::new("any_tool", "A placeholder tool."));
            }
            let decision = match task {
                Some(task) => config.explain_for(task, &request),
                None => config.explain(&request),
            }
            .map_err(|e| CliError::Input(e.to_string()))?;
            if *json {
                let text = serde_json::to_string_pretty(&decision).map_err(|e| CliError::Input(e.to_string()))?;
                writeln!(out, "{text}")?;
            } else {
                write!(out, "{decision}")?;
            }
        }
    }
    Ok(())
}
