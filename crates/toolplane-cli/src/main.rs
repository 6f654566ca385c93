//! `toolplane`: the toolplane command line.
//!
//! One module per subcommand (`tools_cmd.rs` for `toolplane tools`); a new
//! subcommand is a new module, a variant of [`Command`] and one arm in
//! [`main`]. Subcommands write to the writer they are given and return a
//! [`CliError`], so they are testable without a process and exit codes stay
//! in one place.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod audit_cmd;
mod chat_cmd;
mod mcp_cmd;
mod openapi_cmd;
mod route_cmd;
mod serve_cmd;
mod terminal;
mod tools_cmd;

/// Tool calling for LLMs: registries, validation, providers and routing.
#[derive(Debug, Parser)]
#[command(name = "toolplane", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the built-in tools (name and description), or print their definitions.
    Tools(tools_cmd::ToolsArgs),
    /// Inspect an OpenAPI description, or convert it into a provider's tool definitions.
    Openapi(openapi_cmd::OpenApiArgs),
    /// Send one chat request to a provider and print the answer.
    Chat(chat_cmd::ChatArgs),
    /// Explain how the router would route a request.
    Route(route_cmd::RouteArgs),
    /// Verify an audit log.
    Audit(audit_cmd::AuditArgs),
    /// Run the OpenAI- and Anthropic-compatible gateway (offline demo without --config).
    Serve(serve_cmd::ServeArgs),
    /// Model Context Protocol: serve an OpenAPI description as an MCP server; list or call an MCP server's tools.
    Mcp(mcp_cmd::McpArgs),
}

/// Why a subcommand failed; says what to do about it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The user asked for something that cannot be done (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// An input (a file, a description, a configuration) could not be used (exit code 1).
    #[error("{0}")]
    Input(String),
    /// The operation ran and failed: a provider error, a log that does not verify (exit code 1).
    #[error("{0}")]
    Failed(String),
    /// Writing the output failed (exit code 1; a closed pipe exits quietly).
    #[error("cannot write the output: {0}")]
    Io(#[from] io::Error),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Not locked for the whole run: `mcp serve` speaks MCP on stdout from
    // the async runtime, which takes the lock per write.
    let mut out = io::stdout();
    // Spans go to a collector only when the standard variables name one.
    #[cfg(feature = "otel")]
    let _otel = match &cli.command {
        Command::Serve(_) | Command::Chat(_) => match toolplane_otel::install_from_env() {
            Ok(guard) => guard,
            Err(e) => {
                eprintln!("toolplane: {}", terminal::escape_text(&e.to_string()));
                return ExitCode::from(2);
            }
        },
        _ => None,
    };
    let result = match cli.command {
        Command::Tools(args) => tools_cmd::run(&args, &mut out),
        Command::Openapi(args) => openapi_cmd::run(&args, &mut out),
        Command::Chat(args) => chat_cmd::run(&args, &mut out),
        Command::Route(args) => route_cmd::run(&args, &mut out),
        Command::Audit(args) => audit_cmd::run(&args, &mut out),
        Command::Serve(args) => serve_cmd::run(&args, &mut out),
        Command::Mcp(args) => mcp_cmd::run(&args, &mut out),
    };
    let result = result.and_then(|()| out.flush().map_err(CliError::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e @ CliError::Usage(_)) => {
            eprintln!("toolplane: {}", terminal::escape_text(&e.to_string()));
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("toolplane: {}", terminal::escape_text(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}
