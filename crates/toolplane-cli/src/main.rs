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
}

/// Why a subcommand failed; says what to do about it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The user asked for something that cannot be done (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// Writing the output failed (exit code 1; a closed pipe exits quietly).
    #[error("cannot write the output: {0}")]
    Io(#[from] io::Error),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = match cli.command {
        Command::Tools(args) => tools_cmd::run(&args, &mut out),
    };
    let result = result.and_then(|()| out.flush().map_err(CliError::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e @ CliError::Usage(_)) => {
            eprintln!("toolplane: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("toolplane: {e}");
            ExitCode::FAILURE
        }
    }
}
