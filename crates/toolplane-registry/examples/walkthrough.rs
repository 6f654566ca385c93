//! The registry walk-through from docs/registry.md, runnable:
//! `cargo run -p toolplane-registry --example walkthrough`.
//!
//! Registers the built-in tools and one typed tool, searches and exports
//! them, then runs a batch of model calls (good, misspelled, invalid) and
//! prints what the model would read back.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use toolplane_core::{CallContext, Tool, ToolCall, ToolError, tool_fn};
use toolplane_registry::{Executor, ExecutorConfig, Profile, ToolFilter, ToolRegistry, builtin};

/// Arguments of `github.issues_create`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewIssue {
    /// `owner/name`.
    repo: String,
    /// The issue title.
    title: String,
    /// Labels to set.
    #[serde(default)]
    labels: Vec<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Register tools; names may be namespaced.
    let mut registry = ToolRegistry::new();
    registry.register_all(builtin::builtin_tools())?;
    let create = tool_fn(
        "github.issues_create",
        "Open a new issue in a GitHub repository.",
        |a: NewIssue| async move {
            Ok::<_, ToolError>(format!(
                "created `{}` in {} with {} labels",
                a.title,
                a.repo,
                a.labels.len()
            ))
        },
    )
    .with_tag("github");
    registry.register(Arc::new(create) as Arc<dyn Tool>)?;
    // A look-alike is refused.
    let twin = tool_fn("GitHub.issues_create", "Twin.", |_: NewIssue| async {
        Ok::<_, ToolError>("")
    });
    if let Err(e) = registry.register(Arc::new(twin)) {
        println!("look-alike: {e}");
    }

    // 2. Find and filter.
    let hits = registry.search("open an issue", 3);
    println!(
        "search `open an issue`: {:?}",
        hits.iter().map(|h| &h.name).collect::<Vec<_>>()
    );
    let github = registry.list(&ToolFilter::default().namespace("github"));
    println!(
        "namespace github: {:?}",
        github.iter().map(|s| &s.name).collect::<Vec<_>>()
    );

    // 3. Export in a provider's format.
    let names: Vec<&str> = hits.iter().map(|h| h.name.as_str()).collect();
    let exported = registry.export(Profile::OpenAi, &names)?;
    println!("openai tools[0]: {}", exported.tools_field()[0]);
    for (name, wire) in exported.renamed() {
        println!("  `{name}` is sent as `{wire}`");
    }

    // 4. Run a model's parallel calls.
    let exec = Executor::builder(registry)
        .config(ExecutorConfig::default())
        .with_discovery_tools()
        .build()?;
    let calls = [
        ToolCall::new(
            "c1",
            "github__issues_create",
            r#"{"repo":"acme/app","title":"Crash on start"}"#,
        ),
        ToolCall::new("c2", "github__issue_create", r#"{"repo":"acme/app","title":"x"}"#),
        ToolCall::new("c3", "github__issues_create", r#"{"repo":"acme/app","titel":"x"}"#),
        ToolCall::new(
            "c4",
            "current_time",
            r#"{"time_zone":"Europe/Paris","time_zone":"UTC"}"#,
        ),
        ToolCall::new("c5", "search_tools", r#"{"query":"time zone"}"#),
    ];
    for (call, result) in calls
        .iter()
        .zip(exec.execute_batch(&calls, &CallContext::new("demo")).await)
    {
        let text = match result {
            Ok(out) => out.to_model_text(),
            Err(err) => err.to_model_text(),
        };
        println!("{} -> {}", call.id, text.lines().next().unwrap_or_default());
    }
    Ok(())
}
