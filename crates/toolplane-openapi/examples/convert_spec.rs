//! Loads a description, converts it, and prints the tools for a profile.
//!
//! `cargo run -p toolplane-openapi --example convert_spec --release -- SPEC [PROFILE] [--summary | --parse-only]`

use std::process::ExitCode;

use toolplane_openapi::{ConvertOptions, Converter, OpenApiSpec, Profile};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: convert_spec SPEC [PROFILE] [--summary]");
        return ExitCode::from(2);
    };
    let profile: Profile = match args.get(1).filter(|a| !a.starts_with("--")).map(|p| p.parse()) {
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
        None => Profile::OpenAi,
    };
    if args.iter().any(|a| a == "--parse-only") {
        // Baseline for memory figures: serde_json alone on the same file.
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let parsed = serde_json::from_str::<serde_json::Value>(&text).is_ok();
        println!("parsed: {parsed}");
        return ExitCode::SUCCESS;
    }
    let started = std::time::Instant::now();
    let spec = match OpenApiSpec::from_path(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let loaded = started.elapsed();
    let conversion = Converter::new(ConvertOptions::default()).convert(&spec);
    let converted = started.elapsed();
    let tools = conversion.export(profile).into_tools_field();
    let exported = started.elapsed();
    if args.iter().any(|a| a == "--summary") {
        let warnings: usize = conversion.tools.iter().map(|t| t.warnings.len()).sum();
        println!(
            "{}: {} tools, {} warnings, {} bytes of {profile} definitions; load {:?}, +convert {:?}, +export {:?}",
            spec.title(),
            conversion.tools.len(),
            warnings + conversion.warnings.len(),
            tools.to_string().len(),
            loaded,
            converted - loaded,
            exported - converted,
        );
    } else {
        println!("{tools:#}");
    }
    ExitCode::SUCCESS
}
