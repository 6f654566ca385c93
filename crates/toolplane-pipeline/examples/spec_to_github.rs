#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]
//! Turn a product spec into GitHub labels, a milestone and issues.
//!
//! ```text
//! GITHUB_TOKEN=ghp_... OPENAI_API_KEY=sk-... \
//!   cargo run -p toolplane-pipeline --example spec_to_github -- OWNER/REPO [SPEC.md]
//! ```
//!
//! Environment: `GITHUB_TOKEN` (needs `issues: write`), `OPENAI_API_KEY`,
//! optionally `OPENAI_BASE_URL` (any OpenAI-compatible endpoint, default
//! `https://api.openai.com/v1`), `OPENAI_MODEL` (default `gpt-4o-mini`),
//! `GITHUB_API_URL` (default `https://api.github.com`), and `PLAN_FILE`: when
//! the file exists its plan is applied as it is; otherwise the model's plan is
//! saved there, so a second run applies the same plan and creates nothing twice.
//!
//! The provider and the GitHub operations below are deliberately small
//! stand-ins written against the core traits, so that this example depends
//! on nothing but this crate; a host would use toolplane-providers and the
//! GitHub tool set in their place, unchanged otherwise.

use std::sync::Arc;

use serde_json::{Value, json};
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, ContentPart, Message, ProviderError, ProviderErrorKind,
    ResponseFormat, Role, StopReason, Tool, ToolError, ToolOutput, ToolSpec, Usage, async_trait,
};
use toolplane_pipeline::ToolBox;
use toolplane_pipeline::spec_to_github::{IssuePlan, SpecToGithub, apply_plan, plan_issues};

/// Chat Completions without tools or streaming: all the planning step needs.
#[derive(Debug)]
struct OpenAiCompatible {
    base: String,
    key: String,
    client: reqwest::Client,
}

#[async_trait]
impl ChatProvider for OpenAiCompatible {
    fn name(&self) -> &str {
        "openai"
    }

