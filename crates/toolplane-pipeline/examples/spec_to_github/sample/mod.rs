//! The sample pipeline: a product spec in markdown becomes labels, a
//! milestone and issues in a GitHub repository, idempotently.
//!
//! ```text
//!  spec.md ─► model: plan as JSON (schema-checked, repaired) ─► IssuePlan
//!  IssuePlan ─► list labels ─► create missing ─► list milestones ─► create if missing
//!            ─► list issues (all pages) ─► create the ones not there yet ─► links
//! ```
//!
//! Every GitHub call goes through a [`ToolExecutor`] holding the GitHub tool
//! set — by default the `toolplane-github` tools (`github_labels_list`,
//! `github_issues_create`, ...; see [`GithubToolNames`]) — so the host's
//! validation and interceptors (permissions, rate limits, audit) apply.
//! Lists are read page by page (`pagination.next_page` from GitHub's `Link`
//! header). Running twice creates nothing twice: an issue is recognised by a
//! marker in its body (`<!-- toolplane-spec-item: slug -->`) or by its exact
//! title; labels by name (case-insensitive); the milestone by title.
//!
//! ```no_run
//! use std::sync::Arc;
//! use toolplane_core::CallContext;
//! use toolplane_github::{GithubConfig, github_tools};
//! use sample::{SpecToGithub, spec_to_github};
//! use toolplane_registry::{Executor, ToolRegistry};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! // GITHUB_TOKEN (and GITHUB_API_URL for GitHub Enterprise Server); OPENAI_API_KEY.
//! let mut registry = ToolRegistry::new();
//! registry.register_all(github_tools(&GithubConfig::from_env().require_token()?)?)?;
//! let github = Executor::new(registry);
//! let model = toolplane_providers::provider_from_name("openai", "gpt-4o-mini", None)?;
//!
//! let spec = std::fs::read_to_string("docs/spec.md")?;
//! let options = SpecToGithub::new("acme", "calendar", "gpt-4o-mini");
//! let report = spec_to_github(model, &github, &spec, &options, &CallContext::new("spec-1")).await?;
//! for issue in &report.issues {
//!     println!("{} {}", if issue.created { "created" } else { "exists " }, issue.url);
//! }
//! # Ok(()) }
//! ```
#![allow(dead_code, unreachable_pub, unused_imports)] // a sample shared by an example and a test; each uses part of it

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use toolplane_core::{CallContext, ChatProvider, ChatRequest, Message, Usage};

use toolplane_pipeline::{AgentLoop, LoopConfig, RunState, StructuredError, ToolExecutor, structured_answer};
use toolplane_registry::{Executor, ToolRegistry};

mod apply;
mod calls;

pub use apply::{apply_plan, issue_body};

/// The names of the six GitHub tools [`apply_plan`] calls.
///
/// The default is [`GithubToolNames::toolplane_github`] with the
/// `toolplane-github` crate's default prefix (`github_`), the tool set a host
/// gets from `toolplane_github::github_tools`.
///
/// ```
/// use sample::GithubToolNames;
/// assert_eq!(GithubToolNames::default().create_issue, "github_issues_create");
/// assert_eq!(GithubToolNames::toolplane_github("gh_").list_labels, "gh_labels_list");
/// assert_eq!(GithubToolNames::openapi_converted("").list_labels, "issues_list_labels_for_repo");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GithubToolNames {
    /// `GET /repos/{owner}/{repo}/labels`.
    pub list_labels: String,
    /// `POST /repos/{owner}/{repo}/labels`.
    pub create_label: String,
    /// `GET /repos/{owner}/{repo}/milestones`.
    pub list_milestones: String,
    /// `POST /repos/{owner}/{repo}/milestones`.
    pub create_milestone: String,
    /// `GET /repos/{owner}/{repo}/issues`.
    pub list_issues: String,
    /// `POST /repos/{owner}/{repo}/issues`.
    pub create_issue: String,
}

