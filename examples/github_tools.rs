//! GitHub tools, two ways: `cargo run -p toolplane --features github --example github_tools [RULE...]`.
//!
//! 1. Converts GitHub's own OpenAPI description (the `@octokit/openapi`
//!    corpus, `api.github.com.json`, 13 MB) into tools with a filter, prints
//!    the tool names with their operations and the counts, and shows the
//!    export for one provider profile (`Profile::OpenAiStrict`): its size and
//!    its first tool.
//! 2. Shows the curated set compiled into `toolplane::github`
//!    (`github_tool_definitions`, `github_tools`): fifteen tools that need no
//!    description on disk.
//!
//! Rules are `tag:NAME`, `method:METHOD`, `path:GLOB` or `op:GLOB`; a rule
//! starting with `!` excludes, and a bare `/path/glob` is `path:/path/glob`.
//! The default is `tag:issues !method:delete`. For example:
//!
//! ```text
//! cargo run -p toolplane --features github --example github_tools -- /repos/*/*/pulls/** '!method:put'
//! ```
//!
//! The corpus comes from `bash scripts/fetch-corpora.sh` (into `.cache/corpora`,
//! or `TOOLPLANE_CORPORA`); without it the example says so and stops. Nothing
//! here touches the network: the GitHub tools are built but never called.

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use toolplane::github::{GithubConfig, github_tool_definitions, github_tools};
use toolplane::openapi::{ConvertOptions, Converter, Filters, OpenApiSpec, Profile};

const CORPUS: &str = "octokit-openapi-23.0.2";
const DESCRIPTION: &str = "package/generated/api.github.com.json";
const DEFAULT_RULES: [&str; 2] = ["tag:issues", "!method:delete"];
/// How many tool names to list before summarizing the rest.
const LIST_LIMIT: usize = 40;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rules: Vec<&str> = if args.is_empty() {
        DEFAULT_RULES.to_vec()
    } else {
        args.iter().map(String::as_str).collect()
    };
    let filters = match parse_rules(&rules) {
        Ok(filters) => filters,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("rules: tag:NAME, method:METHOD, path:GLOB, op:GLOB; prefix ! to exclude");
            std::process::exit(2);
        }
    };

    let path = corpora_root().join(CORPUS).join(DESCRIPTION);
    if !path.is_file() {
        println!("GitHub's OpenAPI description is not here: {}", path.display());
        println!("Fetch it (npm package @octokit/openapi 23.0.2, checked by SHA-512) with:");
        println!("    bash scripts/fetch-corpora.sh");
        println!("Skipping the conversion; the curated set needs no download:\n");
        curated()?;
        return Ok(());
    }

    println!("Part 1: GitHub's OpenAPI description to tools\n");
    let started = Instant::now();
    let spec = OpenApiSpec::from_path(&path)?;
    println!(
        "loaded {} ({} {}, OpenAPI {}) in {:.2} s",
        path.display(),
        spec.title(),
        spec.api_version(),
        spec.openapi_version(),
        started.elapsed().as_secs_f64()
    );
    println!("operations in the description: {}", count_operations(spec.document()));
    println!("filter: {}", rules.join(" "));

    let converter = Converter::new(ConvertOptions {
        filters,
        ..ConvertOptions::default()
    });
    let started = Instant::now();
    let conversion = converter.convert(&spec);
    println!(
        "kept {} operations as tools in {:.2} s ({} conversion warnings)\n",
        conversion.tools.len(),
        started.elapsed().as_secs_f64(),
        conversion.warnings.len() + conversion.tools.iter().map(|t| t.warnings.len()).sum::<usize>()
    );
    if conversion.tools.is_empty() {
        println!("No operation matches this filter.");
        return curated();
    }

    let mut by_method: BTreeMap<&str, usize> = BTreeMap::new();
    for tool in &conversion.tools {
        *by_method.entry(tool.binding.method.as_str()).or_default() += 1;
    }
    for tool in conversion.tools.iter().take(LIST_LIMIT) {
        println!(
            "  {:<50} {:<6} {}",
            tool.name(),
            tool.binding.method.as_str(),
            tool.binding.path_template
        );
    }
    if conversion.tools.len() > LIST_LIMIT {
        println!("  ... and {} more", conversion.tools.len() - LIST_LIMIT);
    }
    let counts: Vec<String> = by_method.iter().map(|(m, n)| format!("{m} {n}")).collect();
    println!("by method: {}\n", counts.join(", "));

    let profile = Profile::OpenAiStrict;
    let export = conversion.export(profile);
    for w in export
        .warnings
        .iter()
        .filter(|w| matches!(w, toolplane::schema::ExportWarning::TooManyTools { .. }))
    {
        println!("warning: {w}");
    }
    let exported = export.into_tools_field();
    let text = serde_json::to_string(&exported)?;
    println!(
        "export for {profile:?}: {} tools, {} bytes of JSON ({} bytes per tool on average)",
        exported.as_array().map_or(0, Vec::len),
        text.len(),
        text.len() / conversion.tools.len()
    );
    if let Some(first) = exported.get(0) {
        let mut first = first.clone();
        shorten_descriptions(&mut first, 100);
        println!("first tool, as sent to OpenAI with strict mode (descriptions cut to 100 characters here):");
        println!("{}\n", serde_json::to_string_pretty(&first)?);
    }

    curated()
}