    async fn chat(&self, request: &ChatRequest, _ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        let err = |kind, m: String| ProviderError::new(kind, "openai", m);
        let messages: Vec<Value> = request
            .messages
            .iter()
            .map(|m| {
                let role = match m.role {
                    Role::System => "system",
                    Role::User | Role::Tool => "user",
                    Role::Assistant => "assistant",
                };
                json!({"role": role, "content": m.text()})
            })
            .collect();
        let mut body = json!({"model": request.model, "messages": messages});
        if let Some(ResponseFormat::JsonSchema { .. } | ResponseFormat::JsonObject) = &request.response_format {
            body["response_format"] = json!({"type": "json_object"});
        }
        let resp = self
            .client
            .post(format!("{}/chat/completions", self.base.trim_end_matches('/')))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .map_err(|e| err(ProviderErrorKind::Transport, e.to_string()))?;
        let status = resp.status();
        let value: Value = resp
            .json()
            .await
            .map_err(|e| err(ProviderErrorKind::Decode, e.to_string()))?;
        if !status.is_success() {
            let kind = match status.as_u16() {
                401 => ProviderErrorKind::Authentication,
                429 => ProviderErrorKind::RateLimited,
                400..=499 => ProviderErrorKind::InvalidRequest,
                _ => ProviderErrorKind::Server,
            };
            return Err(err(
                kind,
                value["error"]["message"].as_str().unwrap_or("no message").to_string(),
            )
            .with_status(status.as_u16()));
        }
        let text = value["choices"][0]["message"]["content"].as_str().unwrap_or_default();
        let usage = Usage {
            input_tokens: value["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
            output_tokens: value["usage"]["completion_tokens"].as_u64().unwrap_or(0),
            ..Usage::default()
        };
        let mut message = Message::assistant(text);
        message
            .content
            .retain(|p| !matches!(p, ContentPart::Text { text } if text.is_empty()));
        Ok(ChatResponse::new(
            "openai",
            value["model"].as_str().unwrap_or(&request.model),
            message,
            StopReason::EndTurn,
        )
        .with_usage(usage))
    }
}

/// One GitHub REST operation as a tool: path parameters, query parameters, a JSON body under `body`.
#[derive(Debug)]
struct GithubOperation {
    spec: ToolSpec,
    method: reqwest::Method,
    path: &'static str,
    base: String,
    token: String,
    client: reqwest::Client,
}

#[async_trait]
impl Tool for GithubOperation {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    async fn call(&self, args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let mut path = self.path.to_string();
        let mut query = Vec::new();
        for (k, v) in args.as_object().into_iter().flatten() {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            if path.contains(&format!("{{{k}}}")) {
                path = path.replace(&format!("{{{k}}}"), &text);
            } else if k != "body" {
                query.push((k.clone(), text));
            }
        }
        let mut req = self
            .client
            .request(self.method.clone(), format!("{}{path}", self.base))
            .query(&query)
            .bearer_auth(&self.token)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .header("user-agent", "toolplane-spec-to-github");
        if let Some(body) = args.get("body") {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(|e| ToolError::upstream(e.to_string()))?;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let out = ToolOutput::json(json!({"status": status, "body": body}));
        Ok(if (200..300).contains(&status) {
            out
        } else {
            out.into_error()
        })
    }
}

fn github_tools(base: &str, token: &str) -> ToolBox {
    use reqwest::Method;
    let client = reqwest::Client::new();
    let ops = [
        (
            "github.issues_list_labels_for_repo",
            Method::GET,
            "/repos/{owner}/{repo}/labels",
        ),
        (
            "github.issues_create_label",
            Method::POST,
            "/repos/{owner}/{repo}/labels",
        ),
        (
            "github.issues_list_milestones",
            Method::GET,
            "/repos/{owner}/{repo}/milestones",
        ),
        (
            "github.issues_create_milestone",
            Method::POST,
            "/repos/{owner}/{repo}/milestones",
        ),
        (
            "github.issues_list_for_repo",
            Method::GET,
            "/repos/{owner}/{repo}/issues",
        ),
        ("github.issues_create", Method::POST, "/repos/{owner}/{repo}/issues"),
    ];
    let mut tools = ToolBox::new();
    for (name, method, path) in ops {
        tools = tools
            .with_tool(Arc::new(GithubOperation {
                spec: ToolSpec::new(name, path),
                method,
                path,
                base: base.trim_end_matches('/').to_string(),
                token: token.to_string(),
                client: client.clone(),
            }))
            .unwrap();
    }
    tools
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let Some((owner, repo)) = args
        .next()
        .and_then(|r| r.split_once('/').map(|(o, r)| (o.to_string(), r.to_string())))
    else {
        eprintln!("usage: spec_to_github OWNER/REPO [SPEC.md]   (needs GITHUB_TOKEN and OPENAI_API_KEY)");
        std::process::exit(2);
    };
    let spec_path = args
        .next()
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/team-calendar.md").to_string());
    let (Some(token), Some(key)) = (env("GITHUB_TOKEN"), env("OPENAI_API_KEY")) else {
        eprintln!("set GITHUB_TOKEN and OPENAI_API_KEY (and OPENAI_BASE_URL for another OpenAI-compatible endpoint)");
        std::process::exit(2);
    };
    let spec = std::fs::read_to_string(&spec_path).unwrap_or_else(|e| {
        eprintln!("{spec_path}: {e}");
        std::process::exit(2)
    });
    let options = SpecToGithub::new(owner, repo, env("OPENAI_MODEL").unwrap_or_else(|| "gpt-4o-mini".into()));
    let github = github_tools(
        &env("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
        &token,
    );
    let ctx = CallContext::new("spec-to-github");

    let plan_file = env("PLAN_FILE");
    let saved: Option<IssuePlan> = plan_file
        .as_deref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str(&t).ok());
    let plan = match saved {
        Some(plan) => {
            println!(
                "applying the saved plan from {}",
                plan_file.as_deref().unwrap_or_default()
            );
            plan
        }
        None => {
            let provider = Arc::new(OpenAiCompatible {
                base: env("OPENAI_BASE_URL").unwrap_or_else(|| "https://api.openai.com/v1".into()),
                key,
                client: reqwest::Client::new(),
            });
            let (plan, usage) = match plan_issues(provider, &spec, &options, &ctx).await {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(1);
                }
            };
            println!("planned {} issues ({} tokens)", plan.issues.len(), usage.total_tokens());
            if let Some(p) = &plan_file {
                std::fs::write(p, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
                println!("saved the plan to {p}");
            }
            plan
        }
    };
    match apply_plan(&github, &plan, &options, &ctx).await {
        Ok(report) => {
            let mark = |created: bool| if created { "created" } else { "exists " };
            for l in &report.labels {
                println!("label     {} {}", mark(l.created), l.title);
            }
            println!(
                "milestone {} {}  {}",
                mark(report.milestone.created),
                report.milestone.title,
                report.milestone.url
            );
            for i in &report.issues {
                println!("issue     {} {}  {}", mark(i.created), i.title, i.url);
            }
            println!("{} created", report.created_count());
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
