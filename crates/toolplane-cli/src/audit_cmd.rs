//! `toolplane audit verify DIR`: checks an audit log's CRC frames, hash chain
//! and checkpoints.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::CliError;

/// Arguments of `toolplane audit`.
#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Prints OK with the record count, or the first bad sequence number and why (exit code 1).
    Verify {
        /// The audit log's folder (the file sink's directory).
        dir: PathBuf,
    },
}

/// Runs the subcommand, writing to `out`.
pub(crate) fn run(args: &AuditArgs, out: &mut dyn Write) -> Result<(), CliError> {
    match &args.command {
        AuditCommand::Verify { dir } => {
            let report = toolplane_security::verify_dir(dir).map_err(|e| CliError::Input(e.to_string()))?;
            writeln!(out, "{report}")?;
            if report.failure.is_some() {
                return Err(CliError::Failed("the audit log did not verify".into()));
            }
        }
    }
    Ok(())
}