/// Part 2: the fifteen curated tools compiled into `toolplane::github`.
fn curated() -> Result<(), Box<dyn Error>> {
    println!("Part 2: the curated set in toolplane::github (no description needed)\n");
    let config = GithubConfig::from_env();
    let definitions = github_tool_definitions(&config.prefix);
    for tool in &definitions {
        let kind = if tool.spec.annotations.is_read_only() {
            "read"
        } else {
            "write"
        };
        println!(
            "  {:<30} {:<5} {:<6} {:<52} {}",
            tool.name(),
            kind,
            tool.binding.method.as_str(),
            tool.binding.path_template,
            tool.operation_id.as_deref().unwrap_or("-")
        );
    }
    let all = github_tools(&config)?;
    let read_only = github_tools(&config.clone().with_read_only(true))?;
    println!(
        "\n{} curated tools ({} read-only), against {}, token {}",
        all.len(),
        read_only.len(),
        config.base_url,
        if config.token.is_some() {
            "from GITHUB_TOKEN"
        } else {
            "none (public data only)"
        }
    );
    let field = toolplane::schema::export(
        &definitions.iter().map(|t| t.spec.clone()).collect::<Vec<_>>(),
        Profile::OpenAiStrict,
    )
    .into_tools_field();
    println!(
        "export for OpenAiStrict: {} bytes of JSON. The tools were built, not called: no request was sent.",
        serde_json::to_string(&field)?.len()
    );
    Ok(())
}

/// Cuts every `description` string in `value` to `max` characters (for printing only).
fn shorten_descriptions(value: &mut serde_json::Value, max: usize) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    serde_json::Value::String(text) if key == "description" && text.chars().count() > max => {
                        let cut: String = text.chars().take(max).collect();
                        *text = format!("{cut}...");
                    }
                    _ => shorten_descriptions(v, max),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| shorten_descriptions(v, max)),
        _ => {}
    }
}

/// Command-line rules to filters: `!` excludes, a bare `/glob` is a path.
fn parse_rules(rules: &[&str]) -> Result<Filters, String> {
    let mut filters = Filters::default();
    for rule in rules {
        let (include, rule) = match rule.strip_prefix('!') {
            Some(rest) => (false, rest),
            None => (true, *rule),
        };
        if rule.starts_with('/') {
            filters.add_rule(include, &format!("path:{rule}"))?;
        } else {
            filters.add_rule(include, rule)?;
        }
    }
    Ok(filters)
}

/// Operations under `paths` (methods only, not `parameters` and the like).
fn count_operations(document: &serde_json::Value) -> usize {
    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    document["paths"].as_object().map_or(0, |paths| {
        paths
            .values()
            .map(|item| METHODS.iter().filter(|m| item.get(**m).is_some()).count())
            .sum()
    })
}

/// `TOOLPLANE_CORPORA`, else `<repo>/.cache/corpora` (where `scripts/fetch-corpora.sh` unpacks).
fn corpora_root() -> PathBuf {
    match std::env::var_os("TOOLPLANE_CORPORA") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            repo.canonicalize().unwrap_or(repo).join(".cache/corpora")
        }
    }
}
