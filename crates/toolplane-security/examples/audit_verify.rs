//! Verifies an audit folder the way `toolplane audit verify DIR` does:
//! prints `OK: N records (...)` or the first bad sequence number and why, and
//! exits with 1 on a damaged log, 2 when the folder cannot be read.
//!
//! `cargo run -p toolplane-security --example audit_verify -- /var/log/toolplane/audit`

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: audit_verify DIR");
        return ExitCode::from(2);
    };
    match toolplane_security::verify_dir(dir.as_ref()) {
        Ok(report) => {
            println!("{report}");
            if report.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
