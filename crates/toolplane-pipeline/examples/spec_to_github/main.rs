//! Turn a product spec into GitHub labels, a milestone and issues, with the
//! real `toolplane-github` tools (behind the registry's validating executor)
//! and a real provider from `toolplane-providers`.
//!
//! ```text
//! GITHUB_TOKEN=ghp_... OPENAI_API_KEY=sk-... PLAN_FILE=plan.json \
//!   cargo run -p toolplane-pipeline --example spec_to_github -- OWNER/REPO [SPEC.md]
//! ```
//!
//! Environment:
//! - `GITHUB_TOKEN` (needs issues write access); `GITHUB_API_URL` for GitHub
//!   Enterprise Server (default `https://api.github.com`).
//! - A provider key: `OPENAI_API_KEY` (provider `openai`, model `gpt-4o-mini`),
//!   else `ANTHROPIC_API_KEY` (provider `anthropic`, model `claude-haiku-4-5`).
//!   `PROVIDER` picks another name `provider_from_name` knows (`mistral`,
//!   `groq`, `ollama`, ...; all but `openai`, `anthropic` and `mistral` need
//!   `MODEL`), `MODEL` another model; `OPENAI_BASE_URL`,
//!   `ANTHROPIC_BASE_URL` and the like are read by the provider.
//! - `PLAN_FILE`: when the file exists its plan is applied as it is (no
//!   provider key needed); otherwise the model's plan is saved there, so a
//!   second run applies the same plan and creates nothing twice.
//!
//! Without what it needs it says so and exits with status 2.

use std::process::exit;
use std::sync::Arc;

use toolplane_core::{CallContext, ChatProvider};
use toolplane_github::{GithubConfig, github_tools};
mod sample;

use sample::{IssuePlan, SpecToGithub, SpecToGithubReport, apply_plan, plan_issues};
use toolplane_registry::{Executor, ExecutorConfig, ToolRegistry};

/// Room for a full page of 100 issues per call (the run asks again in smaller
/// pages when a result is cut, but fewer calls are kinder to the rate limit).
const OUTPUT_BYTES: usize = 1 << 20;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn fail(code: i32, message: impl std::fmt::Display) -> ! {
    eprintln!("{message}");
    exit(code)
}

/// The provider name and its model, from the environment.
fn provider_choice() -> Option<(String, String)> {
    let name = env("PROVIDER").or_else(|| {
        if env("OPENAI_API_KEY").is_some() {
            Some("openai".into())
        } else if env("ANTHROPIC_API_KEY").is_some() {
            Some("anthropic".into())
        } else {
            None
        }
    })?;
    let default = match name.as_str() {
        "openai" | "openai-responses" => Some("gpt-4o-mini"),
        "anthropic" => Some("claude-haiku-4-5"),
        "mistral" => Some("mistral-small-latest"),
        _ => None,
    };
    let model = env("MODEL")
        .or_else(|| default.map(str::to_string))
        .unwrap_or_else(|| fail(2, format!("set MODEL: provider `{name}` has no default model here")));
    Some((name, model))
}

fn github_executor() -> Executor {
    let config = GithubConfig::from_env()
        .with_max_response_bytes(OUTPUT_BYTES)
        .require_token()
        .unwrap_or_else(|e| fail(2, format!("{e} (it needs issues write access on the repository)")));
    let tools = github_tools(&config).unwrap_or_else(|e| fail(2, e));
    let mut registry = ToolRegistry::new();
    registry.register_all(tools).unwrap_or_else(|e| fail(1, e));
    Executor::builder(registry)
        .config(ExecutorConfig {
            max_output_bytes: OUTPUT_BYTES,
            ..ExecutorConfig::default()
        })
        .build()
        .unwrap_or_else(|e| fail(1, e))
}

async fn plan(spec_path: &str, owner: &str, repo: &str, ctx: &CallContext) -> (IssuePlan, SpecToGithub) {
    let plan_file = env("PLAN_FILE");
    let saved = plan_file.as_deref().filter(|p| std::path::Path::new(p).exists());
    if let Some(path) = saved {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| fail(2, format!("{path}: {e}")));
        let plan: IssuePlan = serde_json::from_str(&text)
            .unwrap_or_else(|e| fail(2, format!("{path}: not a saved plan ({e}); move it away to plan again")));
        println!("applying the saved plan from {path}");
        return (plan, SpecToGithub::new(owner, repo, ""));
    }
    let Some((name, model)) = provider_choice() else {
        fail(
            2,
            "set OPENAI_API_KEY or ANTHROPIC_API_KEY (or PROVIDER=name and its key) to plan, \
             or PLAN_FILE to a saved plan",
        )
    };
    let provider: Arc<dyn ChatProvider> =
        toolplane_providers::provider_from_name(&name, &model, None).unwrap_or_else(|e| fail(2, e));
    let spec = std::fs::read_to_string(spec_path).unwrap_or_else(|e| fail(2, format!("{spec_path}: {e}")));
    let options = SpecToGithub::new(owner, repo, model.clone());
    let (plan, usage) = plan_issues(provider, &spec, &options, ctx)
        .await
        .unwrap_or_else(|e| fail(1, e));
    println!(
        "{name}/{model} planned {} issues ({} tokens)",
        plan.issues.len(),
        usage.total_tokens()
    );
    if let Some(p) = &plan_file {
        let json = serde_json::to_string_pretty(&plan).unwrap_or_else(|e| fail(1, e));
        std::fs::write(p, json).unwrap_or_else(|e| fail(1, format!("{p}: {e}")));
        println!("saved the plan to {p}");
    }
    (plan, options)
}

fn print_report(report: &SpecToGithubReport) {
    let mark = |created: bool| if created { "created" } else { "exists " };
    for l in &report.labels {
        println!("label     {} {}", mark(l.created), l.title);
    }
    let m = &report.milestone;
    println!("milestone {} {}  {}", mark(m.created), m.title, m.url);
    for i in &report.issues {
        println!("issue     {} {}  {}", mark(i.created), i.title, i.url);
    }
    println!("{} created", report.created_count());
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let Some((owner, repo)) = args
        .next()
        .and_then(|r| r.split_once('/').map(|(o, r)| (o.to_string(), r.to_string())))
        .filter(|(o, r)| !o.is_empty() && !r.is_empty())
    else {
        fail(
            2,
            "usage: spec_to_github OWNER/REPO [SPEC.md]\n\
             needs GITHUB_TOKEN, and OPENAI_API_KEY or ANTHROPIC_API_KEY (unless PLAN_FILE names a saved plan)",
        )
    };
    let spec_path = args
        .next()
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/team-calendar.md").to_string());
    // Check the token before spending tokens on a plan.
    let github = github_executor();
    let ctx = CallContext::new("spec-to-github");
    let (plan, options) = plan(&spec_path, &owner, &repo, &ctx).await;
    match apply_plan(&github, &plan, &options, &ctx).await {
        Ok(report) => print_report(&report),
        Err(e) if e.is_retryable() => fail(1, format!("{e}\nrun it again later: what was created is found again")),
        Err(e) => fail(1, e),
    }
}