impl GithubToolNames {
    /// The names of the `toolplane-github` tool set built with `prefix`
    /// (`GithubConfig::with_prefix`; its default is `github_`):
    /// `{prefix}labels_list`, `{prefix}labels_create`, `{prefix}milestones_list`,
    /// `{prefix}milestones_create`, `{prefix}issues_list`, `{prefix}issues_create`.
    pub fn toolplane_github(prefix: &str) -> Self {
        Self {
            list_labels: format!("{prefix}labels_list"),
            create_label: format!("{prefix}labels_create"),
            list_milestones: format!("{prefix}milestones_list"),
            create_milestone: format!("{prefix}milestones_create"),
            list_issues: format!("{prefix}issues_list"),
            create_issue: format!("{prefix}issues_create"),
        }
    }

    /// The names `toolplane-openapi`'s converter gives these operations when
    /// it converts GitHub's own OpenAPI description (the operationIds
    /// `issues/list-labels-for-repo` and so on, sanitized), after `prefix`.
    /// Those tools take flat arguments too, so [`BodyStyle::Flattened`] applies.
    pub fn openapi_converted(prefix: &str) -> Self {
        Self {
            list_labels: format!("{prefix}issues_list_labels_for_repo"),
            create_label: format!("{prefix}issues_create_label"),
            list_milestones: format!("{prefix}issues_list_milestones"),
            create_milestone: format!("{prefix}issues_create_milestone"),
            list_issues: format!("{prefix}issues_list_for_repo"),
            create_issue: format!("{prefix}issues_create"),
        }
    }
}

impl Default for GithubToolNames {
    fn default() -> Self {
        Self::toolplane_github("github_")
    }
}

/// Where the request body goes in a GitHub tool's arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyStyle {
    /// Merged with the path and query parameters (`{"owner":..,"repo":..,"title":..}`):
    /// the `toolplane-github` tools and any tool `toolplane-openapi` builds. The default.
    #[default]
    Flattened,
    /// Under one key, beside the path and query parameters
    /// (`{"owner":..,"body":{"title":..}}`), for hand-written tool sets that take it so.
    Nested(String),
}

/// Options of [`spec_to_github`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecToGithub {
    /// The repository owner.
    pub owner: String,
    /// The repository name.
    pub repo: String,
    /// The model asked to plan.
    pub model: String,
    /// Use this milestone title instead of the planned one.
    #[serde(default)]
    pub milestone_title: Option<String>,
    /// Non-conforming plans sent back to the model for repair. Default 2.
    #[serde(default = "default_repairs")]
    pub plan_repairs: u32,
    /// The GitHub tool names.
    #[serde(default)]
    pub tools: GithubToolNames,
    /// How request bodies are passed to the tools.
    #[serde(default)]
    pub body_style: BodyStyle,
}

/// The most tokens a plan may take (`max_tokens` of the planning request).
pub const PLAN_MAX_TOKENS: u32 = 8192;

fn default_repairs() -> u32 {
    2
}

impl SpecToGithub {
    /// Options for a repository and a model, with the defaults.
    pub fn new(owner: impl Into<String>, repo: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            owner: owner.into(),
            repo: repo.into(),
            model: model.into(),
            milestone_title: None,
            plan_repairs: default_repairs(),
            tools: GithubToolNames::default(),
            body_style: BodyStyle::default(),
        }
    }
}

/// The model's plan: one milestone and its issues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuePlan {
    /// The milestone the issues belong to.
    pub milestone: PlannedMilestone,
    /// The issues, in order.
    pub issues: Vec<PlannedIssue>,
}

