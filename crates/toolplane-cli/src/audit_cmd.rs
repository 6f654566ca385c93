//! `toolplane audit verify DIR [--checkpoints SRC]`: checks an audit log's
//! CRC frames, hash chain and checkpoints, and with `--checkpoints` that every
//! checkpoint published outside the log is still in it (a cut tail fails).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use toolplane_security::audit::{DirCheckpoints, verify_with_checkpoints};

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
        /// Where the sink published its checkpoints: a folder holding
        /// `checkpoints.jsonl` (or that file itself). Records cut from the
        /// end of the newest segment are then reported.
        #[arg(long, value_name = "SRC")]
        checkpoints: Option<PathBuf>,
    },
}

/// Runs the subcommand, writing to `out`.
pub(crate) fn run(args: &AuditArgs, out: &mut dyn Write) -> Result<(), CliError> {
    match &args.command {
        AuditCommand::Verify { dir, checkpoints } => {
            let report = match checkpoints {
                None => toolplane_security::verify_dir(dir),
                Some(src) => {
                    let folder = if src.file_name().is_some_and(|n| n == DirCheckpoints::FILE) {
                        src.parent().map(PathBuf::from).unwrap_or_default()
                    } else {
                        src.clone()
                    };
                    verify_with_checkpoints(dir, &DirCheckpoints::new(folder))
                }
            }
            .map_err(|e| CliError::Input(e.to_string()))?;
            writeln!(out, "{report}")?;
            if report.failure.is_some() {
                return Err(CliError::Failed("the audit log did not verify".into()));
            }
        }
    }
    Ok(())
}