impl IssuePlan {
    /// Checks what the schema cannot: every issue title has a letter or a
    /// digit, and no two titles share a marker. The marker (`<!-- toolplane-spec-item: slug -->`)
    /// keeps only the title's letters and digits, lowercased, so `Add OAuth login`
    /// and `Add OAuth-login!` would be one issue to a rerun; such a plan is
    /// refused rather than silently filing one issue for two.
    ///
    /// ```
    /// use sample::IssuePlan;
    /// let plan: IssuePlan = serde_json::from_value(serde_json::json!({
    ///     "milestone": {"title": "v1", "description": ""},
    ///     "issues": [
    ///         {"title": "Add OAuth login", "body": "", "labels": [], "acceptance_criteria": []},
    ///         {"title": "Add OAuth-login!", "body": "", "labels": [], "acceptance_criteria": []}
    ///     ]
    /// })).unwrap();
    /// let err = plan.validate().unwrap_err().to_string();
    /// assert!(err.contains("`Add OAuth login` and `Add OAuth-login!`"), "{err}");
    /// ```
    ///
    /// # Errors
    /// [`SpecToGithubError::InvalidPlan`] naming the titles.
    // The crate's one error type for the sample; checked once per plan, not on a hot path.
    #[allow(clippy::result_large_err)]
    pub fn validate(&self) -> Result<(), SpecToGithubError> {
        let mut seen: HashMap<String, &str> = HashMap::new();
        for issue in &self.issues {
            let slug = apply::issue_slug(&issue.title);
            if slug.is_empty() {
                return Err(SpecToGithubError::InvalidPlan(format!(
                    "issue title `{}` has no letter or digit to recognise it by",
                    issue.title
                )));
            }
            if let Some(first) = seen.insert(slug.clone(), &issue.title) {
                return Err(SpecToGithubError::InvalidPlan(format!(
                    "issues `{first}` and `{}` differ only in case or punctuation and would share the marker \
                     `{slug}`, so a rerun could not tell them apart; give them distinct titles",
                    issue.title
                )));
            }
        }
        Ok(())
    }
}

/// A planned milestone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedMilestone {
    /// Its title.
    pub title: String,
    /// What it delivers.
    #[serde(default)]
    pub description: String,
}

/// A planned issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedIssue {
    /// The title.
    pub title: String,
    /// The description, in markdown.
    pub body: String,
    /// Label names.
    pub labels: Vec<String>,
    /// Testable statements that say when the issue is done.
    pub acceptance_criteria: Vec<String>,
}

/// The JSON Schema a plan must satisfy.
pub fn plan_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["milestone", "issues"],
        "properties": {
            "milestone": {
                "type": "object",
                "additionalProperties": false,
                "required": ["title", "description"],
                "properties": {
                    "title": {"type": "string", "minLength": 1, "maxLength": 200},
                    "description": {"type": "string"}
                }
            },
            "issues": {
                "type": "array",
                "minItems": 1,
                "maxItems": 50,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["title", "body", "labels", "acceptance_criteria"],
                    "properties": {
                        "title": {"type": "string", "minLength": 1, "maxLength": 256},
                        "body": {"type": "string"},
                        "labels": {
                            "type": "array",
                            "items": {"type": "string", "minLength": 1, "maxLength": 50},
                            "maxItems": 10
                        },
                        "acceptance_criteria": {
                            "type": "array",
                            "items": {"type": "string", "minLength": 1},
                            "minItems": 1
                        }
                    }
                }
            }
        }
    })
}

/// A GitHub object the run found or created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GithubLink {
    /// The title or name.
    pub title: String,
    /// The issue or milestone number (0 for labels).
    pub number: u64,
    /// The web address, when GitHub gave one.
    pub url: String,
    /// True when this run created it; false when it was already there.
    pub created: bool,
}

/// What [`spec_to_github`] did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecToGithubReport {
    /// The plan that was applied.
    pub plan: IssuePlan,
    /// Labels, created or found.
    pub labels: Vec<GithubLink>,
    /// The milestone, created or found.
    pub milestone: GithubLink,
    /// The issues in plan order, created or found.
    pub issues: Vec<GithubLink>,
    /// Tokens the planning used.
    pub usage: Usage,
}

impl SpecToGithubReport {
    /// How many objects (labels, milestone, issues) this run created.
    pub fn created_count(&self) -> usize {
        self.labels.iter().filter(|l| l.created).count()
            + usize::from(self.milestone.created)
            + self.issues.iter().filter(|i| i.created).count()
    }
}

/// Why the spec could not be turned into issues.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecToGithubError {
    /// The spec is empty.
    #[error("the spec is empty")]
    EmptySpec,
    /// The model's plan never satisfied the schema, or the run failed.
    #[error("planning failed: {0}")]
    Plan(#[from] StructuredError),
    /// A plan that passed the schema is still unusable (duplicate titles, say).
    #[error("the plan is unusable: {0}")]
    InvalidPlan(String),
    /// A GitHub call failed.
    #[error("GitHub `{tool}` failed: {message}")]
    Github {
        /// The tool.
        tool: String,
        /// What it said.
        message: String,
        /// Whether trying again may help (rate limits, timeouts).
        retryable: bool,
    },
}

impl SpecToGithubError {
    /// Whether running again may succeed (a rate limit, a timeout, an upstream failure).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Github { retryable, .. } => *retryable,
            Self::Plan(StructuredError::Run(e)) => e.is_retryable(),
            _ => false,
        }
    }
}

/// Plans `spec_markdown` with the model, then applies the plan to the
/// repository (see [`apply_plan`]).
///
/// # Errors
/// [`SpecToGithubError`]: an empty spec, a plan that never conformed, a GitHub failure.
pub async fn spec_to_github(
    provider: Arc<dyn ChatProvider>,
    github: &dyn ToolExecutor,
    spec_markdown: &str,
    options: &SpecToGithub,
    ctx: &CallContext,
) -> Result<SpecToGithubReport, SpecToGithubError> {
    let (plan, usage) = plan_issues(provider, spec_markdown, options, ctx).await?;
    let mut report = apply_plan(github, &plan, options, ctx).await?;
    report.usage = usage;
    Ok(report)
}

/// Asks the model for an [`IssuePlan`] of the spec, checked against
/// [`plan_schema`] and repaired if need be. Save it to apply the same plan
/// again later: a model may plan differently on a second run.
///
/// # Errors
/// [`SpecToGithubError::EmptySpec`], [`SpecToGithubError::Plan`], [`SpecToGithubError::InvalidPlan`].
pub async fn plan_issues(
    provider: Arc<dyn ChatProvider>,
    spec_markdown: &str,
    options: &SpecToGithub,
    ctx: &CallContext,
) -> Result<(IssuePlan, Usage), SpecToGithubError> {
    if spec_markdown.trim().is_empty() {
        return Err(SpecToGithubError::EmptySpec);
    }
    let system = "You are a technical program manager. Split the product spec into GitHub issues \
        that one engineer can each finish in a few days. Answer with JSON only, matching the schema: \
        a milestone (title, description) and issues (title, markdown body, labels such as `feature`, \
        `bug`, `docs`, `infra`, and testable acceptance criteria).";
    let request = ChatRequest::new(
        options.model.clone(),
        vec![
            Message::system(system),
            Message::user(format!(
                "Plan this spec as issues. JSON schema:\n{}\n\nSpec:\n\n{spec_markdown}",
                plan_schema()
            )),
        ],
    )
    .with_task_type("planning")
    // Room for 50 issues; Anthropic's adapter would otherwise cap an answer at 4096 tokens.
    .with_max_tokens(PLAN_MAX_TOKENS);
    let agent = AgentLoop::new(provider, Arc::new(Executor::new(ToolRegistry::new()))).with_config(LoopConfig {
        max_steps: 4,
        ..LoopConfig::default()
    });
    let state = RunState::new("spec-to-github:plan", request);
    let (value, state) = structured_answer(&agent, state, &plan_schema(), options.plan_repairs, ctx).await?;
    let plan: IssuePlan = serde_json::from_value(value).map_err(|e| SpecToGithubError::InvalidPlan(e.to_string()))?;
    plan.validate()?;
    Ok((plan, state.usage))
}
